'use strict';
// The editor's admin routes under attack: Test connection must never send a stored secret
// anywhere but the deployed URL of the comfyui-server it names (not to another host, port or
// base path, not another node type's secret), must take JSON only (an HTML form posted from any
// web site cannot trigger it), must read its body as untrusted, and must answer with its own
// verdicts, never with what a server answered. Real sockets on 127.0.0.1: the simulator behind
// fronts that record every request they see, with its headers.
const assert = require('node:assert/strict');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const fc = require('fast-check');
const { helper, startSimulator, allNodes, uiSaveImageWorkflow } = require('./support');
const { startFront } = require('./front');
const tlsNode = require('@node-red/nodes/core/network/05-tls.js');
const mqttNode = require('@node-red/nodes/core/network/10-mqtt.js');

const SECRET = 'stored-token-5b7e1d';
const EXTRA = 'stored-header-c41a9f';
const API_KEY = 'stored-apikey-2e8d60';
const MQTT_PASSWORD = 'mqtt-password-9c3b77';
const SECRETS = [SECRET, EXTRA, API_KEY, MQTT_PASSWORD];
const UNCHANGED = '__PWRD__';
const tlsFile = (name) => readFileSync(join(__dirname, 'fixtures', 'tls', name), 'utf8');

/** The log entries of a front (or the simulator) that carry any of the secrets, anywhere. */
const carrying = (log) => log.filter((entry) => SECRETS.some((secret) => JSON.stringify(entry).includes(secret)));
/** What a Test connection answer or error may never contain: a secret, a stack trace. */
function assertClean(res) {
  const text = JSON.stringify(res.body) + (res.text ?? '');
  for (const secret of SECRETS) assert.ok(!text.includes(secret), `the answer carries ${secret}: ${text}`);
  assert.doesNotMatch(text, /\n\s+at |node_modules|\.js:\d+/, 'no stack trace in the answer');
  assert.match(String(res.headers['content-type']), /application\/json/);
}

