'use strict';
// Package-wide consistency: every declared node has its editor file, help and catalogs in both
// languages, every catalog key the code uses exists, and every example deploys (and the ones
// that can run against the simulator do run).
const assert = require('node:assert/strict');
const { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { dirname, join } = require('node:path');
const net = require('node:net');
const http = require('node:http');
const {
  helper,
  startSimulator,
  allNodes,
  packageJson,
  collectMessages,
  nextMessage,
  nextError,
  isPng,
  pngSize,
  makePng,
  waitFor,
  lastStatus,
} = require('./support');

const root = join(__dirname, '..');
const declared = packageJson['node-red'].nodes;
const types = Object.keys(declared);
const LANGS = ['en-US', 'ko'];
const read = (...parts) => readFileSync(join(root, ...parts), 'utf8');
// The editor file as Node-RED serves it: composed by the build from nodes/<type>.html (src/tools/editor-file.ts).
const editorFile = (type) => join(root, 'dist', 'nodes', `${type}.html`);
const catalogFile = (lang, type) => join(root, 'nodes', 'locales', lang, `${type}.json`);
const helpFile = (lang, type) => join(root, 'nodes', 'locales', lang, `${type}.html`);
const catalog = (lang, type) => JSON.parse(readFileSync(catalogFile(lang, type), 'utf8'));
const nodeRedCatalog = require('@node-red/nodes/locales/en-US/messages.json');

function lookup(object, path) {
  return path.split('.').reduce((value, key) => (value !== null && typeof value === 'object' ? value[key] : undefined), object);
}

/** Every leaf path of a catalog, e.g. `comfyui-x.status.done`. */
function leafKeys(object, prefix = '') {
  return Object.entries(object).flatMap(([key, value]) =>
    value !== null && typeof value === 'object' ? leafKeys(value, `${prefix}${key}.`) : [`${prefix}${key}`],
  );
}

/** A catalog key as the editor or runtime uses it: `[attr]ns:path` → {namespace, path}. */
function parseKey(raw) {
  const key = raw.replace(/^\[[^\]]+\]/, '');
  const colon = key.indexOf(':');
  return colon === -1 ? { namespace: undefined, path: key } : { namespace: key.slice(0, colon), path: key.slice(colon + 1) };
}

/** Checks one key in both catalogs of the type its path starts with; returns the problems. */
function checkKey(path, where, { prefixOnly = false } = {}) {
  const type = path.split('.')[0];
  if (!types.includes(type)) return [`${where}: "${path}" belongs to no declared node type`];
  const problems = [];
  for (const lang of LANGS) {
    if (!existsSync(catalogFile(lang, type))) {
      problems.push(`${where}: "${path}" needs ${lang}/${type}.json, which is missing`);
      continue;
    }
    const value = lookup(catalog(lang, type), path);
    if (prefixOnly ? value === undefined : typeof value !== 'string')
      problems.push(`${where}: "${path}" is missing in ${lang}/${type}.json`);
  }
  return problems;
}

