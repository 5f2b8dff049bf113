'use strict';
const assert = require('node:assert/strict');
const { helper, allNodes, nextMessage, nextError, collectMessages, saveImageWorkflow, isPng, pngSize, useSimulator } = require('./support');
const joinNode = require('@node-red/nodes/core/sequence/17-split.js');

describe('comfyui-images', function () {
  const env = useSimulator({ testControls: true });

  /** `extra` nodes join the flow; `tap` is the one the images node is wired to besides `out`. */
  async function load(output = 'buffer', extra = [], tap = []) {
    // Core nodes such as Join need a tab and `z` to start in the test runtime.
    const flow = [
      { id: 'tab', type: 'tab' },
      { id: 'srv', type: 'comfyui-server', url: env.sim.url, timeout: 5 },
      { id: 'sub', z: 'tab', type: 'comfyui-submit', server: 'srv', workflow: '', mode: 'wait', wires: [['img']] },
      { id: 'img', z: 'tab', type: 'comfyui-images', server: 'srv', output, wires: [['out', ...tap]] },
      { id: 'out', z: 'tab', type: 'helper' },
      ...extra.map((n) => ({ z: 'tab', ...n })),
    ];
    await helper.load([...allNodes, joinNode], flow);
    return { sub: helper.getNode('sub'), img: helper.getNode('img'), out: helper.getNode('out') };
  }

  it('downloads every file of a prompt, one msg each with Buffer, filename, contentType and msg.parts', async function () {
    const { sub, out } = await load();
    const got = collectMessages(out, 3);
    sub.receive({ payload: saveImageWorkflow({ width: 40, height: 24, batch: 3, prefix: 'multi' }) });
    const msgs = await got;
    const id = msgs[0].parts.id;
    msgs.forEach((msg, index) => {
      assert.ok(isPng(msg.payload), 'a PNG Buffer');
      assert.deepEqual(pngSize(msg.payload), { width: 40, height: 24 });
      assert.equal(msg.contentType, 'image/png');
      assert.match(msg.filename, /^multi_\d{5}_\.png$/);
      assert.deepEqual(msg.parts, { id, index, count: 3, type: 'array' });
      assert.equal(msg.image.filename, msg.filename);
      assert.match(msg.prompt_id, /^[0-9a-f-]{36}$/);
    });
    assert.equal(new Set(msgs.map((m) => m.filename)).size, 3, 'three different files');
  });

  it('lets a Join node in automatic mode rebuild the set', async function () {
    const join = { id: 'joiner', type: 'join', mode: 'auto', wires: [['joined']] };
    const { sub } = await load('buffer', [join, { id: 'joined', type: 'helper' }], ['joiner']);
    const got = nextMessage(helper.getNode('joined'));
    sub.receive({ payload: saveImageWorkflow({ batch: 2, prefix: 'joined' }) });
    const msg = await got;
    assert.ok(Array.isArray(msg.payload));
    assert.equal(msg.payload.length, 2);
    assert.ok(msg.payload.every(isPng));
  });

  it('outputs refs and URLs only in refs mode, with the names as encoded query parameters', async function () {
    const { sub, out } = await load('refs');
    const got = nextMessage(out);
    sub.receive({ payload: saveImageWorkflow({ prefix: 'a b/c&d' }) });
    const msg = await got;
    assert.equal(Buffer.isBuffer(msg.payload), false);
    assert.equal(msg.payload.subfolder, 'a b');
    const url = new URL(msg.payload.url);
    assert.equal(url.pathname, '/view');
    assert.equal(url.searchParams.get('filename'), msg.payload.filename);
    assert.equal(url.searchParams.get('subfolder'), 'a b');
    assert.equal(url.searchParams.get('type'), 'output');
    assert.match(msg.payload.url, /subfolder=a(\+|%20)b/);
    assert.equal(msg.contentType, 'image/png');
  });

  it('reads the history of a bare msg.prompt_id', async function () {
    const { sub, img, out } = await load();
    const first = nextMessage(out);
    sub.receive({ payload: saveImageWorkflow({ prefix: 'byid' }) });
    const { prompt_id: promptId, filename } = await first;
    const again = nextMessage(out);
    img.receive({ prompt_id: promptId });
    const msg = await again;
    assert.equal(msg.filename, filename);
    assert.ok(isPng(msg.payload));
  });

  it('sends the files it could fetch and reports the one /view answered 404 for', async function () {
    const { sub, img, out } = await load();
    const first = collectMessages(out, 2);
    sub.receive({ payload: saveImageWorkflow({ batch: 2, prefix: 'some' }) });
    const refs = (await first).map((m) => m.image);
    const got = collectMessages(out, 2);
    const failed = nextError(img);
    img.receive({ payload: { images: [refs[0], { filename: 'gone.png', subfolder: '', type: 'output' }, refs[1]] } });
    const msgs = await got;
    assert.deepEqual(
      msgs.map((m) => m.parts.index),
      [0, 2],
    );
    const err = await failed;
    assert.match(err.message, /1 of 3 files could not be downloaded: gone\.png: .*404/);
  });

  it('fails clearly on a msg with no usable refs', async function () {
    const { img } = await load();
    const failed = nextError(img);
    img.receive({ payload: { images: [{ name: 'x.png' }] } });
    const err = await failed;
    assert.equal(err.code, 'BAD_INPUT');
    assert.match(err.message, /no usable file refs/);
  });
});
