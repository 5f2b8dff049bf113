'use strict';
const assert = require('node:assert/strict');
const { helper, startSimulator, allNodes, nextMessage, nextError, lastStatus, useSimulator } = require('./support');

describe('comfyui-info', function () {
  const env = useSimulator({ testControls: true });

  async function load(settings = {}) {
    const flow = [
      { id: 'srv', type: 'comfyui-server', url: env.sim.url, timeout: 5 },
      { id: 'info', type: 'comfyui-info', server: 'srv', info: 'system_stats', nodeClass: '', folder: '', ...settings, wires: [['out']] },
      { id: 'out', type: 'helper' },
    ];
    await helper.load(allNodes, flow);
    return { info: helper.getNode('info'), out: helper.getNode('out') };
  }

  /** ComfyUI's own answer for a route, read without our client. */
  async function direct(route) {
    const response = await fetch(`${env.sim.url}${route}`);
    assert.equal(response.status, 200, `GET ${route}`);
    return response.json();
  }

  async function ask(info, out, msg) {
    const got = nextMessage(out);
    info.receive(msg);
    return got;
  }

  it('answers system_stats (the default) and keeps the rest of the msg', async function () {
    const { info, out } = await load();
    const msg = await ask(info, out, { payload: 'tick', keep: 'me' });
    assert.equal(msg.topic, 'system_stats');
    assert.equal(msg.keep, 'me');
    assert.equal(msg.payload.system.comfyui_version, '0.8.0');
    assert.equal(typeof msg.payload.system.ram_total, 'number');
    assert.equal(msg.payload.devices.length, 1);
    assert.deepEqual(Object.keys(msg.payload).sort(), ['devices', 'system']);
    const expected = await direct('/system_stats');
    assert.deepEqual(Object.keys(msg.payload.system).sort(), Object.keys(expected.system).sort());
    assert.equal(msg.payload.system.python_version, expected.system.python_version);
    assert.ok(env.sim.requestLog.some((r) => r.method === 'GET' && r.url === '/system_stats'));
  });

  it('answers object_info for all classes', async function () {
    const { info, out } = await load({ info: 'object_info' });
    const msg = await ask(info, out, {});
    assert.equal(msg.topic, 'object_info');
    assert.deepEqual(msg.payload, await direct('/object_info'));
    assert.ok(msg.payload.KSampler && msg.payload.LoadImage, 'every class by name');
  });

  it('answers the definition of one class from the setting, and of msg.class', async function () {
    const { info, out } = await load({ info: 'object_info', nodeClass: 'KSampler' });
    const first = await ask(info, out, {});
    assert.equal(first.topic, 'object_info/KSampler');
    assert.deepEqual(first.payload, (await direct('/object_info/KSampler')).KSampler);
    assert.equal(first.payload.name, 'KSampler');
    const second = await ask(info, out, { class: 'ImageBlur' });
    assert.equal(second.topic, 'object_info/ImageBlur');
    assert.equal(second.payload.name, 'ImageBlur');
    assert.deepEqual(second.payload.input_order.required, ['image', 'blur_radius', 'sigma']);
  });

  it('reports an unknown class as NOT_FOUND instead of an empty answer', async function () {
    const { info, out } = await load({ info: 'object_info' });
    let sent = false;
    out.on('input', () => {
      sent = true;
    });
    const failed = nextError(info);
    info.receive({ class: 'KSamplerr' });
    const err = await failed;
    assert.equal(err.code, 'NOT_FOUND');
    assert.match(err.message, /no node class "KSamplerr"/);
    assert.ok(
      env.sim.requestLog.some((r) => r.url === '/object_info/KSamplerr'),
      'it did ask ComfyUI',
    );
    assert.deepEqual(lastStatus(info), { fill: 'red', shape: 'ring', text: 'comfyui-info.status.error' });
    assert.equal(sent, false);
  });

  it('lists the model folders, and one folder from the setting or msg.folder', async function () {
    const { info, out } = await load({ info: 'models' });
    const folders = await ask(info, out, {});
    assert.equal(folders.topic, 'models');
    assert.deepEqual(folders.payload, await direct('/models'));
    assert.ok(folders.payload.includes('checkpoints') && folders.payload.includes('loras'));
    const files = await ask(info, out, { folder: 'checkpoints' });
    assert.equal(files.topic, 'models/checkpoints');
    assert.deepEqual(files.payload, await direct('/models/checkpoints'));
    assert.ok(files.payload.includes('v1-5-pruned-emaonly.safetensors'));
  });

  it('uses the folder setting, and msg.info + msg.folder override the settings', async function () {
    const { info, out } = await load({ info: 'system_stats', folder: 'loras' });
    const msg = await ask(info, out, { info: 'models' });
    assert.equal(msg.topic, 'models/loras');
    assert.deepEqual(msg.payload, []);
    assert.ok(env.sim.requestLog.some((r) => r.url === '/models/loras'));
    const other = await ask(info, out, { info: 'models', folder: 'checkpoints' });
    assert.equal(other.topic, 'models/checkpoints');
    assert.equal(other.payload.length, 3);
    // The folder setting and msg.class/msg.folder do not matter for other kinds.
    const stats = await ask(info, out, { class: 42, folder: 7 });
    assert.equal(stats.topic, 'system_stats');
  });

  it('reports an unknown model folder as NOT_FOUND listing the folders', async function () {
    const { info } = await load({ info: 'models', folder: 'checkpoint' });
    const failed = nextError(info);
    info.receive({});
    const err = await failed;
    assert.equal(err.code, 'NOT_FOUND');
    assert.match(err.message, /no model folder "checkpoint"; folders: .*checkpoints.*loras/);
  });

  for (const [kind, route] of [
    ['embeddings', '/embeddings'],
    ['features', '/features'],
    ['extensions', '/extensions'],
  ]) {
    it(`answers ${kind} from ${route}`, async function () {
      const { info, out } = await load({ info: kind });
      const msg = await ask(info, out, {});
      assert.equal(msg.topic, kind);
      assert.deepEqual(msg.payload, await direct(route));
      assert.ok(
        env.sim.requestLog.some((r) => r.method === 'GET' && r.url === route),
        `asked ${route}`,
      );
      assert.deepEqual(lastStatus(info), { fill: 'green', shape: 'dot', text: 'comfyui-info.status.done' });
    });
  }

  it('features shows max_upload_size as the server advertises it', async function () {
    await env.sim.close();
    env.sim = await startSimulator({ testControls: true, maxUploadSize: 12345 });
    const { info, out } = await load({ info: 'features' });
    const msg = await ask(info, out, {});
    assert.equal(msg.payload.max_upload_size, 12345);
  });

  it('refuses an unknown msg.info or a non-string msg.class without asking ComfyUI', async function () {
    const { info } = await load();
    let failed = nextError(info);
    info.receive({ info: 'queue' });
    let err = await failed;
    assert.equal(err.code, 'BAD_INPUT');
    assert.match(
      err.message,
      /msg\.info must be one of system_stats, object_info, models, embeddings, features, extensions; got the string "queue"/,
    );
    failed = nextError(info);
    info.receive({ info: 'object_info', class: 42 });
    err = await failed;
    assert.equal(err.code, 'BAD_INPUT');
    assert.match(err.message, /msg\.class must be a string; got number 42/);
    assert.equal(env.sim.requestLog.filter((r) => r.url.startsWith('/object_info') || r.url === '/queue').length, 0);
  });

  it('reports an HTTP failure with its code', async function () {
    const { info } = await load({ info: 'extensions' });
    env.sim.faults.failRoute('GET', '/extensions', 500, 'boom');
    const failed = nextError(info);
    info.receive({});
    const err = await failed;
    assert.equal(err.code, 'HTTP');
    assert.equal(err.status, 500);
  });
});
