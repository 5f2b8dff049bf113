#!/usr/bin/env node
'use strict';
/**
 * Job 1 — events. N `progress` events of one prompt, sent by the simulator (another process) to
 * our client id, through config node → comfyui-progress → a sink in a Node-RED runtime. Measured
 * from the first frame at the socket to the last msg at the sink. Four sides in one rotation:
 *  - ours;
 *  - raw: a bare `ws` client that JSON.parses the same frames (to its last parsed frame);
 *  - floor: Node-RED alone sending as many ready-made msgs node.send → sink (no ComfyUI, no client);
 *  - diy: the same frames through the flow a person wires from core nodes: websocket in → json →
 *    switch (payload.type is progress) → sink.
 * Goals: ours ≤ 1.2× (raw + floor) and ours ≤ 0.5× diy. Then, when the progress node has its
 * coalescing option (`coalesce`, msgs per second per prompt), the same frames with it set, against
 * raw (goal ≤ 1.5×): measured to the last frame handled by every listener of the client, and the
 * sink must get the last value.
 *
 * The prompt is a real one submitted through comfyui-submit (waiting for its result, so the job
 * tracker and the submit node's progress callback see every frame too) while the simulator's
 * worker is paused; the frames are its progress; then the worker resumes and the prompt completes.
 */
const WebSocket = require('ws');
const { request } = require('undici');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { quick, alternate, check, finish, main, ms, roundRatio, tinyWorkflow, verdict, waitFor } = require('./lib/common');
const { spawnSimulator } = require('./lib/sim');
const runtime = require('./lib/runtime');

const COUNT = quick ? 10_000 : 100_000;
const RUNS = quick ? 3 : 5;
/** ours ≤ GOAL × (raw + Node-RED floor), ours ≤ DIY_GOAL × the core-node flow, coalesced ≤ COALESCED_GOAL × raw. */
const GOAL = 1.2;
const DIY_GOAL = 0.5;
const COALESCED_GOAL = 1.5;
/** msgs per second per prompt for the coalesced run: what a dashboard's progress bar needs. */
const COALESCE_RATE = 10;

/** The progress node has the coalescing option once its build mentions the `coalesce` setting. */
function hasCoalescing() {
  return readFileSync(join(__dirname, '..', 'dist', 'nodes', 'comfyui-progress.js'), 'utf8').includes('coalesce');
}

