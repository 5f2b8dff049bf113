#!/usr/bin/env node
'use strict';
/**
 * Job 4 — images. N outputs of ~20 MB each (random pixels, so they do not compress) through
 * comfyui-images in buffer mode → sink, against plain undici downloads of the same /view URLs.
 * Every run is a fresh process (bench/lib/images-run.js), so its peak RSS growth is its own.
 * The files are written into the simulator's output folder once, as if a SaveImage had made them.
 */
const { execFileSync } = require('node:child_process');
const { mkdtempSync, mkdirSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { quick, alternate, check, finish, main, mb, median, ms, roundRatio, verdict } = require('./lib/common');
const { noisePng } = require('./lib/png-noise');
const { spawnSimulator } = require('./lib/sim');

const FILES = quick ? 5 : 20;
const SIZE = quick ? 8 * 1024 * 1024 : 20 * 1024 * 1024;
const RUNS = quick ? 3 : 5;
/** Ours ≤ GOAL × the raw downloads inside a Node-RED process; peak RSS growth ≤ the bare raw baseline's. */
const GOAL = 1.1;

main(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'comfyui-bench-images-'));
  // finish() and a failure both end in process.exit: the folder (~100-400 MB of noise) goes either way.
  process.on('exit', () => rmSync(dataDir, { recursive: true, force: true }));
  const outDir = join(dataDir, 'output', 'bench-images');
  mkdirSync(outDir, { recursive: true });
  const refs = [];
  let largest = 0;
  writeFileSync(join(outDir, 'warm.png'), noisePng(3000, 0));
  refs.push({ filename: 'warm.png', subfolder: 'bench-images', type: 'output' });
  for (let i = 0; i < FILES; i += 1) {
    const png = noisePng(SIZE, i + 1);
    largest = Math.max(largest, png.length);
    const filename = `noise_${String(i).padStart(5, '0')}_.png`;
    writeFileSync(join(outDir, filename), png);
    refs.push({ filename, subfolder: 'bench-images', type: 'output' });
  }
  const sim = await spawnSimulator({ dataDir });

  const runOnce = (side) => {
    // BENCH_CHILD_ARGS passes node flags to the run processes, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
    const extra = (process.env.BENCH_CHILD_ARGS || '').split(' ').filter(Boolean);
    const out = execFileSync(
      process.execPath,
      ['--expose-gc', ...extra, join(__dirname, 'lib', 'images-run.js'), side, sim.url, JSON.stringify(refs)],
      {
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'inherit'],
        maxBuffer: 1 << 20,
      },
    );
    const result = JSON.parse(out.trim().split('\n').pop());
    check(result.files === FILES, `${side}: ${result.files} of ${FILES} files arrived`);
    check(result.bytes >= FILES * SIZE * 0.99, `${side}: only ${result.bytes} bytes arrived`);
    return result;
  };

  // The raw downloads inside a process that also runs Node-RED (an empty flow) take part in the
  // rotation: the goal is measured against them, since the bigger heap costs every collection.
  const result = await alternate({
    runs: RUNS,
    label: 'images',
    ours: () => runOnce('ours'),
    baseline: () => runOnce('baseline'),
    extra: { inNodeRed: () => runOnce('raw-in-node-red') },
  });
  await sim.close();

  const peak = (side) => median(result.samples[side].map((s) => s.peakGrowth));
  const sampledPeak = (side) => median(result.samples[side].map((s) => s.sampledPeakGrowth));
  const oursPeak = peak('ours');
  const basePeak = peak('baseline');
  const vsNodeRed = roundRatio(result.samples, 'ours', ['inNodeRed']);
  console.log(
    `images: peak RSS growth (VmHWM, median): ours ${mb(oursPeak)}, baseline ${mb(basePeak)}, raw inside Node-RED ${mb(peak('inNodeRed'))}; ` +
      `sampled every 2 ms: ours ${mb(sampledPeak('ours'))}, baseline ${mb(sampledPeak('baseline'))}; largest file ${mb(largest)}; ` +
      `raw inside Node-RED ${ms(result.medians.inNodeRed)} = ${(result.medians.inNodeRed / result.baseline).toFixed(2)}× the bare baseline`,
  );
  finish(
    `images: ${FILES} files of ${mb(largest)} via comfyui-images (buffer) → sink: ours ${ms(result.ours)}, raw undici inside a Node-RED process ${ms(result.medians.inNodeRed)}, ` +
      `bare raw undici ${ms(result.baseline)}, median of ${result.runs}; ours / raw inside Node-RED ${vsNodeRed.toFixed(2)}× (goal ≤ ${GOAL}×: ${verdict(vsNodeRed, GOAL)}); ` +
      `peak RSS growth ${mb(oursPeak)} vs the raw baseline's ${mb(basePeak)} (goal ≤ it: ${oursPeak <= basePeak ? 'met' : 'NOT met'})`,
  );
});
