#!/usr/bin/env node
'use strict';
/**
 * The checks behind .ci/pack.sh.
 *
 *   pack-check.js contents <npm pack --json output>
 *       what the tarball holds: the node files with their .html, locales/ and icons/ beside them,
 *       examples/, LICENSE, README, package.json; no sources, tests, CI files or node_modules;
 *       no stale build output; every require the node files can reach resolves inside the
 *       package, to a Node builtin or to a declared dependency.
 *
 *   pack-check.js runtime <userDir> <red.js>
 *       starts Node-RED (red.js) on 127.0.0.1 with <userDir>, where the tarball was installed,
 *       and checks through the admin API that every node type of the package is loaded and
 *       enabled without error, the editor gets its templates, help, catalogs (en-US, ko) and
 *       icons, the examples are listed, every example deploys against the simulator the package
 *       ships (the repository's when the tarball has none), text-to-image runs to a downloaded image, and the log has no warning or error
 *       about the package.
 *
 * Prints one line per check and exits 1 if any fails.
 */
const { spawn } = require('node:child_process');
const { builtinModules } = require('node:module');
const { createWriteStream, existsSync, readFileSync, writeFileSync } = require('node:fs');
const net = require('node:net');
const { dirname, join, posix, resolve } = require('node:path');
const lib = require('./lib');

const HOST = '127.0.0.1';
let failures = 0;
function report(ok, what, detail) {
  if (!ok) failures++;
  console.log(`${ok ? 'PASS' : 'FAIL'} ${what}${detail ? `: ${detail}` : ''}`);
}
function checkList(what, problems, okDetail) {
  report(problems.length === 0, what, problems.length === 0 ? okDetail : problems.join('; '));
}

// ---------------------------------------------------------------- contents of the tarball

