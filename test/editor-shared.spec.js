'use strict';
// The editor's workflow-format check (resources/comfyui-editor.js) and the client's
// (src/client/workflow.ts) are one rule: both run over the same files and must agree on what
// each is (an API-format workflow, a UI-format one, or not a workflow).
const assert = require('node:assert/strict');
const { readdirSync, readFileSync } = require('node:fs');
const { join } = require('node:path');
const shared = require('../resources/comfyui-editor.js');
const { readWorkflow } = require('../dist/client/workflow');

const root = join(__dirname, '..');

/** The editor's verdict on a workflow text. */
function editorSays(text) {
  const parsed = shared.parseWorkflow(text);
  return parsed === null || parsed.problem ? 'not a workflow' : parsed.ui ? 'ui' : 'api';
}

/** The client's verdict on the same text. */
function clientSays(text) {
  try {
    return readWorkflow(text).format;
  } catch (err) {
    assert.equal(err.code, 'BAD_WORKFLOW', String(err));
    return 'not a workflow';
  }
}

/** Every workflow the repository holds: the UI-format fixtures and the examples' submit workflows, and shapes at the edges. */
function workflows() {
  const dir = join(root, 'test', 'fixtures', 'ui-workflows');
  const found = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => [`ui-workflows/${f}`, readFileSync(join(dir, f), 'utf8')]);
  for (const file of readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.json'))) {
    for (const node of JSON.parse(readFileSync(join(root, 'examples', file), 'utf8'))) {
      if (node.type === 'comfyui-submit' && node.workflow) found.push([`${file} ${node.id}`, node.workflow]);
    }
  }
  const api = JSON.parse(found.find(([name]) => name.startsWith('text-to-image.json'))[1]);
  const ui = JSON.parse(found.find(([name]) => name.startsWith('ui-workflows/'))[1]);
  found.push(
    ['the {prompt} wrapper', JSON.stringify({ prompt: api })],
    ['a UI workflow in a {prompt} wrapper', JSON.stringify({ prompt: ui })],
    ['nodes with links that are not a list', JSON.stringify({ nodes: [], links: {} })],
    ['nodes with a state and no links', JSON.stringify({ nodes: [], state: {} })],
    ['an array', '[]'],
    ['no nodes', '{}'],
    ['an entry without inputs', JSON.stringify({ 1: { class_type: 'KSampler' } })],
    ['not JSON', '{"1": '],
  );
  return found;
}

describe('the workflow format: the editor and the client agree', function () {
  const all = workflows();

  it('finds API-format and UI-format workflows to compare', function () {
    const kinds = new Set(all.map(([, text]) => clientSays(text)));
    assert.deepEqual([...kinds].sort(), ['api', 'not a workflow', 'ui']);
  });

  for (const [name, text] of all) {
    it(name, function () {
      assert.equal(editorSays(text), clientSays(text));
    });
  }
});
