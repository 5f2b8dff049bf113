'use strict';
const assert = require('node:assert/strict');
const { randomUUID } = require('node:crypto');
const { request } = require('undici');
const { helper, allNodes, waitFor, nextMessage, nextError, saveImageWorkflow, lastStatus, useSimulator } = require('./support');

/** EmptyImage → ImageBlur → SaveImage: the blur is slow in these tests, so the prompt stays running. */
function blurWorkflow(prefix) {
  return {
    1: { class_type: 'EmptyImage', inputs: { width: 16, height: 16, batch_size: 1, color: 0 } },
    2: { class_type: 'ImageBlur', inputs: { image: ['1', 0], blur_radius: 1, sigma: 1 } },
    3: { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: prefix } },
  };
}

describe('comfyui-interrupt', function () {
  const env = useSimulator({ testControls: true, nodeMsByClass: { ImageBlur: 800 } });

  async function load() {
    const flow = [
      { id: 'srv', type: 'comfyui-server', url: env.sim.url, timeout: 5 },
      { id: 'sub', type: 'comfyui-submit', server: 'srv', workflow: '', mode: 'wait', randomizeSeeds: false, wires: [['subOut']] },
      { id: 'subOut', type: 'helper' },
      { id: 'intr', type: 'comfyui-interrupt', server: 'srv', wires: [['out']] },
      { id: 'out', type: 'helper' },
    ];
    await helper.load(allNodes, flow);
    return { sub: helper.getNode('sub'), subOut: helper.getNode('subOut'), intr: helper.getNode('intr'), out: helper.getNode('out') };
  }

  async function rawQueue() {
    const res = await request(`${env.sim.url}/queue`);
    return res.body.json();
  }

  async function rawHistory(promptId) {
    const res = await request(`${env.sim.url}/history/${promptId}`);
    return (await res.body.json())[promptId];
  }

  /** Submits a slow prompt through the submit node and resolves with its id once it runs. */
  async function runningPrompt(sub, prefix = 'slow') {
    sub.receive({ payload: blurWorkflow(prefix) });
    const item = await waitFor(async () => (await rawQueue()).queue_running[0], 'the prompt running');
    return item[1];
  }

  it('interrupts whatever runs without msg.prompt_id; the waiting submit node fails with INTERRUPTED', async function () {
    const { sub, intr, out } = await load();
    const promptId = await runningPrompt(sub);
    const subFailed = nextError(sub);
    const got = nextMessage(out);
    intr.receive({ topic: 'keep-me' });
    const msg = await got;
    assert.equal(msg.topic, 'keep-me', 'the input msg travels on');
    assert.deepEqual(msg.payload, { outcome: 'interrupted', prompt_id: promptId });
    assert.equal(lastStatus(intr).text, 'comfyui-interrupt.status.interrupted');
    const err = await subFailed;
    assert.equal(err.code, 'INTERRUPTED');
    assert.equal(err.promptId, promptId);
    const entry = await rawHistory(promptId);
    assert.equal(entry.status.messages.at(-1)[0], 'execution_interrupted');
  });

  it('interrupts the running prompt named in msg.prompt_id', async function () {
    const { sub, intr, out } = await load();
    const promptId = await runningPrompt(sub);
    const subFailed = nextError(sub);
    const got = nextMessage(out);
    intr.receive({ prompt_id: promptId });
    assert.deepEqual((await got).payload, { outcome: 'interrupted', prompt_id: promptId });
    const err = await subFailed;
    assert.equal(err.code, 'INTERRUPTED');
    assert.equal(err.promptId, promptId);
  });

  it('deletes a pending prompt from the queue: its submit node fails with INTERRUPTED, the running one finishes', async function () {
    const { sub, subOut, intr, out } = await load();
    const running = await runningPrompt(sub, 'first');
    sub.receive({ payload: blurWorkflow('second') });
    const pending = (await waitFor(async () => (await rawQueue()).queue_pending[0], 'the second prompt pending'))[1];
    const subFailed = nextError(sub);
    const firstDone = nextMessage(subOut);
    const got = nextMessage(out);
    intr.receive({ prompt_id: pending });
    const msg = await got;
    assert.deepEqual(msg.payload, { outcome: 'deleted', prompt_id: pending });
    assert.equal(lastStatus(intr).text, 'comfyui-interrupt.status.deleted');
    const err = await subFailed;
    assert.equal(err.code, 'INTERRUPTED');
    assert.equal(err.promptId, pending);
    assert.deepEqual((await rawQueue()).queue_pending, []);
    const done = await firstDone;
    assert.equal(done.prompt_id, running);
    assert.equal(done.payload.status, 'success', 'the running prompt was not touched');
    assert.equal(await rawHistory(pending), undefined, 'a deleted prompt leaves no history');
  });

  it('reports a finished prompt as finished, not as an error', async function () {
    const { sub, subOut, intr, out } = await load();
    const finished = nextMessage(subOut);
    sub.receive({ payload: saveImageWorkflow({ prefix: 'quick' }) });
    const promptId = (await finished).prompt_id;
    const got = nextMessage(out);
    intr.receive({ prompt_id: promptId });
    assert.deepEqual((await got).payload, { outcome: 'finished', prompt_id: promptId });
    assert.deepEqual(lastStatus(intr), { fill: 'grey', shape: 'ring', text: 'comfyui-interrupt.status.finished' });
  });

  it('reports an unknown prompt as unknown, and nothing running as idle', async function () {
    const { intr, out } = await load();
    const unknown = randomUUID();
    let got = nextMessage(out);
    intr.receive({ prompt_id: unknown });
    assert.deepEqual((await got).payload, { outcome: 'unknown', prompt_id: unknown });
    assert.equal(lastStatus(intr).text, 'comfyui-interrupt.status.unknown');
    got = nextMessage(out);
    intr.receive({ payload: 1 });
    assert.deepEqual((await got).payload, { outcome: 'idle', prompt_id: null });
    assert.equal(lastStatus(intr).text, 'comfyui-interrupt.status.idle');
    assert.equal(env.sim.requestLog.filter((r) => r.method === 'POST').length, 0, 'nothing was interrupted or deleted');
  });

  it('rejects a msg.prompt_id that is not a string with BAD_INPUT', async function () {
    const { intr } = await load();
    const failed = nextError(intr);
    intr.receive({ prompt_id: 17 });
    const err = await failed;
    assert.equal(err.code, 'BAD_INPUT');
    assert.match(err.message, /msg\.prompt_id must be a prompt id \(a string\); got number/);
    assert.equal(lastStatus(intr).text, 'comfyui-interrupt.status.error');
  });
});
