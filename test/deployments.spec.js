'use strict';
// Real deployments: the simulator behind a small front on 127.0.0.1 that checks credentials,
// speaks TLS (with a test CA, optionally asking for a client certificate) and mounts ComfyUI
// under a path prefix. Every channel must carry the credentials; secrets never leak.
const assert = require('node:assert/strict');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { helper, startSimulator, allNodes, waitFor, nextMessage, nextError, saveImageWorkflow, isPng, statusesOf } = require('./support');
const { startFront } = require('./front');
const tlsNode = require('@node-red/nodes/core/network/05-tls.js');

const tlsFile = (name) => readFileSync(join(__dirname, 'fixtures', 'tls', name), 'utf8');
const SECRET = 'S3cr3t-v4lue-9f2c';

const MODES = [
  {
    name: 'basic',
    front: { type: 'basic', user: 'artist', password: SECRET },
    settings: { auth: 'basic' },
    credentials: { user: 'artist', password: SECRET },
  },
  { name: 'bearer', front: { type: 'bearer', token: SECRET }, settings: { auth: 'bearer' }, credentials: { token: SECRET } },
  {
    name: 'custom header',
    front: { type: 'header', name: 'X-Api-Key', value: SECRET },
    settings: { auth: 'none' },
    credentials: { headers: JSON.stringify({ 'X-Api-Key': SECRET }) },
  },
  {
    name: 'query token',
    front: { type: 'query', name: 'token', value: SECRET },
    settings: { auth: 'query', queryParam: 'token' },
    credentials: { token: SECRET },
  },
];

