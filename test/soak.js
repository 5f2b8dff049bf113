#!/usr/bin/env node
'use strict';
/**
 * The soak: N prompts through a real Node-RED runtime (submit → images → join) against the
 * simulator on 127.0.0.1, while faults are injected at random: socket drops mid-run, server
 * restarts that lose queue and history, 500s on /history, slow /view.
 *
 *   npm run soak -- --prompts 1000 --concurrency 8 --fault-every 250 --fault-every-prompts 5
 *   npm run soak -- --pool      (a pool of three simulators: at the client level, test/soak-pool.js, then through a
 *                                real Node-RED process restarted while prompts run, test/soak-pool-red.js)
 *
 * Every prompt must end exactly once, as a delivered result or a clear error. The last line is
 *   submitted N, delivered D, failed-with-error E, lost L, duplicated U, hung H
 * and the exit code is non-zero unless L, U and H are 0 and D + E = N. "lost" counts prompts
 * reported as failed although ComfyUI's history (still there at the end) shows they succeeded.
 */
const { parseArgs } = require('node:util');
const helper = require('node-red-node-test-helper');
const { request } = require('undici');
const { startSimulator } = require('../dist/simulator');

const { values: args } = parseArgs({
  options: {
    prompts: { type: 'string', default: '200' },
    concurrency: { type: 'string', default: '8' },
    'fault-every': { type: 'string', default: '250' },
    'fault-every-prompts': { type: 'string', default: '5' },
    'drain-seconds': { type: 'string', default: '60' },
    seed: { type: 'string', default: String(Date.now() % 100000) },
    /** The pool soak at the client level instead (test/soak-pool.js): three simulators, member restarts and kills. */
    pool: { type: 'boolean', default: false },
    /** --pool only: how often a prompt lost while running is submitted again. */
    retries: { type: 'string', default: '1' },
    /** --pool only, the Node-RED part: how often (ms) the Node-RED process is stopped and started again. */
    'red-restart-every': { type: 'string', default: '3000' },
    /** --pool only: how many prompts go through the Node-RED process (the client-level part takes --prompts). */
    'red-prompts': { type: 'string', default: '150' },
  },
});
const total = Number(args.prompts);
const concurrency = Number(args.concurrency);
const faultEvery = Number(args['fault-every']);
const faultEveryPrompts = Number(args['fault-every-prompts']);

// A small deterministic PRNG, so a failing run can be repeated with --seed.
let state = Number(args.seed) >>> 0 || 1;
function random() {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 4294967296;
}

function workflow(i) {
  return {
    1: {
      class_type: 'EmptyImage',
      inputs: { width: 16, height: 16, batch_size: 1 + (i % 2), color: (i * 7919) % 0xffffff },
      _meta: { title: 'Empty' },
    },
    2: { class_type: 'ImageBlur', inputs: { image: ['1', 0], blur_radius: 1 + (i % 3), sigma: 1 }, _meta: { title: 'Blur' } },
    3: { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: `soak/${i}` }, _meta: { title: 'Save' } },
  };
}

/** Closed on a failure too: that removes its temporary folder. */
let sim;

