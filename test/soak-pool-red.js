'use strict';
/**
 * `npm run soak -- --pool`, second part: the pool through a real Node-RED process. Three simulators
 * on 127.0.0.1, a flow with a `comfyui-pool` over three `comfyui-server` nodes and a submit node
 * (wait mode, a localfilesystem context store), fed over HTTP. While prompts run, members fail at
 * random (socket drops, restarts that lose queue and history, kills longer than the pool's grace)
 * and Node-RED itself is stopped (SIGTERM and SIGKILL in turn) and started again.
 *
 * A msg posted to Node-RED counts as submitted once a member accepted its prompt (ComfyUI's answer
 * to POST /prompt): a msg still inside Node-RED when the process stops dies with it, as any msg
 * does, so the driver stops Node-RED only when every msg posted so far reached a member, no result is
 * on its way out (the members hold their queues until the running prompts finished) and the
 * store had time to flush. Every submitted prompt must then be answered exactly once, by the flow
 * that follows it after any number of restarts: a result line or an error with a code.
 *   submitted N, delivered D, failed-with-error E, lost L, duplicated U, hung H
 * "lost": failed although a member's history (still there at the end) shows it succeeded.
 */
const { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { request } = require('undici');
const { startSimulator } = require('../dist/simulator');
const { lineAppender, settingsFile, startNodeRed } = require('./red-process');
const { memberFaults, sleep } = require('./soak-faults');
const { waitFor } = require('./support');

const MEMBERS = 3;

function workflow(n) {
  return {
    1: { class_type: 'EmptyImage', inputs: { width: 16, height: 16, batch_size: 1, color: (n * 7919) % 0xffffff } },
    2: { class_type: 'ImageBlur', inputs: { image: ['1', 0], blur_radius: 1 + (n % 3), sigma: 1 } },
    3: { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: `soakred/${n}` } },
  };
}

function flow(sims, results, retries) {
  const line = (text) => ({ type: 'function', z: 'tab', func: `msg.payload = ${text}; return msg;`, wires: [['appender']] });
  return [
    { id: 'tab', type: 'tab', label: 'soak' },
    ...sims.map((sim, i) => ({ id: `srv${i + 1}`, type: 'comfyui-server', name: `m${i + 1}`, url: sim.url, timeout: 5, stall: 1 })),
    { id: 'pool', type: 'comfyui-pool', name: 'soak', server1: 'srv1', server2: 'srv2', server3: 'srv3', grace: 1 },
    { id: 'in', z: 'tab', type: 'http in', url: '/go', method: 'post', wires: [['resp', 'prep']] },
    { id: 'resp', z: 'tab', type: 'http response', statusCode: '200', wires: [] },
    {
      id: 'prep',
      z: 'tab',
      type: 'function',
      func: 'msg.n = msg.payload.n; msg.payload = msg.payload.workflow; delete msg.req; delete msg.res; return msg;',
      wires: [['sub']],
    },
    {
      id: 'sub',
      z: 'tab',
      type: 'comfyui-submit',
      pool: 'pool',
      server: '',
      workflow: '',
      mode: 'wait',
      validate: false,
      retries,
      wires: [['ok']],
    },
    { id: 'ok', ...line("(msg.recovered ? 'recovered ' : 'live ') + msg.n + ' ' + msg.prompt_id + ' ' + msg.server") },
    { id: 'catcher', z: 'tab', type: 'catch', scope: ['sub'], uncaught: false, wires: [['bad']] },
    {
      id: 'bad',
      ...line(
        "'error ' + msg.n + ' ' + msg.error.code + ' ' + (msg.prompt_id || '-') + ' ' + String(msg.error.message).replace(/\\n/g, ' ')",
      ),
    },
    lineAppender(results),
  ];
}

