'use strict';
// Boots exactly what `npm start` runs, on free ports, then clicks the example's inject node
// through the admin API and watches the debug sidebar's feed for the PNG.
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } = require('node:fs');
const net = require('node:net');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { request } = require('undici');
const WebSocket = require('ws');
const { exampleFlow, exampleServer, prepareFlows } = require('../dist/start/app');

const MAIN = join(__dirname, '..', 'dist', 'start', 'main.js');

describe('npm start: Node-RED with the example flow against the simulator', function () {
  this.timeout(60000);
  let child;
  let userDir;
  let output = '';

  before(async function () {
    userDir = mkdtempSync(join(tmpdir(), 'comfyui-start-'));
    const env = { ...process.env, PORT: '0', NODE_RED_USER_DIR: userDir };
    delete env.COMFYUI_URL;
    child = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
  });

  after(async function () {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(userDir, { recursive: true, force: true });
  });

  async function editorUrl() {
    const started = Date.now();
    for (;;) {
      const match = /Open the editor: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(output);
      if (match) return match[1];
      if (child.exitCode !== null) throw new Error(`npm start exited early:\n${output}`);
      if (Date.now() - started > 40000) throw new Error(`no editor URL printed:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  it('prints the editor URL, deploys the example, and a click on inject puts a PNG in the debug sidebar', async function () {
    const base = await editorUrl();
    assert.match(output, /bundled ComfyUI simulator at http:\/\/127\.0\.0\.1:\d+/);

    const flows = await (await request(`${base}flows`, { headers: { 'Node-RED-API-Version': 'v2' } })).body.json();
    const types = flows.flows.map((n) => n.type);
    for (const type of ['comfyui-server', 'comfyui-submit', 'comfyui-images', 'inject', 'debug']) assert.ok(types.includes(type), type);
    const inject = flows.flows.find((n) => n.type === 'inject');

    const comms = new WebSocket(`${base.replace('http', 'ws')}comms`);
    await new Promise((resolve, reject) => {
      comms.once('open', resolve);
      comms.once('error', reject);
    });
    const debugMessage = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no debug message:\n${output}`)), 30000);
      comms.on('message', (data) => {
        for (const event of [].concat(JSON.parse(String(data)))) {
          if (event.topic === 'debug' && /^buffer\[\d+\]/.test(event.data.format || '')) {
            clearTimeout(timer);
            resolve(event.data);
          } else if (event.topic === 'debug' && event.data.level === 20) {
            clearTimeout(timer);
            reject(new Error(`the flow reported an error: ${event.data.msg}`));
          }
        }
      });
    });
    comms.send(JSON.stringify({ subscribe: 'debug' }));
    await new Promise((resolve) => setTimeout(resolve, 200));

    const clicked = await request(`${base}inject/${inject.id}`, { method: 'POST' });
    assert.equal(clicked.statusCode, 200);
    const shown = await debugMessage;
    comms.close();
    assert.match(shown.msg, /^89504e470d0a1a0a/, 'the debug sidebar shows PNG bytes');
    const size = Number(/^buffer\[(\d+)\]/.exec(shown.format)[1]);
    assert.ok(size > 100, `a real image, ${size} bytes`);
  });
});

