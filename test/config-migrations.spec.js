'use strict';
// Config versions and their migrations (resources/comfyui-editor.js, applied by the runtime in
// src/nodes/config-version.ts and by the editor on every node it loads). The samples are real:
// every version of every example flow in the git history, as earlier releases of this package
// saved them. Each migration only adds what a setting's absence meant; flows of the first release
// deploy unchanged against the simulator and do what they did.
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const { join } = require('node:path');
const shared = require('../resources/comfyui-editor.js');
const { helper, allNodes, useSimulator, nextMessage, saveImageWorkflow } = require('./support');

const root = join(__dirname, '..');
const git = (...args) => execFileSync('git', args, { cwd: root, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });

/** Every distinct version of examples/*.json in the history, with the commit that first saved it: {commit, file, nodes}. */
function historicalExamples() {
  const seen = new Set();
  const samples = [];
  for (const commit of git('log', '--all', '--reverse', '--format=%H', '--', 'examples/').split('\n').filter(Boolean)) {
    for (const line of git('ls-tree', commit, 'examples/').split('\n').filter(Boolean)) {
      const [, , blob, file] = /^(\d+) blob ([0-9a-f]+)\t(.+)$/.exec(line) ?? [];
      if (!blob || !file.endsWith('.json') || seen.has(blob)) continue;
      seen.add(blob);
      samples.push({ commit, file, nodes: JSON.parse(git('cat-file', 'blob', blob)) });
    }
  }
  return samples;
}

const samples = historicalExamples();
const ours = (type) =>
  samples.flatMap(({ commit, file, nodes }) => nodes.filter((n) => n.type === type).map((node) => ({ commit, file, node })));
/** The first commit that has examples: the first release's flows. */
const firstCommit = git('log', '--all', '--reverse', '--format=%H', '--', 'examples/').split('\n')[0];

