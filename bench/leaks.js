#!/usr/bin/env node
'use strict';
/**
 * Job 6 — leaks (run with --expose-gc; the script re-executes itself with it when needed).
 *
 * A. N deploy/undeploy cycles of a flow with one config node and several users (submit, images,
 *    progress, queue, info, interrupt); each cycle waits for the connection and runs one prompt
 *    through submit → images. Afterwards the simulator must see no open WebSocket and no open TCP
 *    connection, and the heap after GC must not have grown by more than 5 MB since the warm-up.
 *    Beside it, measured first in the same process: Node-RED alone doing as many cycles of a flow
 *    of as many plain nodes (baselineFlow), for the growth that is Node-RED's own.
 * B. M finished prompts through one deployed flow (submit → sink, plus a progress node so the
 *    event feed works too): the tracker holds none afterwards, and the client's other maps stay
 *    within their bounds (client.submitted ≤ 500 by design).
 */
const { execFileSync } = require('node:child_process');

if (typeof global.gc !== 'function') {
  // Re-run with --expose-gc; the child's output is ours.
  try {
    execFileSync(process.execPath, ['--expose-gc', ...process.execArgv, __filename, ...process.argv.slice(2)], { stdio: 'inherit' });
    process.exit(0);
  } catch (err) {
    process.exit(typeof err.status === 'number' ? err.status : 1);
  }
}

const { quick, check, finish, main, mb, sleep, tinyWorkflow, waitFor, within } = require('./lib/common');
const runtime = require('./lib/runtime');
const { spawnSimulator } = require('./lib/sim');

const CYCLES = quick ? 30 : 200;
const WARMUP_CYCLES = quick ? 5 : 20;
const PROMPTS = quick ? 1000 : 10_000;
const PROMPT_CONCURRENCY = 50;
const HEAP_GOAL = 5 * 1024 * 1024;

let serial = 2_000_000;

function cycleFlow(url) {
  return [
    { id: 'tab', type: 'tab' },
    { id: 'srv', type: 'comfyui-server', url, timeout: 30, stall: 60 },
    { id: 'sub', z: 'tab', type: 'comfyui-submit', server: 'srv', workflow: '', mode: 'wait', wires: [['img']] },
    { id: 'img', z: 'tab', type: 'comfyui-images', server: 'srv', output: 'buffer', wires: [['sink']] },
    {
      id: 'prog',
      z: 'tab',
      type: 'comfyui-progress',
      server: 'srv',
      scope: 'own',
      events: ['progress', 'executing'],
      previewRate: 0,
      wires: [[]],
    },
    { id: 'queue', z: 'tab', type: 'comfyui-queue', server: 'srv', action: 'get', wires: [[]] },
    { id: 'info', z: 'tab', type: 'comfyui-info', server: 'srv', info: 'system_stats', nodeClass: '', folder: '', wires: [[]] },
    { id: 'stop', z: 'tab', type: 'comfyui-interrupt', server: 'srv', wires: [[]] },
    { id: 'sink', z: 'tab', type: 'helper' },
  ];
}

/**
 * The baseline: Node-RED alone doing the same cycles — a flow of as many nodes with the same ids, of the
 * helper's plain type, one msg from the first to the sink — so that growth of Node-RED's own (and the
 * test helper's) shows beside ours, measured in the same process.
 */
function baselineFlow() {
  const standIns = ['sub', 'img', 'prog', 'queue', 'info', 'stop'].map((id) => ({
    id,
    z: 'tab',
    type: 'helper',
    wires: [id === 'sub' ? ['sink'] : []],
  }));
  return [{ id: 'tab', type: 'tab' }, ...standIns, { id: 'sink', z: 'tab', type: 'helper' }];
}

const EMPTY = [{ id: 'tab', type: 'tab' }];

function heapAfterGc() {
  for (let i = 0; i < 4; i += 1) global.gc();
  return process.memoryUsage().heapUsed;
}