describe('npm start: COMFYUI_EXAMPLE=dashboard', function () {
  this.timeout(60000);
  let child;
  let userDir;
  let output = '';

  before(function () {
    userDir = mkdtempSync(join(tmpdir(), 'comfyui-start-dashboard-'));
    const env = { ...process.env, PORT: '0', NODE_RED_USER_DIR: userDir, COMFYUI_EXAMPLE: 'dashboard' };
    delete env.COMFYUI_URL;
    delete env.HOST;
    child = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
  });

  after(async function () {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(userDir, { recursive: true, force: true });
  });

  it('deploys the dashboard example without errors and serves its page at the printed URL', async function () {
    for (;;) {
      if (/Open the dashboard: http:\/\/127\.0\.0\.1:\d+\/dashboard\/comfyui\n/.test(output) && /Started flows/.test(output)) break;
      if (child.exitCode !== null) throw new Error(`npm start exited early:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const url = /Open the dashboard: (\S+)/.exec(output)[1];
    const base = /Open the editor: (\S+)/.exec(output)[1];
    assert.equal(url, `${base}dashboard/comfyui`);
    const page = await request(url);
    assert.equal(page.statusCode, 200);
    assert.match(await page.body.text(), /<div id="app"><\/div>/);
    const flows = await (await request(`${base}flows`, { headers: { 'Node-RED-API-Version': 'v2' } })).body.json();
    const ids = flows.flows.map((n) => n.id).sort();
    assert.deepEqual(
      ids,
      exampleFlow('dashboard')
        .map((n) => n.id)
        .sort(),
    );
    // Node-RED's own start-up warnings (projects off, unencrypted credentials) are not about the flow;
    // a node's warning reads "[warn] [type:name]".
    assert.doesNotMatch(output, /\[error\]|\[warn\] \[|missing types/i, output);
  });
});

describe('npm start: a failed start', function () {
  this.timeout(60000);
  let scratch;
  let blocker;

  beforeEach(() => {
    scratch = mkdtempSync(join(tmpdir(), 'comfyui-start-failed-'));
  });
  afterEach(async () => {
    if (blocker) await new Promise((resolve) => blocker.close(resolve));
    blocker = undefined;
    rmSync(scratch, { recursive: true, force: true });
  });

  /** Runs `npm start`'s main.js to its end with `env` over ours; its temporary folders go into scratch/tmp. */
  async function run(env) {
    const tmp = join(scratch, 'tmp');
    require('node:fs').mkdirSync(tmp);
    const childEnv = { ...process.env, NODE_RED_USER_DIR: join(scratch, 'user'), TMPDIR: tmp, ...env };
    delete childEnv.COMFYUI_URL;
    delete childEnv.HOST;
    const child = spawn(process.execPath, [MAIN], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    return { code, output, leftInTmp: readdirSync(tmp) };
  }

  it('on a taken editor port says so, suggests PORT=, exits 1 and leaves no simulator folder behind', async function () {
    blocker = net.createServer();
    await new Promise((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address();
    const { code, output, leftInTmp } = await run({ PORT: String(port) });
    assert.equal(code, 1, output);
    assert.match(output, new RegExp(`Could not start: .*EADDRINUSE.*\\n.*Port ${port} is already in use.*PORT=${port + 1} npm start`));
    assert.deepEqual(leftInTmp, [], "the simulator's temporary folder is gone");
  });

  it('with a COMFYUI_EXAMPLE that is no example names the ones there are, before starting anything', async function () {
    const { code, output, leftInTmp } = await run({ COMFYUI_EXAMPLE: '../package' });
    assert.equal(code, 1, output);
    assert.match(output, /Could not start: There is no example "\.\.\/package"; choose one of: .*\bdashboard\b.*\btext-to-image\b/);
    assert.deepEqual(leftInTmp, []);
  });

  it('with a PORT that is no port number says so before starting anything', async function () {
    const { code, output, leftInTmp } = await run({ PORT: 'http' });
    assert.equal(code, 1, output);
    assert.match(output, /Could not start: PORT must be a port number \(0 to 65535\), not "http"/);
    assert.deepEqual(leftInTmp, []);
  });
});

describe('npm start: the flows it prepares', function () {
  let userDir;
  const flowFile = () => join(userDir, 'flows.json');
  const flows = () => JSON.parse(readFileSync(flowFile(), 'utf8'));

  beforeEach(() => {
    userDir = mkdtempSync(join(tmpdir(), 'comfyui-start-flows-'));
  });
  afterEach(() => rmSync(userDir, { recursive: true, force: true }));

  it('writes the example flow into a new user directory, its server configuration at ${COMFYUI_URL}', function () {
    prepareFlows({ port: 0, userDir });
    assert.deepEqual(flows(), exampleFlow());
    assert.equal(flows().filter((n) => n.type === 'comfyui-server').length, 1);
    assert.equal(exampleServer().url, '${COMFYUI_URL}');
  });

  it("adds the examples' server configuration to flows that lack it (so imported examples join it), and nothing else", function () {
    const own = [
      { id: 'mine', type: 'tab', label: 'mine' },
      { id: 'other', type: 'comfyui-server', name: 'elsewhere', url: 'http://127.0.0.1:9999' },
    ];
    writeFileSync(flowFile(), JSON.stringify(own));
    prepareFlows({ port: 0, userDir });
    assert.deepEqual(flows(), [...own, exampleServer()]);
    prepareFlows({ port: 0, userDir });
    assert.deepEqual(flows(), [...own, exampleServer()], 'added once');
  });

  it('writes the example asked for (its own tab, Dashboard 2 configuration nodes off the tab) into a new user directory', function () {
    prepareFlows({ port: 0, userDir, example: 'dashboard' });
    const written = flows();
    assert.deepEqual(written, exampleFlow('dashboard'));
    assert.deepEqual(written[0], { id: 'comfyui-start-dashboard', type: 'tab', label: 'ComfyUI: dashboard', disabled: false, info: '' });
    assert.deepEqual(
      written.filter((n) => n.type === 'ui-base' || n.type === 'ui-page' || n.type === 'ui-group').map((n) => n.z),
      Array(8).fill(undefined),
    );
    assert.ok(written.filter((n) => 'x' in n).every((n) => n.z === 'comfyui-start-dashboard'));
    assert.deepEqual(
      written.filter((n) => n.type === 'comfyui-server'),
      [exampleServer()],
    );
  });

  it('adds an example asked for to flows that lack its tab, once, keeping their own nodes where ids meet', function () {
    const own = [...exampleFlow(), { id: 'dash-prompt', type: 'comment', name: 'mine', x: 1, y: 1, z: 'comfyui-start-tab', wires: [] }];
    writeFileSync(flowFile(), JSON.stringify(own));
    prepareFlows({ port: 0, userDir, example: 'dashboard' });
    const ids = new Set(own.map((n) => n.id));
    assert.deepEqual(flows(), [...own, ...exampleFlow('dashboard').filter((n) => !ids.has(n.id))]);
    assert.equal(flows().filter((n) => n.id === 'dash-prompt')[0].name, 'mine');
    prepareFlows({ port: 0, userDir, example: 'dashboard' });
    assert.equal(
      flows().length,
      own.length + exampleFlow('dashboard').length - 2,
      'added once (the shared server and dash-prompt were there)',
    );
  });

  it('keeps flows that hold it (edited), and leaves a file it cannot read alone', function () {
    const own = [{ ...exampleServer(), url: 'http://192.168.1.20:8188' }];
    writeFileSync(flowFile(), JSON.stringify(own));
    prepareFlows({ port: 0, userDir });
    assert.deepEqual(flows(), own);
    writeFileSync(flowFile(), '[{"id": ');
    prepareFlows({ port: 0, userDir });
    assert.equal(readFileSync(flowFile(), 'utf8'), '[{"id": ');
  });
});
