'use strict';
// Expansion checked against real pairs (a ComfyUI-made file carrying both its UI `workflow` and the
// API `prompt` the frontend made from it), before the converter core exists: for every pair whose UI
// side has group nodes or subgraphs, every node id of the API side must be in the expanded flat graph
// with the same type, and each API link between two expanded nodes must be a flat link between them
// (the flat graph may hold more: Reroutes, PrimitiveNodes, muted nodes the converter drops; links are
// followed through Reroutes and bypassed nodes as the converter will). A pair whose API side names a
// group's inner nodes by other ids (a frontend that had just made the group reused the nodes' graph
// ids; after a reload it uses "<group>:<index>") is matched by class type instead and said so.
// Usage: node test/tools/expand-pairs.js <dir with X.ui.json + X.api.json>; exit code 1 when any differ.
const fs = require('node:fs');
const path = require('node:path');
const { expandWorkflow } = require('../../dist/client/ui-convert/expand');
const { bypassInputIndex } = require('../../dist/client/bypass-rule');

/** Differences between one expanded UI workflow and its API prompt, as lines. */
function compare(ui, api) {
  const flat = expandWorkflow(ui);
  if (!flat) return ['the UI side has no node list'];
  const byId = new Map(flat.nodes.map((node) => [node.id, node]));
  const renamed = renaming(flat, api);
  const problems = [];
  for (const [id, entry] of Object.entries(api)) {
    const node = byId.get(renamed.get(id) ?? id);
    if (!node) problems.push(`API node ${id} (${entry.class_type}) is not in the flat graph`);
    else if (node.type !== entry.class_type) problems.push(`node ${id} is ${node.type} in the flat graph, ${entry.class_type} in the API`);
    else problems.push(...compareLinks(flat, node, entry, api, renamed));
  }
  const notes = [...renamed].map(([from, to]) => `API ${from} = flat ${to}`);
  return { problems, notes };
}

/** API ids missing from the flat graph paired with expanded flat nodes missing from the API, when their class types pair up one to one. */
function renaming(flat, api) {
  const missing = Object.keys(api).filter((id) => !flat.nodes.some((node) => node.id === id));
  const spare = flat.nodes.filter(
    (node) => node.id.includes(':') && !api[node.id] && node.mode !== 2 && node.mode !== 4 && node.type !== 'Reroute',
  );
  const pairs = new Map();
  for (const id of missing) {
    const same = spare.filter((node) => node.type === api[id].class_type);
    const sameInApi = missing.filter((other) => api[other].class_type === api[id].class_type);
    if (same.length !== 1 || sameInApi.length !== 1) return new Map();
    pairs.set(id, same[0].id);
  }
  return pairs;
}

/** An API link [origin, slot] of a node both sides have must be a flat link from that origin, directly or through Reroutes. */
function compareLinks(flat, node, entry, api, renamed) {
  const problems = [];
  for (const [name, value] of Object.entries(entry.inputs)) {
    if (!Array.isArray(value) || value.length !== 2 || !api[value[0]]) continue;
    const input = node.inputs.find((slot) => slot.name === name);
    const origin = input && input.link !== null ? upstream(flat, input.link, input.type) : undefined;
    const expected = renamed.get(value[0]) ?? value[0];
    if (!origin || origin.originId !== expected || origin.originSlot !== value[1]) {
      problems.push(
        `${node.id}.${name}: API ${JSON.stringify(value)}, flat ${origin ? JSON.stringify([origin.originId, origin.originSlot]) : 'none'}`,
      );
    }
  }
  return problems;
}

/** The link's real origin, through Reroutes and bypassed nodes (the converter's job, done here the simple way). */
function upstream(flat, linkId, targetType) {
  const byId = new Map(flat.nodes.map((node) => [node.id, node]));
  let link = flat.links.get(linkId);
  for (let steps = 0; link && steps < 100; steps++) {
    const origin = byId.get(link.originId);
    if (!origin) return link;
    let through;
    if (origin.type === 'Reroute') through = origin.inputs[0];
    else if (origin.mode === 4) {
      const output = origin.outputs[link.originSlot];
      const index = bypassInputIndex(
        origin.inputs.map((input) => input.type),
        link.originSlot,
        output && output.type,
        targetType,
      );
      through = origin.inputs[index];
    } else return link;
    if (!through || through.link === null) return undefined;
    link = flat.links.get(through.link);
  }
  return link;
}

function main() {
  const dir = process.argv[2];
  if (!dir) throw new Error('usage: node test/tools/expand-pairs.js <dir>');
  let compared = 0;
  let equal = 0;
  for (const file of fs
    .readdirSync(dir)
    .filter((name) => name.endsWith('.ui.json'))
    .sort()) {
    const ui = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
    const nested = (ui.definitions && ui.definitions.subgraphs && ui.definitions.subgraphs.length) || (ui.extra && ui.extra.groupNodes);
    if (!nested) continue;
    const api = JSON.parse(fs.readFileSync(path.join(dir, file.replace(/\.ui\.json$/, '.api.json')), 'utf8'));
    const { problems, notes } = compare(ui, api);
    compared++;
    if (problems.length === 0) equal++;
    else console.log(`${file}:\n  ${problems.slice(0, 10).join('\n  ')}`);
    if (notes.length > 0)
      console.log(`${file}: matched by class type (ids the group's nodes had while the frontend ran): ${notes.join(', ')}`);
  }
  console.log(`expanded pairs: ${compared} compared, ${equal} equal`);
  process.exitCode = compared === equal ? 0 : 1;
}

if (require.main === module) main();
module.exports = { compare };
