'use strict';
/**
 * What every bench script shares: the --quick / --runs flags, alternating ours/baseline runs,
 * medians, the one result line, and the exit code (non-zero only for functional breakage: a lost
 * prompt, a leaked socket — never for a timing).
 */
const { parseArgs } = require('node:util');

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    runs: { type: 'string' },
    /** Only one side, for profiling: `ours` or `baseline` (no ratio is printed). */
    only: { type: 'string' },
    /** Only some jobs of a script that has several (clients.js): comma-separated names. */
    job: { type: 'string' },
    /** prompt-path.js: the sides take turns prompt by prompt instead of by rounds. */
    interleave: { type: 'boolean', default: false },
  },
  strict: false,
});

const quick = flags.quick === true;

/** Functional problems seen so far; any of them makes the script exit 1. */
const failures = [];

function fail(message) {
  failures.push(message);
  console.log(`FAILED: ${message}`);
}

function check(condition, message) {
  if (!condition) fail(message);
  return Boolean(condition);
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function ms(value) {
  return value >= 100 ? `${Math.round(value)} ms` : `${value.toFixed(1)} ms`;
}

function mb(bytes) {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/**
 * Runs `ours` and `baseline` alternately (ABBA, so a drifting machine hurts both alike) after one
 * unmeasured warm-up of each; each returns the measured milliseconds (or {ms, ...extra}).
 * `extra` names more sides that take part in the same rotation (e.g. a floor or a second
 * baseline): a ratio between any two of them is then taken from one run under the same load.
 * Resolves with the medians (also per side in `medians`), every sample, the ratio ours/baseline
 * (roundRatio: the median of the rounds' ratios) and the ratio of the two medians.
 */
async function alternate({ runs, ours, baseline, extra = {}, label = 'run' }) {
  const only = flags.only;
  const count = flags.runs ? Number(flags.runs) : runs;
  const sides = { ours, baseline, ...extra };
  const names = Object.keys(sides);
  const samples = Object.fromEntries(names.map((name) => [name, []]));
  const once = async (side, index) => {
    const value = await sides[side](index);
    const result = typeof value === 'number' ? { ms: value } : value;
    if (process.env.BENCH_VERBOSE) console.log(`  ${label} ${side} #${index}: ${ms(result.ms)}`);
    return result;
  };
  for (const side of names) if (!only || only === side) await once(side, -1);
  for (let i = 0; i < count; i += 1) {
    const order = i % 2 === 0 ? names : [...names].reverse();
    for (const side of order) {
      if (only && only !== side) continue;
      samples[side].push(await once(side, i));
    }
  }
  const medians = Object.fromEntries(names.map((name) => [name, samples[name].length ? median(samples[name].map((s) => s.ms)) : NaN]));
  return {
    ours: medians.ours,
    baseline: medians.baseline,
    medians,
    ratio: roundRatio(samples, 'ours', ['baseline']),
    mediansRatio: medians.ours / medians.baseline,
    samples,
    runs: count,
  };
}

/**
 * The median over rounds of `top` / (the sum of `bottoms`) within each round. The sides of a round
 * run back to back, so a slow patch of the machine (here runs of the same side move by ±20 % from
 * one to the next) weighs on both sides of each ratio; the ratio of the medians takes each side's
 * median from different rounds and carries that drift. Rounds where a side has no figure are left out.
 */
function roundRatio(samples, top, bottoms) {
  const ratios = [];
  samples[top].forEach((sample, round) => {
    const bottom = bottoms.reduce((sum, side) => sum + (samples[side][round] ? samples[side][round].ms : NaN), 0);
    const ratio = sample.ms / bottom;
    if (Number.isFinite(ratio)) ratios.push(ratio);
  });
  return ratios.length ? median(ratios) : NaN;
}

/** All of a line's goals in one word: met only when every one is (a side not run leaves no ratio). */
function overall(verdicts) {
  const words = verdicts.map((v) => (v === true ? 'met' : v === false ? 'NOT met' : v));
  if (words.includes('NOT met')) return 'NOT met';
  return words.every((word) => word === 'met') ? 'met' : 'no ratio';
}

function verdict(ratio, goal, lowerIsBetter = true) {
  if (!Number.isFinite(ratio)) return 'no ratio';
  const met = lowerIsBetter ? ratio <= goal : ratio < goal;
  return met ? 'met' : 'NOT met';
}

/**
 * The last line of a script's output: the one `npm run bench` collects. Exits 1 on functional failure.
 * `verdicts` (verdict() strings or booleans) are the line's goals: the line then ends with them all
 * in one word, so that each result line ends with met or NOT met whatever it says before.
 */
function finish(line, verdicts) {
  const status = failures.length === 0 ? '' : ` — FUNCTIONAL FAILURE: ${failures.join('; ')}`;
  console.log(`${line}${verdicts ? ` — ${overall(verdicts)}` : ''}${status}`);
  process.exit(failures.length === 0 ? 0 : 1);
}

/**
 * `promise`'s value, or undefined after `ms`; the timer is cleared either way. A pending timer keeps
 * alive the scope it was made in (a leaks cycle's client, config node and msg), so a plain sleep() in
 * a race made every cycle of the last 10 s count as heap growth (11 MB at 200 cycles, all of it this),
 * and a run of 1,000 prompts left 1,000 timers of 30 s behind.
 */
async function within(promise, ms) {
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function sleep(msValue) {
  return new Promise((resolve) => setTimeout(resolve, msValue));
}

/** Resolves when `check()` is truthy; rejects with `what` after `timeoutMs`. */
async function waitFor(checkFn, what, timeoutMs = 10_000, everyMs = 5) {
  const started = Date.now();
  for (;;) {
    const value = await checkFn();
    if (value) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

/**
 * EmptyImage → SaveImage: the smallest workflow that writes a file. Each `i` gets its own colour
 * (ComfyUI's cache never answers) and its own subfolder: SaveImage lists its folder to find the
 * next counter, as ComfyUI does, which would make thousands of prompts into one folder O(n²) on
 * the server's side and drown what is measured here.
 */
function tinyWorkflow(i = 0) {
  return {
    1: { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: i % 0xffffff }, _meta: { title: 'Empty Image' } },
    2: { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: `bench/${i}/img` }, _meta: { title: 'Save Image' } },
  };
}

/** Main wrapper: an exception is a functional failure with its stack on stderr. */
function main(fn) {
  fn().catch((err) => {
    console.error(err && err.stack ? err.stack : err);
    fail(String(err && err.message ? err.message : err));
    finish('aborted');
  });
}

module.exports = {
  flags,
  quick,
  fail,
  check,
  median,
  roundRatio,
  ms,
  mb,
  alternate,
  verdict,
  finish,
  sleep,
  within,
  waitFor,
  tinyWorkflow,
  main,
  failures,
};
