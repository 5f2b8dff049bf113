'use strict';
const assert = require('node:assert/strict');
const { randomUUID } = require('node:crypto');
const { request } = require('undici');
const {
  helper,
  allNodes,
  waitFor,
  nextMessage,
  nextError,
  collectMessages,
  saveImageWorkflow,
  isPng,
  lastStatus,
  useSimulator,
} = require('./support');

/** The submit node's result without the fields only a submission has. */
function asSummary(result) {
  const { duration, timing, node_errors: nodeErrors, overrides, ...summary } = result;
  assert.equal(typeof duration, 'number');
  assert.equal(timing.total_ms, duration, 'the timing of a submission is what a history summary lacks');
  assert.deepEqual(nodeErrors, {});
  assert.deepEqual(overrides, {}, 'what the submit node adds to a summary: which nodes its overrides set (none here)');
  return summary;
}

describe('comfyui-history', function () {
  const env = useSimulator({ testControls: true, nodeMsByClass: { ImageBlur: 400 } });

  async function load(historyProps = {}) {
    const flow = [
      { id: 'srv', type: 'comfyui-server', url: env.sim.url, timeout: 5 },
      { id: 'sub', type: 'comfyui-submit', server: 'srv', workflow: '', mode: 'wait', randomizeSeeds: false, wires: [['subOut']] },
      { id: 'subOut', type: 'helper' },
      { id: 'hist', type: 'comfyui-history', server: 'srv', action: 'get', maxItems: '', offset: '', wires: [['out']], ...historyProps },
      { id: 'out', type: 'helper' },
      { id: 'histToImg', type: 'comfyui-history', server: 'srv', action: 'get', maxItems: '', offset: '', wires: [['img']] },
      { id: 'img', type: 'comfyui-images', server: 'srv', output: 'buffer', wires: [['files']] },
      { id: 'files', type: 'helper' },
    ];
    await helper.load(allNodes, flow);
    return {
      sub: helper.getNode('sub'),
      subOut: helper.getNode('subOut'),
      hist: helper.getNode('hist'),
      out: helper.getNode('out'),
      img: helper.getNode('img'),
      histToImg: helper.getNode('histToImg'),
      files: helper.getNode('files'),
    };
  }

  async function run(node, out, msg) {
    const got = nextMessage(out);
    node.receive(msg);
    return got;
  }

  /** Three finished prompts (different prefixes, so none is cached), as the submit node reported them. */
  async function threePrompts(sub, subOut) {
    const results = [];
    for (const prefix of ['h1', 'h2', 'h3']) {
      results.push((await run(sub, subOut, { payload: saveImageWorkflow({ prefix, batch: 2 }) })).payload);
    }
    return results;
  }

  async function rawHistory() {
    const res = await request(`${env.sim.url}/history`);
    return res.body.json();
  }

  it("gets the whole history as an array of summaries in the submit node's shape, oldest first", async function () {
    const { sub, subOut, hist, out } = await load();
    const results = await threePrompts(sub, subOut);
    const msg = await run(hist, out, { topic: 'keep-me' });
    assert.equal(msg.topic, 'keep-me', 'the input msg travels on');
    assert.ok(Array.isArray(msg.payload));
    assert.deepEqual(msg.payload, results.map(asSummary));
    assert.deepEqual(Object.keys(msg.payload[0]).sort(), ['cached', 'cachedNodes', 'images', 'number', 'outputs', 'prompt_id', 'status']);
    assert.equal(msg.payload[0].images.length, 2);
    assert.equal(lastStatus(hist).text, '3');
  });

  it('pages with Max items and Offset from the settings, and msg.max_items / msg.offset override them', async function () {
    const { sub, subOut, hist, out } = await load({ maxItems: '2', offset: '' });
    const ids = (await threePrompts(sub, subOut)).map((r) => r.prompt_id);
    const idsOf = (msg) => msg.payload.map((s) => s.prompt_id);
    assert.deepEqual(idsOf(await run(hist, out, {})), [ids[1], ids[2]], 'max_items keeps the newest');
    assert.deepEqual(idsOf(await run(hist, out, { max_items: 1 })), [ids[2]]);
    assert.deepEqual(idsOf(await run(hist, out, { max_items: 1, offset: 0 })), [ids[0]], 'offset 0 counts, from the oldest');
    assert.deepEqual(idsOf(await run(hist, out, { offset: '1' })), [ids[1], ids[2]]);
    assert.deepEqual(idsOf(await run(hist, out, { offset: 2 })), [ids[2]]);
    const query = env.sim.requestLog.filter((r) => r.url.startsWith('/history?')).map((r) => r.url);
    assert.deepEqual(query, [
      '/history?max_items=2',
      '/history?max_items=1',
      '/history?max_items=1&offset=0',
      '/history?max_items=2&offset=1',
      '/history?max_items=2&offset=2',
    ]);
  });

  it('uses the offset setting without a limit', async function () {
    const { sub, subOut, hist, out } = await load({ maxItems: '', offset: '2' });
    const ids = (await threePrompts(sub, subOut)).map((r) => r.prompt_id);
    assert.deepEqual(
      (await run(hist, out, {})).payload.map((s) => s.prompt_id),
      [ids[2]],
    );
  });

  for (const [what, value, shown] of [
    ['negative', -1, 'number -1'],
    ['fractional', 1.5, 'number 1.5'],
    ['text', 'ten', 'the string "ten"'],
  ]) {
    it(`rejects a ${what} msg.max_items with BAD_INPUT before asking ComfyUI`, async function () {
      const { hist } = await load();
      const failed = nextError(hist);
      hist.receive({ max_items: value });
      const err = await failed;
      assert.equal(err.code, 'BAD_INPUT');
      assert.equal(err.message, `msg.max_items must be a whole number of 0 or more; got ${shown}`);
      assert.equal(env.sim.requestLog.filter((r) => r.url.startsWith('/history')).length, 0);
    });
  }

  it('gets one entry for msg.prompt_id, and null (not an error) for an unknown id', async function () {
    const { sub, subOut, hist, out } = await load();
    const results = await threePrompts(sub, subOut);
    const one = await run(hist, out, { prompt_id: results[1].prompt_id });
    assert.deepEqual(one.payload, asSummary(results[1]));
    assert.equal(one.prompt_id, results[1].prompt_id);
    assert.deepEqual(lastStatus(hist), { fill: 'green', shape: 'dot', text: 'comfyui-history.status.found' });
    const unknown = randomUUID();
    const none = await run(hist, out, { prompt_id: unknown });
    assert.equal(none.payload, null);
    assert.deepEqual(lastStatus(hist), { fill: 'grey', shape: 'ring', text: 'comfyui-history.status.not-found' });
  });

  it('reports an interrupted prompt\'s entry with status "error" and error {code, message}', async function () {
    const { sub, hist, out } = await load();
    const failed = nextError(sub);
    sub.receive({
      payload: {
        1: { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 0 } },
        2: { class_type: 'ImageBlur', inputs: { image: ['1', 0], blur_radius: 1, sigma: 1 } },
        3: { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: 'stopped' } },
      },
    });
    await waitFor(async () => (await (await request(`${env.sim.url}/queue`)).body.json()).queue_running.length === 1, 'the prompt running');
    await request(`${env.sim.url}/interrupt`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    const promptId = (await failed).promptId;
    const msg = await run(hist, out, { prompt_id: promptId });
    assert.equal(msg.payload.status, 'error');
    assert.equal(msg.payload.error.code, 'INTERRUPTED');
    assert.match(msg.payload.error.message, /^Prompt interrupted at /);
    assert.deepEqual(Object.keys(msg.payload.error).sort(), ['code', 'message']);
  });

  it('deletes entries given as a string or an array, and msg.action overrides the setting', async function () {
    const { sub, subOut, hist, out } = await load({ action: 'get' });
    const ids = (await threePrompts(sub, subOut)).map((r) => r.prompt_id);
    const first = await run(hist, out, { action: 'delete', payload: ids[0] });
    assert.deepEqual(first.payload, { deleted: [ids[0]] });
    assert.equal(lastStatus(hist).text, 'comfyui-history.status.deleted');
    assert.deepEqual(Object.keys(await rawHistory()), [ids[1], ids[2]]);
    const rest = await run(hist, out, { action: 'delete', payload: [ids[2], ids[1], ids[2]] });
    assert.deepEqual(rest.payload, { deleted: [ids[2], ids[1]] });
    assert.deepEqual(await rawHistory(), {});
  });

  it('clears the history', async function () {
    const { sub, subOut, hist, out } = await load({ action: 'clear' });
    await threePrompts(sub, subOut);
    const msg = await run(hist, out, {});
    assert.deepEqual(msg.payload, { cleared: true });
    assert.equal(lastStatus(hist).text, 'comfyui-history.status.cleared');
    assert.deepEqual(await rawHistory(), {});
  });

  for (const [what, payload, shown] of [
    ['an object', { ids: [] }, 'an object'],
    ['an array holding null', ['a', null], 'an array with null at index 1'],
    ['an empty string', '', 'an empty string'],
  ]) {
    it(`rejects a delete payload that is ${what} with BAD_INPUT and sends nothing`, async function () {
      const { hist } = await load({ action: 'delete' });
      const failed = nextError(hist);
      hist.receive({ payload });
      const err = await failed;
      assert.equal(err.code, 'BAD_INPUT');
      assert.equal(err.message, `To delete history entries, msg.payload must be a prompt id or an array of prompt ids; got ${shown}`);
      assert.equal(env.sim.requestLog.filter((r) => r.url.startsWith('/history')).length, 0);
      assert.equal(lastStatus(hist).text, 'comfyui-history.status.error');
    });
  }

  it('rejects an unknown msg.action with BAD_INPUT', async function () {
    const { hist } = await load();
    const failed = nextError(hist);
    hist.receive({ action: 'wipe' });
    const err = await failed;
    assert.equal(err.code, 'BAD_INPUT');
    assert.equal(err.message, 'msg.action must be one of get, delete, clear; got the string "wipe"');
  });

  it('feeds one summary (msg.payload = summary, no msg.prompt_id) into the images node, which downloads its files', async function () {
    const { sub, subOut, hist, out, img, files } = await load();
    const results = await threePrompts(sub, subOut);
    const all = await run(hist, out, {});
    const summary = all.payload[1];
    const got = collectMessages(files, 2);
    img.receive({ payload: summary });
    const msgs = await got;
    assert.deepEqual(
      msgs.map((m) => m.filename),
      results[1].images.map((i) => i.filename),
    );
    assert.ok(msgs.every((m) => isPng(m.payload)));
    assert.ok(
      msgs.every((m) => m.prompt_id === undefined),
      'the refs came from msg.payload.images, not from a prompt id',
    );
  });

  it('wires a history entry (get with msg.prompt_id) straight into the images node', async function () {
    const { sub, subOut, histToImg, files } = await load();
    const results = await threePrompts(sub, subOut);
    const got = collectMessages(files, 2);
    histToImg.receive({ prompt_id: results[0].prompt_id });
    const msgs = await got;
    assert.deepEqual(
      msgs.map((m) => m.filename),
      results[0].images.map((i) => i.filename),
    );
    assert.ok(msgs.every((m) => isPng(m.payload) && m.prompt_id === results[0].prompt_id));
  });
});