main(async () => {
  const sim = await spawnSimulator({ stepMs: 0, nodeMs: 0 });
  await runtime.start();

  /**
   * Ours: frames → config node → comfyui-progress → sink. With `coalesce` (msgs per second per
   * prompt) the sink gets a few msgs only; the run then ends when the client has handed the last
   * frame to every listener (the progress node's first), and the sink must still get its value.
   */
  async function ours(coalesce) {
    const helper = await runtime.load([
      { id: 'tab', type: 'tab' },
      { id: 'srv', type: 'comfyui-server', url: sim.url, timeout: 30, stall: 60 },
      { id: 'sub', z: 'tab', type: 'comfyui-submit', server: 'srv', workflow: '', mode: 'wait', wires: [['done']] },
      {
        id: 'prog',
        z: 'tab',
        type: 'comfyui-progress',
        server: 'srv',
        scope: 'own',
        events: ['progress'],
        previewRate: 0,
        ...(coalesce ? { coalesce } : {}),
        wires: [['sink']],
      },
      { id: 'sink', z: 'tab', type: 'helper' },
      { id: 'done', z: 'tab', type: 'helper' },
    ]);
    const client = helper.getNode('srv').client;
    await waitFor(() => client.state === 'connected', 'the config node to connect');
    await sim.call('pause');
    const finished = new Promise((resolve) => helper.getNode('done').once('input', resolve));
    helper.getNode('sub').receive({ payload: tinyWorkflow() });
    const promptId = await waitFor(async () => {
      const queue = await (await request(`${sim.url}/queue`)).body.json();
      return queue.queue_pending[0] && queue.queue_pending[0][1];
    }, 'the prompt to be queued');

    let firstFrame = 0;
    let lastHandled = 0;
    // One listener of the bench's own for both ends: a second one (on 'event') would add to every frame's cost what is measured.
    const onFrame = (frame) => {
      if (firstFrame === 0) firstFrame = performance.now();
      // The client hands a frame to its 'event' listeners right after its 'frame' listeners, in the same call:
      // a microtask runs once that call (the socket read holding the last frame) is over.
      if (coalesce && frame.kind === 'message' && frame.message.type === 'progress' && frame.message.data.value === COUNT) {
        queueMicrotask(() => (lastHandled = performance.now()));
      }
    };
    client.on('frame', onFrame);
    let elapsed;
    if (!coalesce) {
      const sink = runtime.sinkCounter(helper.getNode('sink'), COUNT, (msg) => {
        if (msg.topic !== 'progress' || msg.prompt_id !== promptId) throw new Error(`unexpected msg ${msg.topic} at the sink`);
      });
      await sim.call('blast', { promptId, node: '2', count: COUNT, clientId: client.clientId });
      await Promise.race([sink.done, waitFor(() => false, `${COUNT} msgs at the sink (got ${sink.received})`, 120_000, 250)]);
      elapsed = sink.last - firstFrame;
    } else {
      let delivered = 0;
      let lastValue = 0;
      const onSink = (msg) => {
        delivered += 1;
        lastValue = msg.payload.value;
      };
      helper.getNode('sink').on('input', onSink);
      await sim.call('blast', { promptId, node: '2', count: COUNT, clientId: client.clientId });
      await waitFor(() => lastValue === COUNT, `the last value (${COUNT}) at the sink (got ${lastValue} in ${delivered} msgs)`, 120_000);
      helper.getNode('sink').off('input', onSink);
      check(delivered < COUNT / 10, `coalesced: ${delivered} msgs for ${COUNT} frames`);
      elapsed = { ms: lastHandled - firstFrame, delivered };
    }
    client.off('frame', onFrame);

    await sim.call('resume');
    const result = await finished;
    check(result.payload && result.payload.status === 'success', 'the prompt followed during the events run did not complete');
    check(client.pendingJobs === 0, 'the tracker still holds the prompt after it finished');
    await runtime.unload();
    return elapsed;
  }

  async function baseline(index) {
    const clientId = `raw-events-${index}-${Date.now()}`;
    const ws = new WebSocket(`${sim.url.replace(/^http/, 'ws')}/ws?clientId=${clientId}`, { perMessageDeflate: false });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const promptId = `raw-${index}`;
    let received = 0;
    let first = 0;
    let last = 0;
    const done = new Promise((resolve) => {
      ws.on('message', (data, isBinary) => {
        if (first === 0) first = performance.now();
        if (isBinary) return;
        const message = JSON.parse(data.toString('utf8'));
        if (message.type !== 'progress' || message.data.prompt_id !== promptId) return;
        received += 1;
        if (received === COUNT) {
          last = performance.now();
          resolve();
        }
      });
    });
    // The greeting `status` frame must not count as the first of the measured frames.
    await new Promise((resolve) => setTimeout(resolve, 50));
    first = 0;
    await sim.call('blast', { promptId, node: '2', count: COUNT, clientId });
    await done;
    ws.close();
    await new Promise((resolve) => ws.once('close', resolve));
    return last - first;
  }

  /** What Node-RED alone costs for the same number of msgs (node.send of ready-made progress msgs from a node to a sink). */
  async function floor() {
    const helper = await runtime.load([
      { id: 'tab', type: 'tab' },
      { id: 'src', z: 'tab', type: 'helper', wires: [['sink']] },
      { id: 'sink', z: 'tab', type: 'helper' },
    ]);
    const msgs = [];
    for (let i = 1; i <= COUNT; i += 1) {
      msgs.push({
        topic: 'progress',
        payload: { value: i, max: COUNT, prompt_id: 'p', node: '2' },
        prompt_id: 'p',
        node: '2',
        title: 'Save Image',
        percent: 0,
      });
    }
    const src = helper.getNode('src');
    const sink = runtime.sinkCounter(helper.getNode('sink'), COUNT);
    const started = performance.now();
    // In chunks, the way frames arrive: each socket read delivers a few hundred at once.
    for (let i = 0; i < COUNT; i += 500) {
      for (let j = i; j < Math.min(COUNT, i + 500); j += 1) src.send(msgs[j]);
      await new Promise(setImmediate);
    }
    await sink.done;
    const elapsed = sink.last - started;
    await runtime.unload();
    return elapsed;
  }

  /** The same frames through core nodes: websocket in → json → switch (payload.type == progress) → sink. */
  async function diy(index) {
    const clientId = `diy-events-${index}-${Date.now()}`;
    const helper = await runtime.load(
      [
        { id: 'tab', type: 'tab' },
        {
          id: 'wsc',
          type: 'websocket-client',
          path: `${sim.url.replace(/^http/, 'ws')}/ws?clientId=${clientId}`,
          tls: '',
          wholemsg: 'false',
          hb: '0',
          subprotocol: '',
          headers: [],
        },
        { id: 'events', z: 'tab', type: 'websocket in', name: '', server: '', client: 'wsc', wires: [['parse']] },
        { id: 'parse', z: 'tab', type: 'json', property: 'payload', action: '', pretty: false, wires: [['isProgress']] },
        {
          id: 'isProgress',
          z: 'tab',
          type: 'switch',
          property: 'payload.type',
          propertyType: 'msg',
          rules: [{ t: 'eq', v: 'progress', vt: 'str' }],
          checkall: 'true',
          repair: false,
          outputs: 1,
          wires: [['sink']],
        },
        { id: 'sink', z: 'tab', type: 'helper' },
      ],
      diyNodes,
    );
    await waitFor(
      () => helper.getNode('wsc').server && helper.getNode('wsc').server.readyState === WebSocket.OPEN,
      'the websocket-client node to connect',
    );
    // The greeting `status` frame must not count as the first of the measured frames.
    await new Promise((resolve) => setTimeout(resolve, 50));
    let first = 0;
    helper.getNode('wsc').server.prependListener('message', () => {
      if (first === 0) first = performance.now();
    });
    const sink = runtime.sinkCounter(helper.getNode('sink'), COUNT, (msg) => {
      if (msg.payload.type !== 'progress') throw new Error(`unexpected msg ${msg.payload.type} at the sink`);
    });
    await sim.call('blast', { promptId: `diy-${index}`, node: '2', count: COUNT, clientId });
    await Promise.race([
      sink.done,
      waitFor(() => false, `${COUNT} msgs at the sink of the core-node flow (got ${sink.received})`, 120_000, 250),
    ]);
    const elapsed = sink.last - first;
    await runtime.unload();
    return elapsed;
  }
  const diyNodes = ['network/22-websocket.js', 'parsers/70-JSON.js', 'function/10-switch.js'].map(runtime.coreNode);

  const result = await alternate({ runs: RUNS, label: 'events', ours: () => ours(), baseline, extra: { floor, diy } });
  const { medians } = result;
  const vsFloor = roundRatio(result.samples, 'ours', ['baseline', 'floor']);
  const vsDiy = roundRatio(result.samples, 'ours', ['diy']);
  console.log(
    `events: ours ${ms(medians.ours)}, raw ws + JSON.parse ${ms(medians.baseline)}, Node-RED alone (${COUNT} ready-made msgs node.send → sink) ${ms(medians.floor)}, ` +
      `core-node flow ${ms(medians.diy)}; ours / raw ${result.ratio.toFixed(2)}×`,
  );

  let coalescedLine = 'events, coalesced: not available (the progress node has no coalescing option yet)';
  let coalescedVerdict = 'NOT met';
  if (!hasCoalescing()) console.log(coalescedLine);
  else {
    const coalesced = await alternate({ runs: RUNS, label: 'coalesced', ours: () => ours(COALESCE_RATE), baseline });
    const delivered = coalesced.samples.ours.map((s) => s.delivered);
    coalescedVerdict = verdict(coalesced.ratio, COALESCED_GOAL);
    coalescedLine =
      `events, coalesced (coalesce ${COALESCE_RATE}/s; ${Math.min(...delivered)}–${Math.max(...delivered)} msgs at the sink): ours ${ms(coalesced.ours)} to the last frame handled, ` +
      `raw ws + JSON.parse ${ms(coalesced.baseline)}, median of ${coalesced.runs}, ratio vs raw ${coalesced.ratio.toFixed(2)}× (goal ≤ ${COALESCED_GOAL}×: ${verdict(coalesced.ratio, COALESCED_GOAL)})`;
    console.log(coalescedLine);
  }

  await runtime.stop();
  await waitFor(async () => (await sim.openSocketCount()) === 0, 'the simulator to see every socket closed', 5000).catch(() => undefined);
  const sockets = await sim.openSocketCount();
  check(sockets === 0, `${sockets} sockets still open on the simulator`);
  await sim.close();
  const rate = (COUNT / medians.ours) * 1000;
  finish(
    `events: ${COUNT} progress events → comfyui-progress → sink: ours ${ms(medians.ours)} (${Math.round(rate)}/s), median of ${result.runs}; ` +
      `vs raw + Node-RED floor (${ms(medians.baseline)} + ${ms(medians.floor)}) ${vsFloor.toFixed(2)}× (goal ≤ ${GOAL}×: ${verdict(vsFloor, GOAL)}); ` +
      `vs core-node flow (${ms(medians.diy)}) ${vsDiy.toFixed(2)}× (goal ≤ ${DIY_GOAL}×: ${verdict(vsDiy, DIY_GOAL)}); ` +
      coalescedLine.replace(/^events, /, ''),
    [verdict(vsFloor, GOAL), verdict(vsDiy, DIY_GOAL), coalescedVerdict],
  );
});
