#!/usr/bin/env node
'use strict';
/**
 * Job 2 — prompts, sequential. N tiny prompts the simulator completes at once (nodeMs 0), one
 * after the other, through comfyui-submit (waiting for the result) → sink, against a minimal raw
 * client (undici POST /prompt + ws wait for `executing {node: null}` + GET /history/{id}).
 */
const { quick, alternate, finish, main, ms, verdict } = require('./lib/common');
const { spawnSimulator } = require('./lib/sim');
const prompts = require('./lib/prompts');
const runtime = require('./lib/runtime');

const COUNT = quick ? 100 : 1000;
// A round's ratio moves by ±8 % from one round to the next under the same load: the median of five
// rounds' ratios gave 1.02× to 1.08× for the same code on this machine; eleven rounds and fifteen gave 1.03×.
const RUNS = quick ? 3 : 11;
const GOAL = 1.05;

main(async () => {
  const sim = await spawnSimulator({ stepMs: 0, nodeMs: 0 });
  const result = await alternate({
    runs: RUNS,
    label: 'sequential',
    ours: () => prompts.ours(sim.url, COUNT, 1),
    baseline: () => prompts.baseline(sim.url, COUNT, 1),
  });
  await runtime.stop();
  await sim.close();
  finish(
    `prompts sequential: ${COUNT} prompts one at a time: ours ${ms(result.ours)} (${(result.ours / COUNT).toFixed(2)} ms each), ` +
      `raw client ${ms(result.baseline)} (${(result.baseline / COUNT).toFixed(2)} ms each), median of ${result.runs}, ` +
      `ratio ${result.ratio.toFixed(2)}× (the median of the rounds' ratios; ratio of the medians ${result.mediansRatio.toFixed(2)}×) (goal ≤ ${GOAL}×: ${verdict(result.ratio, GOAL)})`,
  );
});
