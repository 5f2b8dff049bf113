'use strict';
// Secrets stay secret in a real Node-RED with adminAuth on: the admin routes need a token, the
// exported flows hold no secret, ${ENV_VAR} works inside credentials, Test connection lends a
// stored secret to the deployed URL only and takes JSON only (Node-RED also parses form bodies),
// and a password in a server URL never reaches the log.
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const { join } = require('node:path');
const { request } = require('undici');
const { startSimulator } = require('../dist/simulator');
const { startFront } = require('./front');

const TOKEN = 'env-bearer-7f3a9c';
const EXTRA = 'extra-header-51d0';
const API_KEY = 'comfy-org-key-88e2';
const URL_PASSWORD = 'url-password-3d6a';

describe('secrets and permissions in a Node-RED with adminAuth', function () {
  this.timeout(30000);
  let sim;
  let front;
  /** Another listener on 127.0.0.1, where no stored secret may arrive. */
  let foreign;
  let child;
  let base;
  let output = '';

  before(async function () {
    sim = await startSimulator();
    front = await startFront({ target: sim.url, auth: { type: 'bearer', token: TOKEN } });
    foreign = await startFront({ target: sim.url });
    child = spawn(process.execPath, [join(__dirname, 'fixtures', 'secured-runtime.js')], {
      env: { ...process.env, FRONT_URL: front.url, COMFY_TOKEN: TOKEN, EXTRA_SECRET: EXTRA, API_KEY, URL_PASSWORD },
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
    await foreign?.close();
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
      ['POST', 'comfyui/servers/srv/test'],
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
    const res = await request(`${base}comfyui/servers/srv/test`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await token()}`, 'content-type': 'application/json' },
      body: '{}',
    });
    const body = await res.body.json();
    assert.equal(res.statusCode, 200);
    assert.equal(body.ok, true, JSON.stringify(body));
    assert.ok(
      front.log.some((r) => r.authorized && r.headers['x-extra'] === EXTRA),
      'the extra header reached the front',
    );
    for (const secret of [TOKEN, EXTRA, API_KEY]) assert.ok(!JSON.stringify(body).includes(secret));
  });

  it('Test connection lends the stored secrets (resolved from ${COMFY_TOKEN}) to the deployed URL, and to no other', async function () {
    const auth = { authorization: `Bearer ${await token()}`, 'content-type': 'application/json' };
    const unchanged = { token: '__PWRD__', headers: '__PWRD__', apiKey: '__PWRD__' };
    const test = async (url) => {
      const res = await request(`${base}comfyui/test`, {
        method: 'POST',
        headers: auth,
        body: JSON.stringify({ id: 'srv', settings: { url, auth: 'bearer' }, credentials: unchanged }),
      });
      const text = await res.body.text();
      assert.equal(res.statusCode, 200, text);
      for (const secret of [TOKEN, EXTRA, API_KEY]) assert.ok(!text.includes(secret));
      return JSON.parse(text);
    };
    const deployed = await test(front.url);
    assert.equal(deployed.ok, true, JSON.stringify(deployed));
    assert.equal(deployed.withheld, false);
    const elsewhere = await test(foreign.url);
    assert.equal(elsewhere.withheld, true);
    assert.ok(foreign.log.length > 0, 'the test reached the other listener');
    for (const secret of [TOKEN, EXTRA, API_KEY])
      assert.ok(!JSON.stringify(foreign.log).includes(secret), `${secret} reached ${foreign.url}`);
  });

  it('answers a form post (which any web page can send cross-site) with 415, sending nothing', async function () {
    const before = front.log.length + foreign.log.length;
    const form = `id=srv&settings%5Burl%5D=${encodeURIComponent(foreign.url)}&credentials%5Btoken%5D=__PWRD__`;
    for (const [type, body] of [
      ['application/x-www-form-urlencoded', form],
      ['text/plain', JSON.stringify({ id: 'srv', settings: { url: foreign.url }, credentials: { token: '__PWRD__' } })],
      ['multipart/form-data; boundary=b', `--b\r\nContent-Disposition: form-data; name="id"\r\n\r\nsrv\r\n--b--\r\n`],
    ]) {
      for (const path of ['comfyui/test', 'comfyui/servers/srv/test']) {
        const res = await request(`${base}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${await token()}`, 'content-type': type },
          body,
        });
        const answer = await res.body.json();
        assert.equal(res.statusCode, 415, `${type} to ${path}`);
        assert.equal(answer.code, 'BAD_INPUT');
      }
    }
    assert.equal(front.log.length + foreign.log.length, before, 'nothing was sent');
  });

  it("logs an unusable URL's problem without the password that was in it", function () {
    assert.match(output, /Invalid ComfyUI URL "ftp:\/\/127\.0\.0\.1\/"/, output);
    assert.ok(!output.includes(URL_PASSWORD), 'the password is not in the log');
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
