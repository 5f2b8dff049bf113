'use strict';
// The boundary (issue 11 §1–2): a hostile or broken server, over real sockets. Frames whose fields
// have the wrong types, answers of the wrong shape, downloads without end or that trickle, answers
// and frames above the configured limits. Nothing may crash Node-RED (test/setup.js fails the test
// on any uncaught exception or unhandled rejection), nothing may wait forever, every failure has
// its code.
const assert = require('node:assert/strict');
const {
  helper,
  allNodes,
  waitFor,
  nextCall,
  nextError,
  nextMessage,
  collectMessages,
  saveImageWorkflow,
  useSimulator,
  makePng,
} = require('./support');
const { PROGRESS_EVENT_TYPES } = require('../dist/nodes/messages');

const MB = 1024 * 1024;

/** An object whose toString is not callable: String(x) and `${x}` throw on it. */
const hostile = () => ({ toString: 1, valueOf: {} });

function u32(n) {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

/** JSON text of a list nested `depth` deep (JSON.stringify itself overflows on such values). */
function deepList(depth) {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

describe('the boundary: what ComfyUI sends is checked and bounded', function () {
  const env = useSimulator({ testControls: true, stepMs: 10 });

  function flow(serverProps = {}) {
    return [
      { id: 'srv', type: 'comfyui-server', url: env.sim.url, timeout: 5, ...serverProps },
      { id: 'sub', type: 'comfyui-submit', server: 'srv', workflow: '', mode: 'wait', wires: [['out']] },
      {
        id: 'prog',
        type: 'comfyui-progress',
        server: 'srv',
        scope: 'all',
        events: [...PROGRESS_EVENT_TYPES],
        previewRate: 0,
        wires: [['pout']],
      },
      { id: 'img', type: 'comfyui-images', server: 'srv', output: 'buffer', wires: [['iout']] },
      { id: 'queue', type: 'comfyui-queue', server: 'srv', action: 'get', wires: [['out']] },
      { id: 'hist', type: 'comfyui-history', server: 'srv', action: 'get', wires: [['out']] },
      { id: 'out', type: 'helper' },
      { id: 'pout', type: 'helper' },
      { id: 'iout', type: 'helper' },
    ];
  }

  async function load(serverProps) {
    await helper.load(allNodes, flow(serverProps));
    await waitFor(() => env.sim.openSocketCount() === 1, 'the socket');
    const problems = [];
    helper.getNode('srv').client.on('problem', (p) => problems.push(p));
    return problems;
  }

  /** A prompt submitted through the submit node and held in the queue; resolves with its id. */
  async function heldPrompt(workflow = saveImageWorkflow({ prefix: 'held' })) {
    env.sim.faults.pauseWorker();
    helper.getNode('sub').receive({ payload: workflow });
    return waitFor(async () => {
      const queue = await helper.getNode('srv').client.http.queue();
      return queue.queue_pending[0] && queue.queue_pending[0].prompt_id;
    }, 'the prompt queued');
  }

  const metadataPreview = (metadata) => {
    const json = Buffer.from(JSON.stringify(metadata));
    return Buffer.concat([u32(4), u32(json.length), json, makePng(2, 2)]);
  };

  it('survives frames whose fields have the wrong types, for a prompt in flight, and the prompt still completes', async function () {
    const problems = await load();
    const id = await heldPrompt();
    const progressMsgs = [];
    helper.getNode('pout').on('input', (msg) => progressMsgs.push(msg));
    const frames = [
      { type: 'executing', data: { node: hostile(), display_node: hostile(), prompt_id: id } },
      { type: 'executing', data: { node: '1', prompt_id: hostile() } },
      { type: 'execution_cached', data: { nodes: 'abc', prompt_id: id } },
      { type: 'execution_cached', data: { nodes: [hostile()], prompt_id: id } },
      { type: 'progress_state', data: { prompt_id: id, nodes: { 1: null, 2: { value: 'x', max: 1, state: 'running' } } } },
      { type: 'progress', data: { value: '3', max: hostile(), prompt_id: id, node: hostile() } },
      { type: 'progress', data: { value: 1e308, max: 1e-308, prompt_id: id, node: '1' } },
      { type: 'executed', data: { node: '2', output: 'abc', prompt_id: id } },
      `{"type":"executed","data":{"node":"2","output":{"images":${deepList(5000)}},"prompt_id":"${id}"}}`,
      { type: 'execution_error', data: { prompt_id: id, node_id: hostile(), node_type: 'X', exception_message: {}, exception_type: 'E' } },
      { type: 'execution_interrupted', data: { prompt_id: id, node_id: '1', node_type: 'X', executed: 'x' } },
      { type: 'status', data: { status: null } },
      { type: 'status', data: { status: { exec_info: { queue_remaining: '1' } } } },
      { type: 'feature_flags', data: [] },
      { type: 'execution_start', data: null },
      `{"type":"crystools.monitor","data":${deepList(10000)}}`,
      { type: '__proto__', data: { prompt_id: id } },
    ];
    for (const frame of frames) env.sim.faults.sendRaw(typeof frame === 'string' ? frame : JSON.stringify(frame), false);
    env.sim.faults.sendRaw(metadataPreview({ node_id: {}, prompt_id: id, image_type: 'image/png' }), true);
    env.sim.faults.sendRaw(metadataPreview({ node_id: '1', prompt_id: [id], image_type: hostile() }), true);
    env.sim.faults.sendRaw(metadataPreview({ node_id: '1', prompt_id: id, image_type: 'text/html' }), true);
    const result = nextMessage(helper.getNode('out'), 10000);
    env.sim.faults.resumeWorker();
    const msg = await result;
    assert.equal(msg.payload.status, 'success');
    assert.match(msg.payload.images[0].filename, /^held_/);
    assert.equal(env.sim.connectionLog.length, 1, 'the connection stayed up');
    // Every dropped kind was reported, each once, naming its field.
    for (const field of [
      '"executing" message: data.node ',
      '"execution_cached" message: data.nodes ',
      '"progress_state" message: data.nodes.1 ',
      'preview: metadata.node_id ',
    ]) {
      assert.equal(problems.filter((p) => p.includes(field)).length, 1, `${field} reported once: ${problems.join('\n')}`);
    }
    // What reached the flow is typed: percentages within 0–100, node ids strings, previews labelled by their bytes.
    for (const m of progressMsgs) {
      if (m.percent !== undefined) assert.ok(m.percent >= 0 && m.percent <= 100, `percent ${m.percent}`);
      if (m.node !== undefined) assert.equal(typeof m.node, 'string');
      if (m.topic === 'preview') assert.equal(m.contentType, 'image/png');
    }
    assert.ok(
      progressMsgs.some((m) => m.topic === 'progress' && m.percent === 100),
      'the out-of-range progress was clamped to 100',
    );
  });

  it('a valid execution_error with a 2 MB message fails the prompt with a message cut to the text limit', async function () {
    await load({ maxText: 300 });
    const id = await heldPrompt();
    const failed = nextError(helper.getNode('sub'));
    const frame = {
      type: 'execution_error',
      data: {
        prompt_id: id,
        node_id: '2',
        node_type: 'SaveImage',
        exception_message: 'x'.repeat(2 * MB),
        exception_type: 'RuntimeError',
        traceback: [],
      },
    };
    env.sim.faults.sendRaw(JSON.stringify(frame), false);
    const err = await failed;
    env.sim.faults.resumeWorker();
    assert.equal(err.code, 'EXECUTION');
    assert.ok(err.message.length <= 300, `message of ${err.message.length} characters`);
    assert.match(err.message, /SaveImage.*failed: RuntimeError: xxx.*…$/);
  });

  it('a history entry of an unexpected shape fails the waiting submit with BAD_RESPONSE instead of leaving it waiting', async function () {
    await load();
    const id = await heldPrompt();
    const entry = { prompt: 'not a queue item', outputs: [], status: 'done' };
    env.sim.faults.failRoute('GET', `/history/${id}`, 200, JSON.stringify({ [id]: entry }), 'application/json');
    const failed = nextError(helper.getNode('sub'), 10000);
    env.sim.faults.resumeWorker();
    const err = await failed;
    assert.equal(err.code, 'BAD_RESPONSE');
    assert.match(err.message, new RegExp(`GET /history/${id} answered with something ComfyUI does not send: ${id}.prompt must be`));
  });

  it("the submit's result does not read the copy of the prompt in the history entry (it has its own); reading the entry still checks it", async function () {
    await load();
    const id = await heldPrompt();
    const entry = {
      prompt: [1, id, { 2: 'not a node' }, {}, ['2']],
      outputs: { 2: { images: [{ filename: 'fine.png', subfolder: '', type: 'output' }] } },
      status: { status_str: 'success', completed: true, messages: [['execution_success', { prompt_id: id }]] },
    };
    env.sim.faults.failRoute('GET', `/history/${id}`, 200, JSON.stringify({ [id]: entry }), 'application/json');
    const got = nextMessage(helper.getNode('out'), 10000);
    env.sim.faults.resumeWorker();
    const msg = await got;
    assert.equal(msg.payload.status, 'success');
    assert.deepEqual(
      msg.payload.images.map((ref) => ref.filename),
      ['fine.png'],
    );
    const err = await helper
      .getNode('srv')
      .client.historyEntry(id)
      .then(
        () => assert.fail('the entry was read without its prompt'),
        (e) => e,
      );
    assert.equal(err.code, 'BAD_RESPONSE');
    assert.match(err.message, new RegExp(`${id}\\.prompt\\[2\\]\\.2 must be`));
  });

  it('file names from history that are paths are left out of the result: they would reach msg.filename', async function () {
    await load();
    const id = await heldPrompt();
    const entry = {
      prompt: [1, id, { 2: { class_type: 'SaveImage', inputs: {} } }, {}, ['2']],
      outputs: {
        2: {
          images: [
            { filename: '../../evil.png', subfolder: '', type: 'output' },
            { filename: 'ok.png', subfolder: '../..', type: 'output' },
            { filename: 'fine.png', subfolder: 'a/b', type: 'output' },
          ],
        },
      },
      status: { status_str: 'success', completed: true, messages: [['execution_success', { prompt_id: id }]] },
    };
    env.sim.faults.failRoute('GET', `/history/${id}`, 200, JSON.stringify({ [id]: entry }), 'application/json');
    const got = nextMessage(helper.getNode('out'), 10000);
    env.sim.faults.resumeWorker();
    const msg = await got;
    assert.deepEqual(
      msg.payload.images.map((ref) => `${ref.subfolder}/${ref.filename}`),
      ['a/b/fine.png'],
    );
  });

  it('the history node: an entry keyed "constructor" or a list of entries of the wrong shape is BAD_RESPONSE', async function () {
    await load();
    env.sim.faults.failRoute(
      'GET',
      '/history',
      200,
      JSON.stringify({ constructor: { prompt: [1], outputs: {}, status: null } }),
      'application/json',
    );
    const failed = nextError(helper.getNode('hist'));
    helper.getNode('hist').receive({});
    const err = await failed;
    assert.equal(err.code, 'BAD_RESPONSE');
    assert.match(err.message, /constructor\.status must be an object/);
  });

  it('queue answers of the wrong shape or above the answer limit fail that request with BAD_RESPONSE / TOO_LARGE', async function () {
    await load({ maxAnswerMB: 1 });
    const queue = helper.getNode('queue');
    env.sim.faults.failRoute('GET', '/queue', 200, JSON.stringify({ queue_running: 'x', queue_pending: [] }), 'application/json', 1);
    let failed = nextError(queue);
    queue.receive({});
    let err = await failed;
    assert.equal(err.code, 'BAD_RESPONSE');
    assert.match(err.message, /GET \/queue .*queue_running must be a list, not a string/);

    env.sim.faults.failRoute(
      'GET',
      '/queue',
      200,
      JSON.stringify({ queue_running: [], queue_pending: [], pad: 'x'.repeat(2 * MB) }),
      'application/json',
      1,
    );
    failed = nextError(queue);
    queue.receive({});
    err = await failed;
    assert.equal(err.code, 'TOO_LARGE');
    assert.match(err.message, /more than the limit of 1 MB \(the "Largest answer" setting/);

    // The node answers normally again afterwards.
    const got = nextMessage(helper.getNode('out'));
    queue.receive({});
    assert.equal((await got).payload.queue_remaining, 0);
  });

  describe('downloads', function () {
    const ref = { filename: 'x.png', subfolder: '', type: 'output' };

    it('a /view answer without end fails with TOO_LARGE at the file limit, the declared length first', async function () {
      await load({ maxFileMB: 1 });
      const img = helper.getNode('img');
      env.sim.faults.streamRoute(
        'GET',
        '/view',
        { chunk: Buffer.alloc(64 * 1024, 1), everyMs: 1, count: Infinity, contentType: 'image/png' },
        1,
      );
      let failed = nextError(img);
      img.receive({ payload: { images: [ref] } });
      let err = await failed;
      assert.equal(err.code, 'TOO_LARGE');
      assert.match(err.message, /x\.png is over 1 MB, more than the limit of 1 MB \(the "Largest file" setting/);

      env.sim.faults.streamRoute(
        'GET',
        '/view',
        { chunk: 'x', everyMs: 1000, count: 1, contentLength: 5 * 1024 * MB, contentType: 'image/png' },
        1,
      );
      failed = nextError(img);
      img.receive({ payload: { images: [ref] } });
      err = await failed;
      assert.equal(err.code, 'TOO_LARGE');
      assert.match(err.message, /is 5120 MB/);
    });

    it('a /view answer that trickles fails with TIMEOUT at the download time limit', async function () {
      await load({ downloadTimeout: 1 });
      const img = helper.getNode('img');
      env.sim.faults.streamRoute('GET', '/view', { chunk: 'x', everyMs: 100, count: Infinity, contentType: 'image/png' }, 1);
      const failed = nextError(img, 8000);
      img.receive({ payload: { images: [ref] } });
      const err = await failed;
      assert.equal(err.code, 'TIMEOUT');
      assert.match(err.message, /the download of x\.png took longer than 1 s \(the "Download time limit" setting/);
    });

    it('an empty answer, an HTML login page or bytes that are no image where an image was asked are BAD_RESPONSE', async function () {
      await load();
      const img = helper.getNode('img');
      const cases = [
        ['', 'image/png', /answered 0 bytes for x\.png/],
        ['<!DOCTYPE html><html><head><title>Sign in</title></head></html>', 'text/html', /with an HTML page instead of the file/],
        ['<html><body>login</body></html>', 'image/png', /with an HTML page instead of the file/],
        ['JFIF, no, not really', 'image/png', /with 20 bytes that are not an image \(image\/png\)/],
      ];
      for (const [body, type, pattern] of cases) {
        env.sim.faults.failRoute('GET', '/view', 200, body, type, 1);
        const failed = nextError(img);
        img.receive({ payload: { images: [ref] } });
        const err = await failed;
        assert.equal(err.code, 'BAD_RESPONSE', `${JSON.stringify(body)}: ${err.message}`);
        assert.match(err.message, pattern);
      }
    });

    it('redeploying while a download trickles finishes at once and leaves no connection open', async function () {
      await load();
      const img = helper.getNode('img');
      env.sim.faults.streamRoute('GET', '/view', { chunk: 'x', everyMs: 50, count: Infinity, contentType: 'image/png' }, 1);
      img.receive({ payload: { images: [ref] } });
      await waitFor(() => env.sim.requestLog.some((r) => r.url.startsWith('/view')), 'the download started');
      const started = Date.now();
      await helper.unload();
      const took = Date.now() - started;
      // The requirement is one second; the margin is for a busy machine (Node-RED itself gives up at 15 s).
      assert.ok(took < 5000, `the redeploy took ${took} ms`);
      await waitFor(() => env.sim.openConnectionCount() === 0, 'no connection left open', 3000);
    });

    it('redeploying only the images node stops its trickling download with CLOSED', async function () {
      await load();
      const first = helper.getNode('img');
      env.sim.faults.streamRoute('GET', '/view', { chunk: 'x', everyMs: 50, count: Infinity, contentType: 'image/png' }, 1);
      const failed = nextError(first, 8000);
      first.receive({ payload: { images: [ref] } });
      await waitFor(() => env.sim.requestLog.some((r) => r.url.startsWith('/view')), 'the download started');
      const changed = flow().map((n) => (n.id === 'img' ? { ...n, name: 'redeployed' } : n));
      await helper.setFlows(changed, 'nodes');
      const err = await failed;
      assert.equal(err.code, 'CLOSED');
      assert.match(err.message, /stopped: the node that asked for it was closed/);
    });
  });

  it('closing a client ends its trickling download and a slow request with CLOSED at once', async function () {
    const { ComfyClient } = require('../dist/client/client');
    const client = new ComfyClient({ url: env.sim.url });
    env.sim.faults.streamRoute('GET', '/view', { chunk: 'x', everyMs: 50, count: Infinity, contentType: 'image/png' }, 1);
    env.sim.faults.delayRoute('GET', '/queue', 60000, 1);
    const download = client.view({ filename: 'x.png', subfolder: '', type: 'output' }).then(
      () => assert.fail('the download finished'),
      (err) => err,
    );
    const queue = client.http.queue().then(
      () => assert.fail('the request finished'),
      (err) => err,
    );
    await waitFor(() => env.sim.requestLog.filter((r) => /^\/(view|queue)/.test(r.url)).length === 2, 'both requests sent');
    const started = Date.now();
    await client.close();
    const [downloadError, queueError] = await Promise.all([download, queue]);
    assert.ok(Date.now() - started < 2000, 'close waited for the requests');
    assert.equal(downloadError.code, 'CLOSED');
    assert.equal(queueError.code, 'CLOSED');
    await waitFor(() => env.sim.openConnectionCount() === 0, 'no connection left open', 3000);
  });

  it('a frame above the frame limit is refused, the connection is opened again, a warning says so once, and prompts still complete', async function () {
    await load({ maxFrameMB: 1 });
    const srv = helper.getNode('srv');
    const warned = nextCall(srv, 'warn');
    env.sim.faults.sendRaw(JSON.stringify({ type: 'custom.blob', data: 'x'.repeat(1.5 * MB) }), false);
    await waitFor(() => env.sim.connectionLog.length === 2 && env.sim.openSocketCount() === 1, 'the reconnect');
    assert.match(
      (await warned).args[0],
      /frame larger than 1 MB \(the "Largest frame" setting of the server configuration\): the frame was refused/,
    );
    env.sim.faults.sendRaw(JSON.stringify({ type: 'custom.blob', data: 'y'.repeat(1.5 * MB) }), false);
    await waitFor(() => env.sim.connectionLog.length === 3 && env.sim.openSocketCount() === 1, 'the second reconnect');
    assert.equal(srv.warn.getCalls().filter((call) => call.thisValue === srv).length, 1, 'warned once for the same kind');
    const got = nextMessage(helper.getNode('out'));
    helper.getNode('sub').receive({ payload: saveImageWorkflow({ prefix: 'after-big' }) });
    assert.match((await got).payload.images[0].filename, /^after-big_/);
  });

  it('progress msgs of a real prompt keep percent within 0–100 and deliver every event type with typed fields', async function () {
    await load();
    const msgs = collectMessages(helper.getNode('out'), 1, 10000);
    const seen = [];
    helper.getNode('pout').on('input', (m) => seen.push(m));
    helper.getNode('sub').receive({ payload: saveImageWorkflow({ prefix: 'typed' }) });
    await msgs;
    await waitFor(() => seen.some((m) => m.topic === 'executing' && m.payload.node === null), 'the final executing');
    for (const m of seen) {
      assert.equal(typeof m.topic, 'string');
      if (m.prompt_id !== undefined) assert.equal(typeof m.prompt_id, 'string');
    }
  });
});

describe('what an error carries out of the client', function () {
  const env = useSimulator({ testControls: true, stepMs: 10 });
  const catchNode = require('@node-red/nodes/core/common/25-catch.js');
  const TOKEN = 'tok-2e9d5f1b7c';

  async function load(url = env.sim.url) {
    const flow = [
      { id: 'tab', type: 'tab' },
      { id: 'srv', type: 'comfyui-server', url, timeout: 3, auth: 'bearer' },
      { id: 'sub', z: 'tab', type: 'comfyui-submit', server: 'srv', workflow: '', mode: 'wait', wires: [['out']] },
      {
        id: 'hist',
        z: 'tab',
        type: 'comfyui-history',
        server: 'srv',
        action: 'get',
        maxItems: '$nope(payload)',
        maxItemsType: 'jsonata',
        wires: [['out']],
      },
      { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'out', z: 'tab', type: 'helper' },
      { id: 'caught', z: 'tab', type: 'helper' },
    ];
    await helper.load([...allNodes, catchNode], flow, { srv: { token: TOKEN } });
  }

  it('an error answer that echoes the token is redacted in the message and in its parsed JSON body', async function () {
    await load();
    await waitFor(() => env.sim.openSocketCount() === 1, 'the socket');
    const body = { error: `invalid token ${TOKEN}`, seen: { headers: [`Bearer ${TOKEN}`] }, [`key-${TOKEN}`]: 1 };
    env.sim.faults.failRoute('POST', '/prompt', 500, JSON.stringify(body), 'application/json', 1);
    const failed = nextError(helper.getNode('sub'));
    helper.getNode('sub').receive({ payload: saveImageWorkflow() });
    const err = await failed;
    assert.equal(err.code, 'HTTP');
    assert.match(err.message, /invalid token \*\*\*/);
    assert.ok(!JSON.stringify(err.body).includes(TOKEN), JSON.stringify(err.body));
    assert.deepEqual(err.body.seen, { headers: ['Bearer ***'] });
  });

  it('a Catch node gets the cause as text, not "[object Object]": a JSONata error, a refused connection', async function () {
    const { createServer } = require('node:net');
    const closed = await new Promise((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address();
        probe.close(() => resolve(`http://127.0.0.1:${port}`));
      });
    });
    await load(closed);
    const caught = collectMessages(helper.getNode('caught'), 2, 15000);
    helper.getNode('hist').receive({ payload: 1 });
    helper.getNode('sub').receive({ payload: saveImageWorkflow() });
    const msgs = await caught;
    const byCode = Object.fromEntries(msgs.map((m) => [m.error.code, m.error]));
    assert.deepEqual(Object.keys(byCode).sort(), ['BAD_INPUT', 'NETWORK']);
    for (const error of Object.values(byCode)) {
      assert.ok(error.cause !== undefined, `${error.code} has a cause`);
      const shown = `${error.cause}`;
      assert.ok(!shown.includes('[object Object]'), `${error.code}: ${shown}`);
    }
    assert.match(`${byCode.BAD_INPUT.cause}`, /non-function/);
    assert.match(`${byCode.NETWORK.cause}`, /ECONNREFUSED/);
  });
});