describe('deployments: auth on every channel, TLS, reverse proxies, secrets', function () {
  let sim;
  let front;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => {
    sim = await startSimulator({ testControls: true });
  });
  afterEach(async () => {
    await helper.unload();
    await front?.close();
    front = undefined;
    await sim.close();
  });

  function flow(url, settings = {}, extra = []) {
    const wires = [['out']];
    return [
      { id: 'srv', type: 'comfyui-server', url, timeout: 3, ...settings },
      { id: 'sub', type: 'comfyui-submit', server: 'srv', workflow: '', mode: 'wait', wires: [['img']] },
      { id: 'img', type: 'comfyui-images', server: 'srv', output: 'buffer', wires },
      { id: 'refimg', type: 'comfyui-images', server: 'srv', output: 'refs', wires },
      {
        id: 'up',
        type: 'comfyui-upload',
        server: 'srv',
        kind: 'image',
        folder: 'input',
        filename: 'auth.png',
        target: 'Load Image',
        targetInput: 'image',
        wires,
      },
      { id: 'out', type: 'helper' },
      ...extra,
    ];
  }

  /** Everything that could show a secret: sent msgs, statuses, log/warn/error calls. */
  function leaks(nodeIds, messages) {
    const seen = [];
    for (const id of nodeIds) {
      const node = helper.getNode(id);
      for (const method of ['status', 'log', 'warn', 'error', 'debug', 'trace']) {
        if (!node[method] || !node[method].getCalls) continue;
        for (const call of node[method].getCalls().filter((c) => c.thisValue === node)) seen.push(JSON.stringify(call.args, replacer));
      }
    }
    for (const msg of messages) seen.push(JSON.stringify(msg, replacer));
    return seen.filter((text) => text.includes(SECRET) || text.includes(Buffer.from(`artist:${SECRET}`).toString('base64')));
  }
  const replacer = (key, value) =>
    value && value.type === 'Buffer' ? '<bytes>' : value instanceof Error ? { message: value.message, ...value } : value;

  for (const mode of MODES) {
    it(`${mode.name}: REST, the WebSocket upgrade, /view and uploads all carry the credentials`, async function () {
      front = await startFront({ target: sim.url, auth: mode.front });
      await helper.load(allNodes, flow(front.url, mode.settings), { srv: mode.credentials });
      await waitFor(() => front.log.some((r) => r.channel === 'ws'), 'the WebSocket through the front');
      const got = nextMessage(helper.getNode('out'));
      helper.getNode('sub').receive({ payload: saveImageWorkflow({ prefix: 'auth' }) });
      const image = await got;
      assert.ok(isPng(image.payload));
      const uploaded = nextMessage(helper.getNode('out'));
      helper.getNode('up').receive({ payload: image.payload });
      assert.equal((await uploaded).payload.name, 'auth.png');
      const refs = nextMessage(helper.getNode('out'));
      helper.getNode('refimg').receive({ prompt_id: image.prompt_id });
      const ref = await refs;

      const channels = new Set(front.log.map((r) => (r.channel === 'ws' ? 'ws' : r.url.split('?')[0].split('/')[1])));
      for (const channel of ['ws', 'prompt', 'history', 'view', 'upload', 'features'])
        assert.ok(channels.has(channel), `${channel} went through the front`);
      assert.deepEqual(
        front.log.filter((r) => !r.authorized),
        [],
        'every request carried the credentials',
      );
      assert.equal(sim.connectionLog.length, 1, 'one socket');
      assert.ok(!ref.payload.url.includes(SECRET), 'a URL in a msg carries no credentials');
      assert.deepEqual(leaks(['srv', 'sub', 'img', 'refimg', 'up'], [image, ref]), []);
    });
  }

  it('a wrong secret gives the refusal status and a slow retry, not a storm; submits fail with AUTH', async function () {
    front = await startFront({ target: sim.url, auth: { type: 'bearer', token: SECRET } });
    await helper.load(allNodes, flow(front.url, { auth: 'bearer' }), { srv: { token: 'wrong-token-1234' } });
    const sub = helper.getNode('sub');
    await waitFor(() => statusesOf(sub).some((s) => /refused-auth$/.test(s.text || '')), 'the refusal status');
    const failed = nextError(sub);
    sub.receive({ payload: saveImageWorkflow() });
    const err = await failed;
    assert.equal(err.code, 'AUTH');
    assert.match(err.message, /server refused \(401\).*check credentials/);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.ok(
      front.log.filter((r) => r.channel === 'ws').length <= 2,
      `${front.log.filter((r) => r.channel === 'ws').length} upgrade attempts`,
    );
    const warnings = helper
      .getNode('srv')
      .warn.getCalls()
      .filter((c) => c.thisValue === helper.getNode('srv'));
    assert.equal(warnings.length, 1, 'one log line, not one per retry');
    assert.match(warnings[0].args[0], /server refused \(401\) for the WebSocket upgrade: check credentials/);
    assert.deepEqual(leaks(['srv', 'sub'], []), []);
  });

  it('sends the comfy.org API key with each prompt (extra_data) and nowhere else; ComfyUI keeps it out of history', async function () {
    const key = 'comfy-org-key-0a1b2c3d';
    front = await startFront({ target: sim.url });
    await helper.load(allNodes, flow(front.url), { srv: { apiKey: key } });
    const got = nextMessage(helper.getNode('out'));
    helper.getNode('sub').receive({ payload: saveImageWorkflow({ prefix: 'apikey' }) });
    const msg = await got;
    const posts = front.log.filter((r) => r.method === 'POST' && r.url.startsWith('/prompt'));
    assert.equal(posts.length, 1);
    assert.equal(JSON.parse(posts[0].body).extra_data.api_key_comfy_org, key);
    assert.ok(
      front.log.filter((r) => r !== posts[0]).every((r) => !JSON.stringify(r).includes(key)),
      'only in the prompt body',
    );
    const history = await (await fetch(`${sim.url}/history/${msg.prompt_id}`)).json();
    assert.ok(!JSON.stringify(history).includes(key));
    assert.ok(!JSON.stringify(msg, replacer).includes(key));
  });

  it('works under a sub-path behind a forwarding proxy, for REST and WebSocket alike', async function () {
    front = await startFront({ target: sim.url, prefix: '/comfy' });
    assert.match(front.url, /\/comfy\/$/);
    await helper.load(allNodes, flow(front.url));
    const got = nextMessage(helper.getNode('out'));
    helper.getNode('sub').receive({ payload: saveImageWorkflow({ prefix: 'subpath' }) });
    assert.ok(isPng((await got).payload));
    assert.ok(front.log.every((r) => r.url.startsWith('/comfy/')));
    assert.ok(front.log.some((r) => r.channel === 'ws' && r.url.startsWith('/comfy/ws?clientId=')));
  });

  it('says "not ComfyUI: check URL" when the base path is wrong', async function () {
    front = await startFront({ target: sim.url, prefix: '/comfy' });
    await helper.load(allNodes, flow(front.url.replace('/comfy/', '/')));
    const sub = helper.getNode('sub');
    await waitFor(() => statusesOf(sub).some((s) => /refused-endpoint$/.test(s.text || '')), 'the wrong-endpoint status');
    const failed = nextError(sub);
    sub.receive({ payload: saveImageWorkflow() });
    assert.equal((await failed).code, 'WRONG_ENDPOINT');
  });

  describe('https and wss with a test CA', function () {
    const tlsConfig = (extra = {}) => ({ id: 'tls', type: 'tls-config', cert: '', key: '', ca: '', verifyservercert: true, ...extra });

    async function run(url, settings, extraNodes, credentials) {
      await helper.load([...allNodes, tlsNode], flow(url, settings, extraNodes), credentials);
      const sub = helper.getNode('sub');
      // Whichever comes first; the other wait is dropped quietly.
      const outcome = Promise.race([
        nextMessage(helper.getNode('out'), 8000).then(
          (msg) => ({ msg }),
          () => new Promise(() => undefined),
        ),
        nextError(sub, 8000).then(
          (err) => ({ err }),
          () => new Promise(() => undefined),
        ),
      ]);
      sub.receive({ payload: saveImageWorkflow({ prefix: 'tls' }) });
      return outcome;
    }

    it('refuses a certificate from an unknown CA by default', async function () {
      front = await startFront({ target: sim.url, tls: { key: tlsFile('server-key.pem'), cert: tlsFile('server.pem') } });
      const { err } = await run(front.url, {}, []);
      assert.ok(err, 'no result without trusting the CA');
      assert.equal(err.code, 'NETWORK');
      assert.match(err.message, /certificate|verify/i);
      assert.equal(front.log.length, 0, 'nothing was sent over an untrusted connection');
    });

    it('accepts it with the CA from a tls-config node, over https and wss', async function () {
      front = await startFront({ target: sim.url, tls: { key: tlsFile('server-key.pem'), cert: tlsFile('server.pem') } });
      const { msg, err } = await run(front.url, { tls: 'tls' }, [tlsConfig()], { tls: { cadata: tlsFile('ca.pem') } });
      assert.equal(err, undefined, err && err.message);
      assert.ok(isPng(msg.payload));
      assert.ok(
        front.log.some((r) => r.channel === 'ws'),
        'wss went through',
      );
    });

    it('still refuses with the wrong CA, and accepts anything only when verification is turned off', async function () {
      front = await startFront({ target: sim.url, tls: { key: tlsFile('server-key.pem'), cert: tlsFile('server.pem') } });
      const wrong = await run(front.url, { tls: 'tls' }, [tlsConfig()], { tls: { cadata: tlsFile('other-ca.pem') } });
      assert.equal(wrong.err && wrong.err.code, 'NETWORK');
      await helper.unload();
      const off = await run(front.url, { tls: 'tls' }, [tlsConfig({ verifyservercert: false })]);
      assert.ok(off.msg && isPng(off.msg.payload));
    });

    it('mTLS: a server that asks for a client certificate gets ours', async function () {
      front = await startFront({
        target: sim.url,
        tls: { key: tlsFile('server-key.pem'), cert: tlsFile('server.pem'), ca: tlsFile('ca.pem'), requestCert: true },
      });
      const without = await run(front.url, { tls: 'tls' }, [tlsConfig()], { tls: { cadata: tlsFile('ca.pem') } });
      assert.equal(without.err && without.err.code, 'AUTH', 'refused without a client certificate');
      await helper.unload();
      front.log.length = 0;
      const withCert = await run(front.url, { tls: 'tls' }, [tlsConfig()], {
        tls: { cadata: tlsFile('ca.pem'), certdata: tlsFile('client.pem'), keydata: tlsFile('client-key.pem') },
      });
      assert.equal(withCert.err, undefined, withCert.err && withCert.err.message);
      assert.ok(isPng(withCert.msg.payload));
      assert.ok(front.log.length > 0 && front.log.every((r) => r.authorized));
    });
  });

  describe('Test connection (admin routes)', function () {
    it('reports every step of a working deployed server', async function () {
      await helper.load(allNodes, flow(sim.url));
      const res = await helper.request().post('/comfyui/servers/srv/test').send({}).expect(200);
      assert.equal(res.body.ok, true);
      assert.deepEqual(
        res.body.steps.map((s) => s.step),
        ['reachability', 'http', 'websocket', 'feature_flags', 'object_info'],
      );
      assert.ok(res.body.steps.every((s) => s.ok));
    });

    it('names the failing step: connection refused on a wrong port', async function () {
      const closed = await startSimulator();
      const port = closed.port;
      await closed.close();
      await helper.load(allNodes, flow(`http://127.0.0.1:${port}`));
      const res = await helper.request().post('/comfyui/servers/srv/test').send({}).expect(200);
      assert.equal(res.body.ok, false);
      assert.deepEqual(res.body.steps, [
        {
          step: 'reachability',
          ok: false,
          message: `connection refused by 127.0.0.1:${port}: is ComfyUI running, and listening on that address (--listen)?`,
        },
      ]);
    });

    it('names the failing step: a 401 from a proxy, a wrong base path, an Origin/Host 403, a TLS error', async function () {
      front = await startFront({ target: sim.url, prefix: '/comfy', auth: { type: 'bearer', token: SECRET } });
      const test = async (settings, credentials) =>
        (await helper.request().post('/comfyui/test').send({ settings, credentials }).expect(200)).body;
      let body = await test({ url: front.url, auth: 'bearer' }, { token: 'nope-nope' });
      assert.deepEqual(
        body.steps.map((s) => [s.step, s.ok]),
        [
          ['reachability', true],
          ['http', false],
        ],
      );
      assert.match(body.steps[1].message, /server refused \(401\).*check credentials/);
      body = await test({ url: front.url.replace('/comfy/', '/'), auth: 'bearer' }, { token: SECRET });
      assert.match(body.steps[1].message, /404|not a ComfyUI endpoint/);
      body = await test({ url: sim.url }, { headers: JSON.stringify({ Origin: 'http://localhost:1880' }) });
      assert.equal(body.steps[1].ok, false);
      assert.match(body.steps[1].message, /403.*Origin/);
      await front.close();
      front = await startFront({ target: sim.url, tls: { key: tlsFile('server-key.pem'), cert: tlsFile('server.pem') } });
      body = await test({ url: front.url }, {});
      assert.match(body.steps[0].message, /^TLS error: .*give the server's CA/);
      body = await test({ url: front.url.replace('https', 'http') }, {});
      assert.equal(body.ok, false);
    });

    it('tests dialog values with the stored secret when the password field is unchanged', async function () {
      front = await startFront({ target: sim.url, auth: { type: 'bearer', token: SECRET } });
      await helper.load(allNodes, flow(front.url, { auth: 'bearer' }), { srv: { token: SECRET } });
      const res = await helper
        .request()
        .post('/comfyui/test')
        .send({ id: 'srv', settings: { url: front.url, auth: 'bearer' }, credentials: { token: '__PWRD__' } })
        .expect(200);
      assert.equal(res.body.ok, true, JSON.stringify(res.body));
      assert.ok(!JSON.stringify(res.body).includes(SECRET));
    });

    it('answers 404 for a server id that is not deployed, and never fetches a URL from a read route', async function () {
      await helper.load(allNodes, flow(sim.url));
      await helper.request().post('/comfyui/servers/nope/test').send({}).expect(404);
      const before = sim.requestLog.length;
      await helper.request().get('/comfyui/servers/srv/models/checkpoints?url=http://127.0.0.1:1/').expect(200);
      assert.equal(sim.requestLog.length, before + 1, 'the lookup went to the deployed server only');
    });
  });
});