main(async () => {
  const sim = await spawnSimulator({ stepMs: 0, nodeMs: 0 });
  const helper = await runtime.load(EMPTY);

  // ---- A0. the baseline: Node-RED alone, the same cycles with plain nodes in place of ours
  let baselineWarm = 0;
  for (let cycle = 0; cycle < WARMUP_CYCLES + CYCLES; cycle += 1) {
    if (cycle === WARMUP_CYCLES) {
      await sleep(200);
      baselineWarm = heapAfterGc();
    }
    await helper.setFlows(baselineFlow(), 'full');
    const arrived = new Promise((resolve) => helper.getNode('sink').once('input', resolve));
    helper.getNode('sub').send({ payload: tinyWorkflow(++serial) });
    check(await within(arrived, 10_000), `baseline cycle ${cycle}: the msg did not arrive`);
    await helper.setFlows(EMPTY, 'full');
  }
  await sleep(200);
  const baselineGrowth = heapAfterGc() - baselineWarm;

  // ---- A. deploy / undeploy cycles
  let heapWarm = 0;
  let maxSockets = 0;
  for (let cycle = 0; cycle < WARMUP_CYCLES + CYCLES; cycle += 1) {
    if (cycle === WARMUP_CYCLES) {
      await sleep(200);
      heapWarm = heapAfterGc();
    }
    await helper.setFlows(cycleFlow(sim.url), 'full');
    const client = helper.getNode('srv').client;
    await waitFor(() => client.state === 'connected', `cycle ${cycle}: the config node to connect`);
    maxSockets = Math.max(maxSockets, await sim.openSocketCount());
    const arrived = new Promise((resolve) => helper.getNode('sink').once('input', resolve));
    helper.getNode('sub').receive({ payload: tinyWorkflow(++serial) });
    const msg = await within(arrived, 10_000);
    check(msg && Buffer.isBuffer(msg.payload), `cycle ${cycle}: the prompt's image did not arrive`);
    helper.getNode('queue').receive({});
    helper.getNode('info').receive({});
    await helper.setFlows(EMPTY, 'full');
    const done = cycle + 1 - WARMUP_CYCLES;
    if (done > 0 && done % 50 === 0 && done < CYCLES)
      console.log(`  leaks: after ${done} cycles the heap after GC has grown by ${mb(heapAfterGc() - heapWarm)}`);
  }
  await waitFor(async () => (await sim.openSocketCount()) === 0 && (await sim.call('tcp')) === 0, 'every connection to close', 5000).catch(
    () => undefined,
  );
  const wsLeft = await sim.openSocketCount();
  const tcpLeft = await sim.call('tcp');
  await sleep(200);
  const heapGrowth = heapAfterGc() - heapWarm;
  check(wsLeft === 0, `${wsLeft} WebSockets still open on the simulator after ${CYCLES} deploy/undeploy cycles`);
  check(tcpLeft === 0, `${tcpLeft} TCP connections still open on the simulator after ${CYCLES} cycles`);
  check(maxSockets <= 1, `up to ${maxSockets} WebSockets open at once during the cycles (one config node must hold one)`);
  console.log(
    `leaks: ${CYCLES} deploy/undeploy cycles (after ${WARMUP_CYCLES} warm-up): open WebSockets afterwards ${wsLeft}, TCP connections ${tcpLeft}, at most ${maxSockets} at once; heap growth after GC ${mb(heapGrowth)} (Node-RED alone, the same cycles with plain nodes: ${mb(baselineGrowth)})`,
  );

  // ---- B. many finished prompts through one deployed flow
  await helper.setFlows(
    [
      { id: 'tab', type: 'tab' },
      { id: 'srv', type: 'comfyui-server', url: sim.url, timeout: 60, stall: 60 },
      { id: 'sub', z: 'tab', type: 'comfyui-submit', server: 'srv', workflow: '', mode: 'wait', wires: [['sink']] },
      { id: 'prog', z: 'tab', type: 'comfyui-progress', server: 'srv', scope: 'own', events: ['executing'], previewRate: 0, wires: [[]] },
      { id: 'sink', z: 'tab', type: 'helper' },
    ],
    'full',
  );
  const client = helper.getNode('srv').client;
  await waitFor(() => client.state === 'connected', 'the config node to connect');
  const submit = helper.getNode('sub');
  let done = 0;
  let ok = 0;
  let wake = () => undefined;
  helper.getNode('sink').on('input', (msg) => {
    done += 1;
    if (msg.payload && msg.payload.status === 'success') ok += 1;
    wake();
  });
  let sent = 0;
  let heapPromptsWarm = 0;
  let lastProgress = Date.now();
  while (done < PROMPTS) {
    while (sent < PROMPTS && sent - done < PROMPT_CONCURRENCY) {
      submit.receive({ payload: tinyWorkflow(++serial) });
      sent += 1;
    }
    const before = done;
    await within(new Promise((resolve) => (wake = resolve)), 1000);
    if (done > before) lastProgress = Date.now();
    else if (Date.now() - lastProgress > 30_000) break;
    if (heapPromptsWarm === 0 && done >= 500) heapPromptsWarm = heapAfterGc();
  }
  check(done === PROMPTS, `${PROMPTS - done} of ${PROMPTS} prompts never came back`);
  check(ok === done, `${done - ok} prompts came back without success`);
  await sleep(200);
  const heapPrompts = heapAfterGc() - heapPromptsWarm;
  const internals = {
    pendingJobs: client.pendingJobs,
    trackerJobs: client.tracker.jobs.size,
    submitted: client.submitted.size,
    feedProgress: client.feed.progress.size,
  };
  check(
    internals.pendingJobs === 0 && internals.trackerJobs === 0,
    `the tracker still holds ${internals.trackerJobs} jobs after ${PROMPTS} finished prompts`,
  );
  check(internals.submitted <= 500, `client.submitted holds ${internals.submitted} prompts (bounded at 500 by design)`);
  check(internals.feedProgress <= 1000, `the event feed remembers ${internals.feedProgress} prompts (bounded at 1000)`);
  await helper.setFlows(EMPTY, 'full');
  await runtime.unload();
  await runtime.stop();
  await sim.close();
  finish(
    `leaks: ${CYCLES} deploy/undeploy cycles → ${wsLeft} WebSockets and ${tcpLeft} TCP connections left open, heap growth after GC ${mb(heapGrowth)} (goal ≤ ${mb(HEAP_GOAL)}: ${heapGrowth <= HEAP_GOAL ? 'met' : 'NOT met'}; ` +
      `Node-RED alone, the same cycles with plain nodes in place of ours: ${mb(baselineGrowth)}); ` +
      `${done} finished prompts → tracker holds ${internals.trackerJobs}, client.submitted ${internals.submitted} (≤ 500), event feed ${internals.feedProgress}, heap growth over them ${mb(heapPrompts)}`,
    [wsLeft === 0 && tcpLeft === 0, heapGrowth <= HEAP_GOAL],
  );
});
