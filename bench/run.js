#!/usr/bin/env node
'use strict';
/**
 * `npm run bench` / `npm run bench:quick`: runs every bench script in its own process, one after
 * the other (the machine has 2 cores: nothing runs beside them), shows their output, and ends
 * with the result line of each. The exit code is non-zero only when a script reported functional
 * breakage (lost or duplicated prompts, leaked sockets, frames parsed twice, a crash) — never for
 * a timing: timings on a shared 2-core machine are for people to read, not for CI to judge.
 *
 *   node bench/run.js [--quick] [--only events,images]
 */
const { spawn } = require('node:child_process');
const { join } = require('node:path');
const { parseArgs } = require('node:util');

const { values: opts } = parseArgs({ options: { quick: { type: 'boolean', default: false }, only: { type: 'string' } } });

const SCRIPTS = [
  ['events', 'events.js'],
  ['prompts-sequential', 'prompts-sequential.js'],
  ['prompts-concurrent', 'prompts-concurrent.js'],
  ['overhead', 'overhead.js'],
  ['clients', 'clients.js'],
  ['images', 'images.js'],
  ['images-files', 'images-files.js'],
  ['diy', 'diy.js'],
  ['leaks', 'leaks.js'],
  ['fanout', 'fanout.js'],
  ['ui-convert', 'ui-convert.js'],
  ['pool', 'pool.js'],
];

function runScript(file) {
  return new Promise((resolve) => {
    const args = [join(__dirname, file), ...(opts.quick ? ['--quick'] : [])];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let last = '';
    let buffered = '';
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      buffered += chunk.toString('utf8');
      const lines = buffered.split('\n');
      buffered = lines.pop();
      for (const line of lines) if (line.trim()) last = line;
    });
    child.on('close', (code, signal) => {
      if (buffered.trim()) last = buffered;
      resolve({ code: code ?? 1, signal, last });
    });
  });
}

async function main() {
  const wanted = opts.only ? opts.only.split(',') : undefined;
  const started = Date.now();
  const results = [];
  for (const [name, file] of SCRIPTS) {
    if (wanted && !wanted.includes(name)) continue;
    const t0 = Date.now();
    console.log(`\n== ${name}${opts.quick ? ' (quick)' : ''}`);
    const { code, signal, last } = await runScript(file);
    results.push({ name, code, signal, last, seconds: (Date.now() - t0) / 1000 });
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  console.log(
    `\n== results (${opts.quick ? 'quick, ' : ''}${seconds} s; ratios are ours / baseline, medians of alternating runs in the same invocation)`,
  );
  for (const r of results) console.log(`${r.code === 0 ? 'ok  ' : 'FAIL'} ${r.last}  [${r.seconds.toFixed(0)} s]`);
  const broken = results.filter((r) => r.code !== 0);
  if (broken.length > 0) {
    console.log(`functional failures in: ${broken.map((r) => r.name + (r.signal ? ` (${r.signal})` : ` (exit ${r.code})`)).join(', ')}`);
    process.exit(1);
  }
  console.log('no functional failures (timings are reported, not judged)');
}

main().catch((err) => {
  console.error(err);
  process.exit(2);
});
