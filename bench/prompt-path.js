#!/usr/bin/env node
'use strict';
/**
 * Where the time between two prompts goes (a profiling aid for job 2, not a goal of its own):
 * prompts one at a time through comfyui-submit → sink and through the raw client, each step of a
 * prompt timed in the same process, medians per step. The steps:
 *   to POST        the msg handed to the submit node (the raw client: run() called) → POST /prompt called
 *   POST written   the call → undici wrote its headers (diagnostics channel; on a reused connection
 *                  undici writes in an immediate after checking the idle socket)
 *   POST answer    POST called → its answer read
 *   to start       POST called → the prompt's execution_start read from the socket
 *   server run     execution_start → executing {node: null} read (the simulator running the prompt)
 *   to history     executing null → GET /history/{id} called
 *   history answer GET called → its answer read
 *   to result      history answer → the result msg at the sink (the raw client: run() returns)
 * plus the wall time and the process's CPU time a prompt. Ours is timed from outside the client:
 * its HTTP calls and its frame handler are wrapped (bench only; they are not public API).
 *
 * By default the sides take turns by rounds of COUNT prompts. With --interleave both are set up
 * once and take turns prompt by prompt (the order swapped every cycle): a slow patch of the
 * machine, which moves whole rounds by ±20 % here, then weighs on both sides alike, and a step's
 * median moves by a few µs from run to run.
 *
 *   node bench/prompt-path.js [--quick] [--runs N] [--interleave]
 */
const dc = require('node:diagnostics_channel');
const { quick, flags, finish, main, median, tinyWorkflow, waitFor } = require('./lib/common');
const { connectRawClient } = require('./lib/raw-client');
const prompts = require('./lib/prompts');
const runtime = require('./lib/runtime');
const { spawnSimulator } = require('./lib/sim');

const COUNT = quick ? 200 : 1000;
const ROUNDS = flags.runs ? Number(flags.runs) : quick ? 2 : 3;

const STEPS = [
  ['to POST', 'start', 'post'],
  ['POST written', 'post', 'written'],
  ['POST answer', 'post', 'posted'],
  ['to start', 'post', 'started'],
  ['server run', 'started', 'ended'],
  ['to history', 'ended', 'history'],
  ['history answer', 'history', 'historied'],
  ['to result', 'historied', 'end'],
];

let serial = 7_000_000;

/** The marks of the prompt being timed: each side's hooks write into it. */
let marks = {};

dc.subscribe('undici:client:sendHeaders', ({ request }) => {
  // POST /prompt is the only POST either side makes here.
  if (request.method === 'POST' && marks.written === undefined) marks.written = performance.now();
});

/** Per step medians, wall and CPU ms a prompt, of rows of marks. */
function summarize(rows, wallMs, cpu) {
  const steps = {};
  for (const [name, from, to] of STEPS) {
    const spans = rows.filter((r) => r[from] !== undefined && r[to] !== undefined).map((r) => r[to] - r[from]);
    steps[name] = spans.length > 0 ? median(spans) : NaN;
  }
  return { wall: wallMs === undefined ? median(rows.map((r) => r.end - r.start)) : wallMs / rows.length, cpu, steps };
}

/** One prompt, timed: `runOne()` returns once its result is back. */
async function timeOne(runOne) {
  const row = { start: performance.now() };
  marks = row;
  await runOne();
  row.end = performance.now();
  return row;
}

/** Runs `count` prompts one at a time with `runOne()`; per step medians, wall and CPU ms a prompt. */
async function timed(count, runOne) {
  const rows = [];
  const cpu = process.cpuUsage();
  const started = performance.now();
  for (let i = 0; i < count; i += 1) rows.push(await timeOne(runOne));
  const wall = performance.now() - started;
  const used = process.cpuUsage(cpu);
  return summarize(rows, wall, (used.user + used.system) / 1000 / count);
}

/** The submit flow deployed, its client's steps wrapped: `runOne()` sends one prompt through it. */
async function setUpOurs(url) {
  const helper = await runtime.load(prompts.flowFor(url), [runtime.coreNode('common/25-catch.js')]);
  const client = helper.getNode('srv').client;
  await waitFor(() => client.state === 'connected', 'the config node to connect');
  const http = client.http;
  const postPrompt = http.postPrompt.bind(http);
  http.postPrompt = (body) => {
    marks.post = performance.now();
    const row = marks;
    return postPrompt(body).then((answer) => ((row.posted = performance.now()), answer));
  };
  const history = http.history.bind(http);
  http.history = (id) => {
    marks.history = performance.now();
    const row = marks;
    return history(id).then((entry) => ((row.historied = performance.now()), entry));
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
  return {
    runOne: () => {
      const back = new Promise((resolve, reject) => (wake = (err) => (err ? reject(err) : resolve())));
      submit.receive({ payload: tinyWorkflow(++serial) });
      return back;
    },
    close: () => runtime.unload(),
  };
}

async function setUpRaw(url) {
  const client = await connectRawClient(url, (name) => (marks[name] = performance.now()));
  return { runOne: () => client.run(tinyWorkflow(++serial)), close: () => client.close() };
}

async function rounds(url) {
  const results = { ours: [], raw: [] };
  for (let round = 0; round < ROUNDS; round += 1) {
    for (const [side, setUp] of [
      ['ours', setUpOurs],
      ['raw', setUpRaw],
    ]) {
      const { runOne, close } = await setUp(url);
      results[side].push(await timed(COUNT, runOne));
      await close();
    }
    console.log(`round ${round + 1}`);
    console.log(`  ${line('ours', results.ours[round])}`);
    console.log(`  ${line('raw ', results.raw[round])}`);
  }
  // The last round: both sides warm (the first rounds include V8 compiling our code).
  return { label: `last round, ${COUNT} prompts`, o: results.ours[ROUNDS - 1], r: results.raw[ROUNDS - 1] };
}

async function interleaved(url) {
  const sides = [await setUpOurs(url), await setUpRaw(url)];
  const rows = [[], []];
  const WARM = quick ? 20 : 100;
  for (let cycle = 0; cycle < WARM + COUNT; cycle += 1) {
    for (const index of cycle % 2 === 0 ? [0, 1] : [1, 0]) {
      const row = await timeOne(sides[index].runOne);
      if (cycle >= WARM) rows[index].push(row);
    }
  }
  for (const side of sides) await side.close();
  const [o, r] = rows.map((sideRows) => summarize(sideRows));
  console.log(`interleaved, ${COUNT} prompts each (medians a prompt)`);
  console.log(`  ${line('ours', o)}`);
  console.log(`  ${line('raw ', r)}`);
  return { label: `interleaved, ${COUNT} prompts each, median wall`, o, r };
}

function line(label, r) {
  const steps = STEPS.map(([name]) => `${name} ${(r.steps[name] * 1000).toFixed(0)}`).join(' · ');
  const cpu = r.cpu === undefined ? '' : ` (CPU ${r.cpu.toFixed(2)} ms)`;
  return `${label}: ${r.wall.toFixed(2)} ms a prompt${cpu} — µs: ${steps}`;
}

main(async () => {
  const sim = await spawnSimulator({ stepMs: 0, nodeMs: 0 });
  const { label, o, r } = flags.interleave ? await interleaved(sim.url) : await rounds(sim.url);
  await runtime.stop();
  await sim.close();
  const extra = STEPS.map(([name]) => `${name} ${((o.steps[name] - r.steps[name]) * 1000).toFixed(0)}`).join(' · ');
  finish(`prompt path (${label}): ours ${(o.wall / r.wall).toFixed(3)}× the raw client; ours minus raw per step (µs): ${extra}`);
});
