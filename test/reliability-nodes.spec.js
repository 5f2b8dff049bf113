'use strict';
// Node-level reliability: redeploys mid-run, timeouts, and the config node going away.
const assert = require('node:assert/strict');
const { request } = require('undici');
const {
  helper,
  allNodes,
  waitFor,
  nextMessage,
  nextError,
  textToImageWorkflow,
  statusesOf,
  lastStatus,
  useSimulator,
} = require('./support');

describe('submit node under redeploys and timeouts', function () {
  const env = useSimulator({ testControls: true, stepMs: 25 });

  function flow(submitProps = {}, serverProps = {}) {
    return [
      { id: 'srv', type: 'comfyui-server', url: env.sim.url, timeout: 5, ...serverProps },
      { id: 'sub', type: 'comfyui-submit', server: 'srv', workflow: '', mode: 'wait', wires: [['out']], ...submitProps },
      { id: 'out', type: 'helper' },
    ];
  }

  const running = (node) => statusesOf(node).some((s) => /KSampler/.test(s.text || ''));

  it('delivers the result to the redeployed node when the submit node is redeployed mid-run', async function () {
    await helper.load(allNodes, flow());
    const first = helper.getNode('sub');
    first.receive({ payload: textToImageWorkflow({ steps: 40 }), topic: 'survives' });
    await waitFor(() => running(first), 'the prompt running');
    await helper.setFlows(flow({ name: 'renamed while running' }), 'nodes');
    const second = helper.getNode('sub');
    assert.notEqual(second, first, 'the submit node was replaced');
    const msg = await nextMessage(helper.getNode('out'), 10000);
    assert.equal(msg.topic, 'survives');
    assert.match(msg.payload.images[0].filename, /^t2i_/);
    assert.equal(lastStatus(second).text, 'comfyui-submit.status.done');
    assert.equal(env.sim.connectionLog.length, 1, 'the shared socket stayed up');
  });

  it('reports a failure to the redeployed node (its Catch nodes, its status) when the submit node is redeployed mid-run', async function () {
    await helper.load(allNodes, flow());
    const first = helper.getNode('sub');
    first.receive({ payload: textToImageWorkflow({ steps: 40 }), topic: 'fails later' });
    await waitFor(() => running(first), 'the prompt running');
    await helper.setFlows(flow({ name: 'renamed while running' }), 'nodes');
    const second = helper.getNode('sub');
    assert.notEqual(second, first, 'the submit node was replaced');
    const failed = nextError(second, 10000);
    await request(`${env.sim.url}/interrupt`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    const err = await failed;
    assert.equal(err.code, 'INTERRUPTED');
    assert.deepEqual(lastStatus(second), { fill: 'red', shape: 'ring', text: 'comfyui-submit.status.error' });
  });

  it("fails with TIMEOUT after the node's timeout and interrupts the prompt when asked", async function () {
    await helper.load(allNodes, flow({ timeout: '0.4', cancelOnTimeout: true }));
    const sub = helper.getNode('sub');
    const failed = nextError(sub);
    sub.receive({ payload: textToImageWorkflow({ steps: 400 }) });
    const err = await failed;
    assert.equal(err.code, 'TIMEOUT');
    assert.match(err.message, /did not finish within 400 ms/);
    await waitFor(async () => {
      const res = await request(`${env.sim.url}/history/${err.promptId}`);
      const entry = (await res.body.json())[err.promptId];
      return entry && entry.status.messages.some(([type]) => type === 'execution_interrupted');
    }, 'the prompt interrupted on the server');
  });

  it('fails with TIMEOUT when the prompt waits in the queue too long, and dequeues it', async function () {
    await helper.load(allNodes, flow({ queueTimeout: '0.3', cancelOnTimeout: true }));
    env.sim.faults.pauseWorker();
    const sub = helper.getNode('sub');
    const failed = nextError(sub);
    sub.receive({ payload: textToImageWorkflow({ steps: 2 }) });
    const err = await failed;
    assert.equal(err.code, 'TIMEOUT');
    assert.match(err.message, /waited in ComfyUI's queue/);
    await waitFor(async () => (await (await request(`${env.sim.url}/queue`)).body.json()).queue_pending.length === 0, 'dequeued');
    env.sim.faults.resumeWorker();
  });

  it('hands a waiting prompt over to the new nodes when its server configuration is redeployed: one result, msg.recovered', async function () {
    await helper.load(allNodes, flow());
    const first = helper.getNode('sub');
    const clientId = helper.getNode('srv').client.clientId;
    first.receive({ payload: textToImageWorkflow({ steps: 60 }), topic: 'handed over' });
    await waitFor(() => running(first), 'the prompt running');
    // The config node stops while the flow is being replaced: the old node reports nothing, its record stays in the store.
    first.error.resetHistory();
    await helper.setFlows(flow({}, { timeout: 6 }), 'nodes');
    const second = helper.getNode('sub');
    assert.notEqual(second, first, 'the submit node was replaced');
    assert.equal(helper.getNode('srv').client.clientId, clientId, 'the client id is kept in the store');
    const msg = await nextMessage(helper.getNode('out'), 15000);
    assert.equal(msg.topic, 'handed over');
    assert.equal(msg.recovered, true);
    assert.match(msg.payload.images[0].filename, /^t2i_/);
    assert.equal(first.error.getCalls().filter((call) => call.thisValue === first).length, 0, 'the old node reported no CLOSED');
    await waitFor(() => env.sim.openSocketCount() === 1, "one socket again (the new config's)", 3000);
  });
});
