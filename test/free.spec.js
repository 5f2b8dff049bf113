'use strict';
const assert = require('node:assert/strict');
const { helper, allNodes, nextMessage, nextError, saveImageWorkflow, lastStatus, useSimulator } = require('./support');

describe('comfyui-free', function () {
  const env = useSimulator({ testControls: true });

  async function load(freeProps = {}) {
    const flow = [
      { id: 'srv', type: 'comfyui-server', url: env.sim.url, timeout: 5 },
      { id: 'sub', type: 'comfyui-submit', server: 'srv', workflow: '', mode: 'wait', randomizeSeeds: false, wires: [['subOut']] },
      { id: 'subOut', type: 'helper' },
      { id: 'free', type: 'comfyui-free', server: 'srv', unloadModels: true, freeMemory: false, wires: [['out']], ...freeProps },
      { id: 'out', type: 'helper' },
    ];
    await helper.load(allNodes, flow);
    return { sub: helper.getNode('sub'), subOut: helper.getNode('subOut'), free: helper.getNode('free'), out: helper.getNode('out') };
  }

  async function run(node, out, msg) {
    const got = nextMessage(out);
    node.receive(msg);
    return got;
  }

  function freeRequests() {
    return env.sim.requestLog.filter((r) => r.method === 'POST' && r.url === '/free');
  }

  it('sends the two flags as a JSON body and passes the msg on with the request as sent', async function () {
    const { free, out } = await load({ unloadModels: true, freeMemory: false });
    const msg = await run(free, out, { payload: 1712345678, topic: 'keep-me' });
    assert.equal(msg.topic, 'keep-me', 'the input msg travels on');
    assert.deepEqual(msg.payload, { unload_models: true, free_memory: false });
    assert.equal(freeRequests().length, 1);
    assert.equal(freeRequests()[0].headers['content-type'], 'application/json');
    assert.equal(lastStatus(free).text, 'comfyui-free.status.done');
  });

  it('lets msg.payload.unload_models and msg.payload.free_memory override the typed-in flags, each on its own', async function () {
    const { free, out } = await load({ unloadModels: false, freeMemory: false });
    assert.deepEqual((await run(free, out, { payload: { free_memory: true } })).payload, { unload_models: false, free_memory: true });
    assert.deepEqual((await run(free, out, { payload: { unload_models: true } })).payload, { unload_models: true, free_memory: false });
    assert.deepEqual((await run(free, out, { payload: { unload_models: true, free_memory: true } })).payload, {
      unload_models: true,
      free_memory: true,
    });
    assert.deepEqual((await run(free, out, { payload: {} })).payload, { unload_models: false, free_memory: false });
    assert.equal(lastStatus(free).text, 'comfyui-free.status.nothing');
    assert.equal(freeRequests().length, 4, 'a request is sent every time, even with both flags off');
  });

  it('after free_memory an identical prompt runs again (not cached); after unload_models alone it stays cached', async function () {
    const { sub, subOut, free, out } = await load({ unloadModels: true, freeMemory: false });
    const workflow = saveImageWorkflow({ prefix: 'cache' });
    assert.equal((await run(sub, subOut, { payload: workflow })).payload.cached, false);
    assert.equal((await run(sub, subOut, { payload: workflow })).payload.cached, true, 'a rerun is cached');

    assert.deepEqual((await run(free, out, {})).payload, { unload_models: true, free_memory: false });
    assert.equal((await run(sub, subOut, { payload: workflow })).payload.cached, true, 'unloading models keeps the node cache');

    assert.deepEqual((await run(free, out, { payload: { free_memory: true } })).payload, { unload_models: true, free_memory: true });
    const fresh = (await run(sub, subOut, { payload: workflow })).payload;
    assert.equal(fresh.cached, false, 'free_memory cleared the node cache');
    assert.deepEqual(fresh.cachedNodes, []);
  });

  for (const [what, value, expected] of [
    ['a string', 'yes', /msg\.payload\.free_memory must be true or false; got the string "yes"/],
    ['a number', 1, /msg\.payload\.free_memory must be true or false; got number/],
    ['an object', {}, /msg\.payload\.free_memory must be true or false; got an object/],
  ]) {
    it(`rejects a free_memory that is ${what} with BAD_INPUT and sends nothing`, async function () {
      const { free } = await load();
      const failed = nextError(free);
      free.receive({ payload: { free_memory: value } });
      const err = await failed;
      assert.equal(err.code, 'BAD_INPUT');
      assert.match(err.message, expected);
      assert.equal(freeRequests().length, 0);
      assert.equal(lastStatus(free).text, 'comfyui-free.status.error');
    });
  }

  it('reports an HTTP failure of /free to Catch nodes with a red ring', async function () {
    const { free } = await load();
    env.sim.faults.failRoute('POST', '/free', 500, 'boom');
    const failed = nextError(free);
    free.receive({});
    const err = await failed;
    assert.equal(err.code, 'HTTP');
    assert.equal(err.status, 500);
    assert.deepEqual(lastStatus(free), { fill: 'red', shape: 'ring', text: 'comfyui-free.status.error' });
  });
});
