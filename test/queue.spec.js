'use strict';
const assert = require('node:assert/strict');
const { randomUUID } = require('node:crypto');
const { request } = require('undici');
const { helper, allNodes, waitFor, nextMessage, nextError, lastStatus, useSimulator } = require('./support');

/** EmptyImage → ImageBlur → SaveImage: the blur is slow in these tests, so the prompt stays running. */
function blurWorkflow(prefix) {
  return {
    1: { class_type: 'EmptyImage', inputs: { width: 16, height: 16, batch_size: 1, color: 0 } },
    2: { class_type: 'ImageBlur', inputs: { image: ['1', 0], blur_radius: 1, sigma: 1 } },
    3: { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: prefix } },
  };
}

describe('comfyui-queue', function () {
  const env = useSimulator({ testControls: true, nodeMsByClass: { ImageBlur: 1000 } });

  async function load(action = 'get') {
    const flow = [
      { id: 'srv', type: 'comfyui-server', url: env.sim.url, timeout: 5 },
      { id: 'sub', type: 'comfyui-submit', server: 'srv', workflow: '', mode: 'wait', randomizeSeeds: false, wires: [['subOut']] },
      { id: 'subOut', type: 'helper' },
      { id: 'q', type: 'comfyui-queue', server: 'srv', action, wires: [['out']] },
      { id: 'out', type: 'helper' },
    ];
    await helper.load(allNodes, flow);
    return { sub: helper.getNode('sub'), subOut: helper.getNode('subOut'), q: helper.getNode('q'), out: helper.getNode('out') };
  }

  async function rawQueue() {
    const res = await request(`${env.sim.url}/queue`);
    return res.body.json();
  }

  /** A prompt from somebody else: another client_id, sent straight to ComfyUI. */
  async function foreignPrompt(prefix, extra = {}) {
    const promptId = randomUUID();
    const res = await request(`${env.sim.url}/prompt`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: blurWorkflow(prefix), client_id: 'someone-else', prompt_id: promptId, ...extra }),
    });
    const accepted = await res.body.json();
    assert.equal(res.statusCode, 200);
    return { promptId, number: accepted.number };
  }

  /**
   * Our prompt A running, then (worker paused) our B, a foreign C and a foreign D sent to the
   * front: pending sorted by number is D, B, C.
   */
  async function busyQueue(sub) {
    sub.receive({ payload: blurWorkflow('a') });
    const running = await waitFor(async () => (await rawQueue()).queue_running[0], 'prompt A running');
    env.sim.faults.pauseWorker();
    sub.receive({ payload: blurWorkflow('b') });
    const ownPending = await waitFor(async () => (await rawQueue()).queue_pending[0], 'prompt B pending');
    const c = await foreignPrompt('c');
    const d = await foreignPrompt('d', { front: true });
    return {
      a: { prompt_id: running[1], number: running[0] },
      b: { prompt_id: ownPending[1], number: ownPending[0] },
      c: { prompt_id: c.promptId, number: c.number },
      d: { prompt_id: d.promptId, number: d.number },
    };
  }

  it('gets the running and the pending prompts, sorted by number, with own for ours', async function () {
    const { sub, q, out } = await load();
    const { a, b, c, d } = await busyQueue(sub);
    assert.ok(d.number < b.number && b.number < c.number, 'the front prompt has the lowest number');
    const got = nextMessage(out);
    q.receive({ payload: 'tick', topic: 'keep-me' });
    const msg = await got;
    assert.equal(msg.topic, 'keep-me', 'the input msg travels on');
    assert.deepEqual(msg.payload, {
      running: [{ ...a, own: true }],
      pending: [
        { ...d, own: false },
        { ...b, own: true },
        { ...c, own: false },
      ],
      queue_remaining: 4,
    });
    assert.equal(lastStatus(q).text, '4');
  });

  it('answers an idle queue with empty lists', async function () {
    const { q, out } = await load();
    const got = nextMessage(out);
    q.receive({});
    assert.deepEqual((await got).payload, { running: [], pending: [], queue_remaining: 0 });
  });

  it('clears the pending prompts (msg.action wins over the setting), ends waits for ours with INTERRUPTED, answers with the queue afterwards', async function () {
    const { sub, q, out } = await load('get');
    const { a, b } = await busyQueue(sub);
    const subFailed = nextError(sub);
    const got = nextMessage(out);
    q.receive({ action: 'clear' });
    const msg = await got;
    assert.deepEqual(msg.payload, { running: [{ ...a, own: true }], pending: [], queue_remaining: 1 });
    assert.deepEqual((await rawQueue()).queue_pending, []);
    const err = await subFailed;
    assert.equal(err.code, 'INTERRUPTED', 'the submit node waiting for a cleared prompt does not wait forever');
    assert.equal(err.promptId, b.prompt_id);
  });

  it('deletes pending ids only: the running one and an unknown one are ignored, a waiting submit fails with INTERRUPTED', async function () {
    const { sub, subOut, q, out } = await load('delete');
    const { a, b, c, d } = await busyQueue(sub);
    const unknown = randomUUID();
    const subFailed = nextError(sub);
    const aDone = nextMessage(subOut);
    const got = nextMessage(out);
    q.receive({ payload: [b.prompt_id, a.prompt_id, c.prompt_id, unknown, b.prompt_id] });
    const msg = await got;
    assert.deepEqual(msg.payload, {
      running: [{ ...a, own: true }],
      pending: [{ ...d, own: false }],
      queue_remaining: 2,
      deleted: [b.prompt_id, c.prompt_id],
      ignored: [a.prompt_id, unknown],
    });
    const err = await subFailed;
    assert.equal(err.code, 'INTERRUPTED');
    assert.equal(err.promptId, b.prompt_id);
    // The running prompt was left alone and finishes normally.
    const finished = await aDone;
    assert.equal(finished.prompt_id, a.prompt_id);
    assert.equal(finished.payload.status, 'success');
    assert.deepEqual(
      (await rawQueue()).queue_pending.map((item) => item[1]),
      [d.prompt_id],
    );
  });

  it('deletes a single id given as a string', async function () {
    const { sub, q, out } = await load('get');
    const { b, c, d } = await busyQueue(sub);
    const got = nextMessage(out);
    q.receive({ action: 'delete', payload: c.prompt_id });
    const msg = await got;
    assert.deepEqual(msg.payload.deleted, [c.prompt_id]);
    assert.deepEqual(msg.payload.ignored, []);
    assert.deepEqual(
      msg.payload.pending.map((e) => e.prompt_id),
      [d.prompt_id, b.prompt_id],
    );
  });

  for (const [what, payload, expected] of [
    ['an object', { id: 'x' }, /got an object$/],
    ['a number', 42, /got number 42$/],
    ['an array holding a number', ['abc', 3], /got an array with number 3 at index 1$/],
    ['nothing', undefined, /got nothing$/],
  ]) {
    it(`rejects a delete payload that is ${what} with BAD_INPUT and sends nothing to ComfyUI`, async function () {
      const { q, out } = await load('delete');
      let sent = false;
      out.on('input', () => (sent = true));
      const failed = nextError(q);
      q.receive({ payload });
      const err = await failed;
      assert.equal(err.code, 'BAD_INPUT');
      assert.match(err.message, /msg\.payload must be a prompt id or an array of prompt ids/);
      assert.match(err.message, expected);
      assert.equal(sent, false);
      assert.equal(lastStatus(q).text, 'comfyui-queue.status.error');
      assert.equal(env.sim.requestLog.filter((r) => r.url.includes('/queue')).length, 0, 'no queue request was made');
    });
  }

  it('rejects an unknown msg.action with BAD_INPUT', async function () {
    const { q } = await load();
    const failed = nextError(q);
    q.receive({ action: 'purge' });
    const err = await failed;
    assert.equal(err.code, 'BAD_INPUT');
    assert.match(err.message, /msg\.action must be one of get, clear, delete; got the string "purge"/);
  });
});
