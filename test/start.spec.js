'use strict';
// Boots exactly what `npm start` runs, on free ports, then clicks the example's inject node
// through the admin API and watches the debug sidebar's feed for the PNG.
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const { mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { request } = require('undici');
const WebSocket = require('ws');

describe('npm start: Node-RED with the example flow against the simulator', function () {
  this.timeout(60000);
  let child;
  let userDir;
  let output = '';

  before(async function () {
    userDir = mkdtempSync(join(tmpdir(), 'comfyui-start-'));
    const env = { ...process.env, PORT: '0', NODE_RED_USER_DIR: userDir };
    delete env.COMFYUI_URL;
    child = spawn(process.execPath, [join(__dirname, '..', 'dist', 'start', 'main.js')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
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
