#!/usr/bin/env node
'use strict';
// `npm run fuzz -- --runs N --seed S`: the generated-input properties of test/fuzz/harness.js at any
// length. Prints one line per property, then `fuzz: N cases, F failures`, and for each failure the
// shrunk counter-example with the seed and path that replay it. Exit code 1 on any failure.
const { fuzz } = require('./harness');

function option(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  if (at < 0) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isSafeInteger(value)) {
    console.error(`--${name} takes a whole number`);
    process.exit(2);
  }
  return value;
}

const runs = option('runs', 2000);
const seed = option('seed', Date.now() % 2 ** 31);

fuzz({ runs, seed, log: (line) => console.log(line) }).then(
  ({ cases, failures }) => {
    for (const failure of failures) {
      console.log(`\n${failure.property} failed (seed ${failure.seed ?? seed}${failure.path ? `, path "${failure.path}"` : ''}):`);
      if (failure.counterexample) console.log(`counter-example: ${JSON.stringify(failure.counterexample, null, 1).slice(0, 4000)}`);
      console.log(failure.error);
    }
    console.log(`fuzz: ${cases} cases, ${failures.length} failures (seed ${seed})`);
    process.exit(failures.length > 0 ? 1 : 0);
  },
  (err) => {
    console.error(err && err.stack ? err.stack : err);
    process.exit(1);
  },
);