async function run(args, random) {
  const total = Number(args.prompts);
  const concurrency = Number(args.concurrency);
  const restartEvery = Number(args['red-restart-every']);
  const simOptions = { testControls: true, stepMs: 1, nodeMs: 5, nodeMsByClass: { ImageBlur: 250 } };
  const sims = [];
  for (let i = 0; i < MEMBERS; i += 1) sims.push(await startSimulator(simOptions));
  const everyRun = [...sims];
  const dir = mkdtempSync(join(tmpdir(), 'comfyui-soak-red-'));
  const resultsFile = join(dir, 'results.txt');
  writeFileSync(join(dir, 'flows.json'), JSON.stringify(flow(sims, resultsFile, Number(args.retries))));
  writeFileSync(join(dir, 'settings.js'), settingsFile({ flushInterval: 0.1 }));

  let red;
  let base;
  const start = async () => {
    red = await startNodeRed(dir, { waitFor });
    base = red.base;
  };
  const stop = async (signal) => {
    await red?.stop(signal);
    base = undefined;
  };

  const lines = () => (existsSync(resultsFile) ? readFileSync(resultsFile, 'utf8').trim().split('\n').filter(Boolean) : []);
  const answersOf = () => {
    const byN = new Map();
    for (const text of lines()) {
      const [kind, n, ...rest] = text.split(' ');
      if (!/^\d+$/.test(n)) continue; // the probe's empty msg
      byN.set(Number(n), [...(byN.get(Number(n)) ?? []), { kind, rest }]);
    }
    return byN;
  };
  /** Whether a member took the prompt of msg n: its POST /prompt body is in a simulator's log. */
  const accepted = (n) =>
    everyRun.some((sim) =>
      sim.requestLog.some((r) => r.method === 'POST' && r.url.startsWith('/prompt') && r.body?.includes(`"soakred/${n}"`)),
    );

  const queueOf = async (sim) => (await request(`${sim.url}/queue`)).body.json();
  const faults = memberFaults({ sims, everyRun, simOptions, random, downMs: 1500 });
  let redRestarts = 0;

  const started = Date.now();
  await start();
  const posted = new Set();
  let next = 0;
  let lastRestart = Date.now();
  const memberTimer = setInterval(
    () => void faults.inject().catch((err) => console.log(`fault failed: ${err.message}`)),
    Number(args['fault-every']) * 4,
  );
  try {
    while (next < total) {
      if (Date.now() - lastRestart > restartEvery) {
        // Every msg posted so far must have reached a member, and its record the store, before the process goes.
        const until = Date.now() + 20000;
        while ([...posted].some((n) => !accepted(n) && !answersOf().has(n)) && Date.now() < until) await sleep(50);
        // No result on its way out at the stop: the members hold their queues and finish what runs, then the
        // store has its flush interval. (A result sent within that interval before a kill comes again after
        // the start, marked msg.recovered: README "Jobs that outlive Node-RED".)
        faults.hold(true);
        await faults.settled();
        for (const sim of sims) sim.faults.pauseWorker();
        while ((await Promise.all(sims.map(queueOf))).some((q) => q.queue_running.length > 0) && Date.now() < until) await sleep(50);
        await sleep(400);
        const signal = redRestarts % 2 === 0 ? 'SIGTERM' : 'SIGKILL';
        redRestarts += 1;
        await stop(signal);
        // While Node-RED is down, the held prompts run and finish.
        for (const sim of sims) sim.faults.resumeWorker();
        faults.hold(false);
        await sleep(300 + Math.floor(random() * 1000));
        await start();
        lastRestart = Date.now();
      }
      const answered = answersOf().size;
      if (posted.size - answered < concurrency) {
        const n = next;
        next += 1;
        const answer = await request(`${base}/go`, {
          method: 'POST',
          body: JSON.stringify({ n, workflow: workflow(n) }),
          headers: { 'content-type': 'application/json' },
        });
        await answer.body.dump();
        if (answer.statusCode !== 200) throw new Error(`/go answered ${answer.statusCode}`);
        posted.add(n);
      } else await sleep(20);
    }
    clearInterval(memberTimer);
    await faults.settled();
    const drainUntil = Date.now() + Number(args['drain-seconds']) * 1000;
    while ([...posted].some((n) => !answersOf().has(n)) && Date.now() < drainUntil) await sleep(200);
    await sleep(500); // late duplicates show themselves
  } finally {
    clearInterval(memberTimer);
    await stop('SIGTERM');
  }

  const byN = answersOf();
  let submitted = 0;
  let delivered = 0;
  let failed = 0;
  let duplicated = 0;
  let hung = 0;
  let lost = 0;
  let recovered = 0;
  let neverReached = 0;
  const codes = {};
  for (const n of posted) {
    const list = byN.get(n) ?? [];
    if (!accepted(n) && list.length === 0) {
      neverReached += 1;
      continue;
    }
    submitted += 1;
    if (list.length === 0) {
      hung += 1;
      console.log(`hung #${n}`);
      continue;
    }
    if (list.length > 1) {
      duplicated += 1;
      console.log(`duplicated #${n}: ${list.map((a) => `${a.kind} ${a.rest.join(' ')}`).join(' | ')}`);
    }
    const first = list[0];
    if (first.kind === 'error') {
      failed += 1;
      const [code, promptId] = first.rest;
      codes[code] = (codes[code] ?? 0) + 1;
      if (process.env.SOAK_VERBOSE) console.log(`#${n} ${first.rest.join(' ')}`);
      for (const sim of sims) {
        if (!promptId || sim.finished.get(promptId) !== 'success') continue;
        const entry = (await (await request(`${sim.url}/history/${promptId}`)).body.json())[promptId];
        if (entry && entry.status.status_str === 'success') lost += 1;
      }
    } else {
      delivered += 1;
      if (first.kind === 'recovered') recovered += 1;
    }
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  console.log(
    `Node-RED restarts: ${redRestarts} (SIGTERM and SIGKILL in turn); member faults: ${faults.counts.drop} socket drops, ${faults.counts.restart} restarts, ${faults.counts.kill} kills; ` +
      `${recovered} results delivered by a restarted Node-RED (msg.recovered); ${neverReached} msgs died inside a stopped Node-RED before reaching a member (not submitted)`,
  );
  console.log(`error codes: ${JSON.stringify(codes)}; ${seconds} s`);
  if (hung + duplicated + lost > 0 || process.env.SOAK_VERBOSE) console.log(`Node-RED said:\n${red.output().slice(-20000)}`);
  await Promise.all(sims.map((sim) => sim.close()));
  rmSync(dir, { recursive: true, force: true });
  console.log(
    `submitted ${submitted}, delivered ${delivered}, failed-with-error ${failed}, lost ${lost}, duplicated ${duplicated}, hung ${hung}`,
  );
  return lost === 0 && duplicated === 0 && hung === 0 && delivered + failed === submitted && submitted > 0;
}

module.exports = { run };
