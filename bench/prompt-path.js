#!/usr/bin/env node
'use strict';
/**
 * Where the time between two prompts goes (a profiling aid for job 2, not a goal of its own):
 * prompts one at a time through comfyui-submit → sink and through the raw client, each step of a
 * prompt timed in the same process, medians per step, alternating rounds. The steps:
 *   to POST        the msg handed to the submit node (the raw client: run() called) → POST /prompt sent
 *   POST answer    POST sent → its answer read
 *   to start       POST sent → the prompt's execution_start read from the socket
 *   server run     execution_start → executing {node: null} read (the simulator running the prompt)
 *   to history     executing null → GET /history/{id} sent
 *   history answer GET sent → its answer read
 *   to result      history answer → the result msg at the sink (the raw client: run() returns)
 * plus the wall time and the process's CPU time a prompt. Ours is timed from outside the client:
 * its HTTP calls and its frame handler are wrapped (bench only; they are not public API).
 *
 *   node bench/prompt-path.js [--quick] [--runs N]
 */
const { quick, flags, finish, main, median, tinyWorkflow, waitFor } = require('./lib/common');
const { connectRawClient } = require('./lib/raw-client');
const prompts = require('./lib/prompts');
const runtime = require('./lib/runtime');
const { spawnSimulator } = require('./lib/sim');

const COUNT = quick ? 200 : 1000;
const ROUNDS = flags.runs ? Number(flags.runs) : quick ? 2 : 3;

const STEPS = [
  ['to POST', 'start', 'post'],
  ['POST answer', 'post', 'posted'],
  ['to start', 'post', 'started'],
  ['server run', 'started', 'ended'],
  ['to history', 'ended', 'history'],
  ['history answer', 'history', 'historied'],
  ['to result', 'historied', 'end'],
];

let serial = 7_000_000;

/** Runs `count` prompts one at a time with `runOne(marks)`; per step medians, wall and CPU ms a prompt. */
async function timed(count, runOne) {
  const rows = [];
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < count; i += 1) {
    const marks = { start: performance.now() };
    await runOne(marks);
    marks.end = performance.now();
    rows.push(marks);
  }
  const wall = (performance.now() - started) / count;
  const used = process.cpuUsage(cpu);
  const steps = {};
  for (const [name, from, to] of STEPS) {
    const spans = rows.filter((r) => r[from] !== undefined && r[to] !== undefined).map((r) => r[to] - r[from]);
    steps[name] = spans.length > 0 ? median(spans) : NaN;
  }
  return { wall, cpu: (used.user + used.system) / 1000 / count, steps };
}

async function ours(url) {
  const helper = await runtime.load(prompts.flowFor(url), [runtime.coreNode('common/25-catch.js')]);
  const client = helper.getNode('srv').client;
  await waitFor(() => client.state === 'connected', 'the config node to connect');
  let marks = {};
  const http = client.http;
  const postPrompt = http.postPrompt.bind(http);
  http.postPrompt = (body) => {
    marks.post = performance.now();
    return postPrompt(body).then((answer) => ((marks.posted = performance.now()), answer));
  };
  const history = http.history.bind(http);
  http.history = (id) => {
    marks.history = performance.now();
    return history(id).then((entry) => ((marks.historied = performance.now()), entry));
  };
  const onFrame = client.onFrame.bind(client);
  client.onFrame = (frame) => {
    if (frame.kind === 'message' && frame.message.type === 'execution_start') marks.started = performance.now();
    if (frame.kind === 'message' && frame.message.type === 'executing' && frame.message.data.node === null) marks.ended = performance.now();
    onFrame(frame);
  };
  const submit = helper.getNode('sub');
  let wake = () => undefined;
  helper.getNode('sink').on('input', () => wake());
  helper.getNode('errors').on('input', (msg) => wake(new Error(msg.error && msg.error.message)));
  const result = await timed(COUNT, async (m) => {
    marks = m;
    const back = new Promise((resolve, reject) => (wake = (err) => (err ? reject(err) : resolve())));
    submit.receive({ payload: tinyWorkflow(++serial) });
    await back;
  });
  await runtime.unload();
  return result;
}

async function raw(url) {
  let marks = {};
  const client = await connectRawClient(url, (name) => (marks[name] = performance.now()));
  const result = await timed(COUNT, async (m) => {
    marks = m;
    await client.run(tinyWorkflow(++serial));
  });
  await client.close();
  return result;
}

function line(label, r) {
  const steps = STEPS.map(([name]) => `${name} ${(r.steps[name] * 1000).toFixed(0)}`).join(' · ');
  return `${label}: ${r.wall.toFixed(2)} ms a prompt (CPU ${r.cpu.toFixed(2)} ms) — µs: ${steps}`;
}

main(async () => {
  const sim = await spawnSimulator({ stepMs: 0, nodeMs: 0 });
  const results = { ours: [], raw: [] };
  for (let round = 0; round < ROUNDS; round += 1) {
    results.ours.push(await ours(sim.url));
    results.raw.push(await raw(sim.url));
    console.log(`round ${round + 1}`);
    console.log(`  ${line('ours', results.ours[round])}`);
    console.log(`  ${line('raw ', results.raw[round])}`);
  }
  await runtime.stop();
  await sim.close();
  // The last round: both sides warm (the first rounds include V8 compiling our code).
  const [o, r] = [results.ours[ROUNDS - 1], results.raw[ROUNDS - 1]];
  const extra = STEPS.map(([name]) => `${name} ${((o.steps[name] - r.steps[name]) * 1000).toFixed(0)}`).join(' · ');
  finish(
    `prompt path (last round, ${COUNT} prompts): ours ${(o.wall / r.wall).toFixed(2)}× the raw client; ours minus raw per step (µs): ${extra}`,
  );
});
