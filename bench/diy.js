#!/usr/bin/env node
'use strict';
/**
 * Job 5 — do-it-yourself. Job 2 (N tiny prompts, one after the other) built from Node-RED core
 * nodes the way a person wires it without this package, against ours (comfyui-submit → sink):
 *
 *   [prepare] → http request POST /prompt → [remember the msg under its prompt_id] ─┐
 *   websocket in (client /ws?clientId=…) → [JSON.parse; on executing {node: null}] ─┴→
 *     http request GET /history/{id} → [pick the outputs] → sink
 *
 * The function nodes keep waiting msgs in flow context and handle the race in which
 * `executing null` arrives before the POST answer. Both http request nodes have "keep connection
 * alive" ticked (the better of the two choices a user has); the websocket client is as configured
 * by default.
 */
const { quick, alternate, check, finish, main, ms, roundRatio, tinyWorkflow, verdict, waitFor } = require('./lib/common');
const prompts = require('./lib/prompts');
const runtime = require('./lib/runtime');
const { spawnSimulator } = require('./lib/sim');

const COUNT = quick ? 100 : 1000;
const RUNS = quick ? 3 : 5;
/** Ours at most this share of the core-node flow's time. */
const DIY_GOAL = 0.5;

let serial = 1_000_000;

function diyFlow(url, clientId) {
  const prepare = `
msg.headers = { 'content-type': 'application/json' };
msg.payload = { prompt: msg.payload, client_id: ${JSON.stringify(clientId)} };
return msg;`;
  const remember = `
const id = msg.payload && msg.payload.prompt_id;
if (!id) { node.error('ComfyUI did not queue the prompt: ' + JSON.stringify(msg.payload), msg); return null; }
msg.prompt_id = id;
delete msg.payload;
delete msg.headers;
msg.url = ${JSON.stringify(url)} + '/history/' + id;
const early = flow.get('finishedEarly') || {};
if (early[id]) { delete early[id]; flow.set('finishedEarly', early); return msg; }
const pending = flow.get('pending') || {};
pending[id] = msg;
flow.set('pending', pending);
return null;`;
  const onEvent = `
if (typeof msg.payload !== 'string') return null; // binary previews
let event;
try { event = JSON.parse(msg.payload); } catch (e) { return null; }
if (event.type !== 'executing' || !event.data || event.data.node !== null) return null;
const id = event.data.prompt_id;
const pending = flow.get('pending') || {};
const waiting = pending[id];
if (!waiting) {
  const early = flow.get('finishedEarly') || {};
  early[id] = true;
  flow.set('finishedEarly', early);
  return null;
}
delete pending[id];
flow.set('pending', pending);
return waiting;`;
  const pick = `
const entry = msg.payload && msg.payload[msg.prompt_id];
if (!entry) { node.error('no history for ' + msg.prompt_id, msg); return null; }
const images = [];
for (const output of Object.values(entry.outputs || {})) for (const image of output.images || []) images.push(image);
msg.payload = { prompt_id: msg.prompt_id, status: entry.status.status_str, images, outputs: entry.outputs };
return msg;`;
  const fn = (id, func, wires) => ({
    id,
    z: 'tab',
    type: 'function',
    func,
    outputs: 1,
    timeout: 0,
    noerr: 0,
    initialize: '',
    finalize: '',
    libs: [],
    wires,
  });
  return [
    { id: 'tab', type: 'tab' },
    {
      id: 'wsc',
      type: 'websocket-client',
      path: `${url.replace(/^http/, 'ws')}/ws?clientId=${clientId}`,
      tls: '',
      wholemsg: 'false',
      hb: '0',
      subprotocol: '',
      headers: [],
    },
    fn('prepare', prepare, [['post']]),
    {
      id: 'post',
      z: 'tab',
      type: 'http request',
      method: 'POST',
      ret: 'obj',
      paytoqs: 'ignore',
      url: `${url}/prompt`,
      tls: '',
      persist: true,
      proxy: '',
      insecureHTTPParser: false,
      authType: '',
      senderr: false,
      headers: [],
      wires: [['remember']],
    },
    fn('remember', remember, [['get']]),
    { id: 'events', z: 'tab', type: 'websocket in', name: '', server: '', client: 'wsc', wires: [['onEvent']] },
    fn('onEvent', onEvent, [['get']]),
    {
      id: 'get',
      z: 'tab',
      type: 'http request',
      method: 'GET',
      ret: 'obj',
      paytoqs: 'ignore',
      url: '',
      tls: '',
      persist: true,
      proxy: '',
      insecureHTTPParser: false,
      authType: '',
      senderr: false,
      headers: [],
      wires: [['pick']],
    },
    fn('pick', pick, [['sink']]),
    { id: 'sink', z: 'tab', type: 'helper' },
    { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['errors']] },
    { id: 'errors', z: 'tab', type: 'helper' },
  ];
}

