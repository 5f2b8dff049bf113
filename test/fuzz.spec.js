'use strict';
// The generated-input properties of test/fuzz/harness.js at a fixed seed and a few thousand cases,
// so every `npm test` runs them: hostile frames of every type, hostile answers of every route, and
// hostile msgs into every palette node, through a real Node-RED against the simulator.
// `npm run fuzz -- --runs N --seed S` runs the same properties for as long as wanted.
const assert = require('node:assert/strict');
const { fuzz } = require('./fuzz/harness');

const SEED = 20261130;
const RUNS = 3000;

describe(`generated input (fast-check, seed ${SEED}, ${RUNS} cases)`, function () {
  this.timeout(300_000);

  it('frames, answers and msgs: no crash, every msg ends with done or a coded error, no secret shown, bounded heap', async function () {
    const lines = [];
    const { cases, failures } = await fuzz({ runs: RUNS, seed: SEED, log: (line) => lines.push(line) });
    const report = failures.map(
      (f) => `${f.property} (seed ${f.seed ?? SEED}, path ${f.path}): ${JSON.stringify(f.counterexample)}\n${f.error}`,
    );
    assert.deepEqual(report, [], lines.join('\n'));
    assert.equal(cases, RUNS);
  });
});
