'use strict';
const assert = require('node:assert/strict');
const { helper, allNodes, waitFor, nextError, nextMessage, saveImageWorkflow, statusesOf, useSimulator } = require('./support');

const CONNECTED = 'node-red:common.status.connected';
const DISCONNECTED = 'node-red:common.status.disconnected';

function statusTexts(node) {
  return statusesOf(node).map((status) => status.text);
}

describe('comfyui-server (config node, one shared WebSocket)', function () {
  const env = useSimulator({ testControls: true });

  const server = (url) => ({ id: 'srv', type: 'comfyui-server', name: 'sim', url, timeout: 5 });
  const submit = (id) => ({ id, type: 'comfyui-submit', server: 'srv', workflow: '', mode: 'wait', wires: [[]] });
  const images = (id) => ({ id, type: 'comfyui-images', server: 'srv', output: 'buffer', wires: [[]] });

  it('connects lazily: no socket until a node uses the config', async function () {
    await helper.load(allNodes, [server(env.sim.url)]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(env.sim.openSocketCount(), 0);
    assert.equal(env.sim.connectionLog.length, 0);
    await helper.unload();
    await helper.load(allNodes, [server(env.sim.url), submit('s1')]);
    await waitFor(() => env.sim.openSocketCount() === 1, 'the first socket');
  });

  it('opens exactly one socket for several user nodes and fans the status out to all of them', async function () {
    await helper.load(allNodes, [server(env.sim.url), submit('s1'), submit('s2'), submit('s3'), images('i1'), images('i2')]);
    const users = ['s1', 's2', 's3', 'i1', 'i2'].map((id) => helper.getNode(id));
    await waitFor(() => users.every((node) => statusTexts(node).includes(CONNECTED)), 'connected status on every user');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(env.sim.openSocketCount(), 1);
    assert.equal(env.sim.connectionLog.length, 1);
    const upgrade = env.sim.connectionLog[0];
    assert.match(upgrade.url, /\/ws\?clientId=node-red-srv-[0-9a-f]{8}$/);
    assert.equal(upgrade.headers.origin, undefined, 'no Origin header may be sent (ComfyUI answers a mismatched one with 403)');
  });

  it('reconnects with the same clientId after the server drops the socket, and says so on every user', async function () {
    await helper.load(allNodes, [
      server(env.sim.url),
      { ...submit('s1'), wires: [['sink']] },
      { id: 'sink', type: 'helper' },
      images('i1'),
    ]);
    const users = [helper.getNode('s1'), helper.getNode('i1')];
    await waitFor(() => env.sim.openSocketCount() === 1, 'the first socket');
    await waitFor(() => users.every((node) => statusTexts(node).includes(CONNECTED)), 'connected');
    const before = users.map((node) => statusTexts(node).length);
    env.sim.faults.dropSockets();
    await waitFor(
      () => users.every((node, i) => statusTexts(node).slice(before[i]).includes(DISCONNECTED)),
      'disconnected status on every user',
    );
    await waitFor(() => env.sim.connectionLog.length === 2 && env.sim.openSocketCount() === 1, 'a second connection', 8000);
    await waitFor(() => users.every((node) => statusTexts(node).slice(-1)[0] === CONNECTED), 'connected again');
    assert.equal(env.sim.connectionLog[1].url, env.sim.connectionLog[0].url, 'the clientId stays stable');
    // The new socket is not deaf: a prompt submitted now completes.
    const out = nextMessage(helper.getNode('sink'));
    helper.getNode('s1').receive({ payload: saveImageWorkflow({ prefix: 'after-drop' }) });
    assert.match((await out).payload.images[0].filename, /^after-drop_/);
  });

  it('keeps the socket of the others when one user is redeployed', async function () {
    const flow = [server(env.sim.url), submit('s1'), submit('s2')];
    await helper.load(allNodes, flow);
    await waitFor(() => env.sim.openSocketCount() === 1, 'the socket');
    // A "modified nodes" deploy restarts only s2.
    const changed = flow.map((node) => (node.id === 's2' ? { ...node, name: 'renamed' } : node));
    await helper.setFlows(changed, 'nodes');
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(env.sim.connectionLog.length, 1, 'no new connection');
    assert.equal(env.sim.openSocketCount(), 1);
  });

  it('leaves zero open sockets on the server after unload', async function () {
    await helper.load(allNodes, [server(env.sim.url), submit('s1'), submit('s2'), images('i1')]);
    await waitFor(() => env.sim.openSocketCount() === 1, 'the socket');
    await helper.unload();
    await waitFor(() => env.sim.openSocketCount() === 0, 'every socket closed', 2500);
  });

  for (const bad of ['ftp://127.0.0.1:8188', 'http://', 'not a url']) {
    it(`rejects the invalid URL "${bad}" at deploy without crashing, with a red status on its users`, async function () {
      await helper.load(allNodes, [server(bad), submit('s1')]);
      const s1 = helper.getNode('s1');
      await waitFor(() => statusTexts(s1).some((text) => /comfyui-server\.status\.invalid-url$/.test(text)), 'invalid-url status');
      const errorSeen = nextError(s1);
      s1.receive({ payload: saveImageWorkflow() });
      const err = await errorSeen;
      assert.equal(err.code, 'INVALID_URL');
      assert.match(err.message, /Invalid ComfyUI URL/);
      assert.equal(env.sim.connectionLog.length, 0);
    });
  }
});
