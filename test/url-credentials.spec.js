'use strict';
// A URL with user:password@ in it: the editor refuses it (the credential fields are the place for
// secrets), and at run time an old flow holding one still connects (basic auth) while the
// userinfo is never printed: not in INVALID_URL messages (even for URLs that do not parse), the
// config node's error log, statuses, Test connection answers, msgs or the editor's label.
const assert = require('node:assert/strict');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const vm = require('node:vm');
const fc = require('fast-check');
const { helper, startSimulator, allNodes, waitFor, nextMessage, nextError, saveImageWorkflow, statusesOf } = require('./support');
const { startFront } = require('./front');
const { parseServerUrl, withoutUserinfo, Endpoint } = require('../dist/client/endpoint');

const PASSWORD = 'Url-Pa55word-4d1e';
const root = join(__dirname, '..');
const sharedEditorScript = readFileSync(join(root, 'resources', 'comfyui-editor.js'), 'utf8');

/** Everything a flow could show: calls of status/log/warn/error on the nodes, msgs, the runtime log. */
function shown(nodeIds, messages = []) {
  const seen = [];
  for (const id of nodeIds) {
    const node = helper.getNode(id);
    for (const method of ['status', 'log', 'warn', 'error', 'debug', 'trace']) {
      for (const call of node[method].getCalls().filter((c) => c.thisValue === node)) seen.push(JSON.stringify(call.args, errors));
    }
  }
  for (const msg of messages) seen.push(JSON.stringify(msg, errors));
  for (const call of helper.log().getCalls()) seen.push(JSON.stringify(call.args, errors));
  return seen.join('\n');
}
const errors = (key, value) =>
  value && value.type === 'Buffer' ? '<bytes>' : value instanceof Error ? { message: value.message, ...value } : value;