function contents(packJsonFile) {
  const [pack] = JSON.parse(readFileSync(packJsonFile, 'utf8'));
  const files = new Set(pack.files.map((f) => f.path));
  const pkg = lib.readPackage(lib.repoRoot);
  const has = (p) => files.has(p);
  console.log(
    `${pack.filename}: ${pack.entryCount} files, ${(pack.size / 1024).toFixed(0)} KiB packed, ${(pack.unpackedSize / 1024).toFixed(0)} KiB unpacked`,
  );

  checkList(
    'top-level files',
    ['package.json', 'README.md', 'LICENSE'].filter((f) => !has(f)).map((f) => `${f} missing`),
    'package.json, README.md, LICENSE',
  );

  const nodeProblems = [];
  const declared = pkg['node-red'].nodes;
  for (const [type, js] of Object.entries(declared)) {
    if (!has(js)) nodeProblems.push(`${js} missing`);
    const html = js.replace(/\.js$/, '.html');
    if (!has(html)) nodeProblems.push(`${html} missing (the runtime looks for it beside ${js})`);
    const dir = posix.dirname(js);
    for (const lang of ['en-US', 'ko']) {
      for (const ext of ['json', 'html']) {
        const source = join(lib.repoRoot, 'nodes', 'locales', lang, `${type}.${ext}`);
        if (existsSync(source) && !has(`${dir}/locales/${lang}/${type}.${ext}`))
          nodeProblems.push(`${dir}/locales/${lang}/${type}.${ext} missing`);
      }
    }
    const htmlFile = join(lib.repoRoot, html);
    if (existsSync(htmlFile)) {
      for (const [t, def] of Object.entries(lib.nodeDefinitions(htmlFile).defs)) {
        // An icon of our own must sit in icons/ beside the .js; core icons come with Node-RED.
        if (def.icon && existsSync(join(lib.repoRoot, 'icons', def.icon)) && !has(`${dir}/icons/${def.icon}`))
          nodeProblems.push(`${t}: ${dir}/icons/${def.icon} missing`);
      }
    }
  }
  for (const file of lib.filesUnder(join(lib.repoRoot, 'nodes', 'locales'))) {
    const rel = posix.join(
      'dist/nodes/locales',
      file
        .slice(join(lib.repoRoot, 'nodes', 'locales').length + 1)
        .split('\\')
        .join('/'),
    );
    if (!has(rel)) nodeProblems.push(`${rel} missing`);
  }
  if (existsSync(join(lib.repoRoot, 'icons'))) {
    for (const file of lib.filesUnder(join(lib.repoRoot, 'icons'))) {
      const rel = `dist/nodes/icons/${file.slice(join(lib.repoRoot, 'icons').length + 1)}`;
      if (!has(rel)) nodeProblems.push(`${rel} missing`);
    }
  }
  checkList(
    'node files',
    nodeProblems,
    `${Object.keys(declared).length} nodes, each .js with its .html, locales/ (en-US, ko) and icons/ beside it`,
  );

  const exampleProblems = [];
  const examples = lib
    .filesUnder(join(lib.repoRoot, 'examples'))
    .map((f) => `examples/${f.slice(join(lib.repoRoot, 'examples').length + 1)}`);
  for (const ex of examples) if (!has(ex)) exampleProblems.push(`${ex} missing`);
  checkList('examples', exampleProblems, `${examples.length} flows`);

  const forbidden = [
    /^src\//,
    /^test\//,
    /^bench\//,
    /^\.ci\//,
    /^\.github\//,
    /(^|\/)node_modules\//,
    /^\.node-red\//,
    /^\.userdir\//,
    /^coverage\//,
    /\.tgz$/,
    /(^|\/)\.env$/,
    /(?<!\.d)\.ts$/,
    /^tsconfig.*\.json$/,
    /^\.mocharc/,
  ];
  const unwanted = [...files].filter((f) => forbidden.some((re) => re.test(f)));
  checkList(
    'nothing that is not for users',
    unwanted.map((f) => `${f} is in the tarball`),
    'no src/, test/, bench/, .ci/, node_modules/, TypeScript sources or local state',
  );

  // Compiled files without a source are left over from an earlier build of a removed file.
  const stale = [...files]
    .filter((f) => /^dist\/.*\.js$/.test(f))
    .filter((f) => !existsSync(join(lib.repoRoot, 'src', f.slice('dist/'.length).replace(/\.js$/, '.ts'))));
  checkList(
    'no stale build output',
    stale.map((f) => `${f} has no src/${f.slice(5).replace(/\.js$/, '.ts')} (rm -rf dist && npm run build)`),
    'every dist/**/*.js has its src/**/*.ts',
  );

  // Static require graph from the node files: what a user's Node-RED will need at run time.
  const deps = new Set(Object.keys(pkg.dependencies ?? {}));
  const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
  const requireProblems = [];
  const seen = new Set();
  const queue = Object.values(declared).map((f) => posix.normalize(f));
  while (queue.length > 0) {
    const file = queue.shift();
    if (seen.has(file)) continue;
    seen.add(file);
    if (!has(file)) {
      requireProblems.push(`${file} is required but not in the tarball`);
      continue;
    }
    const code = readFileSync(join(lib.repoRoot, file), 'utf8');
    for (const [, spec] of code.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)) {
      if (spec.startsWith('.')) {
        const base = posix.normalize(posix.join(posix.dirname(file), spec));
        const target = [base, `${base}.js`, `${base}/index.js`].find((c) => has(c) && c.endsWith('.js'));
        if (target) queue.push(target);
        else if (!has(base)) requireProblems.push(`${file} requires ${spec}, which is not in the tarball`);
      } else if (!builtins.has(spec)) {
        const name = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0];
        if (!deps.has(name))
          requireProblems.push(
            `${file} requires "${spec}", which is not a dependency${name === 'node-red' ? ' (node-red is a devDependency)' : ''}`,
          );
      }
    }
  }
  checkList(
    'run-time requires',
    requireProblems,
    `${seen.size} files reachable from the node files need only Node builtins and ${[...deps].join(', ')}`,
  );

  const maps = [...files].filter((f) => f.endsWith('.map'));
  const extras = [
    ...new Set(
      [...files]
        .filter((f) => f.startsWith('dist/') && !seen.has(f) && !f.startsWith('dist/nodes/') && f.endsWith('.js'))
        .map((f) => f.split('/').slice(0, 2).join('/')),
    ),
  ];
  console.log(
    `INFO ${maps.length} source maps (${(pack.files.filter((f) => f.path.endsWith('.map')).reduce((n, f) => n + f.size, 0) / 1024).toFixed(0)} KiB) point at src/, which is not shipped; not loaded by the nodes: ${extras.join(', ') || 'nothing'}`,
  );
}

// ---------------------------------------------------------------- the installed package in Node-RED

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, HOST, () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

