#!/usr/bin/env node
'use strict';
/**
 * Job `images to files`: 20 files of 100 MB (random bytes, as a video is: nothing to compress)
 * streamed through comfyui-images in its "files" mode to a directory, against undici bodies piped
 * straight into fs write streams. Every run is a fresh process (bench/lib/images-files-run.js),
 * so its peak RSS growth is its own; the goal is throughput (≥ 0.9× raw) and memory that stays
 * flat whatever the file size (peak RSS growth ≤ 32 MB, after one unmeasured file of the same
 * size). The source files sit in the simulator's output folder, the copies in a temp folder; both
 * are removed at the end.
 */
const { execFileSync } = require('node:child_process');
const { randomBytes } = require('node:crypto');
const { closeSync, mkdtempSync, mkdirSync, openSync, readdirSync, rmSync, writeSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { quick, alternate, check, finish, main, mb, median, ms, roundRatio } = require('./lib/common');
const { spawnSimulator } = require('./lib/sim');

const FILES = quick ? 8 : 20;
const SIZE = quick ? 32 * 1024 * 1024 : 100 * 1024 * 1024;
const RUNS = quick ? 3 : 5;
const GOAL = 0.9; // × raw throughput, at least
const MEMORY_GOAL = 32 * 1024 * 1024;

/** A file of `size` random bytes, written 4 MB at a time (never held whole). */
function writeNoise(path, size) {
  const fd = openSync(path, 'w');
  try {
    for (let left = size; left > 0; left -= 4 * 1024 * 1024) writeSync(fd, randomBytes(Math.min(left, 4 * 1024 * 1024)));
  } finally {
    closeSync(fd);
  }
}

main(async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'comfyui-bench-files-'));
  // finish() and a failure both end in process.exit: the folders (2 GB of sources) go either way.
  process.on('exit', () => rmSync(dataDir, { recursive: true, force: true }));
  const sourceDir = join(dataDir, 'output', 'bench-files');
  const targetDir = join(dataDir, 'written');
  mkdirSync(sourceDir, { recursive: true });
  mkdirSync(targetDir);
  const refs = [];
  // The unmeasured warm-up streams a file of the full size: what is measured is a process that has
  // streamed such a file before (V8 sizes its GC triggers on the first one: a cold process grows
  // by up to ~60 MB of garbage once, ours and raw undici alike, whatever the file size after that).
  writeNoise(join(sourceDir, 'warm.mp4'), SIZE);
  refs.push({ filename: 'warm.mp4', subfolder: 'bench-files', type: 'output' });
  for (let i = 0; i < FILES; i += 1) {
    const filename = `video_${String(i).padStart(5, '0')}_.mp4`;
    writeNoise(join(sourceDir, filename), SIZE);
    refs.push({ filename, subfolder: 'bench-files', type: 'output' });
  }
  const sim = await spawnSimulator({ dataDir });

  const runOnce = (side) => {
    const extra = (process.env.BENCH_CHILD_ARGS || '').split(' ').filter(Boolean);
    const out = execFileSync(
      process.execPath,
      ['--expose-gc', ...extra, join(__dirname, 'lib', 'images-files-run.js'), side, sim.url, JSON.stringify(refs), targetDir],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 },
    );
    const result = JSON.parse(out.trim().split('\n').pop());
    check(result.files === FILES, `${side}: ${result.files} of ${FILES} files arrived`);
    check(result.bytes === FILES * SIZE, `${side}: ${result.bytes} bytes arrived instead of ${FILES * SIZE}`);
    const left = readdirSync(targetDir);
    check(left.length === 0, `${side}: files left behind in the target folder: ${left.slice(0, 5).join(', ')}`);
    return result;
  };

  const result = await alternate({
    runs: RUNS,
    label: 'images to files',
    ours: () => runOnce('ours'),
    baseline: () => runOnce('baseline'),
  });
  await sim.close();

  const throughput = (msValue) => (FILES * SIZE) / 1024 / 1024 / (msValue / 1000);
  // Higher is better: the baseline's time over ours, the median over rounds as for every ratio.
  const ratio = roundRatio(result.samples, 'baseline', ['ours']);
  const peak = (side) => median(result.samples[side].map((s) => s.peakGrowth));
  const sampledPeak = (side) => median(result.samples[side].map((s) => s.sampledPeakGrowth));
  const oursPeak = peak('ours');
  console.log(
    `images to files: peak RSS growth (VmHWM, median): ours ${mb(oursPeak)}, baseline ${mb(peak('baseline'))}; ` +
      `sampled every 2 ms: ours ${mb(sampledPeak('ours'))}, baseline ${mb(sampledPeak('baseline'))}`,
  );
  const met = Number.isFinite(ratio) && ratio >= GOAL && oursPeak <= MEMORY_GOAL;
  finish(
    `images to files: ${FILES} files of ${mb(SIZE)} via comfyui-images (files) → disk: ours ${ms(result.ours)} (${throughput(result.ours).toFixed(0)} MB/s), ` +
      `raw undici stream to file ${ms(result.baseline)} (${throughput(result.baseline).toFixed(0)} MB/s), median of ${result.runs}, ` +
      `ratio ${ratio.toFixed(2)}× raw throughput, peak RSS growth ${mb(oursPeak)}; ` +
      `goal ≥ ${GOAL}× raw throughput, peak RSS growth ≤ ${mb(MEMORY_GOAL)}: ${met ? 'met' : 'NOT met'}`,
  );
});
