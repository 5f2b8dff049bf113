'use strict';
// The settings a msg may override are TypedInputs: typed in, or read for every msg from a msg
// property, flow or global context, an environment variable or JSONata. A fixed msg property
// (msg.action, …) wins over a typed-in value; a source the user picked wins over it. Everything
// runs against the simulator over real sockets.
const assert = require('node:assert/strict');
const { request } = require('undici');
const { helper, allNodes, nextMessage, nextError, lastStatus, saveImageWorkflow, useSimulator, isPng, makePng } = require('./support');

const PIXEL = makePng(1, 1);

describe('TypedInput settings (msg, flow, global, env, JSONata)', function () {
  const env = useSimulator({ testControls: true, stepMs: 5 });
  const setEnv = {};

  afterEach(() => {
    for (const name of Object.keys(setEnv)) {
      delete process.env[name];
      delete setEnv[name];
    }
  });

  function putEnv(name, value) {
    process.env[name] = value;
    setEnv[name] = true;
  }

  /** Loads one node of `type` with `settings`, wired to a helper; returns both. */
  async function load(type, settings) {
    // On a tab, so the nodes have flow context.
    const flow = [
      { id: 'tab', type: 'tab', label: 'typed settings' },
      { id: 'srv', type: 'comfyui-server', url: env.sim.url, timeout: 5 },
      { id: 'n', z: 'tab', type, server: 'srv', ...settings, wires: [['out']] },
      { id: 'out', z: 'tab', type: 'helper' },
    ];
    await helper.load(allNodes, flow);
    return { node: helper.getNode('n'), out: helper.getNode('out') };
  }

  /** The msg the node sends for `msg`; its error instead fails the test with the node's words. */
  async function run(node, out, msg) {
    const got = nextMessage(out);
    const failed = nextError(node).then((err) => {
      throw new Error(`the node failed: ${err.message}`);
    });
    failed.catch(() => undefined);
    node.receive(msg);
    return Promise.race([got, failed]);
  }

  async function fails(node, msg) {
    const failed = nextError(node);
    node.receive(msg);
    return failed;
  }

  /** Finished prompts in the simulator's history, oldest first. */
  async function historyIds() {
    const res = await request(`${env.sim.url}/history`);
    return Object.keys(await res.body.json());
  }

  async function submitThree() {
    const ids = [];
    for (let i = 0; i < 3; i++) {
      const res = await request(`${env.sim.url}/prompt`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ prompt: saveImageWorkflow({ width: 8, height: 8, prefix: `t${i}` }) }),
      });
      ids.push((await res.body.json()).prompt_id);
    }
    for (let i = 0; i < 100 && (await historyIds()).length < 3; i++) await new Promise((resolve) => setTimeout(resolve, 20));
    return ids;
  }

  describe('queue: Action', function () {
    it('reads the action from flow context for each msg; the picked source beats msg.action', async function () {
      const { node, out } = await load('comfyui-queue', { action: 'queueAction', actionType: 'flow' });
      node.context().flow.set('queueAction', 'delete');
      const deleted = await run(node, out, { payload: ['not-there'], action: 'get' });
      assert.deepEqual(deleted.payload.ignored, ['not-there'], 'delete ran, msg.action was ignored');
      node.context().flow.set('queueAction', 'get');
      const got = await run(node, out, { payload: ['not-there'] });
      assert.equal('ignored' in got.payload, false, 'get ran');
    });

    it('reads it from an environment variable and from JSONata; nothing there means get', async function () {
      putEnv('COMFYUI_TEST_QUEUE_ACTION', 'clear');
      let { node, out } = await load('comfyui-queue', { action: 'COMFYUI_TEST_QUEUE_ACTION', actionType: 'env' });
      assert.equal(typeof (await run(node, out, {})).payload.queue_remaining, 'number');
      assert.ok(
        env.sim.requestLog.some((r) => r.method === 'POST' && r.url === '/queue'),
        'clear posted to /queue',
      );

      await helper.unload();
      ({ node, out } = await load('comfyui-queue', { action: 'payload = "x" ? "delete" : "get"', actionType: 'jsonata' }));
      assert.deepEqual((await run(node, out, { payload: 'x' })).payload.ignored, ['x']);
      assert.equal('ignored' in (await run(node, out, { payload: 'y' })).payload, false);

      await helper.unload();
      ({ node, out } = await load('comfyui-queue', { action: 'missing', actionType: 'flow' }));
      assert.equal('ignored' in (await run(node, out, { payload: 'x' })).payload, false, 'unset flow variable: get');
    });

    it('a typed-in action still gives way to msg.action (flows from before the types)', async function () {
      const { node, out } = await load('comfyui-queue', { action: 'get', actionType: 'action' });
      assert.deepEqual((await run(node, out, { action: 'delete', payload: 'abc' })).payload.ignored, ['abc']);
    });

    it('names the source of a wrong value, and sends nothing', async function () {
      putEnv('COMFYUI_TEST_QUEUE_ACTION', 'purge');
      const { node } = await load('comfyui-queue', { action: 'COMFYUI_TEST_QUEUE_ACTION', actionType: 'env' });
      const before = env.sim.requestLog.length;
      const err = await fails(node, {});
      assert.equal(err.code, 'BAD_INPUT');
      assert.equal(
        err.message,
        'Action (environment variable COMFYUI_TEST_QUEUE_ACTION) must be one of get, clear, delete; got the string "purge"',
      );
      assert.equal(env.sim.requestLog.length, before, 'nothing asked of ComfyUI');
      assert.deepEqual(lastStatus(node), { fill: 'red', shape: 'ring', text: 'comfyui-queue.status.error' });
    });

    it('a JSONata expression that cannot run is BAD_INPUT "could not be read"', async function () {
      const { node } = await load('comfyui-queue', { action: '$notAFunction(payload)', actionType: 'jsonata' });
      const err = await fails(node, { payload: 1 });
      assert.equal(err.code, 'BAD_INPUT');
      assert.match(err.message, /^Action \(JSONata \$notAFunction\(payload\)\) could not be read: /);
    });
  });

  describe('history: Max items, Offset, Prompt id', function () {
    it('reads max items and offset from msg properties and global context', async function () {
      const ids = await submitThree();
      const { node, out } = await load('comfyui-history', {
        action: 'get',
        maxItems: 'page.size',
        maxItemsType: 'msg',
        offset: 'historyOffset',
        offsetType: 'global',
        promptId: 'prompt_id',
        promptIdType: 'msg',
      });
      node.context().global.set('historyOffset', 1);
      const page = await run(node, out, { page: { size: 1 } });
      assert.equal(page.payload.length, 1);
      assert.ok(ids.includes(page.payload[0].prompt_id));
      assert.ok(
        env.sim.requestLog.some((r) => r.url === '/history?max_items=1&offset=1'),
        'asked /history?max_items=1&offset=1',
      );
    });

    it('reads the prompt id from flow context, or takes a typed-in one', async function () {
      const [first] = await submitThree();
      let { node, out } = await load('comfyui-history', { action: 'get', promptId: 'wanted', promptIdType: 'flow' });
      node.context().flow.set('wanted', first);
      const one = await run(node, out, { prompt_id: 'ignored-when-flow-is-picked' });
      assert.equal(one.payload.prompt_id, first);

      await helper.unload();
      ({ node, out } = await load('comfyui-history', { action: 'get', promptId: first, promptIdType: 'str' }));
      assert.equal((await run(node, out, {})).payload.prompt_id, first);
    });

    it('flows saved before Prompt id existed read msg.prompt_id', async function () {
      const [first] = await submitThree();
      const { node, out } = await load('comfyui-history', { action: 'get', maxItems: '', offset: '' });
      assert.equal((await run(node, out, { prompt_id: first })).payload.prompt_id, first);
    });

    it('a max items source giving text that is not a count is BAD_INPUT naming it', async function () {
      putEnv('COMFYUI_TEST_MAX', 'ten');
      const { node } = await load('comfyui-history', { action: 'get', maxItems: 'COMFYUI_TEST_MAX', maxItemsType: 'env' });
      const err = await fails(node, {});
      assert.equal(err.code, 'BAD_INPUT');
      assert.equal(
        err.message,
        'Max items (environment variable COMFYUI_TEST_MAX) must be a whole number of 0 or more; got the string "ten"',
      );
    });

    it('a msg source names the msg property in its error', async function () {
      const { node } = await load('comfyui-history', { action: 'get', promptId: 'job.id', promptIdType: 'msg' });
      const err = await fails(node, { job: { id: 12 } });
      assert.equal(err.message, 'msg.job.id must be a prompt id (a string); got number 12');
    });
  });

  describe('interrupt: Prompt id', function () {
    it('reads the prompt id from another msg property; empty means whatever runs', async function () {
      const { node, out } = await load('comfyui-interrupt', { promptId: 'job.id', promptIdType: 'msg' });
      const unknown = await run(node, out, { job: { id: 'no-such-prompt' }, prompt_id: 'ignored' });
      assert.deepEqual(unknown.payload, { outcome: 'unknown', prompt_id: 'no-such-prompt' });
      const idle = await run(node, out, {});
      assert.equal(idle.payload.prompt_id, null, 'no id: a global interrupt');
    });
  });

  describe('info: Ask for, Node class, Folder', function () {
    it('reads the kind and the class from JSONata and msg; the source beats msg.info', async function () {
      const { node, out } = await load('comfyui-info', {
        info: '"object_info"',
        infoType: 'jsonata',
        nodeClass: 'wanted',
        nodeClassType: 'msg',
        folder: '',
        folderType: 'str',
      });
      const msg = await run(node, out, { wanted: 'KSampler', info: 'system_stats' });
      assert.equal(msg.topic, 'object_info/KSampler');
      assert.ok(msg.payload.input.required.seed, 'the KSampler definition');
    });

    it('reads the model folder from global context', async function () {
      const { node, out } = await load('comfyui-info', { info: 'models', infoType: 'info', folder: 'modelFolder', folderType: 'global' });
      node.context().global.set('modelFolder', 'checkpoints');
      const msg = await run(node, out, {});
      assert.equal(msg.topic, 'models/checkpoints');
      assert.ok(Array.isArray(msg.payload));
    });
  });

  describe('upload: Folder, Subfolder, File name, Overwrite, Original', function () {
    it('reads every setting from its source', async function () {
      putEnv('COMFYUI_TEST_FOLDER', 'temp');
      putEnv('COMFYUI_TEST_OVERWRITE', 'true');
      const { node, out } = await load('comfyui-upload', {
        kind: 'image',
        target: '',
        targetInput: 'image',
        folder: 'COMFYUI_TEST_FOLDER',
        folderType: 'env',
        subfolder: 'where',
        subfolderType: 'flow',
        filename: '"shot-" & name & ".png"',
        filenameType: 'jsonata',
        overwrite: 'COMFYUI_TEST_OVERWRITE',
        overwriteType: 'env',
        original: '',
        originalType: 'str',
      });
      node.context().flow.set('where', 'cams');
      const first = await run(node, out, { payload: PIXEL, name: 'door', type: 'output', subfolder: 'ignored' });
      assert.deepEqual(first.payload, { name: 'shot-door.png', subfolder: 'cams', type: 'temp' });
      const again = await run(node, out, { payload: PIXEL, name: 'door' });
      assert.equal(again.payload.name, 'shot-door.png', 'overwritten, not renamed');
    });

    it('a mask reads its original image as an object from a msg property', async function () {
      const up = await load('comfyui-upload', { kind: 'image', folder: 'input', filename: 'base.png', target: '', targetInput: 'image' });
      const base = (await run(up.node, up.out, { payload: PIXEL })).payload;
      await helper.unload();
      const { node, out } = await load('comfyui-upload', {
        kind: 'mask',
        folder: 'input',
        filename: 'mask.png',
        target: '',
        targetInput: 'image',
        original: 'photo',
        originalType: 'msg',
      });
      const mask = await run(node, out, { payload: PIXEL, photo: base });
      assert.equal(mask.payload.type, 'input');
      assert.ok(env.sim.requestLog.some((r) => r.url === '/upload/mask'));
      const view = await request(`${env.sim.url}/view?filename=${encodeURIComponent(mask.payload.name)}&type=input`);
      assert.ok(isPng(Buffer.from(await view.body.arrayBuffer())));
    });

    it('a boolean source giving something else is BAD_INPUT, nothing uploaded', async function () {
      const { node } = await load('comfyui-upload', {
        kind: 'image',
        folder: 'input',
        filename: 'x.png',
        target: '',
        targetInput: 'image',
        overwrite: 'force',
        overwriteType: 'msg',
      });
      const err = await fails(node, { payload: PIXEL, force: 'yes' });
      assert.equal(err.message, 'msg.force must be true or false; got the string "yes"');
      assert.equal(env.sim.requestLog.filter((r) => r.url.startsWith('/upload')).length, 0);
    });
  });

  describe('free: Unload models, Free memory', function () {
    it('reads each flag from its source; a picked source beats msg.payload; nothing there is false', async function () {
      const { node, out } = await load('comfyui-free', {
        unloadModels: 'unload',
        unloadModelsType: 'flow',
        freeMemory: 'payload.deep',
        freeMemoryType: 'msg',
      });
      node.context().flow.set('unload', true);
      assert.deepEqual((await run(node, out, { payload: { deep: true, unload_models: false } })).payload, {
        unload_models: true,
        free_memory: true,
      });
      node.context().flow.set('unload', undefined);
      assert.deepEqual((await run(node, out, { payload: {} })).payload, { unload_models: false, free_memory: false });
    });

    it('typed-in flags (booleans in older flows, "true"/"false" from the editor) still give way to msg.payload', async function () {
      const { node, out } = await load('comfyui-free', { unloadModels: 'false', unloadModelsType: 'bool', freeMemory: true });
      assert.deepEqual((await run(node, out, {})).payload, { unload_models: false, free_memory: true });
      assert.deepEqual((await run(node, out, { payload: { unload_models: true } })).payload, { unload_models: true, free_memory: true });
    });
  });

  describe('submit: Previews', function () {
    it('asks ComfyUI for the preview method a msg property names', async function () {
      const { node, out } = await load('comfyui-submit', {
        workflow: JSON.stringify(saveImageWorkflow({ width: 8, height: 8 })),
        mode: 'wait',
        previews: 'dashboard.previews',
        previewsType: 'msg',
      });
      const done = await run(node, out, { dashboard: { previews: 'taesd' } });
      const res = await request(`${env.sim.url}/history/${done.prompt_id}`);
      const entry = (await res.body.json())[done.prompt_id];
      assert.equal(entry.prompt[3].preview_method, 'taesd');
    });
  });
});
