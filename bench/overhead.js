#!/usr/bin/env node
'use strict';
/**
 * Overhead per prompt: a burst of N tiny prompts at once through comfyui-submit (waiting for the
 * result) → sink, from the first msg in to the last result out, against the simulator's own
 * execution span for the same prompts (the first execution_start to the last execution_success,
 * from the timestamps its history records, as ComfyUI's does). What is left over, per prompt, is
 * everything that is not the server executing: our client and Node-RED, the HTTP round trips and
 * the server's handling of them. Goal: ≤ 1 ms a prompt. (Against a real ComfyUI v0.8.0 a burst of
 * 50 took 329 ms first msg in to last image out, while its execution span was 239 ms: 1.8 ms.)
 */
const { quick, check, finish, main, median, ms, tinyWorkflow, waitFor } = require('./lib/common');
const { flowFor } = require('./lib/prompts');
const runtime = require('./lib/runtime');
const { spawnSimulator, executionSpan } = require('./lib/sim');

const COUNT = quick ? 100 : 500;
const RUNS = quick ? 3 : 5;
const GOAL_MS = 1;

let serial = 3_000_000;

main(async () => {
  const sim = await spawnSimulator({ stepMs: 0, nodeMs: 0 });

  async function burst() {
    const helper = await runtime.load(flowFor(sim.url), [runtime.coreNode('common/25-catch.js')]);
    const client = helper.getNode('srv').client;
    await waitFor(() => client.state === 'connected', 'the config node to connect');
    const ids = new Set();
    let failures = 0;
    let last = 0;
    const done = new Promise((resolve) => {
      helper.getNode('sink').on('input', (msg) => {
        if (msg.payload && msg.payload.status === 'success') ids.add(msg.prompt_id);
        else failures += 1;
        if (ids.size + failures === COUNT) {
          last = performance.now();
          resolve();
        }
      });
      helper.getNode('errors').on('input', () => {
        failures += 1;
        if (ids.size + failures === COUNT) resolve();
      });
    });
    const submit = helper.getNode('sub');
    const first = performance.now();
    for (let i = 0; i < COUNT; i += 1) submit.receive({ payload: tinyWorkflow(++serial) });
    await Promise.race([done, waitFor(() => false, `${COUNT} results (got ${ids.size})`, 60_000, 250)]);
    check(failures === 0 && ids.size === COUNT, `${ids.size} of ${COUNT} prompts succeeded, ${failures} failed`);
    const ours = last - first;
    const { span, seen } = await executionSpan(sim.url, ids);
    check(seen === ids.size, `the simulator's history holds ${seen} of ${ids.size} prompts`);
    await runtime.unload();
    return { ours, span, perPrompt: (ours - span) / COUNT };
  }

  await burst(); // warm-up, not measured
  const runs = [];
  for (let i = 0; i < RUNS; i += 1) runs.push(await burst());
  await runtime.stop();
  await sim.close();
  const perPrompt = median(runs.map((r) => r.perPrompt));
  const ours = median(runs.map((r) => r.ours));
  const span = median(runs.map((r) => r.span));
  finish(
    `overhead per prompt: a burst of ${COUNT} tiny prompts through comfyui-submit → sink, first msg in to last result out ${ms(ours)}, ` +
      `the simulator's own execution span ${ms(span)}; median of ${RUNS}: ${perPrompt.toFixed(2)} ms a prompt over the execution span ` +
      `(goal ≤ ${GOAL_MS} ms: ${perPrompt <= GOAL_MS ? 'met' : 'NOT met'})`,
  );
});