describe('admin routes: Test connection, stored secrets and untrusted requests', function () {
  this.timeout(60000);
  let sim;
  /** The deployed server: ComfyUI under /comfy/ behind a bearer-token proxy. */
  let deployed;
  /** Another port on 127.0.0.1: a server the stored secrets must never reach. */
  let foreign;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => {
    sim = await startSimulator({ testControls: true });
    deployed = await startFront({ target: sim.url, prefix: '/comfy', auth: { type: 'bearer', token: SECRET } });
    foreign = await startFront({ target: sim.url });
  });
  afterEach(async () => {
    await helper.unload();
    await deployed.close();
    await foreign.close();
    await sim.close();
  });

  const flow = (extra = []) => [
    { id: 'srv', type: 'comfyui-server', url: deployed.url, timeout: 3, auth: 'bearer' },
    { id: 'broker', type: 'mqtt-broker', name: 'local MQTT', broker: '127.0.0.1', port: '1', autoConnect: false, protocolVersion: '4' },
    ...extra,
  ];
  const credentials = {
    srv: { token: SECRET, headers: JSON.stringify({ 'X-Extra': EXTRA }), apiKey: API_KEY },
    broker: { user: 'mqtt-user', password: MQTT_PASSWORD },
  };
  const load = (extra = [], creds = {}) => helper.load([...allNodes, tlsNode, mqttNode], flow(extra), { ...credentials, ...creds });
  const allUnchanged = { user: UNCHANGED, password: UNCHANGED, token: UNCHANGED, headers: UNCHANGED, apiKey: UNCHANGED };
  const test = (body) => helper.request().post('/comfyui/test').set('content-type', 'application/json').send(JSON.stringify(body));
  /** New entries of every log while `work` runs. */
  async function during(work) {
    const marks = [deployed.log.length, foreign.log.length, sim.requestLog.length];
    const result = await work();
    return {
      result,
      deployed: deployed.log.slice(marks[0]),
      foreign: foreign.log.slice(marks[1]),
      sim: sim.requestLog.slice(marks[2]),
    };
  }

  describe('whose secrets, for which URL', function () {
    it('uses the stored secrets of the edited server for its deployed URL, also written differently', async function () {
      await load();
      const origin = new URL(deployed.url).origin;
      for (const url of [deployed.url, `${origin}/comfy`, `${origin.toUpperCase()}/comfy/?x=1#frag`]) {
        const seen = await during(() => test({ id: 'srv', settings: { url, auth: 'bearer' }, credentials: allUnchanged }).expect(200));
        assert.equal(seen.result.body.ok, true, `${url}: ${JSON.stringify(seen.result.body)}`);
        assert.equal(seen.result.body.withheld, false);
        assert.ok(
          seen.deployed.some((r) => r.authorized && r.headers['x-extra'] === EXTRA),
          'the stored token and header reached the deployed URL',
        );
        assertClean(seen.result);
      }
    });

    for (const [name, url] of [
      ['another base path on the same origin', (d) => d.url.replace('/comfy/', '/other/')],
      ['the root of the same origin', (d) => d.url.replace('/comfy/', '/')],
      ['another host name for the same port', (d) => d.url.replace('127.0.0.1', 'localhost')],
      ['another port on the same host', (d, f) => f.url],
      ['another port, same base path', (d, f) => `${f.url}comfy/`],
    ]) {
      it(`sends no stored secret to ${name}, and says that it held them back`, async function () {
        await load();
        const target = url(deployed, foreign);
        const seen = await during(() =>
          test({ id: 'srv', settings: { url: target, auth: 'bearer' }, credentials: allUnchanged }).expect(200),
        );
        assert.equal(seen.result.body.withheld, true);
        assert.ok(seen.deployed.length + seen.foreign.length > 0, 'the test did reach the URL (so it could have leaked)');
        assert.deepEqual(carrying([...seen.deployed, ...seen.foreign, ...seen.sim]), []);
        assertClean(seen.result);
      });
    }

    it("never uses another node type's credentials (an MQTT broker's password), whatever the URL", async function () {
      await load();
      for (const url of [foreign.url, deployed.url]) {
        const seen = await during(() => test({ id: 'broker', settings: { url, auth: 'basic' }, credentials: allUnchanged }).expect(200));
        assert.equal(seen.result.body.withheld, true);
        assert.ok(seen.deployed.length + seen.foreign.length > 0, 'the test did reach the URL');
        assert.deepEqual(carrying([...seen.deployed, ...seen.foreign, ...seen.sim]), []);
        assert.ok(
          [...seen.deployed, ...seen.foreign].every((r) => !r.headers.authorization || r.headers.authorization === `Basic ${btoa(':')}`),
          'basic auth with an empty user and password: the placeholder means no value',
        );
        assertClean(seen.result);
      }
    });

    it('borrows nothing for an id that is not deployed, or no id', async function () {
      await load();
      for (const id of ['nope', undefined, '']) {
        const seen = await during(() =>
          test({ id, settings: { url: deployed.url, auth: 'bearer' }, credentials: allUnchanged }).expect(200),
        );
        assert.equal(seen.result.body.ok, false);
        assert.equal(seen.result.body.withheld, true);
        assert.match(seen.result.body.steps[1].message, /server refused \(401\)/);
        assert.deepEqual(carrying([...seen.deployed, ...seen.foreign, ...seen.sim]), []);
      }
    });

    it('uses what the dialog typed (not the stored value) for any URL', async function () {
      await load();
      const typed = 'typed-in-token-77aa';
      const seen = await during(() =>
        test({ id: 'srv', settings: { url: foreign.url, auth: 'bearer' }, credentials: { token: typed } }).expect(200),
      );
      assert.equal(seen.result.body.ok, true);
      assert.equal(seen.result.body.withheld, false);
      assert.ok(seen.foreign.some((r) => r.headers.authorization === `Bearer ${typed}`));
      assert.deepEqual(carrying(seen.foreign), []);
    });

    it('a TLS reference must name a deployed tls-config node: INVALID_CONFIG, nothing sent', async function () {
      await load();
      for (const tls of ['srv', 'broker', 'nope']) {
        const seen = await during(() =>
          test({ id: 'srv', settings: { url: deployed.url, auth: 'bearer', tls }, credentials: allUnchanged }).expect(400),
        );
        assert.equal(seen.result.body.code, 'INVALID_CONFIG');
        assert.deepEqual([...seen.deployed, ...seen.foreign, ...seen.sim], []);
        assertClean(seen.result);
      }
    });

    it('over https, lends stored secrets only to a TLS configuration that verifies the server as much as the deployed one', async function () {
      const https = await startFront({
        target: sim.url,
        auth: { type: 'bearer', token: SECRET },
        tls: { key: tlsFile('server-key.pem'), cert: tlsFile('server.pem') },
      });
      try {
        const tlsConfig = (id, verify) => ({ id, type: 'tls-config', cert: '', key: '', ca: '', verifyservercert: verify });
        await helper.load(
          [...allNodes, tlsNode],
          [
            { id: 'srv', type: 'comfyui-server', url: https.url, timeout: 3, auth: 'bearer', tls: 'ca' },
            tlsConfig('ca', true),
            tlsConfig('ca2', true),
            tlsConfig('off', false),
          ],
          { srv: { token: SECRET }, ca: { cadata: tlsFile('ca.pem') }, ca2: { cadata: tlsFile('ca.pem') } },
        );
        const run = async (tls) => {
          const before = https.log.length;
          const res = await test({
            id: 'srv',
            settings: { url: https.url, auth: 'bearer', tls },
            credentials: { token: UNCHANGED },
          }).expect(200);
          return { body: res.body, log: https.log.slice(before) };
        };
        const same = await run('ca');
        assert.equal(same.body.ok, true, JSON.stringify(same.body));
        const other = await run('ca2');
        assert.equal(other.body.ok, true, 'another verifying configuration may borrow');
        const off = await run('off');
        assert.equal(off.body.withheld, true, 'verification turned off: nothing stored is lent');
        assert.ok(off.log.length > 0, 'the unverified test did reach the server');
        assert.deepEqual(carrying(off.log), []);
      } finally {
        await https.close();
      }
    });
  });

  describe('JSON only, before anything is sent', function () {
    const forms = (url) => [
      [
        'application/x-www-form-urlencoded',
        `id=srv&settings%5Burl%5D=${encodeURIComponent(url)}&settings%5Bauth%5D=bearer&credentials%5Btoken%5D=${UNCHANGED}`,
      ],
      ['multipart/form-data; boundary=xyz', `--xyz\r\nContent-Disposition: form-data; name="settings[url]"\r\n\r\n${url}\r\n--xyz--\r\n`],
      ['text/plain', JSON.stringify({ id: 'srv', settings: { url, auth: 'bearer' }, credentials: { token: UNCHANGED } })],
      ['text/plain;charset=UTF-8', `{"id":"srv","settings":{"url":"${url}"},"x":"=1"}`],
      ['application/jsonx', '{}'],
      [undefined, Buffer.from('{}')],
    ];

    for (const route of ['/comfyui/test', '/comfyui/servers/srv/test']) {
      it(`POST ${route}: a form post (urlencoded, multipart, text/plain) or no content type is 415 and sends nothing`, async function () {
        await load();
        for (const [type, body] of forms(deployed.url)) {
          const seen = await during(() => {
            const req = helper.request().post(route);
            if (type) req.set('content-type', type);
            return req.send(body).expect(415);
          });
          assert.equal(seen.result.body.code, 'BAD_INPUT', `${type}`);
          assert.deepEqual([...seen.deployed, ...seen.foreign, ...seen.sim], [], `${type}: nothing was sent`);
          assertClean(seen.result);
        }
      });
    }

    it('the deployed-server test is a JSON POST now, and answers 404 for an id that is not a comfyui-server', async function () {
      await load();
      const res = await helper
        .request()
        .post('/comfyui/servers/srv/test')
        .set('content-type', 'application/json; charset=utf-8')
        .send('{}')
        .expect(200);
      assert.equal(res.body.ok, true, JSON.stringify(res.body));
      assertClean(res);
      for (const id of ['broker', 'nope']) {
        const missing = await helper
          .request()
          .post(`/comfyui/servers/${id}/test`)
          .set('content-type', 'application/json')
          .send('{}')
          .expect(404);
        assert.equal(missing.body.code, 'NOT_FOUND');
      }
      await helper.request().get('/comfyui/servers/srv/test').expect(404);
    });
  });

  describe('an untrusted body', function () {
    const good = () => ({ id: 'srv', settings: { url: deployed.url, auth: 'bearer' }, credentials: { token: UNCHANGED } });
    const cases = [
      ['an array', () => []],
      ['a number', () => 7],
      ['no settings', () => ({ id: 'srv' })],
      ['settings as a string', () => ({ settings: 'http://127.0.0.1/' })],
      ['settings.url as an object', () => ({ ...good(), settings: { url: { href: deployed.url } } })],
      ['settings.url as an array', () => ({ ...good(), settings: { url: [deployed.url] } })],
      ['settings.url as a number', () => ({ ...good(), settings: { url: 8188 } })],
      ['settings.url of 3000 characters', () => ({ ...good(), settings: { url: `${deployed.url}${'a'.repeat(3000)}` } })],
      ['an empty settings.url', () => ({ ...good(), settings: { url: '  ' } })],
      ['settings.auth that is no mode', () => ({ ...good(), settings: { url: deployed.url, auth: 'root' } })],
      ['settings.tls as an object', () => ({ ...good(), settings: { url: deployed.url, tls: { id: 'x' } } })],
      ['settings.timeout as an object', () => ({ ...good(), settings: { url: deployed.url, timeout: {} } })],
      ['an id that is an object', () => ({ ...good(), id: { toString: 'srv' } })],
      ['credentials as a string', () => ({ ...good(), credentials: SECRET })],
      ['a credential that is a number', () => ({ ...good(), credentials: { token: 12345678 } })],
      ['a credential that is an object holding a secret', () => ({ ...good(), credentials: { token: { value: SECRET } } })],
      ['a credential of 20000 characters', () => ({ ...good(), credentials: { token: `${SECRET}${'x'.repeat(20000)}` } })],
    ];
    for (const [name, body] of cases) {
      it(`refuses ${name} with 400 BAD_INPUT, sending nothing and quoting no credential`, async function () {
        await load();
        const seen = await during(() => test(body()).expect(400));
        assert.equal(seen.result.body.code, 'BAD_INPUT', JSON.stringify(seen.result.body));
        assert.equal(typeof seen.result.body.error, 'string');
        assert.deepEqual([...seen.deployed, ...seen.foreign, ...seen.sim], []);
        assertClean(seen.result);
      });
    }

    it('refuses broken JSON and a bare JSON string with 400 BAD_INPUT as JSON, not an HTML page with a stack', async function () {
      await load();
      for (const text of ['{"settings":', '"just a string"', `{"id": "srv", "credentials": {"token": "${SECRET}"`]) {
        const res = await helper.request().post('/comfyui/test').set('content-type', 'application/json').send(text).expect(400);
        assert.equal(res.body.code, 'BAD_INPUT');
        assertClean(res);
      }
    });

    it('ignores fields it does not know', async function () {
      await load();
      const res = await test({ ...good(), extra: { deep: [1, 2] }, settings: { url: deployed.url, auth: 'bearer', proxy: 'x' } }).expect(
        200,
      );
      assert.equal(res.body.ok, true, JSON.stringify(res.body));
    });
  });

  describe('verdicts, not answers', function () {
    const BAIT = 'BAIT-7f1e';
    const answers = [];
    const run = async () => {
      const res = await test({ settings: { url: sim.url } }).expect(200);
      answers.push(res.text);
      return res.body;
    };

    it('never shows what a failing server answered: a 500 body, an HTML title, a 401 page, an odd version, a failing object_info', async function () {
      await load();
      const stats = (status, body, type) => sim.faults.failRoute('GET', '/system_stats', status, body, type);
      stats(500, `Traceback ${BAIT} token=${SECRET}`, 'text/plain');
      let body = await run();
      assert.equal(body.steps[1].ok, false);
      assert.equal(body.steps[1].message, 'GET /system_stats failed: the server answered HTTP 500');
      sim.faults.reset();
      stats(200, `<!doctype html><html><title>${BAIT} login</title><body>${BAIT}</body></html>`, 'text/html');
      body = await run();
      assert.match(body.steps[1].message, /^GET \/system_stats answered 200 with an HTML page that is not ComfyUI's JSON/);
      sim.faults.reset();
      stats(401, `<html><title>${BAIT}</title></html>`, 'text/html');
      body = await run();
      assert.match(body.steps[1].message, /^server refused \(401\) for GET \/system_stats: check credentials$/);
      sim.faults.reset();
      stats(200, JSON.stringify({ system: { comfyui_version: `0.8.0 <img src=x> ${BAIT}` } }), 'application/json');
      body = await run();
      assert.equal(body.ok, true, JSON.stringify(body));
      assert.equal(body.steps[1].message, 'HTTP works');
      sim.faults.reset();
      body = await run();
      assert.match(body.steps[1].message, /^HTTP works: ComfyUI \d+\.\d+\.\d+/, 'a real version is still shown');
      sim.faults.failRoute('GET', '/object_info', 502, JSON.stringify({ error: BAIT }), 'application/json');
      body = await run();
      assert.equal(body.steps[4].ok, false);
      assert.equal(body.steps[4].message, 'GET /object_info/SaveImage failed: the server answered HTTP 502');
      sim.faults.reset();
      sim.faults.failRoute('GET', '/object_info', 200, JSON.stringify({ SaveImag: { description: BAIT } }), 'application/json');
      body = await run();
      assert.match(body.steps[4].message, /did not describe SaveImage/);
      assert.equal(answers.length, 7);
      for (const text of answers) assert.ok(!text.includes(BAIT) && !text.includes(SECRET), text);
    });
  });

  describe('the submit dialog: convert a UI workflow, check an API workflow', function () {
    const post = (route, body) =>
      helper.request().post(`/comfyui/servers/srv/${route}`).set('content-type', 'application/json').send(JSON.stringify(body));
    const ui = () => uiSaveImageWorkflow({ prefix: 'dialog' });

    it("converts with the deployed server's definitions, asked at its own URL only", async function () {
      await load();
      const seen = await during(() => post('convert', { workflow: ui() }).expect(200));
      const { prompt } = seen.result.body;
      assert.deepEqual(prompt['1'].inputs, { width: 64, height: 32, batch_size: 1, color: 0 });
      assert.deepEqual(prompt['2'].inputs, { filename_prefix: 'dialog', images: ['1', 0] });
      assert.deepEqual(
        seen.deployed.map((r) => `${r.method} ${r.url}`),
        ['GET /comfy/object_info'],
      );
      assert.deepEqual(seen.foreign, []);
      assertClean(seen.result);
    });

    it('says why a workflow cannot be converted: a class the server lacks, no workflow, a form post, a server not deployed', async function () {
      await load();
      const missing = await post('convert', { workflow: { ...ui(), nodes: [...ui().nodes, { id: 3, type: 'NoSuchNode' }] } }).expect(400);
      assert.equal(missing.body.code, 'UI_WORKFLOW');
      assert.match(missing.body.error, /NoSuchNode/);
      for (const body of [{}, { workflow: 7 }, { workflow: [] }, [], { workflow: { nodes: 'x', links: [] } }]) {
        const res = await post('convert', body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.body.code, 'BAD_WORKFLOW', JSON.stringify(res.body));
        assertClean(res);
      }
      await helper
        .request()
        .post('/comfyui/servers/srv/convert')
        .set('content-type', 'text/plain')
        .send(JSON.stringify({ workflow: ui() }))
        .expect(415);
      const notServer = await helper
        .request()
        .post('/comfyui/servers/broker/convert')
        .set('content-type', 'application/json')
        .send(JSON.stringify({ workflow: ui() }))
        .expect(404);
      assert.equal(notServer.body.code, 'NOT_FOUND');
    });

    it('lists what the definitions find wrong, per node, with the names the server has', async function () {
      await load();
      const prompt = {
        4: { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'v1-5-pruned-emaonly.ckpt' }, _meta: { title: 'Load Checkpoint' } },
        5: { class_type: 'EmptyImage', inputs: { width: 64, height: 0, batch_size: 1, color: 0 } },
        9: { class_type: 'SaveImage', inputs: { images: ['5', 0], filename_prefix: 'x', extra: ['4', 7] } },
        10: { class_type: 'PreviewImage', inputs: { images: ['5', 0] } },
        11: { class_type: 'VAEDecode', inputs: { samples: ['4', 2], vae: ['4', 2] } },
        12: { class_type: 'PreviewImage', inputs: { images: ['11', 0] } },
      };
      const res = await post('check', { prompt }).expect(200);
      const byNode = {};
      for (const problem of res.body.problems) (byNode[problem.id] ??= []).push(problem);
      assert.ok(
        byNode['4'].some((p) => p.input === 'ckpt_name' && p.suggestions.includes('v1-5-pruned-emaonly.safetensors')),
        JSON.stringify(byNode),
      );
      assert.ok(
        byNode['5'].some((p) => p.input === 'height'),
        JSON.stringify(byNode),
      );
      assert.ok(
        byNode['11'].some((p) => p.input === 'samples'),
        'a VAE output where a LATENT is taken',
      );
      const clean = await post('check', { prompt: { 5: prompt['5'], 10: prompt['10'] } }).expect(200);
      assert.deepEqual(
        clean.body.problems.map((p) => p.input),
        ['height'],
      );
      const bad = await post('check', { prompt: { 1: { inputs: {} } } }).expect(400);
      assert.equal(bad.body.code, 'BAD_WORKFLOW');
    });
  });

  describe('generated bodies (fast-check)', function () {
    it('never crash, never answer 500 or a stack, and never send a stored secret anywhere but the deployed URL', async function () {
      this.timeout(240000);
      await load();
      const deployedOrigin = new URL(deployed.url).host;
      const urls = [
        deployed.url,
        deployed.url,
        deployed.url.replace('/comfy/', '/other/'),
        deployed.url.replace('127.0.0.1', 'localhost'),
        foreign.url,
        `${foreign.url}comfy/`,
        `ftp://127.0.0.1:${foreign.port}/`,
      ];
      // The URL parser ignores spaces and control characters around and inside a scheme: look without them.
      const visible = (text) => [...text].filter((c) => c.charCodeAt(0) > 0x20).join('');
      /** Anything, but never a URL that would be dialled beyond 127.0.0.1 (tests stay local). */
      const notDialable = fc.anything().filter((v) => typeof v !== 'string' || !/^https?:/i.test(visible(v)));
      /** Mostly a plausible value, sometimes anything at all. */
      const mostly = (plausible) => fc.oneof({ arbitrary: plausible, weight: 8 }, { arbitrary: notDialable, weight: 1 });
      const credential = mostly(fc.oneof(fc.constant(UNCHANGED), fc.string({ maxLength: 12 }), fc.constant(null)));
      const settings = fc.record(
        {
          url: mostly(fc.constantFrom(...urls)),
          auth: mostly(fc.constantFrom('none', 'basic', 'bearer', 'query', '')),
          queryParam: mostly(fc.constantFrom('token', 'key')),
          tls: mostly(fc.constantFrom('', '', '', 'srv', 'broker', 'nope')),
          timeout: mostly(fc.constantFrom(1, '2', 0, -1)),
        },
        { requiredKeys: ['url'] },
      );
      const body = mostly(
        fc.record(
          {
            id: mostly(fc.constantFrom('srv', 'srv', 'broker', 'nope', '')),
            settings: mostly(settings),
            credentials: mostly(
              fc.record(
                { user: credential, password: credential, token: credential, headers: credential, apiKey: credential },
                { requiredKeys: [] },
              ),
            ),
          },
          { requiredKeys: ['settings'] },
        ),
      );
      const statuses = { 200: 0, 400: 0 };
      await fc.assert(
        fc.asyncProperty(body, async (value) => {
          const res = await helper
            .request()
            .post('/comfyui/test')
            .set('content-type', 'application/json')
            .send(JSON.stringify(value ?? null));
          assert.ok([200, 400].includes(res.status), `status ${res.status}: ${res.text}`);
          statuses[res.status] += 1;
          assertClean(res);
          if (res.status === 200) assert.ok(Array.isArray(res.body.steps) && typeof res.body.ok === 'boolean');
          else assert.ok(typeof res.body.error === 'string' && typeof res.body.code === 'string');
        }),
        { numRuns: 150 },
      );
      assert.ok(statuses[200] >= 10 && statuses[400] >= 10, `both kinds of answer were exercised: ${JSON.stringify(statuses)}`);
      // Wherever a stored secret went, it was the deployed URL: the deployed front, under /comfy/, by its own host name.
      const leaked = carrying(deployed.log).filter((r) => r.headers.host !== deployedOrigin || !r.url.startsWith('/comfy/'));
      assert.deepEqual(leaked, []);
      assert.deepEqual(carrying(foreign.log), []);
      assert.ok(!carrying(deployed.log).some((r) => JSON.stringify(r).includes(MQTT_PASSWORD)), 'the broker password went nowhere');
    });
  });
});