main(async () => {
  const sim = await spawnSimulator({ stepMs: 0, nodeMs: 0 });
  const coreNodes = ['function/10-function.js', 'network/21-httprequest.js', 'network/22-websocket.js', 'common/25-catch.js'].map(
    runtime.coreNode,
  );

  async function diy(index) {
    const clientId = `diy-${index}-${Date.now()}`;
    const helper = await runtime.load(diyFlow(sim.url, clientId), coreNodes);
    // The websocket client connects on deploy; wait until the simulator has it.
    await waitFor(async () => (await sim.openSocketCount()) >= 1, 'the websocket-client node to connect');
    await new Promise((resolve) => setTimeout(resolve, 100));
    const prepare = helper.getNode('prepare');
    const results = [];
    const errors = [];
    let wake = () => undefined;
    helper.getNode('sink').on('input', (msg) => {
      results.push(msg.payload);
      wake();
    });
    helper.getNode('errors').on('input', (msg) => {
      errors.push(msg.error && msg.error.message);
      wake();
    });
    const started = performance.now();
    for (let i = 0; i < COUNT && errors.length === 0; i += 1) {
      const before = results.length;
      const arrived = new Promise((resolve) => {
        wake = resolve;
      });
      prepare.receive({ payload: tinyWorkflow(++serial) });
      await Promise.race([arrived, new Promise((resolve) => setTimeout(resolve, 10_000))]);
      if (results.length === before && errors.length === 0) errors.push(`prompt ${i} never came back`);
    }
    const elapsed = performance.now() - started;
    check(errors.length === 0, `do-it-yourself flow: ${errors.slice(0, 3).join('; ')}`);
    check(
      results.length === COUNT && results.every((r) => r.status === 'success' && r.images.length === 1),
      `do-it-yourself flow: ${results.length} of ${COUNT} prompts came back with their file`,
    );
    await runtime.unload();
    await waitFor(async () => (await sim.openSocketCount()) === 0, 'the websocket-client node to close', 5000).catch(() => undefined);
    return elapsed;
  }

  // "baseline" is the do-it-yourself flow here: ratio < 1 means ours is faster.
  // The raw client (POST, wait on the socket, GET history, nothing else) is the least a program must do on
  // this server: run in the same rotation, it says how low any flow could go.
  const result = await alternate({
    runs: RUNS,
    label: 'diy',
    ours: () => prompts.ours(sim.url, COUNT, 1),
    baseline: diy,
    extra: { raw: () => prompts.baseline(sim.url, COUNT, 1) },
  });
  const raw = result.medians.raw;
  const needed = result.baseline * DIY_GOAL;
  const floor =
    `; the raw client ${ms(raw)} (${(raw / result.baseline).toFixed(2)}× the flow; ours ${roundRatio(result.samples, 'ours', ['raw']).toFixed(2)}× the raw client)` +
    (result.ratio > DIY_GOAL && needed < raw
      ? `: ${DIY_GOAL}× would need ${ms(needed)}, less than the raw client (the same round trips a prompt, nothing else) takes on this server`
      : '');
  await runtime.stop();
  await sim.close();
  finish(
    `do-it-yourself: ${COUNT} sequential prompts: ours ${ms(result.ours)}, core-node flow (websocket in + http request + function) ${ms(result.baseline)}, ` +
      `median of ${result.runs}, ratio ours/diy ${result.ratio.toFixed(2)}× (goal ≤ ${DIY_GOAL}×: ${verdict(result.ratio, DIY_GOAL)})${floor}`,
    [verdict(result.ratio, DIY_GOAL)],
  );
});
