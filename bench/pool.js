#!/usr/bin/env node
'use strict';
/**
 * Job `pool` — throughput of a ComfyPool (src/client/pool.ts) over 1, 2 and 3 simulated members,
 * each in its own process, each prompt taking a fixed execution time (ImageBlur held for EXEC_MS).
 * The same N prompts at once on each pool size; every one must come back exactly once. Goal: the
 * throughput on k members is at least 0.9 × k that of one member.
 */
const { check, finish, main, median, quick, flags, waitFor } = require('./lib/common');
const { spawnSimulator } = require('./lib/sim');
const { ComfyClient } = require('../dist/client/client');
const { ComfyPool } = require('../dist/client/pool');

const EXEC_MS = quick ? 100 : 200;
const COUNT = 30;
const RUNS = flags.runs ? Number(flags.runs) : quick ? 1 : 3;
const GOAL = 0.9;
const SIZES = [1, 2, 3];

let serial = 0;

/** EmptyImage → ImageBlur (EXEC_MS) → SaveImage; a new colour each time, so ComfyUI's cache never answers. */
function timedWorkflow() {
  serial += 1;
  return {
    1: { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: serial % 0xffffff } },
    2: { class_type: 'ImageBlur', inputs: { image: ['1', 0], blur_radius: 1, sigma: 1 } },
    3: { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: `pool/${serial}/img` } },
  };
}

/** COUNT prompts at once on a pool of `clients`; resolves with the milliseconds until the last came back. */
async function runOnce(clients) {
  const pool = new ComfyPool(clients.map((client, i) => ({ name: `m${i + 1}`, client })));
  try {
    const started = performance.now();
    const submissions = await Promise.all(Array.from({ length: COUNT }, () => pool.submit(timedWorkflow(), { wait: true })));
    const results = await Promise.all(submissions.map((s) => s.result));
    const elapsed = performance.now() - started;
    const ids = new Set(results.map((r) => r.prompt_id));
    check(results.length === COUNT && ids.size === COUNT, `${clients.length} members: ${ids.size} distinct of ${COUNT} prompts came back`);
    const used = new Set(results.map((r) => r.server));
    check(used.size === clients.length, `${clients.length} members: only ${used.size} of them ran prompts`);
    return elapsed;
  } finally {
    pool.close();
  }
}

main(async () => {
  const sims = await Promise.all(SIZES.map(() => spawnSimulator({ stepMs: 0, nodeMs: 0, nodeMsByClass: { ImageBlur: EXEC_MS } })));
  const clients = sims.map((sim) => new ComfyClient({ url: sim.url, timeoutMs: 60_000 }));
  for (const client of clients) client.connect();
  await waitFor(() => clients.every((client) => client.state === 'connected'), 'every member to connect');
  const throughput = {};
  try {
    await runOnce(clients); // warm-up: connections, definitions
    for (const size of SIZES) {
      const samples = [];
      for (let run = 0; run < RUNS; run += 1) samples.push(await runOnce(clients.slice(0, size)));
      const ms = median(samples);
      throughput[size] = COUNT / (ms / 1000);
      console.log(
        `pool: ${size} member(s): ${COUNT} prompts in ${Math.round(ms)} ms (median of ${RUNS}), ${throughput[size].toFixed(2)} prompts/s`,
      );
    }
  } finally {
    await Promise.all(clients.map((client) => client.close()));
    await Promise.all(sims.map((sim) => sim.close()));
  }
  const ratios = SIZES.map((size) => throughput[size] / throughput[1]);
  const met = SIZES.every((size, i) => ratios[i] >= GOAL * size);
  finish(
    `pool: ${COUNT} prompts of ${EXEC_MS} ms each, throughput 1/2/3 members = ${ratios.map((r) => `${r.toFixed(2)}×`).join('/')} ` +
      `(goal ≥ ${GOAL}× the member count: ${met ? 'met' : 'NOT met'})`,
  );
});
