'use strict';
/**
 * `npm run soak -- --pool`: the soak at the client level, for ComfyPool (src/client/pool.ts). N
 * prompts through a pool of three simulators on 127.0.0.1 while members fail at random: socket
 * drops, restarts that lose queue and history (faults.restart), and kills (the server closed, and
 * started again on the same port after longer than the pool's grace period, so its prompts move).
 * At most one member is down at a time (test/soak-faults.js). Node-RED restarts are in the second part
 * of `--pool`, test/soak-pool-red.js.
 *
 * Every prompt must end exactly once, as a delivered result or an error with a code. The last line:
 *   submitted N, delivered D, failed-with-error E, lost L, duplicated U, hung H
 * "lost" counts prompts reported as failed although a member's history (still there at the end)
 * shows they succeeded. Also reported, not judged: prompts a member ran twice.
 */
const { request } = require('undici');
const { ComfyClient } = require('../dist/client/client');
const { ComfyPool } = require('../dist/client/pool');
const { startSimulator } = require('../dist/simulator');
const { memberFaults, sleep } = require('./soak-faults');

const MEMBERS = 3;
const GRACE_MS = 500;

function workflow(i) {
  return {
    1: { class_type: 'EmptyImage', inputs: { width: 16, height: 16, batch_size: 1, color: (i * 7919) % 0xffffff } },
    2: { class_type: 'ImageBlur', inputs: { image: ['1', 0], blur_radius: 1 + (i % 3), sigma: 1 } },
    3: { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: `soak/${i}` } },
  };
}

async function run(args, random) {
  const total = Number(args.prompts);
  const concurrency = Number(args.concurrency);
  const faultEvery = Number(args['fault-every']);
  const simOptions = { testControls: true, stepMs: 1, nodeMs: 2 };
  const sims = [];
  for (let i = 0; i < MEMBERS; i += 1) sims.push(await startSimulator(simOptions));
  /** Every simulator that ever ran, for the server-side truth (a killed one keeps its `finished`). */
  const everyRun = [...sims];
  const clients = sims.map(
    (sim) =>
      new ComfyClient({
        url: sim.url,
        timeoutMs: 5000,
        socket: { backoffInitialMs: 50, backoffMaxMs: 300 },
        tracker: { lostGraceMs: 300, watchdogMs: 2000 },
      }),
  );
  const pool = new ComfyPool(
    clients.map((client, i) => ({ name: `m${i + 1}`, client })),
    { graceMs: GRACE_MS },
  );
  let moved = 0;
  const moves = new Map();
  pool.on('moved', (event) => {
    moved += 1;
    moves.set(event.promptId, [...(moves.get(event.promptId) ?? []), `${event.from} → ${event.to}: ${event.reason}`]);
  });
  pool.on('problem', (text) => process.env.SOAK_VERBOSE && console.log(`problem: ${text}`));

  const faults = memberFaults({ sims, everyRun, simOptions, random, downMs: GRACE_MS * 2 });
  const faultTimer = setInterval(() => void faults.inject().catch((err) => console.log(`fault failed: ${err.message}`)), faultEvery);

  const outcomes = new Map(); // index → [{kind, code, promptId}]
  const promptIds = new Map();
  let settled = 0;
  let wake = () => undefined;
  const record = (i, entry) => {
    const list = outcomes.get(i) ?? [];
    if (list.length === 0) settled += 1;
    list.push(entry);
    outcomes.set(i, list);
    wake();
  };
  const started = Date.now();
  let next = 0;
  while (next < total) {
    if (next - settled < concurrency) {
      const i = next;
      next += 1;
      pool
        .submit(workflow(i), { wait: true, retries: Number(args.retries) })
        .then((submission) => {
          promptIds.set(i, submission.promptId);
          return submission.result;
        })
        .then(
          (result) => record(i, { kind: 'delivered', promptId: result.prompt_id }),
          (error) => record(i, { kind: 'error', code: error.code, message: error.message, promptId: error.promptId }),
        );
    } else {
      await new Promise((resolve) => {
        wake = resolve;
        setTimeout(resolve, 200);
      });
    }
  }
  clearInterval(faultTimer);
  await faults.settled();
  const drainUntil = Date.now() + Number(args['drain-seconds']) * 1000;
  while (settled < total && Date.now() < drainUntil) {
    await new Promise((resolve) => {
      wake = resolve;
      setTimeout(resolve, 200);
    });
  }
  await sleep(300); // let late duplicates show themselves

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
      console.log(`hung #${i}: prompt ${promptIds.get(i) ?? '(never accepted)'} on ${pool.serverOf(promptIds.get(i) ?? '') ?? '-'}`);
    }
    if (list.length > 1) duplicated += 1;
    if (list[0]?.kind === 'delivered') delivered += 1;
    if (list[0]?.kind === 'error') {
      failed += 1;
      codes[list[0].code] = (codes[list[0].code] ?? 0) + 1;
      if (process.env.SOAK_VERBOSE) console.log(`#${i} ${list[0].code}: ${list[0].message}`);
      const promptId = list[0].promptId;
      for (const sim of sims) {
        if (!promptId || sim.finished.get(promptId) !== 'success') continue;
        const entry = (await (await request(`${sim.url}/history/${promptId}`)).body.json())[promptId];
        if (entry && entry.status.status_str === 'success') lost += 1;
      }
    }
  }
  const runs = new Map();
  for (const sim of everyRun) for (const [id, outcome] of sim.finished) if (outcome === 'success') runs.set(id, (runs.get(id) ?? 0) + 1);
  const ranTwice = [...runs].filter(([, n]) => n > 1).map(([id]) => id);
  for (const id of ranTwice) console.log(`ran twice: ${id}, moves: ${(moves.get(id) ?? ['none']).join('; ')}`);
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(
    `faults injected: ${faults.counts.drop} socket drops, ${faults.counts.restart} member restarts, ${faults.counts.kill} member kills ` +
      `(${faults.counts.drop + faults.counts.restart + faults.counts.kill} in all); ${moved} prompts moved to another member; ${ranTwice.length} ran on two members (re-runs of prompts lost while running, allowed by --retries ${args.retries})`,
  );
  console.log(`error codes: ${JSON.stringify(codes)}; ${seconds} s; seed ${args.seed}`);
  pool.close();
  await Promise.all(clients.map((client) => client.close()));
  await Promise.all(sims.map((sim) => sim.close()));
  console.log(
    `submitted ${total}, delivered ${delivered}, failed-with-error ${failed}, lost ${lost}, duplicated ${duplicated}, hung ${hung}`,
  );
  return lost === 0 && duplicated === 0 && hung === 0 && delivered + failed === total;
}

module.exports = { run };
