'use strict';
/**
 * Jobs 2 and 3: prompts the simulator completes at once, through comfyui-submit (waiting for the
 * result) → sink, against the raw client of raw-client.js. Each prompt is a distinct tiny
 * EmptyImage → SaveImage (a different colour, so ComfyUI's cache never answers for it).
 */
const { check, tinyWorkflow, waitFor, within } = require('./common');
const { connectRawClient } = require('./raw-client');
const runtime = require('./runtime');

let serial = 0;

/** A run in which nothing comes back for this long has lost prompts: it stops and says so. */
const STALL_MS = 30_000;

function flowFor(url) {
  return [
    { id: 'tab', type: 'tab' },
    { id: 'srv', type: 'comfyui-server', url, timeout: 60, stall: 60 },
    { id: 'sub', z: 'tab', type: 'comfyui-submit', server: 'srv', workflow: '', mode: 'wait', wires: [['sink']] },
    { id: 'sink', z: 'tab', type: 'helper' },
    { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['errors']] },
    { id: 'errors', z: 'tab', type: 'helper' },
  ];
}

/** Checks what came back: `count` distinct successful prompts, each with its one file. */
function verify(label, results, count) {
  const ids = new Set(results.map((r) => r.promptId));
  const ok = results.filter((r) => r.ok).length;
  check(results.length === count, `${label}: ${results.length} of ${count} prompts came back (lost ${count - results.length})`);
  check(ids.size === results.length, `${label}: ${results.length - ids.size} prompts came back twice`);
  check(ok === results.length, `${label}: ${results.length - ok} prompts came back without success and one file`);
}

/** Deploys the submit flow; returns a runner that pushes `count` prompts, `concurrency` at a time. */
async function ours(url, count, concurrency) {
  const helper = await runtime.load(flowFor(url), [runtime.coreNode('common/25-catch.js')]);
  const client = helper.getNode('srv').client;
  await waitFor(() => client.state === 'connected', 'the config node to connect');
  const submit = helper.getNode('sub');
  const results = [];
  const errors = [];
  let wake = () => undefined;
  helper.getNode('sink').on('input', (msg) => {
    const p = msg.payload;
    results.push({ promptId: msg.prompt_id, ok: p && p.status === 'success' && p.images.length === 1 });
    wake();
  });
  helper.getNode('errors').on('input', (msg) => {
    errors.push(msg.error && msg.error.message);
    wake();
  });
  const started = performance.now();
  let sent = 0;
  while (results.length + errors.length < count) {
    while (sent < count && sent - results.length - errors.length < concurrency) {
      submit.receive({ payload: tinyWorkflow(++serial) });
      sent += 1;
    }
    const before = results.length + errors.length;
    await within(new Promise((resolve) => (wake = resolve)), STALL_MS);
    if (results.length + errors.length === before) break; // nothing came back for STALL_MS: lost
  }
  const elapsed = performance.now() - started;
  check(errors.length === 0, `ours: ${errors.length} prompts failed: ${errors.slice(0, 3).join('; ')}`);
  verify('ours', results, count);
  check(client.pendingJobs === 0, `ours: the tracker still holds ${client.pendingJobs} jobs`);
  await runtime.unload();
  return elapsed;
}

async function baseline(url, count, concurrency) {
  const raw = await connectRawClient(url);
  const results = [];
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next += 1;
      const run = await within(raw.run(tinyWorkflow(++serial)), STALL_MS);
      if (!run) return; // lost: verify() reports it
      const { promptId, entry } = run;
      const images = entry && entry.outputs && entry.outputs['2'] && entry.outputs['2'].images;
      results.push({ promptId, ok: entry && entry.status.status_str === 'success' && images && images.length === 1 });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  const elapsed = performance.now() - started;
  verify('baseline', results, count);
  await raw.close();
  return elapsed;
}

module.exports = { ours, baseline, flowFor };
