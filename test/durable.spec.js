'use strict';
// Jobs that outlive the node (issue 13 §3): the submit node writes each prompt in flight to a
// context store and picks the records up when it starts. The process-level proof (SIGTERM,
// SIGKILL, localfilesystem) is test/restart.spec.js; these run inside the test helper's runtime.
const assert = require('node:assert/strict');
const { randomUUID } = require('node:crypto');
const { request } = require('undici');
const { helper, allNodes, waitFor, nextMessage, saveImageWorkflow, lastStatus, useSimulator } = require('./support');

const catchNode = require('@node-red/nodes/core/common/25-catch.js');

describe('submit node: prompts in flight kept in a context store and picked up on start', function () {
  const env = useSimulator({ testControls: true, stepMs: 20 });

  function flow(submitProps = {}, withSubmit = true) {
    return [
      { id: 'tab', type: 'tab' },
      { id: 'srv', type: 'comfyui-server', url: env.sim.url, timeout: 5, stall: 1 },
      ...(withSubmit
        ? [{ id: 'sub', z: 'tab', type: 'comfyui-submit', server: 'srv', workflow: '', mode: 'wait', wires: [['out']], ...submitProps }]
        : []),
      { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'out', z: 'tab', type: 'helper' },
      { id: 'caught', z: 'tab', type: 'helper' },
    ];
  }

  const globalOf = () => helper.getNode('out').context().global;
  const recordOf = (promptId) => globalOf().get(`comfyui-job-${promptId}`);
  const records = () =>
    globalOf()
      .keys()
      .filter((key) => key.startsWith('comfyui-job-'));
  const queue = async () => (await request(`${env.sim.url}/queue`)).body.json();

  /** Queues a prompt as an earlier Node-RED process would have, under the config node's client id. */
  async function queueDirectly(promptId, prompt) {
    const body = { prompt, prompt_id: promptId, client_id: helper.getNode('srv').client.clientId };
    const answer = await request(`${env.sim.url}/prompt`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(answer.statusCode, 200);
    await answer.body.dump();
  }

  function record(promptId, prompt, msg) {
    const now = Date.now();
    return {
      promptId,
      node: 'sub',
      server: 'srv',
      prompt,
      msg,
      number: 0,
      nodeErrors: {},
      overrides: {},
      submittedAt: now,
      acceptedAt: now,
    };
  }

  it('keeps a waiting prompt in the store without payload and Buffers, says once what it left out, and drops it once the result was sent', async function () {
    await helper.load([...allNodes, catchNode], flow());
    const sub = helper.getNode('sub');
    env.sim.faults.pauseWorker();
    const cyclic = { name: 'cyclic' };
    cyclic.self = cyclic;
    const sent = nextMessage(helper.getNode('out'), 10000);
    sub.receive({
      payload: saveImageWorkflow(),
      topic: 'kept',
      meta: { n: 1, bytes: Buffer.from('abc') },
      req: cyclic,
      big: 'x'.repeat(300000),
    });
    await waitFor(() => records().length === 1, 'a record in the store');
    const kept = globalOf().get(records()[0]);
    assert.equal(kept.node, 'sub');
    assert.equal(kept.server, 'srv');
    assert.equal(kept.msg.topic, 'kept');
    assert.deepEqual(kept.msg.meta, { n: 1 });
    assert.equal('payload' in kept.msg, false);
    assert.equal('req' in kept.msg, false);
    assert.equal('big' in kept.msg, false);
    assert.deepEqual(Object.keys(kept.prompt).sort(), ['1', '2']);
    const warnings = sub.warn
      .getCalls()
      .filter((call) => call.thisValue === sub)
      .map((call) => String(call.args[0]));
    assert.equal(warnings.length, 1, warnings.join('\n'));
    assert.match(warnings[0], /msg\.req \(not JSON\)/);
    assert.match(warnings[0], /Buffers in msg\.meta/);
    assert.match(warnings[0], /msg\.big \(too large\)/);
    env.sim.faults.resumeWorker();
    const msg = await sent;
    assert.equal(msg.recovered, undefined);
    await waitFor(() => records().length === 0, 'the record dropped after the result');
  });

  it('on start: a finished prompt is sent with msg.recovered, a pending one is followed to its end, an unknown one fails LOST to a Catch node; each once', async function () {
    await helper.load([...allNodes, catchNode], flow());
    const got = [];
    helper.getNode('out').on('input', (msg) => got.push(msg));
    const finished = randomUUID();
    const pending = randomUUID();
    const unknown = randomUUID();
    await queueDirectly(finished, saveImageWorkflow({ prefix: 'finished' }));
    await waitFor(
      async () => Object.keys(await (await request(`${env.sim.url}/history/${finished}`)).body.json()).length === 1,
      'finished in history',
    );
    env.sim.faults.pauseWorker();
    await queueDirectly(pending, saveImageWorkflow({ prefix: 'pending' }));
    globalOf().set(
      `comfyui-job-${finished}`,
      record(finished, saveImageWorkflow({ prefix: 'finished' }), { topic: 'was finished', _msgid: 'm1' }),
    );
    globalOf().set(`comfyui-job-${pending}`, record(pending, saveImageWorkflow({ prefix: 'pending' }), { topic: 'was pending' }));
    globalOf().set(`comfyui-job-${unknown}`, record(unknown, saveImageWorkflow(), { topic: 'never queued' }));
    // A record of another submit node is not this one's to report.
    globalOf().set(`comfyui-job-${randomUUID()}`, { ...record(randomUUID(), saveImageWorkflow(), {}), node: 'other' });

    // The submit node starts again (a redeploy here; a restart in restart.spec.js).
    await helper.setFlows(flow({ name: 'started again' }), 'nodes');
    const lost = await nextMessage(helper.getNode('caught'), 10000);
    assert.equal(lost.error.code, 'LOST');
    assert.equal(lost.prompt_id, unknown);
    assert.equal(lost.topic, 'never queued');
    assert.equal(lost.recovered, true);
    await waitFor(() => got.length === 1, 'the finished prompt sent');
    assert.equal(got[0].prompt_id, finished);
    assert.equal(got[0].recovered, true);
    assert.equal(got[0].topic, 'was finished');
    assert.match(got[0].payload.images[0].filename, /^finished_/);
    assert.equal(got[0].payload.status, 'success');

    env.sim.faults.resumeWorker();
    await waitFor(() => got.length === 2, 'the pending prompt followed to its end', 10000);
    assert.equal(got[1].prompt_id, pending);
    assert.equal(got[1].topic, 'was pending');
    assert.match(got[1].payload.images[0].filename, /^pending_/);
    assert.equal(lastStatus(helper.getNode('sub')).text, 'comfyui-submit.status.done');
    await waitFor(() => records().length === 1, "only the other node's record is left");

    // Started once more, and a new prompt through it: nothing of the three comes again.
    await helper.setFlows(flow({ name: 'started once more' }), 'nodes');
    helper.getNode('sub').receive({ payload: saveImageWorkflow({ prefix: 'fresh' }), topic: 'fresh' });
    await waitFor(() => got.some((msg) => msg.topic === 'fresh'), 'the fresh result', 10000);
    assert.deepEqual(
      got.map((msg) => msg.topic),
      ['was finished', 'was pending', 'fresh'],
    );
  });

  it('a removed node cancels its waiting prompts with "On stop: cancel", and leaves them queued by default; its records go either way', async function () {
    for (const onStop of ['cancel', 'leave']) {
      await helper.load([...allNodes, catchNode], flow({ onStop }));
      env.sim.faults.pauseWorker();
      helper.getNode('sub').receive({ payload: saveImageWorkflow() });
      await waitFor(() => records().length === 1, 'the record');
      const [key] = records();
      assert.equal((await queue()).queue_pending.length, 1);
      await helper.setFlows(flow({}, false), 'nodes');
      assert.equal((await queue()).queue_pending.length, onStop === 'cancel' ? 0 : 1, onStop);
      assert.equal(recordOf(key.slice('comfyui-job-'.length)), undefined);
      await helper.unload();
      await helper._context.delete('global');
      env.sim.faults.resumeWorker();
      await waitFor(async () => (await queue()).queue_pending.length === 0, 'the queue drained');
    }
  });
});
