#!/usr/bin/env node
'use strict';
/**
 * Job 1 — events. N `progress` events of one prompt, sent by the simulator (another process) to
 * our client id, through config node → comfyui-progress → a sink in a Node-RED runtime, against
 * a bare `ws` client that JSON.parses the same frames. Measured from the first frame at the socket
 * to the last msg at the sink (last parsed frame for the baseline).
 *
 * The prompt is a real one submitted through comfyui-submit (waiting for its result, so the job
 * tracker and the submit node's progress callback see every frame too) while the simulator's
 * worker is paused; the frames are its progress; then the worker resumes and the prompt completes.
 */
const WebSocket = require('ws');
const { request } = require('undici');
const { quick, alternate, check, finish, main, ms, tinyWorkflow, verdict, waitFor } = require('./lib/common');
const { spawnSimulator } = require('./lib/sim');
const runtime = require('./lib/runtime');

const COUNT = quick ? 10_000 : 100_000;
const RUNS = quick ? 3 : 5;
const GOAL = 1.5;

main(async () => {
  const sim = await spawnSimulator({ stepMs: 0, nodeMs: 0 });
  await runtime.start();

  async function ours() {
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
    const onFrame = () => {
      if (firstFrame === 0) firstFrame = performance.now();
    };
    client.on('frame', onFrame);
    const sink = runtime.sinkCounter(helper.getNode('sink'), COUNT, (msg) => {
      if (msg.topic !== 'progress' || msg.prompt_id !== promptId) throw new Error(`unexpected msg ${msg.topic} at the sink`);
    });
    await sim.call('blast', { promptId, node: '2', count: COUNT, clientId: client.clientId });
    await Promise.race([sink.done, waitFor(() => false, `${COUNT} msgs at the sink (got ${sink.received})`, 120_000, 250)]);
    client.off('frame', onFrame);
    const elapsed = sink.last - firstFrame;

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

  /**
   * Not a side of the ratio, for the report: what Node-RED alone costs for the same number of
   * msgs (node.send of ready-made progress msgs from a node to a sink; no ComfyUI, no client).
   */
  async function nodeRedFloor() {
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

  const result = await alternate({ runs: RUNS, ours, baseline, label: 'events' });
  let floor;
  if (!require('./lib/common').flags.only) {
    const floors = [];
    for (let i = 0; i < Math.min(RUNS, 3); i += 1) floors.push(await nodeRedFloor());
    floor = require('./lib/common').median(floors);
    console.log(
      `events: Node-RED alone (${COUNT} ready-made msgs node.send → sink): ${ms(floor)}; raw ws + JSON.parse ${ms(result.baseline)}; so raw + Node-RED ≈ ${((floor + result.baseline) / result.baseline).toFixed(2)}× the baseline before any of our code runs`,
    );
  }
  await runtime.stop();
  await waitFor(async () => (await sim.openSocketCount()) === 0, 'the simulator to see every socket closed', 5000).catch(() => undefined);
  const sockets = await sim.openSocketCount();
  check(sockets === 0, `${sockets} sockets still open on the simulator`);
  await sim.close();
  const rate = (COUNT / result.ours) * 1000;
  finish(
    `events: ${COUNT} progress events → comfyui-progress → sink: ours ${ms(result.ours)} (${Math.round(rate)}/s), raw ws + JSON.parse ${ms(result.baseline)}, ` +
      `median of ${result.runs}, ratio ${result.ratio.toFixed(2)}× (goal ≤ ${GOAL}×: ${verdict(result.ratio, GOAL)})`,
  );
});