function isConfigType(type) {
  return existsSync(editorFile(type)) && /category:\s*['"]config['"]/.test(readFileSync(editorFile(type), 'utf8'));
}

/** Core node types → the module file that registers them, read from the core editor files. */
const coreModules = (() => {
  const base = join(dirname(require.resolve('@node-red/nodes/package.json')), 'core');
  const map = new Map();
  for (const group of readdirSync(base)) {
    const dir = join(base, group);
    if (!existsSync(dir) || group === 'lib') continue;
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.html'))) {
      const js = join(dir, file.replace(/\.html$/, '.js'));
      if (!existsSync(js)) continue;
      for (const [, type] of readFileSync(join(dir, file), 'utf8').matchAll(/registerType\(\s*['"]([^'"]+)['"]/g)) map.set(type, js);
    }
  }
  return map;
})();

/** FlowFuse Dashboard 2's node types: an example may use them when its comment says it needs that package. */
const dashboardTypes = new Set(Object.keys(require('@flowfuse/node-red-dashboard/package.json')['node-red'].nodes));
const DASHBOARD_PACKAGE = '@flowfuse/node-red-dashboard';
const needsDashboard = (nodes) => nodes.some((n) => dashboardTypes.has(n.type));

const exampleDir = join(root, 'examples');
const exampleFiles = readdirSync(exampleDir)
  .filter((f) => f.endsWith('.json'))
  .sort();
const loadExample = (file) => JSON.parse(readFileSync(join(exampleDir, file), 'utf8'));

/** A 127.0.0.1 port nothing listens on. */
async function closedPort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('package consistency', function () {
  describe('editor files, help and catalogs', function () {
    for (const type of types) {
      describe(type, function () {
        it(`has a compiled module at ${declared[type]} and its source at src/nodes/${type}.ts`, function () {
          assert.ok(existsSync(join(root, 'src', 'nodes', `${type}.ts`)), `src/nodes/${type}.ts is missing`);
          assert.equal(declared[type], `dist/nodes/${type}.js`);
          assert.ok(existsSync(join(root, declared[type])), `${declared[type]} is missing (run the build)`);
        });

        it(`has nodes/${type}.html calling RED.nodes.registerType('${type}' exactly once, with its template (as the build composes it)`, function () {
          assert.ok(existsSync(editorFile(type)), `nodes/${type}.html is missing`);
          const html = readFileSync(editorFile(type), 'utf8');
          assert.equal(
            html.split(`RED.nodes.registerType('${type}'`).length - 1,
            1,
            `RED.nodes.registerType('${type}' must appear exactly once`,
          );
          assert.equal((html.match(/registerType\(/g) ?? []).length, 1, 'one registerType call per editor file');
          assert.equal((html.match(/<script type="text\/javascript">/g) ?? []).length, 1, 'exactly one editor script');
          assert.ok(html.includes(`data-template-name="${type}"`), `a data-template-name="${type}" template`);
          if (!isConfigType(type)) {
            assert.match(html, /category:\s*'ComfyUI'/);
            assert.match(html, /color:\s*'#E6E0F8'/);
            assert.ok(html.includes(`icon: '${type}.svg'`), `icon: '${type}.svg'`);
            assert.ok(existsSync(join(root, 'icons', `${type}.svg`)), `icons/${type}.svg is missing`);
          }
          const ns = /var NS = "([^"]+)"/.exec(html);
          if (ns) assert.equal(ns[1], `${packageJson.name}/${type}:`, 'the editor namespace is <package>/<type>:');
        });

        it('has en-US and ko catalogs with the same keys', function () {
          for (const lang of LANGS) assert.ok(existsSync(catalogFile(lang, type)), `nodes/locales/${lang}/${type}.json is missing`);
          const [en, ko] = LANGS.map((lang) => catalog(lang, type));
          assert.deepEqual(Object.keys(en), [type], `en-US/${type}.json has one top-level key, "${type}"`);
          assert.deepEqual(Object.keys(ko), [type], `ko/${type}.json has one top-level key, "${type}"`);
          const enKeys = leafKeys(en).sort();
          const koKeys = leafKeys(ko).sort();
          assert.deepEqual(
            { onlyInEnUS: enKeys.filter((k) => !koKeys.includes(k)), onlyInKo: koKeys.filter((k) => !enKeys.includes(k)) },
            { onlyInEnUS: [], onlyInKo: [] },
          );
          for (const key of koKeys) assert.equal(typeof lookup(ko, key), 'string', `ko ${key} is text`);
        });

        it('has en-US and ko help with data-help-name, a tooltip paragraph and the standard sections', function () {
          for (const lang of LANGS) {
            assert.ok(existsSync(helpFile(lang, type)), `nodes/locales/${lang}/${type}.html is missing`);
            const help = readFileSync(helpFile(lang, type), 'utf8');
            assert.equal(help.split(`data-help-name="${type}"`).length - 1, 1, `${lang}: exactly one data-help-name="${type}"`);
            assert.match(help, /^<script type="text\/html" data-help-name="[^"]+">\s*<p>/, `${lang}: the help starts with the tooltip <p>`);
          }
          const en = readFileSync(helpFile('en-US', type), 'utf8');
          const ko = readFileSync(helpFile('ko', type), 'utf8');
          assert.match(en, /<h3>Details<\/h3>/);
          assert.match(ko, /[\uac00-\ud7a3]/, 'the ko help is in Korean');
          assert.notEqual(ko, en);
          if (!isConfigType(type)) {
            assert.match(en, /<h3>Inputs<\/h3>/);
            assert.match(en, /<h3>Outputs<\/h3>/);
            assert.match(en, /class="message-properties"/);
          }
        });

        it('uses only catalog keys that exist in both catalogs (data-i18n, this._, RED._)', function () {
          const html = readFileSync(editorFile(type), 'utf8');
          const problems = [];
          const keys = [];
          for (const [, attr] of html.matchAll(/data-i18n="([^"]+)"/g)) keys.push(...attr.split(';'));
          for (const [, key] of html.matchAll(/_\(\s*(?:NS\s*\+\s*)?["']([^"']+)["']/g)) keys.push(key);
          // Keys handed to the shared script (SHARED.choiceInput's labels, SHARED.setting's messages) are plain strings of the node's namespace.
          const script = html.split('data-template-name')[0];
          for (const [, key] of script.matchAll(new RegExp(`["'](${type}\\.[A-Za-z0-9_.-]+)["']`, 'g')))
            if (!key.endsWith('.svg') && !script.includes(`, "${key}")`)) keys.push(key); // not a choiceInput's option-key prefix
          // SHARED.choiceInput(node, "field", VALUES[, "option.keys"]) shows <type>.label.<field> and a key per value.
          for (const [, field, list, optionKeys] of script.matchAll(/SHARED\.choiceInput\(\w+, "(\w+)", (\w+)(?:, "([^"]+)")?\)/g)) {
            const values = JSON.parse(new RegExp(`var ${list} = (\\[[^\\]]*\\]);`).exec(script)[1]);
            keys.push(`${type}.label.${field}`);
            for (const value of values)
              keys.push(optionKeys ? `${optionKeys}.${value}` : `${type}.label.${field}${value[0].toUpperCase()}${value.slice(1)}`);
          }
          assert.ok(keys.length > 0, 'the editor uses catalog keys');
          for (const raw of keys) {
            const { namespace, path } = parseKey(raw);
            if (namespace === 'node-red') {
              if (typeof lookup(nodeRedCatalog, path) !== 'string') problems.push(`node-red:${path} is not in Node-RED's catalog`);
              continue;
            }
            // A key built at run time (NS + "x.errors." + name) is checked up to its last complete part.
            if (path.endsWith('.')) problems.push(...checkKey(path.slice(0, -1), `nodes/${type}.html`, { prefixOnly: true }));
            else problems.push(...checkKey(path, `nodes/${type}.html`));
          }
          assert.deepEqual(problems, []);
        });
      });
    }

    it('every status and message key used in src/nodes exists in the en-US and ko catalogs', function () {
      const sources = readdirSync(join(root, 'src', 'nodes')).filter((f) => f.endsWith('.ts'));
      const statusTs = read('src', 'nodes', 'status.ts');
      const serverCatalog = /SERVER_CATALOG = '([^']+)'/.exec(statusTs)?.[1];
      assert.equal(serverCatalog, `${packageJson.name}/comfyui-server:comfyui-server`, "SERVER_CATALOG names the config node's namespace");
      const problems = [];
      const used = new Set();
      for (const file of sources) {
        const code = read('src', 'nodes', file);
        for (const [, path, dynamic] of code.matchAll(
          /['"`](comfyui-[a-z]+(?:-[a-z]+)*\.[a-zA-Z_-]+(?:\.[a-zA-Z_-]+)*)(\.\$\{[^}]+\})?['"`]/g,
        )) {
          if (!dynamic && !path.includes('.', path.indexOf('.') + 1)) continue; // `comfyui-x.js` and the like
          used.add(path);
          problems.push(...checkKey(path, `src/nodes/${file}`, { prefixOnly: Boolean(dynamic) }));
        }
        for (const [, rest] of code.matchAll(/\$\{SERVER_NS\}\.([a-zA-Z_.-]+)/g)) {
          used.add(`comfyui-server.status.${rest}`);
          problems.push(...checkKey(`comfyui-server.status.${rest}`, `src/nodes/${file}`));
        }
        for (const [, rest] of code.matchAll(/\$\{POOL_NS\}\.([a-zA-Z_.-]+)/g)) {
          used.add(`comfyui-pool.status.${rest}`);
          problems.push(...checkKey(`comfyui-pool.status.${rest}`, `src/nodes/${file}`));
        }
        for (const [, rest] of code.matchAll(/\$\{POOL_CATALOG\}\.([a-zA-Z_.-]+)/g)) {
          used.add(`comfyui-pool.${rest}`);
          problems.push(...checkKey(`comfyui-pool.${rest}`, `src/nodes/${file}`, { prefixOnly: !rest.includes('.') }));
        }
        for (const [, rest] of code.matchAll(/\$\{SERVER_CATALOG\}\.([a-zA-Z_.-]+)/g)) {
          used.add(`comfyui-server.${rest}`);
          // `${SERVER_CATALOG}.status` alone is a prefix (SERVER_NS), not a text.
          problems.push(...checkKey(`comfyui-server.${rest}`, `src/nodes/${file}`, { prefixOnly: !rest.includes('.') }));
        }
      }
      assert.ok(
        [...used].some((k) => k.includes('.status.')),
        'status keys were found',
      );
      assert.deepEqual(problems, []);
    });
  });

  describe('examples', function () {
    let sim;
    let sim2; // the second server of the pool example, started when an example has one
    let scratch;

    before(() => helper.startServer());
    after(() => helper.stopServer());
    beforeEach(async () => {
      sim = await startSimulator({ testControls: true, stepMs: 1 });
      scratch = mkdtempSync(join(tmpdir(), 'comfyui-examples-'));
    });
    afterEach(async () => {
      await helper.unload();
      await sim.close();
      await sim2?.close();
      sim2 = undefined;
      rmSync(scratch, { recursive: true, force: true });
    });

    it('every palette node the package declares appears in some example', function () {
      const used = new Set(exampleFiles.flatMap((file) => loadExample(file).map((n) => n.type)));
      const missing = types.filter((type) => !isConfigType(type) && !used.has(type));
      assert.deepEqual(missing, [], `no example uses: ${missing.join(', ')}`);
    });

    it('examples are importable: arrays with a comment, unique prefixed ids, no tab or z, only core and our nodes, servers at 127.0.0.1:8188', function () {
      const seen = new Map();
      const problems = [];
      for (const file of exampleFiles) {
        const nodes = loadExample(file);
        if (!Array.isArray(nodes)) {
          problems.push(`${file}: not a top-level array`);
          continue;
        }
        if (!nodes.some((n) => n.type === 'comment' && n.info)) problems.push(`${file}: no comment node explaining it`);
        if (needsDashboard(nodes) && !nodes.some((n) => n.type === 'comment' && n.info.includes(DASHBOARD_PACKAGE)))
          problems.push(`${file}: uses Dashboard 2 widgets but its comment does not say it needs ${DASHBOARD_PACKAGE}`);
        const prefix = nodes[0]?.id?.split('-')[0];
        for (const n of nodes) {
          if (n.type === 'comfyui-server') continue; // shared by every example: the next test
          if (seen.has(n.id)) problems.push(`${file}: id ${n.id} is also used in ${seen.get(n.id)}`);
          seen.set(n.id, file);
          if (!n.id.startsWith(`${prefix}-`)) problems.push(`${file}: id ${n.id} does not share the prefix "${prefix}-"`);
          if (n.type === 'tab' || n.type === 'subflow' || 'z' in n) problems.push(`${file}: ${n.id} is a tab or has z`);
          if (!types.includes(n.type) && !coreModules.has(n.type) && !dashboardTypes.has(n.type))
            problems.push(`${file}: ${n.id} has type "${n.type}", neither core nor ours nor Dashboard 2's`);
          for (const port of n.wires ?? []) {
            for (const target of port)
              if (!nodes.some((m) => m.id === target)) problems.push(`${file}: ${n.id} is wired to missing ${target}`);
          }
          if (typeof n.server === 'string' && n.server !== '' && !nodes.some((m) => m.id === n.server && m.type === 'comfyui-server')) {
            problems.push(`${file}: ${n.id} uses server ${n.server}, which is not in the example`);
          }
          if (typeof n.pool === 'string' && n.pool !== '' && !nodes.some((m) => m.id === n.pool && m.type === 'comfyui-pool')) {
            problems.push(`${file}: ${n.id} uses pool ${n.pool}, which is not in the example`);
          }
          for (const [key, id] of Object.entries(n.type === 'comfyui-pool' ? n : {})) {
            if (/^server\d$/.test(key) && id !== '' && !nodes.some((m) => m.id === id && m.type === 'comfyui-server'))
              problems.push(`${file}: pool ${n.id} has ${key} ${id}, which is not in the example`);
          }
        }
      }
      assert.deepEqual(problems, []);
    });

    // Node-RED's import reuses a configuration node whose id exists ("Import copy" in its conflict
    // notification), so one id across the examples means one server configuration, whichever are
    // imported, and `npm start` deploys that node pointed at its ComfyUI. A pool example adds its
    // further members, each its own.
    it('every example holds the same one server configuration (same id, same properties, 127.0.0.1:8188), the one npm start deploys', function () {
      const shared = loadExample('text-to-image.json').find((n) => n.type === 'comfyui-server');
      assert.deepEqual(shared, { id: shared.id, type: 'comfyui-server', name: 'ComfyUI', url: 'http://127.0.0.1:8188', timeout: 30 });
      for (const file of exampleFiles) {
        const nodes = loadExample(file);
        const servers = nodes.filter((n) => n.type === 'comfyui-server');
        assert.deepEqual(
          servers.filter((n) => n.id === shared.id),
          [shared],
          `${file} holds the shared server configuration once`,
        );
        const members = new Set(
          nodes
            .filter((n) => n.type === 'comfyui-pool')
            .flatMap((n) =>
              Object.keys(n)
                .filter((k) => /^server\d$/.test(k))
                .map((k) => n[k]),
            ),
        );
        const prefix = nodes[0].id.split('-')[0];
        for (const other of servers.filter((n) => n.id !== shared.id)) {
          assert.ok(members.has(other.id), `${file}: ${other.id} is a member of a pool of the example`);
          assert.ok(other.id.startsWith(`${prefix}-`), `${file}: ${other.id} has the example's prefix`);
          assert.match(other.url, /^http:\/\/127\.0\.0\.1:\d+$/, `${file}: ${other.id} is on 127.0.0.1`);
        }
      }
      const { exampleServer, exampleFlow } = require('../dist/start/app');
      assert.deepEqual(exampleServer(), { ...shared, url: '${COMFYUI_URL}' });
      assert.deepEqual(
        exampleFlow().filter((n) => n.type === 'comfyui-server'),
        [exampleServer()],
      );
    });

    /**
     * Loads an example as a deployed flow: inside a tab, the shared server pointed at the simulator
     * and any other server (a pool's second member) at a second one, MQTT
     * brokers at a closed local port without connecting. `taps` wires a helper node `tap-<id>`
     * to the outputs of node <id>; `patch` edits nodes before loading.
     */
    async function deploy(file, { taps = [], patch = () => undefined } = {}) {
      const nodes = loadExample(file).map((n) => JSON.parse(JSON.stringify(n)));
      const unknown = nodes.filter((n) => !types.includes(n.type) && !coreModules.has(n.type)).map((n) => n.type);
      assert.deepEqual(unknown, [], `${file} uses types that are neither core nor ours`);
      const unbuilt = [...new Set(nodes.map((n) => n.type).filter((t) => types.includes(t) && !existsSync(join(root, declared[t]))))];
      assert.deepEqual(unbuilt, [], `${file} uses node types whose module does not exist yet`);
      const port = await closedPort();
      const tab = `tab-${file}`;
      const isConfig = (n) => !('wires' in n) && !('x' in n);
      const shared = loadExample('text-to-image.json').find((n) => n.type === 'comfyui-server').id;
      if (nodes.some((n) => n.type === 'comfyui-server' && n.id !== shared)) sim2 = await startSimulator({ testControls: true, stepMs: 1 });
      for (const n of nodes) {
        if (n.type === 'comfyui-server') Object.assign(n, { url: n.id === shared ? sim.url : sim2.url, timeout: 5 });
        if (n.type === 'mqtt-broker') Object.assign(n, { broker: '127.0.0.1', port: String(port), autoConnect: false });
        if (taps.includes(n.id)) n.wires = n.wires.map((port, i) => (i === 0 ? [...port, `tap-${n.id}`] : port));
        patch(n);
      }
      const flow = [
        { id: tab, type: 'tab', label: file },
        ...nodes.map((n) => (isConfig(n) ? n : { ...n, z: tab })),
        ...taps.map((id) => ({ id: `tap-${id}`, type: 'helper', z: tab })),
      ];
      const core = [...new Set(nodes.map((n) => coreModules.get(n.type)).filter(Boolean))].map((f) => require(f));
      await helper.load([...allNodes, ...core], flow);
      const missing = nodes.filter((n) => !helper.getNode(n.id)).map((n) => `${n.id} (${n.type})`);
      assert.deepEqual(missing, [], `${file}: nodes that did not start`);
      return nodes;
    }

    /** Errors the runtime logged (node.error, done(err), config problems). */
    function loggedErrors() {
      const log = helper.log();
      return log
        .getCalls()
        .map((c) => c.args[0])
        .filter((m) => m && m.level <= log.ERROR)
        .map((m) => `${m.type} ${m.id}: ${m.msg}`);
    }

    // The test helper cannot host Dashboard 2 (it has no Node-RED HTTP server of its own): an example
    // with its widgets is deployed by `npm start` instead, in test/start.spec.js and in the browser
    // (test/browser/dashboard.spec.js).
    for (const file of exampleFiles.filter((f) => !needsDashboard(loadExample(f)))) {
      it(`${file} deploys without errors`, async function () {
        await deploy(file);
        await new Promise((resolve) => setTimeout(resolve, 150));
        assert.deepEqual(loggedErrors(), []);
      });
    }

    it('comfyui-info.json answers each of its three injects', async function () {
      await deploy('comfyui-info.json', { taps: ['info-node'] });
      const tap = helper.getNode('tap-info-node');
      for (const [inject, topic] of [
        ['info-inject-stats', 'system_stats'],
        ['info-inject-models', 'models/checkpoints'],
        ['info-inject-class', 'object_info/KSampler'],
      ]) {
        const got = nextMessage(tap);
        helper.getNode(inject).receive({});
        const msg = await got;
        assert.equal(msg.topic, topic);
        assert.ok(msg.payload && typeof msg.payload === 'object');
      }
      assert.deepEqual(loggedErrors(), []);
    });

    it('comfyui-upload.json uploads its data URL and prepares msg.inputs', async function () {
      await deploy('comfyui-upload.json', { taps: ['upload-node'] });
      const got = nextMessage(helper.getNode('tap-upload-node'));
      helper.getNode('upload-inject').receive({});
      const msg = await got;
      assert.deepEqual(msg.payload, { name: 'pixel.png', subfolder: '', type: 'input' });
      assert.deepEqual(msg.inputs, { 'Load Image': { image: 'pixel.png' } });
    });

    it('upload-from-file.json uploads the file named in Files from, and the same bytes once', async function () {
      writeFileSync(join(scratch, 'photo.png'), makePng(6, 5));
      await deploy('upload-from-file.json', {
        taps: ['upfile-upload'],
        patch: (n) => {
          if (n.id === 'upfile-upload') n.filesFrom = scratch;
        },
      });
      const tap = helper.getNode('tap-upfile-upload');
      for (let i = 0; i < 2; i += 1) {
        const got = nextMessage(tap);
        helper.getNode('upfile-inject').receive({});
        const msg = await got;
        assert.deepEqual(msg.payload, { name: 'photo.png', subfolder: '', type: 'input' });
        assert.deepEqual(msg.inputs, { 'Load Image': { image: 'photo.png' } });
      }
      assert.equal(sim.requestLog.filter((r) => r.method === 'POST' && r.url === '/upload/image').length, 1);
      assert.deepEqual(loggedErrors(), []);
    });

    it('upload-from-url.json fetches its URL (here a local one, with private addresses allowed) and refuses loopback as shipped', async function () {
      const png = makePng(7, 3);
      const files = http.createServer((req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(png));
      await new Promise((resolve) => files.listen(0, '127.0.0.1', resolve));
      try {
        const local = `http://127.0.0.1:${files.address().port}/example.png`;
        const nodes = await deploy('upload-from-url.json', { taps: ['upurl-upload'] });
        const shipped = nodes.find((n) => n.id === 'upurl-upload');
        assert.equal(shipped.fetchUrls, true);
        assert.equal(shipped.privateAddresses, false);
        const refused = nextError(helper.getNode('upurl-upload'));
        helper.getNode('upurl-upload').receive({ payload: local });
        assert.equal((await refused).code, 'NOT_ALLOWED');
        await helper.unload();
        await deploy('upload-from-url.json', {
          taps: ['upurl-upload'],
          patch: (n) => {
            if (n.id === 'upurl-upload') n.privateAddresses = true;
            if (n.id === 'upurl-inject') n.payload = local;
          },
        });
        const got = nextMessage(helper.getNode('tap-upurl-upload'));
        helper.getNode('upurl-inject').receive({});
        const msg = await got;
        assert.deepEqual(msg.payload, { name: 'example.png', subfolder: '', type: 'input' });
        assert.deepEqual(msg.inputs, { 'Load Image': { image: 'example.png' } });
      } finally {
        files.closeAllConnections();
        await new Promise((resolve) => files.close(resolve));
      }
    });

    it('img2img.json reads a PNG, uploads it and repaints it at 512×512', async function () {
      const source = join(scratch, 'input.png');
      writeFileSync(source, makePng(40, 30));
      await deploy('img2img.json', {
        taps: ['i2i-images'],
        patch: (n) => {
          if (n.id === 'i2i-file') n.filename = source;
        },
      });
      const got = nextMessage(helper.getNode('tap-i2i-images'), 15000);
      helper.getNode('i2i-inject').receive({});
      const msg = await got;
      assert.ok(isPng(msg.payload));
      assert.deepEqual(pngSize(msg.payload), { width: 512, height: 512 });
      assert.match(msg.filename, /^img2img_\d{5}_\.png$/);
      assert.deepEqual(msg.inputs, { 'Load Image': { image: 'input.png' } });
      assert.deepEqual(loggedErrors(), []);
    });

    it('home-automation.json turns a trigger into a PNG file on disk', async function () {
      await deploy('home-automation.json', {
        taps: ['ha-file'],
        patch: (n) => {
          if (n.id === 'ha-path') n.rules[0].to = n.rules[0].to.replace('"/tmp/comfyui/"', JSON.stringify(`${scratch}/out/`));
        },
      });
      const got = nextMessage(helper.getNode('tap-ha-file'), 15000);
      helper.getNode('ha-inject').receive({});
      const msg = await got;
      assert.equal(msg.filename.startsWith(join(scratch, 'out')), true, msg.filename);
      const written = readFileSync(msg.filename);
      assert.ok(isPng(written), 'the file is a PNG');
      assert.deepEqual(pngSize(written), { width: 512, height: 512 });
      const prompt = sim.requestLog.filter((r) => r.method === 'POST' && r.url === '/prompt');
      assert.equal(prompt.length, 1);
      assert.deepEqual(loggedErrors(), []);
    });

    it('images-to-files.json streams both images of a prompt into a folder per prompt', async function () {
      const dir = join(scratch, 'files');
      await deploy('images-to-files.json', {
        taps: ['files-images'],
        patch: (n) => {
          if (n.id === 'files-images') n.directory = dir;
        },
      });
      const got = collectMessages(helper.getNode('tap-files-images'), 2, 15000);
      helper.getNode('files-inject').receive({});
      const msgs = await got;
      for (const [index, msg] of msgs.entries()) {
        assert.equal(msg.payload, join(dir, msg.prompt_id, `${index}-${msg.image.filename}`));
        assert.match(msg.image.filename, /^to-files_\d{5}_\.png$/);
        const written = readFileSync(msg.payload);
        assert.ok(isPng(written), 'the file is a PNG');
        assert.deepEqual(pngSize(written), { width: 512, height: 512 });
        assert.equal(msg.size, written.length);
      }
      assert.deepEqual(loggedErrors(), []);
    });

    it('rerun-from-file.json saves an image to a file and runs the workflow embedded in it again', async function () {
      const path = join(scratch, 'comfyui-last.png');
      await deploy('rerun-from-file.json', {
        taps: ['rerun-save', 'rerun-images'],
        patch: (n) => {
          if (n.id === 'rerun-save' || n.id === 'rerun-read') n.filename = path;
        },
      });
      const saved = nextMessage(helper.getNode('tap-rerun-save'), 15000);
      helper.getNode('rerun-generate-inject').receive({});
      await saved;
      assert.ok(isPng(readFileSync(path)), 'the file is a PNG');
      const again = nextMessage(helper.getNode('tap-rerun-images'), 15000);
      helper.getNode('rerun-again-inject').receive({});
      const msg = await again;
      assert.ok(isPng(msg.payload));
      assert.match(msg.filename, /^rerun_\d{5}_\.png$/);
      const prompts = sim.requestLog.filter((r) => r.method === 'POST' && r.url === '/prompt').map((r) => JSON.parse(r.body).prompt);
      assert.equal(prompts.length, 2);
      assert.deepEqual(prompts[1], prompts[0], 'the re-run sends the prompt the file carries');
      assert.deepEqual(loggedErrors(), []);
    });

    it('pool.json runs prompts on the servers of its pool (msg.server names the one that ran it) and shows one queue of both', async function () {
      await deploy('pool.json', { taps: ['pool-images', 'pool-queue'] });
      const submit = helper.getNode('pool-submit');
      // Both servers connected: two prompts at once go one to each (the least loaded, ties in turn).
      await waitFor(() => /\.status\.ready$/.test(lastStatus(submit).text ?? ''), 'the pool status "all servers ready"');
      const images = collectMessages(helper.getNode('tap-pool-images'), 2, 15000);
      helper.getNode('pool-inject').receive({});
      helper.getNode('pool-inject').receive({});
      const made = await images;
      const ranOn = (s) => s.requestLog.filter((r) => r.method === 'POST' && r.url === '/prompt').map((r) => JSON.parse(r.body).prompt_id);
      const byName = { ComfyUI: ranOn(sim), 'ComfyUI 2': ranOn(sim2) };
      assert.deepEqual([byName.ComfyUI.length, byName['ComfyUI 2'].length], [1, 1], 'one prompt on each server');
      for (const msg of made) {
        assert.ok(isPng(msg.payload));
        assert.deepEqual(byName[msg.server], [msg.prompt_id], `msg.server "${msg.server}" is the server that ran ${msg.prompt_id}`);
      }
      const queue = nextMessage(helper.getNode('tap-pool-queue'));
      helper.getNode('pool-queue-inject').receive({});
      const { payload } = await queue;
      assert.deepEqual([payload.running, payload.pending, payload.unreachable], [[], [], []]);
      assert.deepEqual(loggedErrors(), []);
    });

    it('queue-eta.json tells the places of three queued prompts, then their queue wait and run time', async function () {
      await deploy('queue-eta.json', { taps: ['eta-describe', 'eta-timing'] });
      sim.faults.pauseWorker();
      const places = collectMessages(helper.getNode('tap-eta-describe'), 3, 15000);
      helper.getNode('eta-inject').receive({ payload: [1, 2, 3] });
      // Each prompt's first place, nothing running yet; no run of the workflow here yet, so no ETA.
      assert.deepEqual((await places).map((m) => m.payload).sort(), ['#1, 0 ahead', '#2, 1 ahead', '#3, 2 ahead']);
      const timings = collectMessages(helper.getNode('tap-eta-timing'), 3, 15000);
      sim.faults.resumeWorker();
      for (const { payload } of await timings) {
        assert.deepEqual(Object.keys(payload).sort(), ['queued_ms', 'running_ms', 'total_ms']);
        assert.ok(payload.queued_ms + payload.running_ms <= payload.total_ms, JSON.stringify(payload));
      }
      assert.deepEqual(loggedErrors(), []);
    });

    it('output-kinds.json delivers WebSocket images from memory, an animated WebP, audio and a text, each to its kind', async function () {
      await deploy('output-kinds.json', { taps: ['kinds-images'] });
      const got = collectMessages(helper.getNode('tap-kinds-images'), 7, 15000);
      helper.getNode('kinds-inject').receive({});
      const msgs = await got;
      const kinds = msgs.map((m) => `${m.kind} ${m.contentType}`).sort();
      assert.deepEqual(kinds, [
        'animated image/webp',
        'audio audio/flac',
        'image image/png',
        'image image/png',
        'image image/png',
        'image image/png',
        'text text/plain; charset=utf-8',
      ]);
      assert.equal(msgs.find((m) => m.kind === 'text').payload, 'made in Node-RED');
      assert.ok(msgs.filter((m) => m.kind === 'image').every((m) => m.image.source === 'websocket' && isPng(m.payload)));
    });

    it('text-to-image.json produces an image', async function () {
      await deploy('text-to-image.json', { taps: ['t2i-images'] });
      const got = collectMessages(helper.getNode('tap-t2i-images'), 1, 15000);
      helper.getNode('t2i-inject').receive({});
      const [msg] = await got;
      assert.ok(isPng(msg.payload));
    });
  });
});
