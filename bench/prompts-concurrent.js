#!/usr/bin/env node
'use strict';
/**
 * Job 3 — prompts, concurrent. N tiny prompts submitted at once through comfyui-submit (waiting
 * for the result) → sink; every one must come back exactly once. Against the raw client doing the
 * same (N POSTs at once, each waiting for its `executing {node: null}`, then its history).
 */
const { quick, alternate, finish, main, ms, sleep, verdict } = require('./lib/common');
const { spawnSimulator } = require('./lib/sim');
const prompts = require('./lib/prompts');
const runtime = require('./lib/runtime');

const COUNT = quick ? 100 : 500;
const RUNS = quick ? 3 : 5;
const GOAL = 1.05;
/** TCP connections per server at most (the WebSocket, the API agent's and the download agent's). */
const CONNECTION_GOAL = 16;

main(async () => {
  const sim = await spawnSimulator({ stepMs: 0, nodeMs: 0 });
  // For the report, not the ratio: the most TCP connections to the simulator at once, per side.
  const peakConnections = { ours: 0, baseline: 0 };
  const sampled = (side, run) => async () => {
    let stop = false;
    const sampler = (async () => {
      while (!stop) {
        peakConnections[side] = Math.max(peakConnections[side], await sim.call('tcp'));
        await sleep(25);
      }
    })();
    try {
      return await run();
    } finally {
      stop = true;
      await sampler;
    }
  };
  const result = await alternate({
    runs: RUNS,
    label: 'concurrent',
    ours: sampled('ours', () => prompts.ours(sim.url, COUNT, COUNT)),
    baseline: sampled('baseline', () => prompts.baseline(sim.url, COUNT, COUNT)),
  });
  console.log(
    `prompts concurrent: at most ${peakConnections.ours} TCP connections to the simulator at once for ours, ${peakConnections.baseline} for the raw client ` +
      '(the raw client uses an undici Agent without a connection limit)',
  );
  await runtime.stop();
  await sim.close();
  finish(
    `prompts concurrent: ${COUNT} prompts at once, all back exactly once: ours ${ms(result.ours)}, raw client ${ms(result.baseline)}, ` +
      `median of ${result.runs}, ratio ${result.ratio.toFixed(2)}× (goal ≤ ${GOAL}×: ${verdict(result.ratio, GOAL)}); ` +
      `at most ${peakConnections.ours} connections to the server (raw client ${peakConnections.baseline}; goal ≤ ${CONNECTION_GOAL}: ${peakConnections.ours <= CONNECTION_GOAL ? 'met' : 'NOT met'})`,
  );
});