async function main() {
  if (args.pool) {
    // The pool at the client level, then through a real Node-RED process that is restarted while prompts run.
    const client = await require('./soak-pool').run(args, random);
    const red = await require('./soak-pool-red').run({ ...args, prompts: args['red-prompts'] }, random);
    process.exit(client && red ? 0 : 1);
  }
  sim = await startSimulator({ testControls: true, stepMs: 1, nodeMs: 2 });
  helper.init(require.resolve('node-red'));
  await helper.startServer();
  const nodes = [
    require('../dist/nodes/comfyui-server.js'),
    require('../dist/nodes/comfyui-submit.js'),
    require('../dist/nodes/comfyui-images.js'),
    require('@node-red/nodes/core/sequence/17-split.js'),
    require('@node-red/nodes/core/common/25-catch.js'),
  ];
  await helper.load(nodes, [
    { id: 'tab', type: 'tab' },
    { id: 'srv', type: 'comfyui-server', url: sim.url, timeout: 5, stall: 1 },
    { id: 'sub', z: 'tab', type: 'comfyui-submit', server: 'srv', workflow: '', mode: 'wait', wires: [['img']] },
    { id: 'img', z: 'tab', type: 'comfyui-images', server: 'srv', output: 'buffer', wires: [['joiner']] },
    { id: 'joiner', z: 'tab', type: 'join', mode: 'auto', wires: [['results']] },
    { id: 'results', z: 'tab', type: 'helper' },
    { id: 'catcher', z: 'tab', type: 'catch', scope: ['sub', 'img'], uncaught: false, wires: [['errors']] },
    { id: 'errors', z: 'tab', type: 'helper' },
  ]);

  // Which prompt_id each soak index got: read from the workflow's filename_prefix (soak/<i>).
  const client = helper.getNode('srv').client;
  const submitted = new Map();
  const originalSubmit = client.submit.bind(client);
  client.submit = async (prompt, options) => {
    const submission = await originalSubmit(prompt, options);
    submitted.set(Number(String(prompt['3'].inputs.filename_prefix).split('/')[1]), submission.promptId);
    return submission;
  };
  const outcomes = new Map(); // soak index → [{kind, code, promptId}]
  const promptIds = new Map(); // soak index → prompt_id (when known)
  let settled = 0;
  let wake = () => undefined;
  const record = (msg, kind) => {
    const list = outcomes.get(msg.soak) ?? [];
    if (list.length === 0) settled += 1;
    list.push({ kind, code: msg.error && msg.error.code, message: msg.error && msg.error.message });
    outcomes.set(msg.soak, list);
    if (msg.prompt_id) promptIds.set(msg.soak, msg.prompt_id);
    wake();
  };
  helper.getNode('results').on('input', (msg) => record(msg, 'delivered'));
  helper.getNode('errors').on('input', (msg) => record(msg, 'error'));

  const faults = { drop: 0, restart: 0, history500: 0, slowView: 0 };
  let restarting = false;
  const injectFault = () => {
    const roll = random();
    if (roll < 0.55) {
      faults.drop += 1;
      sim.faults.dropSockets();
    } else if (roll < 0.6) {
      if (restarting) return;
      faults.restart += 1;
      restarting = true;
      sim.faults.restart().finally(() => (restarting = false));
    } else if (roll < 0.8) {
      faults.history500 += 1;
      sim.faults.failRoute('GET', '/history', 500, '500 Internal Server Error\n\nServer got itself in trouble', 'text/plain', 1);
    } else {
      faults.slowView += 1;
      sim.faults.delayRoute('GET', '/view', 150, 3);
    }
  };
  // Faults come on a clock and, so that every run gets its share however fast it goes, every few prompts.
  const faultTimer = setInterval(injectFault, faultEvery);

  const started = Date.now();
  const submit = helper.getNode('sub');
  let next = 0;
  while (next < total) {
    if (next - settled < concurrency) {
      submit.receive({ payload: workflow(next), soak: next });
      next += 1;
      if (next % faultEveryPrompts === 0) injectFault();
    } else {
      await new Promise((resolve) => {
        wake = resolve;
        setTimeout(resolve, 200);
      });
    }
  }
  // Every prompt is in; faults stop so that the drain measures recovery, not a storm.
  clearInterval(faultTimer);
  while (restarting) await new Promise((resolve) => setTimeout(resolve, 50));
  sim.faults.reset();
  const drainUntil = Date.now() + Number(args['drain-seconds']) * 1000;
  while (settled < total && Date.now() < drainUntil) {
    await new Promise((resolve) => {
      wake = resolve;
      setTimeout(resolve, 200);
    });
  }
  await new Promise((resolve) => setTimeout(resolve, 300)); // let late duplicates show themselves

  let delivered = 0;
  let failed = 0;
  let duplicated = 0;
  let hung = 0;
  let lost = 0;
  const codes = {};
  for (let i = 0; i < total; i += 1) {
    const list = outcomes.get(i) ?? [];
    if (list.length === 0) {
      hung += 1;
      const promptId = submitted.get(i);
      const history = promptId ? (await (await request(`${sim.url}/history/${promptId}`)).body.json())[promptId] : undefined;
      console.log(
        `hung #${i}: prompt ${promptId ?? '(never accepted)'}, server outcome ${sim.finished.get(promptId)}, ` +
          `history ${history ? history.status.status_str : 'none'}, still tracked ${promptId ? client.tracker.has(promptId) : '-'}`,
      );
      const job = promptId && client.tracker.jobs.get(promptId);
      if (job)
        console.log(
          `  job: accepted ${job.accepted} started ${job.started} finishing ${job.finishing} checking ${job.checking} timers ${[...job.timers.keys()]}`,
        );
    }
    if (list.length > 1) duplicated += 1;
    if (list[0]?.kind === 'delivered') delivered += 1;
    if (list[0]?.kind === 'error') {
      failed += 1;
      codes[list[0].code] = (codes[list[0].code] ?? 0) + 1;
      if (process.env.SOAK_VERBOSE) console.log(`#${i} ${list[0].code}: ${list[0].message}`);
      // Lost: we said it failed, yet ComfyUI (still) has it as a success.
      const promptId = promptIds.get(i);
      if (promptId && sim.finished.get(promptId) === 'success') {
        const res = await request(`${sim.url}/history/${promptId}`);
        const entry = (await res.body.json())[promptId];
        if (entry && entry.status.status_str === 'success') lost += 1;
      }
    }
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(
    `faults injected: ${faults.drop} socket drops, ${faults.restart} restarts, ${faults.history500} /history 500s, ${faults.slowView} slow /view (${Object.values(faults).reduce((a, b) => a + b, 0)} in all)`,
  );
  console.log(`error codes: ${JSON.stringify(codes)}; ${seconds} s; seed ${args.seed}`);
  await helper.unload();
  await helper.stopServer();
  await sim.close();
  console.log(
    `submitted ${total}, delivered ${delivered}, failed-with-error ${failed}, lost ${lost}, duplicated ${duplicated}, hung ${hung}`,
  );
  const ok = lost === 0 && duplicated === 0 && hung === 0 && delivered + failed === total;
  process.exit(ok ? 0 : 1);
}

main().catch(async (err) => {
  console.error(err);
  await sim?.close().catch(() => undefined);
  process.exit(2);
});
