#!/usr/bin/env node
'use strict';
/**
 * Compares our UI → API conversion with what ComfyUI's own frontend made, on real pairs: files that
 * ComfyUI saved (PNG/WebP) carry both the UI `workflow` and the API `prompt`, written at the same
 * moment, so every value must match (seeds too: the frontend changes a "randomize" seed only after
 * queueing, and the workflow it embeds holds the value it sent).
 *
 *   npm run build && node test/tools/real-pairs.js <dir> [--definitions <object_info.json>]
 *
 * Definitions default to the recording of a real ComfyUI v0.8.0; pairs using classes it lacks can be
 * checked with an /object_info file that adds them (`--definitions`).
 * <dir> holds `X.ui.json` + `X.api.json` pairs (never committed: they come from public repositories).
 * Compared: the same node ids, class_type, input names, and values (links as [id, slot], numbers with
 * a relative tolerance of 1e-6); `_meta.title` when the API file has one. Where a file is older than
 * the server, three differences are counted apart, not as failures (see diffPrompts): values older
 * frontends sent for inputs the class does not define, defaults we send for inputs the class gained
 * since, and display names the class gained since. Prints `real pairs: N compared, M equal` and a
 * short diff per unequal pair; exits 1 when any differ. Pairs whose workflow holds group nodes or
 * subgraphs are listed and counted apart (they need expansion first) and do not change the exit code.
 */
const { readdirSync, readFileSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..', '..');
const { convertUiWorkflow } = require(join(root, 'dist', 'client', 'ui-convert', 'index.js'));
const { readNodeDefinitions } = require(join(root, 'dist', 'client', 'node-definitions.js'));
const { defaultValue } = require(join(root, 'dist', 'client', 'ui-convert', 'widgets.js'));

const OBJECT_INFO = join(root, 'test', 'fixtures', 'transcripts', 'object_info_full.json');
const MAX_DIFFS_SHOWN = 6;

function loadDefinitions(file = OBJECT_INFO) {
  return readNodeDefinitions(JSON.parse(readFileSync(file, 'utf8')));
}

/** Whether the workflow needs group-node or subgraph expansion (not this converter's job). */
function needsExpansion(ui) {
  const groupNodes = ui.extra && ui.extra.groupNodes && Object.keys(ui.extra.groupNodes).length > 0;
  const subgraphs = ui.definitions && Array.isArray(ui.definitions.subgraphs) && ui.definitions.subgraphs.length > 0;
  return Boolean(groupNodes || subgraphs);
}

function sameValue(a, b) {
  if (typeof a === 'number' && typeof b === 'number') {
    return a === b || Math.abs(a - b) <= 1e-6 * Math.max(Math.abs(a), Math.abs(b));
  }
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => sameValue(item, b[i]));
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && sameValue(a[key], b[key]));
  }
  return a === b;
}

const show = (value) => {
  const text = JSON.stringify(value);
  return text === undefined ? 'absent' : text.length > 60 ? `${text.slice(0, 60)}…` : text;
};

/**
 * The differences between our prompt and the frontend's, as short lines (empty when equal), and the
 * differences that only show when a file is older than the server, counted apart by kind:
 * - `olderFrontendExtra`: the frontend sent a value for an input the class does not define (older
 *   frontends sent the upload button's "image", a video preview's ""); the server ignores it, and
 *   today's frontend no longer sends it.
 * - `inputAddedSince`: we send the definition's default for a widget input the class gained after
 *   the file was saved (the file has no value for it, so the frontend of then sent none).
 * - `displayNameAddedSince`: the frontend titled a node by its class name where the server now has
 *   a display name (the node saved no title of its own).
 */