describe('URLs with user:password@', function () {
  describe('the INVALID_URL message (parseServerUrl)', function () {
    it('never holds the password, whatever it is and however the URL is broken (fast-check)', function () {
      // Markers around the generated password: a message holding any part of them is a leak.
      const password = fc.string({ minLength: 0, maxLength: 24, unit: 'binary' }).map((p) => `Zq9${p}Xk7`);
      const shapes = [
        (p) => `http://user:${p}@127.0.0.1:8188/`,
        (p) => `https://user:${p}@host.invalid/comfy/`,
        (p) => `ftp://user:${p}@127.0.0.1/`,
        (p) => `user:${p}@127.0.0.1:8188`,
        (p) => `http:user:${p}@127.0.0.1`,
        (p) => `http:\\\\user:${p}@127.0.0.1`,
        (p) => `http://user:${p}@127.0.0.1:99999/`,
        (p) => `http://user:${p}@`,
        (p) => `  HTTP://user:${p}@[::1/  `,
        (p) => `ws://user:${p}@127.0.0.1/`,
      ];
      fc.assert(
        fc.property(password, fc.constantFrom(...shapes), (secret, shape) => {
          const url = shape(secret);
          assert.doesNotMatch(withoutUserinfo(url), /Zq9|Xk7/);
          let message;
          try {
            const parsed = parseServerUrl(url);
            message = new Endpoint({ url }).displayUrl + parsed.origin;
          } catch (err) {
            assert.equal(err.code, 'INVALID_URL');
            message = err.message;
          }
          assert.doesNotMatch(message, /Zq9|Xk7/, message);
          assert.ok(!message.includes(encodeURIComponent(secret)));
        }),
        { numRuns: 300 },
      );
    });

    it('still says what is wrong, and keeps the rest of the URL', function () {
      assert.throws(() => parseServerUrl(`ftp://artist:${PASSWORD}@127.0.0.1/`), {
        code: 'INVALID_URL',
        message: 'Invalid ComfyUI URL "ftp://127.0.0.1/": the scheme must be http or https',
      });
      assert.throws(() => parseServerUrl('ftp://127.0.0.1/'), { message: /the scheme must be http or https, not ftp$/ });
      assert.throws(() => parseServerUrl(`http://artist:${PASSWORD}@127.0.0.1:99999/`), {
        message: 'Invalid ComfyUI URL "http://127.0.0.1:99999/": use http://host:port or https://host/path',
      });
      assert.equal(withoutUserinfo('http://127.0.0.1:8188/comfy/'), 'http://127.0.0.1:8188/comfy/');
    });
  });

  describe('in a deployed flow', function () {
    let sim;
    let front;
    before(() => helper.startServer());
    after(() => helper.stopServer());
    beforeEach(async () => {
      sim = await startSimulator({ testControls: true });
      front = await startFront({ target: sim.url, auth: { type: 'basic', user: 'artist', password: PASSWORD } });
    });
    afterEach(async () => {
      await helper.unload();
      await front.close();
      await sim.close();
    });

    const flow = (url) => [
      { id: 'srv', type: 'comfyui-server', url, timeout: 3 },
      { id: 'sub', type: 'comfyui-submit', server: 'srv', workflow: '', mode: 'wait', wires: [['img']] },
      { id: 'img', type: 'comfyui-images', server: 'srv', output: 'refs', wires: [['out']] },
      { id: 'out', type: 'helper' },
    ];
    const json = (req) => req.set('content-type', 'application/json');
    /** Both Test connection routes for this URL: the deployed one, and the dialog with the URL typed in. */
    async function testAnswers(url) {
      const deployed = await json(helper.request().post('/comfyui/servers/srv/test')).send('{}');
      const dialog = await json(helper.request().post('/comfyui/test')).send(JSON.stringify({ id: 'srv', settings: { url } }));
      return [deployed, dialog].map((res) => `${res.status} ${res.text}`).join('\n');
    }

    it('an old flow with a valid one still connects (basic auth) and never shows the password', async function () {
      const url = `http://artist:${PASSWORD}@127.0.0.1:${front.port}/`;
      await helper.load(allNodes, flow(url));
      const got = nextMessage(helper.getNode('out'));
      helper.getNode('sub').receive({ payload: saveImageWorkflow({ prefix: 'userinfo' }) });
      const msg = await got;
      assert.ok(front.log.length > 0 && front.log.every((r) => r.authorized), 'every request carried basic auth');
      assert.ok(msg.payload.url && !msg.payload.url.includes('artist'), 'the /view URL in the msg has no userinfo');
      const answers = await testAnswers(url);
      assert.match(answers, /"ok":true/);
      const everything = `${shown(['srv', 'sub', 'img'], [msg])}\n${answers}`;
      assert.ok(!everything.includes(PASSWORD), everything);
      assert.ok(!everything.includes(Buffer.from(`artist:${PASSWORD}`).toString('base64')));
      assert.ok(!everything.includes(`artist:`), 'not even the user name with its colon');
    });

    for (const [name, url] of [
      ['a wrong scheme', `ftp://artist:${PASSWORD}@127.0.0.1/`],
      ['a port out of range (does not parse)', `http://artist:${PASSWORD}@127.0.0.1:99999/`],
      ['no scheme', `artist:${PASSWORD}@127.0.0.1:8188`],
      ['no host', `http://artist:${PASSWORD}@`],
    ]) {
      it(`an invalid one (${name}): INVALID_URL everywhere, the password nowhere`, async function () {
        await helper.load(allNodes, flow(url));
        const sub = helper.getNode('sub');
        await waitFor(() => statusesOf(sub).some((s) => /invalid-url$/.test(s.text || '')), 'the invalid-url status');
        assert.ok(helper.getNode('srv').error.getCalls().length > 0, 'the config node logged why');
        const failed = nextError(sub);
        sub.receive({ payload: saveImageWorkflow() });
        const err = await failed;
        assert.equal(err.code, 'INVALID_URL');
        assert.match(err.message, /Invalid ComfyUI URL/);
        const answers = await testAnswers(url);
        assert.match(answers, /Invalid ComfyUI URL/);
        const everything = `${shown(['srv', 'sub', 'img'])}\n${answers}\n${err.message}`;
        assert.ok(!everything.includes(PASSWORD), everything);
        assert.equal(front.log.length, 0, 'nothing was sent');
      });
    }
  });

  describe('in the editor (nodes/comfyui-server.html, evaluated with a stand-in RED)', function () {
    const html = readFileSync(join(root, 'dist', 'nodes', 'comfyui-server.html'), 'utf8');
    const catalog = JSON.parse(readFileSync(join(root, 'nodes', 'locales', 'en-US', 'comfyui-server.json'), 'utf8'));
    /** RED._ over the real en-US catalog, as the editor translates. */
    const translate = (key, subs = {}) => {
      const path = key.split(':')[1].split('.');
      const text = path.reduce((at, part) => at && at[part], catalog);
      assert.equal(typeof text, 'string', `${key} is in the catalog`);
      return text.replace(/__(\w+)__/g, (_, name) => String(subs[name]));
    };
    let definition;
    before(function () {
      const script = /<script type="text\/javascript">([\s\S]*?)<\/script>/.exec(html)[1];
      vm.runInNewContext(`${sharedEditorScript}\n${script}`, {
        RED: { nodes: { registerType: (type, def) => (definition = def) }, events: { on: () => undefined }, _: translate },
        URL,
      });
    });
    const validate = (value) => definition.defaults.url.validate.call({}, value, {});

    it('refuses user:password@ with a hint to the credential fields, and accepts ordinary and ${ENV} URLs', function () {
      const hint = catalog['comfyui-server'].errors['url-credentials'];
      assert.match(hint, /Authentication/);
      for (const url of [
        `http://artist:${PASSWORD}@127.0.0.1:8188`,
        'http://artist@127.0.0.1:8188',
        `http://:${PASSWORD}@127.0.0.1`,
        `https://artist:p@ss@example.com/comfy/`,
        `http://artist:${PASSWORD}@[::1`,
        `artist:${PASSWORD}@127.0.0.1:8188`,
      ]) {
        assert.equal(validate(url), hint, url);
      }
      for (const url of ['http://127.0.0.1:8188', 'https://example.com/comfy/', '${COMFYUI_URL}', ' ${COMFY_URL} ', 'http://host/a@b']) {
        assert.equal(validate(url), true, url);
      }
      assert.match(String(validate('ftp://127.0.0.1')), /^Invalid ComfyUI URL "ftp:\/\/127\.0\.0\.1"/);
    });

    it('labels a configuration by its URL without the userinfo', function () {
      assert.equal(definition.label.call({ url: `http://artist:${PASSWORD}@127.0.0.1:8188/` }), 'http://127.0.0.1:8188/');
      assert.equal(definition.label.call({ name: 'gpu box', url: 'http://127.0.0.1:8188/' }), 'gpu box');
    });

    it('cuts userinfo exactly as the runtime does (one rule, two copies)', function () {
      const rule = (text) => /replace\((\/\^\(\[a-z\][^\n]*?\/i),/.exec(text)[1];
      assert.equal(rule(html), rule(readFileSync(join(root, 'src', 'client', 'endpoint.ts'), 'utf8')));
    });
  });
});