async function waitFor(check, what, timeoutMs) {
  const started = Date.now();
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function runtime(userDir, redJs) {
  const moduleDir = join(userDir, 'node_modules', ...lib.readPackage(lib.repoRoot).name.split('/'));
  const pkg = lib.readPackage(moduleDir);
  const moduleName = pkg.name;
  const types = [];
  // The types the package should register: from the repository's editor files (the installed
  // copy is what is being checked).
  for (const [name, js] of Object.entries(pkg['node-red'].nodes)) {
    const html = join(lib.repoRoot, js.replace(/\.js$/, '.html'));
    types.push(...(existsSync(html) ? Object.keys(lib.nodeDefinitions(html).defs) : [name]));
  }
  const nodeRedVersion = lib.readPackage(dirname(redJs)).version;

  // The simulator the package ships, loaded from the installed copy (so it also proves its
  // dependencies resolve the way a user's install resolves them).
  const packagedSimulator = join(moduleDir, 'dist', 'simulator', 'index.js');
  const { startSimulator } = require(existsSync(packagedSimulator) ? packagedSimulator : join(lib.repoRoot, 'dist', 'simulator'));
  const sim = await startSimulator({ stepMs: 5 });

  const port = await freePort();
  writeFileSync(
    join(userDir, 'settings.js'),
    `module.exports = ${JSON.stringify(
      {
        uiHost: HOST,
        uiPort: port,
        flowFile: 'flows.json',
        credentialSecret: 'pack-check',
        httpAdminRoot: '/',
        httpNodeRoot: '/api',
        logging: { console: { level: 'info', metrics: false, audit: false } },
        editorTheme: { tours: false },
        telemetry: { enabled: false, updateNotification: false },
        externalModules: { autoInstall: false, palette: { allowInstall: false } },
      },
      null,
      2,
    )};\n`,
  );
  const logFile = join(userDir, 'node-red.log');
  const logStream = createWriteStream(logFile);
  let log = '';
  const child = spawn(process.execPath, [redJs, '--userDir', userDir, '--settings', join(userDir, 'settings.js'), '--port', String(port)], {
    cwd: userDir,
    env: { ...process.env, NODE_RED_ENABLE_PROJECTS: '', NODE_RED_ENABLE_TOURS: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let exited = null;
  child.on('exit', (code, signal) => (exited = { code, signal }));
  for (const stream of [child.stdout, child.stderr]) {
    stream.on('data', (chunk) => {
      log += chunk;
      logStream.write(chunk);
    });
  }
  const base = `http://${HOST}:${port}`;
  const api = async (method, path, { body, accept = 'application/json', headers = {} } = {}) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { Accept: accept, ...(body ? { 'Content-Type': 'application/json' } : {}), ...headers },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, type: res.headers.get('content-type') ?? '', text, json: () => JSON.parse(text) };
  };

  try {
    await waitFor(() => exited || /Started flows|Server now running at/.test(log), 'Node-RED to start', 60000);
    if (exited) throw new Error(`Node-RED exited (${JSON.stringify(exited)}) before starting`);
    await waitFor(async () => (await api('GET', '/settings').catch(() => ({ status: 0 }))).status === 200, 'the admin API', 20000);
    console.log(`Node-RED ${nodeRedVersion} on Node ${process.version} at ${base}, userDir ${userDir}`);

    // GET /nodes: one node set per declared node file, every one enabled, with our types, no err.
    const nodes = (await api('GET', '/nodes')).json();
    const ours = nodes.filter((n) => n.module === moduleName);
    const setProblems = [];
    for (const set of ours) {
      if (!set.enabled) setProblems.push(`${set.id} is disabled`);
      if (set.err)
        setProblems.push(
          `${set.id}: ${typeof set.err === 'string' ? set.err : (set.err.message ?? set.err.code ?? JSON.stringify(set.err))}`,
        );
      if (set.module && !set.local) setProblems.push(`${set.id} was not loaded from the userDir`);
    }
    const loadedTypes = ours.flatMap((n) => n.types);
    for (const type of types) if (!loadedTypes.includes(type)) setProblems.push(`type ${type} is not registered`);
    for (const type of loadedTypes) if (!types.includes(type)) setProblems.push(`unexpected type ${type}`);
    if (ours.length !== Object.keys(pkg['node-red'].nodes).length)
      setProblems.push(`${ours.length} node sets, expected ${Object.keys(pkg['node-red'].nodes).length}`);
    const version = (await api('GET', `/nodes/${moduleName}`)).json();
    if (version.version !== pkg.version)
      setProblems.push(`GET /nodes/${moduleName} reports version ${version.version}, expected ${pkg.version}`);
    checkList(
      'GET /nodes',
      setProblems,
      `${moduleName}@${version.version}: ${ours.length} node sets enabled without error, types ${loadedTypes.join(', ')}`,
    );
    const others = nodes.filter((n) => n.err && n.module !== moduleName);
    if (others.length > 0)
      console.log(`INFO node sets of other modules with errors: ${others.map((n) => `${n.id} (${n.err.message ?? n.err})`).join(', ')}`);

    // The editor's view of the package: templates and help, catalogs, icons, examples.
    const html = (await api('GET', '/nodes', { accept: 'text/html' })).text;
    const editorProblems = [];
    for (const type of types) {
      if (!html.includes(`data-template-name="${type}"`)) editorProblems.push(`no editor template for ${type}`);
      if (!html.includes(`data-help-name="${type}"`)) editorProblems.push(`no help for ${type}`);
    }
    for (const lang of ['en-US', 'ko']) {
      for (const type of types) {
        const res = await api('GET', `/locales/${moduleName}/${type}?lng=${lang}`);
        let catalog;
        try {
          catalog = res.json();
        } catch {
          catalog = undefined;
        }
        if (res.status !== 200 || !catalog || !catalog[type])
          editorProblems.push(`${lang} catalog of ${type}: HTTP ${res.status} ${res.text.slice(0, 80)}`);
      }
    }
    // Every icon of the repository's icons/ folder, served as the same bytes.
    const iconDir = join(lib.repoRoot, 'icons');
    let icons = 0;
    if (existsSync(iconDir)) {
      for (const file of lib.filesUnder(iconDir)) {
        const name = file.slice(iconDir.length + 1);
        const res = await api('GET', `/icons/${moduleName}/${name}`, { accept: '*/*' });
        if (res.status !== 200 || res.text !== readFileSync(file, 'utf8'))
          editorProblems.push(`icon ${name} is not served (HTTP ${res.status}, ${res.text.length} bytes)`);
        else icons++;
      }
    }
    const listed = (await api('GET', `/library/examples/flows/${moduleName}`)).json();
    const listedNames = (Array.isArray(listed) ? listed : []).map((e) => (typeof e === 'string' ? `${e}/` : e.fn));
    const exampleFiles = lib.filesUnder(join(moduleDir, 'examples')).filter((f) => f.endsWith('.json'));
    for (const file of exampleFiles) {
      const name = file.slice(join(moduleDir, 'examples').length + 1).replace(/\.json$/, '');
      if (!listedNames.includes(name)) editorProblems.push(`example ${name} is not listed by the editor (got ${listedNames.join(', ')})`);
    }
    checkList(
      'editor resources',
      editorProblems,
      `templates and help for ${types.length} types, en-US and ko catalogs, ${icons} icons, ${listedNames.length} examples listed`,
    );

    // Deploy every example (each on its own tab), pointed at the simulator; run text-to-image.
    // The examples share their server configuration (one id), as the editor's import makes them.
    // An example that needs another node package (its Comment names it: Dashboard 2) waits for types this
    // runtime does not have, and a missing type holds back every flow: it is left out here, and said so.
    const registered = new Set((await api('GET', '/nodes')).json().flatMap((set) => set.types ?? []));
    const core = new Set(['tab', 'subflow', 'group', 'junction', 'comment']);
    const flow = [];
    const skipped = [];
    for (const file of exampleFiles) {
      const needs = [...new Set(JSON.parse(readFileSync(file, 'utf8')).map((n) => n.type))].filter(
        (type) => typeof type === 'string' && !type.startsWith('subflow:') && !core.has(type) && !registered.has(type),
      );
      if (needs.length > 0) {
        skipped.push(`${file.slice(join(moduleDir, 'examples').length + 1)} (needs ${needs.slice(0, 3).join(', ')}…, not installed here)`);
        continue;
      }
      const tab = `tab-${file.slice(join(moduleDir, 'examples').length + 1)}`;
      flow.push({ id: tab, type: 'tab', label: tab });
      for (const node of JSON.parse(readFileSync(file, 'utf8'))) {
        if (flow.some((n) => n.id === node.id)) continue;
        const n = { ...node };
        if (n.type === 'comfyui-server') n.url = sim.url;
        if (n.type === 'mqtt-broker') Object.assign(n, { broker: HOST, port: String(await freePort()), autoConnect: false });
        if ('wires' in n || 'x' in n) n.z = tab;
        flow.push(n);
      }
    }
    const startedBefore = log.split('Started flows').length;
    const deployed = await api('POST', '/flows', { body: flow, headers: { 'Node-RED-Deployment-Type': 'full' } });
    const deployProblems = [];
    if (deployed.status !== 200 && deployed.status !== 204)
      deployProblems.push(`POST /flows: HTTP ${deployed.status} ${deployed.text.slice(0, 200)}`);
    // The deploy answers before the new flows have started.
    await waitFor(() => log.split('Started flows').length > startedBefore, 'the deployed flows to start', 20000).catch((err) =>
      deployProblems.push(err.message),
    );
    const running = (await api('GET', '/flows')).json();
    const runningIds = new Set((Array.isArray(running) ? running : running.flows).map((n) => n.id));
    const lost = flow.filter((n) => !runningIds.has(n.id)).map((n) => n.id);
    if (lost.length > 0) deployProblems.push(`not in the deployed flows: ${lost.join(', ')}`);
    // text-to-image: inject → submit → images. The simulator sees the prompt and the download.
    const t2i = JSON.parse(readFileSync(join(moduleDir, 'examples', 'text-to-image.json'), 'utf8'));
    const inject = t2i.find((n) => n.type === 'inject');
    const before = sim.requestLog.length;
    const injected = await api('POST', `/inject/${inject.id}`);
    if (injected.status !== 200) deployProblems.push(`POST /inject/${inject.id}: HTTP ${injected.status}`);
    try {
      await waitFor(
        () => {
          const since = sim.requestLog.slice(before);
          return (
            since.some((r) => r.method === 'POST' && r.url === '/prompt') &&
            since.some((r) => r.method === 'GET' && r.url.startsWith('/view?'))
          );
        },
        'text-to-image to submit a prompt and download its image',
        20000,
      );
    } catch (err) {
      deployProblems.push(
        `${err.message}; requests seen: ${sim.requestLog
          .slice(before)
          .map((r) => `${r.method} ${r.url}`)
          .join(', ')}`,
      );
    }
    checkList(
      'examples deploy and run',
      deployProblems,
      `${exampleFiles.length - skipped.length} examples deployed (${flow.length} nodes)${skipped.length > 0 ? `, left out: ${skipped.join('; ')}` : ''}; text-to-image → POST /prompt → GET /view against the simulator`,
    );
    await new Promise((r) => setTimeout(r, 300));
  } catch (err) {
    console.log(`Node-RED log (last 40 lines):\n${log.split('\n').slice(-40).join('\n')}`);
    throw err;
  } finally {
    if (!exited) {
      child.kill('SIGINT');
      await waitFor(() => exited, 'Node-RED to stop', 15000).catch(() => child.kill('SIGKILL'));
    }
    await sim.close();
    await new Promise((r) => logStream.end(r));
  }

  // The log: nothing at warn or error level about our module or its types.
  const lines = log.split('\n');
  const loud = lines.filter((l) => /\[(warn|error)\]/.test(l));
  const mentionsUs = (l) => l.includes(moduleName) || types.some((t) => l.includes(t)) || /comfyui/i.test(l);
  const ourLines = loud.filter(mentionsUs);
  // Warnings without a module name that still concern loading nodes ("Missing node modules:", "[…] Type already registered").
  const loadLines = loud.filter((l) => !mentionsUs(l) && /missing|already registered|Waiting for missing types|Failed to/i.test(l));
  checkList(
    'log',
    [...ourLines, ...loadLines].map((l) => l.trim()),
    `no warning or error about ${moduleName} (${loud.length} warn/error lines in all)`,
  );
  for (const l of loud.filter((x) => !ourLines.includes(x) && !loadLines.includes(x))) console.log(`INFO other log line: ${l.trim()}`);
  const started = lines.find((l) => /Node-RED version/.test(l));
  if (started) console.log(`INFO ${started.trim()}`);
}

async function main() {
  const [command, ...rest] = process.argv.slice(2);
  if (command === 'contents' && rest.length === 1) contents(rest[0]);
  else if (command === 'runtime' && rest.length === 2) await runtime(resolve(rest[0]), resolve(rest[1]));
  else throw new Error('usage: pack-check.js contents <pack.json> | runtime <userDir> <red.js>');
  console.log(`pack-check ${command}: ${failures === 0 ? 'ok' : `${failures} failed`}`);
  process.exitCode = failures === 0 ? 0 : 1;
}

main().catch((err) => {
  console.error(`pack-check: ${err.stack ?? err}`);
  process.exitCode = 1;
});