function diffPrompts(ours, theirs, definitions, uiNodes = new Map()) {
  const diffs = [];
  const tolerated = { olderFrontendExtra: 0, inputAddedSince: 0, displayNameAddedSince: 0 };
  for (const id of Object.keys(theirs)) if (!Object.hasOwn(ours, id)) diffs.push(`#${id} ${theirs[id].class_type}: missing`);
  for (const id of Object.keys(ours)) if (!Object.hasOwn(theirs, id)) diffs.push(`#${id} ${ours[id].class_type}: extra`);
  for (const id of Object.keys(theirs)) {
    if (!Object.hasOwn(ours, id)) continue;
    const a = ours[id];
    const b = theirs[id];
    const definition = definitions.get(b.class_type);
    if (a.class_type !== b.class_type) diffs.push(`#${id}: class_type ${a.class_type} ≠ ${b.class_type}`);
    const title = b._meta && b._meta.title;
    const ourTitle = a._meta && a._meta.title;
    if (title !== undefined && ourTitle !== title) {
      const savedTitle = uiNodes.get(id) && uiNodes.get(id).title;
      if (title === b.class_type && savedTitle === undefined) tolerated.displayNameAddedSince += 1;
      else diffs.push(`#${id}: title ${show(ourTitle)} ≠ ${show(title)}`);
    }
    const names = new Set([...Object.keys(a.inputs), ...Object.keys(b.inputs)]);
    for (const name of names) {
      if (sameValue(a.inputs[name], b.inputs[name])) continue;
      const input = definition && [...definition.inputs, ...definition.hidden].find((entry) => entry.name === name);
      if (!Object.hasOwn(a.inputs, name) && definition && !input) tolerated.olderFrontendExtra += 1;
      else if (!Object.hasOwn(b.inputs, name) && input && input.widget && sameValue(a.inputs[name], defaultValue(input)))
        tolerated.inputAddedSince += 1;
      else diffs.push(`#${id} ${b.class_type}.${name}: ours ${show(a.inputs[name])}, frontend ${show(b.inputs[name])}`);
    }
  }
  return { diffs, tolerated };
}

/** Every pair of `dir`, converted and compared: [{name, expansion, diffs, error}]. */
function comparePairs(dir, definitions = loadDefinitions()) {
  const names = readdirSync(dir)
    .filter((file) => file.endsWith('.ui.json'))
    .map((file) => file.slice(0, -'.ui.json'.length))
    .sort();
  return names.map((name) => {
    const ui = JSON.parse(readFileSync(join(dir, `${name}.ui.json`), 'utf8'));
    const api = JSON.parse(readFileSync(join(dir, `${name}.api.json`), 'utf8'));
    const expansion = needsExpansion(ui);
    const uiNodes = new Map((Array.isArray(ui.nodes) ? ui.nodes : []).map((node) => [String(node.id), node]));
    try {
      return { name, expansion, ...diffPrompts(convertUiWorkflow(ui, definitions), api, definitions, uiNodes) };
    } catch (err) {
      return { name, expansion, diffs: [], tolerated: {}, error: `${err.code || err.name}: ${String(err.message).slice(0, 300)}` };
    }
  });
}

function summarize(results) {
  const lines = [];
  const flat = results.filter((result) => !result.expansion);
  const grouped = results.filter((result) => result.expansion);
  const equal = (list) => list.filter((result) => !result.error && result.diffs.length === 0).length;
  for (const result of results) {
    if (!result.error && result.diffs.length === 0) continue;
    lines.push(`✗ ${result.name}${result.expansion ? ' (group nodes or subgraphs: needs expansion)' : ''}`);
    if (result.error) lines.push(`    threw ${result.error}`);
    for (const diff of result.diffs.slice(0, MAX_DIFFS_SHOWN)) lines.push(`    ${diff}`);
    if (result.diffs.length > MAX_DIFFS_SHOWN) lines.push(`    … and ${result.diffs.length - MAX_DIFFS_SHOWN} more`);
  }
  const tolerated = {};
  for (const result of flat) for (const [kind, count] of Object.entries(result.tolerated)) tolerated[kind] = (tolerated[kind] || 0) + count;
  const kinds = Object.entries(tolerated).filter(([, count]) => count > 0);
  if (kinds.length > 0)
    lines.push(`file older than the server (not counted as differences): ${kinds.map(([kind, count]) => `${kind} ${count}`).join(', ')}`);
  if (grouped.length > 0) lines.push(`needing expansion: ${grouped.length} compared, ${equal(grouped)} equal`);
  lines.push(`real pairs: ${flat.length} compared, ${equal(flat)} equal`);
  return {
    text: lines.join('\n'),
    compared: flat.length,
    equal: equal(flat),
    groupedCompared: grouped.length,
    groupedEqual: equal(grouped),
  };
}

module.exports = { comparePairs, diffPrompts, summarize, loadDefinitions };

if (require.main === module) {
  const [dir, option, file] = process.argv.slice(2);
  if (!dir || (option !== undefined && (option !== '--definitions' || !file))) {
    console.error('usage: node test/tools/real-pairs.js <dir of X.ui.json + X.api.json pairs> [--definitions <object_info.json>]');
    process.exit(2);
  }
  const summary = summarize(comparePairs(dir, loadDefinitions(file)));
  console.log(summary.text);
  process.exit(summary.equal === summary.compared ? 0 : 1);
}
