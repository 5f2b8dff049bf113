#!/usr/bin/env node
'use strict';
/**
 * Offline mirror of the Flow Library scorecard (`node-red-dev validate`, node-red/node-red-dev-cli
 * src/libs/checkpackage.js, checknodes.js, checkdeps.js; docs/P01…D03.md). One line per check,
 * PASS or FAIL with the reason, and exit 1 on any FAIL. node-red-dev only warns; we fail, and we
 * are stricter where our conventions are (docs/node-red-conventions.md §10).
 *
 *   node test/tools/scorecard.js                 the repository (needs `npm run build` and node_modules)
 *   node test/tools/scorecard.js --path <dir>    an unpacked or installed copy of the package
 *                                                (what the Flow Library validates: the npm tarball)
 *   node test/tools/scorecard.js --online         also ask the npm registry: live node-red dist-tags
 *                                                for P06/P07 and D03 (newer majors, reported as WARN)
 *
 * What needs the network and is not checked offline: P02 (disabled in node-red-dev too), P08 and
 * N01's comparison with every module of the Flow Library catalogue. N01 here checks what can be
 * known locally: our types are unique, prefixed, and clash with no core Node-RED type.
 */
const { execFileSync } = require('node:child_process');
const { existsSync, readFileSync, readdirSync } = require('node:fs');
const { join, relative, resolve } = require('node:path');
const lib = require('./lib');

const { semver } = lib;
const TYPE_PREFIX = 'comfyui-';
// node-red-dev's src/badpackages.json (D02): packages known to break Node-RED when installed with it.
const BAD_PACKAGES = { 'agent-base': '<6.0.0' };
const MAX_DEPENDENCIES = 6; // D01, the 95th percentile of the catalogue in Oct 2021

function parseArgs(argv) {
  const args = { path: lib.repoRoot, online: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--path') args.path = resolve(argv[++i]);
    else if (argv[i] === '--online') args.online = true;
    else if (argv[i] === '--help' || argv[i] === '-h') {
      console.log('usage: scorecard.js [--path <package dir>] [--online]');
      process.exit(0);
    } else throw new Error(`unknown argument ${argv[i]}`);
  }
  return args;
}

const results = [];
function record(id, title, problems, detail) {
  const ok = problems.length === 0;
  results.push({ id, ok });
  console.log(`${ok ? 'PASS' : 'FAIL'} ${id} ${title}: ${ok ? detail : problems.join('; ')}`);
}
function warn(id, text) {
  console.log(`WARN ${id} ${text}`);
}
/** Runs a check; an exception is a FAIL of that check, not a crash of the scorecard. */
function check(id, title, fn) {
  const problems = [];
  let detail = '';
  try {
    detail = fn(problems) ?? '';
  } catch (err) {
    problems.push(`could not check: ${err.message}`);
  }
  record(id, title, problems, detail);
}

