#!/usr/bin/env node
'use strict';
/**
 * Reads a V8 .cpuprofile (node --cpu-prof) and prints where the time went: the top functions by
 * self time, by inclusive time, and the self time per file / package.
 *
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof bench/events.js --only ours --runs 2
 *   node bench/profile-top.js /tmp/prof/*.cpuprofile [--top 30] [--filter dist/]
 */
const { readFileSync } = require('node:fs');
const { parseArgs } = require('node:util');

const { values: opts, positionals } = parseArgs({
  options: { top: { type: 'string', default: '25' }, filter: { type: 'string' } },
  allowPositionals: true,
});
const top = Number(opts.top);

function shortUrl(url) {
  if (!url) return '';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 13);
  const dist = url.indexOf('/dist/');
  if (dist >= 0) return url.slice(dist + 1);
  return url.replace(/^file:\/\//, '').replace(/^.*\/bench\//, 'bench/');
}

function packageOf(url) {
  if (!url) return '(native/V8)';
  if (url.startsWith('node:')) return 'node core';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 13).split('/');
    return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
  }
  const dist = url.indexOf('/dist/');
  if (dist >= 0)
    return url
      .slice(dist + 1)
      .split('/')
      .slice(0, 2)
      .join('/');
  return shortUrl(url);
}

for (const file of positionals) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children || []) parent.set(c, n.id);
  const selfTicks = new Map();
  for (const id of profile.samples) selfTicks.set(id, (selfTicks.get(id) || 0) + 1);
  const total = profile.samples.length;
  const intervalMs = (profile.endTime - profile.startTime) / 1000 / total;
  const keyOf = (n) => `${n.callFrame.functionName || '(anonymous)'}  ${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;

  const self = new Map();
  const inclusive = new Map();
  const byPackage = new Map();
  for (const [id, ticks] of selfTicks) {
    const n = nodes.get(id);
    const key = keyOf(n);
    if (opts.filter && !key.includes(opts.filter)) {
      /* still counted inclusively below */
    } else self.set(key, (self.get(key) || 0) + ticks);
    const pkg = ['(idle)', '(program)', '(garbage collector)'].includes(n.callFrame.functionName)
      ? n.callFrame.functionName
      : packageOf(n.callFrame.url);
    byPackage.set(pkg, (byPackage.get(pkg) || 0) + ticks);
    // Inclusive: every distinct function on the stack gets the ticks once.
    const seen = new Set();
    for (let cur = id; cur !== undefined; cur = parent.get(cur)) {
      const k = keyOf(nodes.get(cur));
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) || 0) + ticks);
    }
  }
  const busy = total - (byPackage.get('(idle)') || 0);
  const pct = (t) => `${((t / busy) * 100).toFixed(1).padStart(5)}%`;
  const line = (k, t) => `${pct(t)} ${(t * intervalMs).toFixed(0).padStart(6)} ms  ${k}`;
  console.log(
    `${file}: ${total} samples, ${(total * intervalMs).toFixed(0)} ms, busy ${(busy * intervalMs).toFixed(0)} ms (percentages of busy time)`,
  );
  console.log('\n-- self time by package/file');
  for (const [k, t] of [...byPackage].sort((a, b) => b[1] - a[1]).slice(0, 15)) if (k !== '(idle)') console.log(line(k, t));
  console.log('\n-- top self time');
  for (const [k, t] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) if (!k.startsWith('(idle)')) console.log(line(k, t));
  console.log('\n-- top inclusive time' + (opts.filter ? ` (matching ${opts.filter})` : ''));
  for (const [k, t] of [...inclusive]
    .filter(([k]) => !opts.filter || k.includes(opts.filter))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top))
    console.log(line(k, t));
}
