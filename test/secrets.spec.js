'use strict';
// Secrets stay secret in a real Node-RED with adminAuth on: the admin routes need a token, the
// exported flows hold no secret, and ${ENV_VAR} works inside credentials.
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const { join } = require('node:path');
const { request } = require('undici');
const { startSimulator } = require('../dist/simulator');
const { startFront } = require('./front');

const TOKEN = 'env-bearer-7f3a9c';
const EXTRA = 'extra-header-51d0';
const API_KEY = 'comfy-org-key-88e2';

describe('secrets and permissions in a Node-RED with adminAuth', function () {
  this.timeout(30000);
  let sim;
  let front;
  let child;
  let base;
  let output = '';

  before(async function () {
    sim = await startSimulator();
    front = await startFront({ target: sim.url, auth: { type: 'bearer', token: TOKEN } });
    child = spawn(process.execPath, [join(__dirname, 'fixtures', 'secured-runtime.js')], {
      env: { ...process.env, FRONT_URL: front.url, COMFY_TOKEN: TOKEN, EXTRA_SECRET: EXTRA, API_KEY },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const started = Date.now();
    while (!/READY (\S+)/.test(output)) {
      if (child.exitCode !== null || Date.now() - started > 20000) throw new Error(`the runtime did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    base = /READY (\S+)/.exec(output)[1];
  });

  after(async function () {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    await front?.close();
    await sim?.close();
  });

  async function token() {
    const res = await request(`${base}auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        client_id: 'node-red-admin',
        grant_type: 'password',
        scope: '*',
        username: 'admin',
        password: 'admin-password',
      }),
    });
    assert.equal(res.statusCode, 200);
    return (await res.body.json()).access_token;
  }

  it('refuses the editor routes without a token (401)', async function () {
    for (const [method, path] of [
      ['GET', 'comfyui/servers/srv/test'],
      ['GET', 'comfyui/servers/srv/models'],
      ['POST', 'comfyui/test'],
    ]) {
      const res = await request(`${base}${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: method === 'POST' ? '{}' : undefined,
      });
      await res.body.dump();
      assert.equal(res.statusCode, 401, `${method} ${path}`);
    }
  });

  it('answers them with a token, reaching ComfyUI with the credential taken from ${COMFY_TOKEN}', async function () {
    const res = await request(`${base}comfyui/servers/srv/test`, { headers: { authorization: `Bearer ${await token()}` } });
    const body = await res.body.json();
    assert.equal(res.statusCode, 200);
    assert.equal(body.ok, true, JSON.stringify(body));
    assert.ok(
      front.log.some((r) => r.authorized && r.headers['x-extra'] === EXTRA),
      'the extra header reached the front',
    );
    for (const secret of [TOKEN, EXTRA, API_KEY]) assert.ok(!JSON.stringify(body).includes(secret));
  });

  it('exports flows (GET /flows) without any secret in them', async function () {
    const res = await request(`${base}flows`, { headers: { authorization: `Bearer ${await token()}`, 'Node-RED-API-Version': 'v2' } });
    const text = await res.body.text();
    assert.equal(res.statusCode, 200);
    assert.match(text, /comfyui-server/);
    for (const secret of [TOKEN, EXTRA, API_KEY, '${COMFY_TOKEN}']) assert.ok(!text.includes(secret), `${secret} is in the export`);
    assert.ok(!output.includes(TOKEN) && !output.includes(EXTRA) && !output.includes(API_KEY), 'no secret in the log');
  });
});