function npmView(spec, field) {
  const out = execFileSync('npm', ['view', spec, field, '--json'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return out.trim() ? JSON.parse(out) : undefined;
}

/** node-red's dist-tags and engines.node per tagged version: the recorded snapshot, or the registry. */
function nodeRedReleases(online) {
  const snapshot = JSON.parse(readFileSync(join(__dirname, 'node-red-releases.json'), 'utf8'));
  if (!online) return { ...snapshot, source: `recorded ${snapshot.recorded}` };
  const tags = npmView('node-red', 'dist-tags');
  const engines = {};
  for (const version of new Set(Object.values(tags))) engines[version] = (npmView(`node-red@${version}`, 'engines') ?? {}).node;
  if (JSON.stringify(tags) !== JSON.stringify(snapshot['dist-tags'])) {
    warn(
      'P06',
      `the registry's node-red dist-tags ${JSON.stringify(tags)} differ from test/tools/node-red-releases.json ${JSON.stringify(snapshot['dist-tags'])}: update the snapshot`,
    );
  }
  return { 'dist-tags': tags, engines, source: 'npm registry' };
}

/** The version of node-red the project develops and tests against (its devDependency), if installed. */
function testedNodeRed() {
  try {
    return JSON.parse(readFileSync(lib.repoRequire.resolve('node-red/package.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const dir = args.path;
  const pkg = lib.readPackage(dir);
  const nr = pkg['node-red'] ?? {};
  console.log(
    `scorecard for ${pkg.name}@${pkg.version} in ${relative(process.cwd(), dir) || '.'}${args.online ? ' (online)' : ' (offline)'}`,
  );

  // ---- package.json (checkpackage.js) ----
  check('P01', 'license', (problems) => {
    if (typeof pkg.license !== 'string' || pkg.license.trim() === '') {
      problems.push('package.json has no "license"');
      return;
    }
    const seeFile = /^SEE LICEN[CS]E IN (.+)$/.exec(pkg.license);
    if (!seeFile && lib.validateLicense) {
      const verdict = lib.validateLicense(pkg.license);
      if (!verdict.validForNewPackages) problems.push(`"${pkg.license}" is not an SPDX expression (${(verdict.warnings ?? []).join(' ')})`);
    }
    const candidates = seeFile ? [seeFile[1]] : readdirSync(dir).filter((f) => /^licen[cs]e(\.(md|txt))?$/i.test(f));
    const file = candidates.find((f) => existsSync(join(dir, f)));
    if (!file) {
      problems.push(seeFile ? `${seeFile[1]} does not exist` : 'no LICENSE file in the package');
      return;
    }
    const text = readFileSync(join(dir, file), 'utf8');
    const expected = {
      'Apache-2.0': /Apache License\s+Version 2\.0/i,
      MIT: /Permission is hereby granted, free of charge/i,
      'BSD-3-Clause': /Redistribution and use in source and binary forms/i,
      ISC: /Permission to use, copy, modify, and\/or distribute/i,
    };
    if (expected[pkg.license] && !expected[pkg.license].test(text)) problems.push(`${file} is not the ${pkg.license} text`);
    return `"${pkg.license}" with ${file} (${text.length} bytes)`;
  });

  check('P03', 'repository and bugs', (problems) => {
    // node-red-dev passes with either; the Flow Library links both, so we want both.
    const repoUrl = typeof pkg.repository === 'string' ? pkg.repository : pkg.repository?.url;
    const gitUrl = /(?:git|ssh|https?|git@[-\w.]+):(\/\/)?(.*?)(\/?|#[-\d\w._]+?)$/; // node-red-dev isGitUrl
    if (!repoUrl) problems.push('no "repository" url');
    else if (!gitUrl.test(repoUrl)) problems.push(`repository "${repoUrl}" is not a git URL`);
    const bugs = typeof pkg.bugs === 'string' ? { url: pkg.bugs } : pkg.bugs;
    if (!bugs || (!bugs.url && !bugs.email)) problems.push('no "bugs" url or email');
    else if (bugs.url && !/^https?:\/\//.test(bugs.url)) problems.push(`bugs url "${bugs.url}" is not http(s)`);
    return `repository ${repoUrl}, bugs ${bugs?.url ?? bugs?.email}`;
  });

  check('P04', 'scoped name', (problems) => {
    const scoped = /@[a-z\d][\w-.]+\/[a-z\d][\w-.]*/; // node-red-dev's scopedRegex
    if (!scoped.test(pkg.name)) problems.push(`"${pkg.name}" is not scoped (new packages since Feb 2022 must be @scope/name)`);
    else if (!/^@[a-z\d][\w-.]*\/node-red-[a-z\d][\w-.]*$/.test(pkg.name))
      problems.push(`"${pkg.name}" is not of the form @scope/node-red-<name>`);
    if (lib.validateName) {
      const verdict = lib.validateName(pkg.name);
      if (!verdict.validForNewPackages)
        problems.push(`npm rejects the name: ${[...(verdict.errors ?? []), ...(verdict.warnings ?? [])].join(', ')}`);
    }
    return pkg.name;
  });

  check('P05', 'node-red keyword', (problems) => {
    if (!Array.isArray(pkg.keywords) || !pkg.keywords.includes('node-red'))
      problems.push('keywords do not contain "node-red" (the Flow Library ignores the package)');
    return `keywords: ${(pkg.keywords ?? []).join(', ')}`;
  });

  const releases = nodeRedReleases(args.online);
  const supported = Object.entries(releases['dist-tags']).filter(([tag]) => /.*maintenance.*|^latest$/.test(tag));
  const tested = testedNodeRed();

  check('P06', 'node-red.version', (problems) => {
    const range = nr.version;
    if (typeof range !== 'string') {
      problems.push('"node-red": {"version": …} is not declared');
      return;
    }
    if (!/^>=\s*\d+\.\d+\.\d+$/.test(range.trim())) problems.push(`"${range}" is not a minimum version ">=X.Y.Z"`);
    if (!semver.validRange(range)) {
      problems.push(`"${range}" is not a semver range`);
      return;
    }
    const ok = supported.filter(([, v]) => semver.satisfies(v, range));
    if (ok.length === 0)
      problems.push(
        `"${range}" satisfies none of the current releases ${supported.map(([t, v]) => `${t} ${v}`).join(', ')} (${releases.source})`,
      );
    if (tested && !semver.satisfies(tested.version, range))
      problems.push(`the node-red the tests run on (${tested.version}) does not satisfy "${range}"`);
    return `"${range}" satisfied by ${ok.map(([t, v]) => `${t} ${v}`).join(', ')} (${releases.source})${tested ? ` and by the tested ${tested.version}` : ''}`;
  });

  check('P07', 'engines.node', (problems) => {
    const range = pkg.engines?.node;
    if (typeof range !== 'string' || !semver.validRange(range)) {
      problems.push(range === undefined ? 'engines.node is not declared' : `engines.node "${range}" is not a semver range`);
      return;
    }
    // node-red-dev: minVersion(engines.node of node-red@latest) must satisfy ours.
    const latest = releases['dist-tags'].latest;
    const nodeRedEngines = releases.engines[latest];
    if (!nodeRedEngines) {
      problems.push(`engines.node of node-red ${latest} is unknown`);
      return;
    }
    const minimum = semver.minVersion(nodeRedEngines);
    if (!semver.satisfies(minimum, range))
      problems.push(`Node ${minimum}, the minimum of node-red ${latest} ("${nodeRedEngines}"), does not satisfy "${range}"`);
    return `"${range}" admits Node ${minimum}, the minimum of node-red ${latest} ("${nodeRedEngines}", ${releases.source})`;
  });

  // ---- nodes (checknodes.js) ----
  const declared = nr.nodes ?? {};
  const defs = {}; // type → {def, html}
  const parseProblems = [];
  const typeOwners = new Map();
  for (const [name, jsFile] of Object.entries(declared)) {
    const htmlFile = join(dir, jsFile.replace('.js', '.html')); // node-red-dev's lookup
    if (!existsSync(join(dir, jsFile))) parseProblems.push(`${jsFile} (node "${name}") does not exist`);
    if (!existsSync(htmlFile)) {
      parseProblems.push(`${relative(dir, htmlFile)} (node "${name}") does not exist`);
      continue;
    }
    const { defs: found, errors } = lib.nodeDefinitions(htmlFile);
    for (const e of errors) parseProblems.push(`${relative(dir, htmlFile)}: ${e}`);
    for (const [type, def] of Object.entries(found)) {
      if (typeOwners.has(type))
        parseProblems.push(`type "${type}" is registered by both ${typeOwners.get(type)} and ${relative(dir, htmlFile)}`);
      typeOwners.set(type, relative(dir, htmlFile));
      defs[type] = def;
    }
    // The runtime side must register what the editor does, or the node shows as "not installed".
    if (existsSync(join(dir, jsFile))) {
      const js = readFileSync(join(dir, jsFile), 'utf8');
      const jsTypes = [...js.matchAll(/registerType\(\s*['"]([^'"]+)['"]/g)].map((m) => m[1]).sort();
      const htmlTypes = Object.keys(found).sort();
      if (JSON.stringify(jsTypes) !== JSON.stringify(htmlTypes))
        parseProblems.push(`${jsFile} registers [${jsTypes}] but its .html registers [${htmlTypes}]`);
    }
  }
  const ourTypes = Object.keys(defs);

  check('N01', 'node types', (problems) => {
    problems.push(...parseProblems);
    if (ourTypes.length === 0) problems.push('no node types found');
    const core = lib.coreNodeTypes();
    for (const type of ourTypes) {
      if (core.has(type)) problems.push(`"${type}" is a core Node-RED type (${core.get(type)})`);
      if (!type.startsWith(TYPE_PREFIX)) problems.push(`"${type}" is not prefixed "${TYPE_PREFIX}"`);
    }
    return `${ourTypes.length} unique types, all "${TYPE_PREFIX}*", none of the ${core.size} core types (Flow Library catalogue not queried offline)`;
  });

  check('N02', 'examples', (problems) => {
    const exDir = join(dir, 'examples');
    if (!existsSync(exDir)) {
      problems.push('no examples/ folder');
      return;
    }
    const files = lib.filesUnder(exDir);
    if (files.length === 0) problems.push('examples/ is empty');
    const core = lib.coreNodeTypes();
    const used = new Set();
    for (const file of files) {
      const name = relative(exDir, file);
      if (!file.endsWith('.json')) {
        problems.push(`${name}: not a .json flow (node-red-dev parses every file in examples/; the editor lists only .json)`);
        continue;
      }
      let flow;
      try {
        flow = JSON.parse(readFileSync(file, 'utf8'));
      } catch (err) {
        problems.push(`${name}: not JSON (${err.message})`);
        continue;
      }
      if (!Array.isArray(flow)) {
        problems.push(`${name}: not a top-level array of nodes`);
        continue;
      }
      if (!flow.some((n) => n && n.type === 'comment')) problems.push(`${name}: no Comment node`);
      // An example may need another node package (Dashboard 2, say) when its Comment names it and the package is a devDependency.
      const comments = flow.filter((n) => n && n.type === 'comment').map((n) => `${n.name ?? ''} ${n.info ?? ''}`);
      const needed = new Set();
      for (const dependency of Object.keys(pkg.devDependencies ?? {})) {
        if (comments.some((text) => text.includes(dependency))) for (const type of lib.packageNodeTypes(dependency)) needed.add(type);
      }
      const subflows = new Set(flow.filter((n) => n && n.type === 'subflow').map((n) => n.id));
      for (const n of flow) {
        if (!n || typeof n.type !== 'string') {
          problems.push(`${name}: an entry without a type`);
          continue;
        }
        used.add(n.type);
        const known =
          ourTypes.includes(n.type) ||
          core.has(n.type) ||
          needed.has(n.type) ||
          (n.type.startsWith('subflow:') && subflows.has(n.type.slice(8)));
        if (!known) problems.push(`${name}: node ${n.id} has type "${n.type}", neither core nor ours nor of a package its Comment names`);
      }
    }
    const palette = ourTypes.filter((t) => defs[t].category !== 'config');
    const missing = palette.filter((t) => !used.has(t));
    if (missing.length > 0) problems.push(`no example uses ${missing.join(', ')}`);
    return `${files.length} flows; every one of the ${palette.length} palette nodes appears; each flow is an array with a Comment node, using only core, ${TYPE_PREFIX}* types and those of a devDependency its Comment names`;
  });

  // ---- dependencies (checkdeps.js) ----
  const deps = pkg.dependencies ?? {};
  check('D01', 'dependencies', (problems) => {
    const count = Object.keys(deps).length;
    if (count > MAX_DEPENDENCIES) problems.push(`${count} dependencies (at most ${MAX_DEPENDENCIES})`);
    for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies', 'bundleDependencies', 'bundledDependencies']) {
      const value = pkg[field];
      const names = Array.isArray(value) ? value : Object.keys(value ?? {});
      if (names.includes('node-red'))
        problems.push(`node-red is in ${field} (only devDependencies: the user's Node-RED loads the package)`);
      const scoped = names.filter((n) => n.startsWith('@node-red/'));
      if (scoped.length > 0) problems.push(`${scoped.join(', ')} in ${field}`);
    }
    return `${count} (${Object.keys(deps).join(', ') || 'none'}); node-red only a devDependency`;
  });

  check('D02', 'dependency versions and tree', (problems) => {
    // node-red-dev's D02: no known-incompatible package anywhere in the production tree.
    // Added (offline stand-in for "resolvable"): every range is a bounded semver range of the
    // registry, and the installed tree satisfies it.
    for (const [name, range] of Object.entries(deps)) {
      if (!semver.validRange(range))
        problems.push(
          `${name}: "${range}" is not a registry semver range (git, file, URL and tag specs do not install the same for every user)`,
        );
      else if (semver.satisfies('999.999.999', range)) problems.push(`${name}: "${range}" has no upper bound (wildcard)`);
    }
    const { packages, missing } = lib.productionTree(dir);
    for (const m of missing) problems.push(`not installed, cannot resolve: ${m} (run npm ci)`);
    for (const p of packages) {
      if (!semver.satisfies(p.version, p.range)) problems.push(`${p.name}@${p.version} does not satisfy "${p.range}" (from ${p.parent})`);
      if (BAD_PACKAGES[p.name] && semver.satisfies(p.version, BAD_PACKAGES[p.name]))
        problems.push(`incompatible ${p.name}@${p.version} (via ${p.parent})`);
    }
    const direct = Object.keys(deps).map(
      (name) =>
        `${name} ${deps[name]} → ${packages.find((p) => p.name === name && p.parent === `${pkg.name}@${pkg.version}`)?.version ?? '?'}`,
    );
    return `${direct.join(', ')}; ${packages.length} packages in the production tree, none in node-red-dev's bad list (${Object.entries(
      BAD_PACKAGES,
    )
      .map(([n, r]) => `${n} ${r}`)
      .join(', ')})`;
  });

  if (args.online) {
    for (const [name, range] of Object.entries(deps)) {
      try {
        const latest = npmView(name, 'version');
        if (!semver.satisfies(latest, range))
          warn(
            'D03',
            `${name}: "${range}" does not admit the latest ${latest} (node-red-dev warns${name === 'undici' ? '; undici 8 needs Node >=22.19, accepted while Node 20 is supported: node-red-conventions.md §1' : ''})`,
          );
        else console.log(`INFO D03 ${name}: "${range}" admits the latest ${latest}`);
      } catch (err) {
        warn('D03', `${name}: could not ask the registry (${err.message.split('\n')[0]})`);
      }
    }
  }

  const passed = results.filter((r) => r.ok).length;
  const failed = results.length - passed;
  console.log(`scorecard: ${passed} passed, ${failed} failed`);
  process.exitCode = failed === 0 ? 0 : 1;
}

try {
  main();
} catch (err) {
  console.error(`scorecard: could not run: ${err.stack ?? err}`);
  process.exitCode = 1;
}