describe('config versions and migrations (flows of earlier releases from the git history)', function () {
  it('the history holds flows of earlier releases for every node type with migrations', function () {
    assert.ok(samples.length > 10, `${samples.length} example versions`);
    for (const type of Object.keys(shared.MIGRATIONS)) assert.ok(ours(type).length > 0, `a sample of ${type}`);
  });

  for (const [type, steps] of Object.entries(shared.MIGRATIONS)) {
    describe(`${type} (version ${steps.length})`, function () {
      const found = ours(type);

      it('upgrades every sample to the current version, adding settings and changing none the flow had', function () {
        for (const { commit, file, node } of found) {
          const upgraded = shared.migrate(node);
          assert.equal(upgraded.configVersion, steps.length, `${file}@${commit} ${node.id}`);
          for (const [key, value] of Object.entries(node)) {
            if (key !== 'configVersion') assert.deepEqual(upgraded[key], value, `${file}@${commit} ${node.id}.${key} is kept`);
          }
          assert.deepEqual(shared.migrate(upgraded), upgraded, 'a current config is left as it is');
          assert.deepEqual(node, JSON.parse(JSON.stringify(node)), 'the saved config is not changed in place');
        }
      });

      it('gives a config of the first release every setting a current one has', function () {
        const upgraded = shared.migrate({ type });
        const again = shared.migrate({ ...upgraded, configVersion: 0 });
        assert.deepEqual(again, upgraded, 'migration 1 on its own output changes nothing');
        assert.equal(shared.upgrade(upgraded).configVersion, undefined, 'nothing to upgrade');
      });
    });
  }

  it("upgrades the oldest saved config of each type to every setting the editor's definition has", function () {
    const vm = require('node:vm');
    const { readFileSync } = require('node:fs');
    const sharedScript = readFileSync(join(root, 'resources', 'comfyui-editor.js'), 'utf8');
    for (const type of Object.keys(shared.MIGRATIONS)) {
      // The definition as the editor registers it (the served file, composed by the build), with a stand-in RED.
      const served = readFileSync(join(root, 'dist', 'nodes', `${type}.html`), 'utf8');
      let definition;
      const noop = () => undefined;
      const RED = {
        _: (key) => key,
        nodes: { registerType: (t, def) => (definition = def), node: () => null },
        validators: { typedInput: () => noop, number: () => noop, regex: () => noop },
        utils: {},
        events: { on: noop, off: noop },
        comms: { subscribe: noop, unsubscribe: noop },
        settings: {},
      };
      vm.runInNewContext(`${sharedScript}\n${/<script type="text\/javascript">([\s\S]*?)<\/script>/.exec(served)[1]}`, { RED, $: noop });
      const [oldest] = ours(type);
      const upgraded = shared.migrate(oldest.node);
      const lacking = Object.keys(definition.defaults).filter((key) => !(key in upgraded));
      assert.deepEqual(lacking, [], `${type} of ${oldest.file}@${oldest.commit.slice(0, 7)} upgraded lacks these settings`);
    }
  });

  describe('what each migration says an absent setting meant', function () {
    const first = (type, id) => shared.migrate(ours(type).find(({ node }) => node.id === id).node);

    it('free: flags saved as booleans are typed-in booleans', function () {
      const free = ours('comfyui-free').find(({ node }) => node.unloadModelsType === undefined);
      assert.ok(free, 'a free node from before the flags had types');
      const upgraded = shared.migrate(free.node);
      assert.deepEqual([upgraded.unloadModelsType, upgraded.freeMemoryType], ['bool', 'bool']);
    });

    it('history and interrupt: no prompt id setting reads msg.prompt_id; literal settings get their literal types', function () {
      const history = first('comfyui-history', 'history-entry');
      assert.deepEqual(
        [history.promptId, history.promptIdType, history.actionType, history.maxItemsType],
        ['prompt_id', 'msg', 'action', 'num'],
      );
      const interrupt = shared.migrate(ours('comfyui-interrupt').find(({ node }) => node.promptId === undefined).node);
      assert.deepEqual([interrupt.promptId, interrupt.promptIdType], ['prompt_id', 'msg']);
    });

    it("progress: no event list gets the first release's events (no queue_position, previews or snapshots)", function () {
      const upgraded = shared.migrate({ type: 'comfyui-progress' });
      assert.ok(!upgraded.events.includes('queue_position') && !upgraded.events.includes('preview'));
      assert.ok(upgraded.events.includes('progress') && upgraded.events.includes('execution_success'));
      const saved = first('comfyui-progress', 'progress-previews');
      assert.deepEqual(saved.events, ['preview'], 'a saved list is kept');
    });

    it('submit of the first release: validates, leaves prompts running on stop, no previews, no overrides', function () {
      const submit = shared.migrate(ours('comfyui-submit').find(({ commit }) => commit === firstCommit).node);
      assert.deepEqual(
        [submit.validate, submit.onStop, submit.previews, submit.previewsType, submit.overrides, submit.mode],
        [true, 'leave', 'none', 'previews', [], 'wait'],
      );
    });
  });

  describe('flows of the first release deploy unchanged and behave the same', function () {
    const env = useSimulator();

    /** A sample loaded as saved, its servers pointed at the simulator. */
    async function deploySample(commit, file) {
      const sample = samples.find((s) => s.commit === commit && s.file === file);
      assert.ok(sample, `${file}@${commit} is in the history`);
      const tab = { id: 'tab', type: 'tab' };
      const nodes = sample.nodes
        .filter((n) => n.type.startsWith('comfyui-') || n.type === 'tab')
        .map((n) => ('wires' in n ? { ...n, z: 'tab' } : n.type === 'comfyui-server' ? { ...n, url: env.sim.url } : n));
      const taps = nodes.filter((n) => 'wires' in n).map((n) => ({ id: `tap-${n.id}`, type: 'helper', z: 'tab' }));
      for (const n of nodes) if ('wires' in n) n.wires = [[`tap-${n.id}`]];
      await helper.load(allNodes, [tab, ...nodes, ...taps]);
      return sample.nodes;
    }

    it(`text-to-image.json@${firstCommit.slice(0, 7)}: submit (no validate, previews or overrides setting) runs its workflow`, async function () {
      const nodes = await deploySample(firstCommit, 'examples/text-to-image.json');
      const submit = nodes.find((n) => n.type === 'comfyui-submit');
      assert.equal(submit.configVersion, undefined, 'saved before config versions');
      const got = nextMessage(helper.getNode(`tap-${submit.id}`));
      helper.getNode(submit.id).receive({ payload: saveImageWorkflow() });
      const msg = await got;
      assert.equal(typeof msg.prompt_id, 'string');
      assert.ok(msg.payload.images.length > 0);
    });

    it('comfyui-history.json of its first release: "one entry" (no prompt id setting) reads msg.prompt_id', async function () {
      const commit = git('log', '--all', '--reverse', '--format=%H', '--', 'examples/comfyui-history.json').split('\n')[0];
      const nodes = await deploySample(commit, 'examples/comfyui-history.json');
      const entry = nodes.find((n) => n.id === 'history-entry');
      assert.equal(entry.promptId, undefined, 'saved before the prompt id setting');
      const tap = helper.getNode('tap-history-entry');
      const got = nextMessage(tap);
      helper.getNode('history-entry').receive({ prompt_id: 'no-such-prompt' });
      const msg = await got;
      assert.equal(msg.prompt_id, 'no-such-prompt');
      assert.equal(msg.payload, null, "that prompt's entry (none for an unknown id), not the whole history");
    });
  });
});
