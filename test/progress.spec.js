'use strict';
const assert = require('node:assert/strict');
const WebSocket = require('ws');
const {
  helper,
  startSimulator,
  allNodes,
  waitFor,
  nextMessage,
  nextError,
  textToImageWorkflow,
  isPng,
  statusesOf,
  lastStatus,
  useSimulator,
} = require('./support');

const ALL_EVENTS = [
  'execution_start',
  'execution_cached',
  'executing',
  'progress',
  'progress_state',
  'executed',
  'execution_success',
  'execution_error',
  'execution_interrupted',
  'status',
  'preview',
];

/** EmptyImage → SaveImageWebsocket: the final images arrive only as PNG preview frames. */
function websocketImageWorkflow(batch = 2) {
  return {
    1: { class_type: 'EmptyImage', inputs: { width: 32, height: 16, batch_size: batch, color: 0x00ff00 }, _meta: { title: 'Empty Image' } },
    2: { class_type: 'SaveImageWebsocket', inputs: { images: ['1', 0] }, _meta: { title: 'Send over WS' } },
  };
}

function isJpeg(buffer) {
  return Buffer.isBuffer(buffer) && buffer.length > 4 && buffer[0] === 0xff && buffer[1] === 0xd8;
}

/** Every msg a helper node receives, in arrival order. */
function record(node) {
  const msgs = [];
  node.on('input', (msg) => msgs.push(msg));
  return msgs;
}

const isEnd = (id) => (m) => m.topic === 'executing' && m.prompt_id === id && m.payload.node === null;

describe('comfyui-progress', function () {
  const env = useSimulator({ testControls: true });

  async function restartSimulator(options) {
    await env.sim.close();
    env.sim = await startSimulator({ testControls: true, ...options });
  }

  /**
   * srv + a submit node (→ `res`) + the given progress nodes, each wired to its own helper
   * named `<id>-out`.
   */
  async function load(progressNodes, submit = {}) {
    const flow = [
      { id: 'tab', type: 'tab' },
      { id: 'srv', type: 'comfyui-server', url: env.sim.url, timeout: 5 },
      { id: 'sub', z: 'tab', type: 'comfyui-submit', server: 'srv', workflow: '', mode: 'wait', wires: [['res']], ...submit },
      { id: 'res', z: 'tab', type: 'helper' },
    ];
    for (const p of progressNodes) {
      flow.push({
        z: 'tab',
        type: 'comfyui-progress',
        server: 'srv',
        scope: 'own',
        events: ALL_EVENTS,
        previewRate: 0,
        wires: [[`${p.id}-out`]],
        ...p,
      });
      flow.push({ id: `${p.id}-out`, z: 'tab', type: 'helper' });
    }
    await helper.load(allNodes, flow);
    const got = {};
    for (const p of progressNodes) got[p.id] = record(helper.getNode(`${p.id}-out`));
    return { sub: helper.getNode('sub'), res: helper.getNode('res'), got };
  }

  /** Submits through the submit node and resolves with its result msg. */
  async function submit(sub, res, msg) {
    const result = nextMessage(res);
    sub.receive(msg);
    return result;
  }

  /** POST /prompt as another client would; `client_id` undefined = none at all. */
  async function rawPrompt(prompt, clientId, extra = {}) {
    const body = { prompt, ...extra };
    if (clientId !== undefined) body.client_id = clientId;
    const response = await fetch(`${env.sim.url}/prompt`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(response.status, 200, await response.clone().text());
    return (await response.json()).prompt_id;
  }

  async function historyOf(promptId) {
    return (await (await fetch(`${env.sim.url}/history/${promptId}`)).json())[promptId];
  }

  function rawSocket(clientId) {
    const ws = new WebSocket(`ws://127.0.0.1:${env.sim.port}/ws?clientId=${clientId}`);
    const texts = [];
    ws.on('message', (data, binary) => {
      if (!binary) texts.push(JSON.parse(data.toString()));
    });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve({ ws, texts }));
      ws.once('error', reject);
    });
  }

  it('sends every event of a normal run with topic, payload and prompt_id in the recorded order', async function () {
    const { sub, res, got } = await load([{ id: 'prog' }]);
    const result = await submit(sub, res, { payload: textToImageWorkflow({ steps: 3 }) });
    const id = result.prompt_id;
    await waitFor(() => got.prog.some(isEnd(id)), 'the final executing');
    await waitFor(() => got.prog.filter((m) => m.topic === 'status').length >= 4, 'four status msgs');
    const msgs = got.prog;

    // status: queued and dequeued (queue_remaining 1), finished (0); no prompt_id on them.
    const statuses = msgs.filter((m) => m.topic === 'status');
    // The first is the connect message (with the socket's sid), then queued, dequeued, finished.
    assert.deepEqual(
      statuses.map((m) => m.payload.status.exec_info.queue_remaining),
      [0, 1, 1, 0],
    );
    assert.equal(typeof statuses[0].payload.sid, 'string');
    assert.ok(statuses.every((m) => !('prompt_id' in m)));

    const own = msgs.filter((m) => m.topic !== 'status');
    assert.ok(
      own.every((m) => m.prompt_id === id),
      'every non-status msg carries the prompt id',
    );
    assert.ok(
      own.every((m) => m.payload.prompt_id === id),
      'payload is the event data',
    );

    // The run order as ComfyUI executed the nodes; the recorded sequence is built from it.
    const order = own.filter((m) => m.topic === 'executing' && m.payload.node !== null).map((m) => m.node);
    assert.deepEqual([...order].sort(), ['3', '4', '5', '6', '7', '8', '9']);
    const expected = ['execution_start', 'execution_cached'];
    for (const node of order) {
      expected.push('progress_state', `executing ${node}`);
      if (node === '3') for (let step = 1; step <= 3; step++) expected.push('progress_state', `progress ${step}`);
      if (node === '9') expected.push('executed 9');
      expected.push('progress_state');
    }
    expected.push('execution_success', 'executing null');
    const actual = own.map((m) => {
      if (m.topic === 'executing') return `executing ${m.payload.node === null ? 'null' : m.node}`;
      if (m.topic === 'progress') return `progress ${m.payload.value}`;
      if (m.topic === 'executed') return `executed ${m.node}`;
      return m.topic;
    });
    assert.deepEqual(actual, expected);

    // status {qr: 0} comes between execution_success and the final executing.
    const topics = msgs.map((m) => (m.topic === 'executing' && m.payload.node === null ? 'end' : m.topic));
    assert.deepEqual(topics.slice(-3), ['execution_success', 'status', 'end']);

    const executed = own.find((m) => m.topic === 'executed');
    assert.equal(executed.title, 'Save Image');
    assert.deepEqual(executed.payload.output, result.payload.outputs['9']);
    const start = own.find((m) => m.topic === 'executing' && m.node === '6');
    assert.equal(start.title, 'Positive Prompt');
    assert.equal(own[0].payload.prompt_id, id);
    assert.equal(typeof own[0].payload.timestamp, 'number');
    assert.deepEqual(own[1].payload.nodes, []);
  });

  it('adds percent, node, title and overall to progress msgs', async function () {
    const { sub, res, got } = await load([{ id: 'prog', events: ['progress'] }]);
    const { prompt_id: id } = await submit(sub, res, { payload: textToImageWorkflow({ steps: 4 }) });
    await waitFor(() => got.prog.length >= 4, 'four progress msgs');
    const msgs = got.prog;
    assert.equal(msgs.length, 4);
    assert.deepEqual(
      msgs.map((m) => m.percent),
      [25, 50, 75, 100],
    );
    for (const [index, msg] of msgs.entries()) {
      assert.equal(msg.topic, 'progress');
      assert.equal(msg.prompt_id, id);
      assert.equal(msg.node, '3');
      assert.equal(msg.title, 'KSampler');
      assert.deepEqual(msg.payload, { value: index + 1, max: 4, prompt_id: id, node: '3' });
      assert.equal(typeof msg.overall, 'number');
      assert.ok(msg.overall > 0 && msg.overall < 100, `overall ${msg.overall}`);
    }
    const overall = msgs.map((m) => m.overall);
    assert.deepEqual(
      [...overall].sort((a, b) => a - b),
      overall,
      'overall only grows',
    );
    assert.ok(overall[3] > overall[0]);
  });

  it('sends only the checked event types', async function () {
    const { sub, res, got } = await load([
      { id: 'some', events: ['execution_start', 'execution_success'] },
      { id: 'none', events: [] },
    ]);
    const { prompt_id: id } = await submit(sub, res, { payload: textToImageWorkflow({ steps: 2 }) });
    await waitFor(() => got.some.length >= 2, 'two msgs');
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(
      got.some.map((m) => [m.topic, m.prompt_id]),
      [
        ['execution_start', id],
        ['execution_success', id],
      ],
    );
    assert.deepEqual(got.none, []);
  });

  it('uses the defaults when the flow has no event list: no progress_state, no preview', async function () {
    const { sub, res, got } = await load([{ id: 'prog', events: undefined }], { previews: 'auto' });
    const { prompt_id: id } = await submit(sub, res, { payload: textToImageWorkflow({ steps: 2 }) });
    await waitFor(() => got.prog.some(isEnd(id)), 'the final executing');
    const topics = new Set(got.prog.map((m) => m.topic));
    assert.deepEqual([...topics].sort(), [
      'executed',
      'executing',
      'execution_cached',
      'execution_start',
      'execution_success',
      'progress',
      'status',
    ]);
  });

  it('scope own: ignores prompts of another client and broadcast prompts without client_id; scope all sees the broadcast', async function () {
    const { sub, res, got } = await load([
      { id: 'mine', scope: 'own' },
      { id: 'wide', scope: 'all' },
    ]);
    // Another client with its own socket and client_id.
    const other = await rawSocket('someone-else');
    try {
      const otherId = await rawPrompt(textToImageWorkflow({ steps: 2, seed: 7 }), 'someone-else');
      await waitFor(
        () => other.texts.some((m) => m.type === 'executing' && m.data.node === null && m.data.prompt_id === otherId),
        "the other client's prompt to finish",
      );
      assert.ok(
        other.texts.some((m) => m.type === 'progress' && m.data.prompt_id === otherId),
        'the other client got its progress',
      );
    } finally {
      other.ws.close();
    }
    // No client_id: ComfyUI broadcasts its progress to every socket, ours included.
    const anonymousId = await rawPrompt(textToImageWorkflow({ steps: 3, seed: 8 }));
    await waitFor(async () => (await historyOf(anonymousId)) !== undefined, 'the anonymous prompt to finish');
    await waitFor(
      () => got.wide.filter((m) => m.topic === 'progress' && m.prompt_id === anonymousId).length === 3,
      'broadcast progress in scope all',
    );

    const { prompt_id: ownId } = await submit(sub, res, { payload: textToImageWorkflow({ steps: 2, seed: 9 }) });
    await waitFor(() => got.mine.some(isEnd(ownId)), 'our prompt to finish');

    const ids = new Set(got.mine.filter((m) => m.prompt_id !== undefined).map((m) => m.prompt_id));
    assert.deepEqual([...ids], [ownId]);
    assert.ok(
      got.mine.some((m) => m.topic === 'status'),
      'status changes belong to no prompt and are delivered',
    );
    const anonymous = got.wide.filter((m) => m.prompt_id === anonymousId);
    assert.deepEqual([...new Set(anonymous.map((m) => m.topic))].sort(), ['progress', 'progress_state']);
    assert.ok(
      anonymous.every((m) => m.title === undefined),
      'no titles for a prompt we did not submit',
    );
    assert.ok(anonymous.filter((m) => m.topic === 'progress').every((m) => m.node === '3'));
    assert.ok(got.wide.some(isEnd(ownId)));
  });

  it('scope ids: only the prompt ids given at the input, replaying events that came before the id', async function () {
    const { sub, res, got } = await load([{ id: 'prog', scope: 'ids' }], { mode: 'queued' });
    const prog = helper.getNode('prog');
    // A: runs to the end before its id is given; its events are replayed.
    const { prompt_id: a } = await submit(sub, res, { payload: textToImageWorkflow({ steps: 2, seed: 1 }) });
    await waitFor(async () => (await historyOf(a)) !== undefined, 'A to finish');
    assert.deepEqual(got.prog, []);
    prog.receive({ prompt_id: a });
    await waitFor(() => got.prog.some(isEnd(a)), 'A replayed');
    assert.ok(got.prog.every((m) => m.prompt_id === a));
    assert.equal(got.prog[0].topic, 'execution_start');
    assert.equal(got.prog.filter((m) => m.topic === 'progress').length, 2);

    // B is not given, C is given in msg.payload (an array) and D too, but reset clears C and D.
    env.sim.faults.pauseWorker();
    const { prompt_id: b } = await submit(sub, res, { payload: textToImageWorkflow({ steps: 2, seed: 2 }) });
    const { prompt_id: c } = await submit(sub, res, { payload: textToImageWorkflow({ steps: 2, seed: 3 }) });
    const { prompt_id: d } = await submit(sub, res, { payload: textToImageWorkflow({ steps: 2, seed: 4 }) });
    const { prompt_id: e } = await submit(sub, res, { payload: textToImageWorkflow({ steps: 2, seed: 5 }) });
    prog.receive({ payload: [c, d] });
    prog.receive({ reset: true });
    prog.receive({ payload: e });
    const before = got.prog.length;
    env.sim.faults.resumeWorker();
    await waitFor(() => got.prog.some(isEnd(e)), 'E to finish');
    await waitFor(async () => (await historyOf(d)) !== undefined && (await historyOf(b)) !== undefined, 'B, C and D to finish');
    const later = got.prog.slice(before);
    assert.deepEqual([...new Set(later.map((m) => m.prompt_id))], [e]);
    assert.ok(!later.some((m) => m.topic === 'status'), 'no status msgs in scope ids');
    assert.deepEqual(
      later.filter((m) => m.topic === 'progress').map((m) => m.percent),
      [50, 100],
    );
  });

  it('scope ids: an input without ids fails with BAD_INPUT; other scopes ignore input', async function () {
    await load([
      { id: 'prog', scope: 'ids' },
      { id: 'mine', scope: 'own' },
    ]);
    const prog = helper.getNode('prog');
    const failed = nextError(prog);
    prog.receive({ payload: 12 });
    const err = await failed;
    assert.equal(err.code, 'BAD_INPUT');
    assert.match(err.message, /msg\.prompt_id/);
    const own = helper.getNode('mine');
    own.receive({ payload: 12 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(own.error.getCalls().filter((call) => call.thisValue === own).length, 0);
  });

  it('asks for previews with extra_data.preview_method, msg.previews overriding the node', async function () {
    const { sub, res, got } = await load([{ id: 'prog', events: ['preview'] }], { previews: 'none' });
    const plain = await submit(sub, res, { payload: textToImageWorkflow({ steps: 2, seed: 1 }) });
    assert.equal('preview_method' in (await historyOf(plain.prompt_id)).prompt[3], false);
    assert.deepEqual(got.prog, []);

    const asked = await submit(sub, res, { payload: textToImageWorkflow({ steps: 2, seed: 2 }), previews: 'latent2rgb' });
    assert.equal((await historyOf(asked.prompt_id)).prompt[3].preview_method, 'latent2rgb');
    await waitFor(() => got.prog.length === 2, 'two previews');

    const failed = nextError(sub);
    sub.receive({ payload: textToImageWorkflow(), previews: 'fast' });
    const err = await failed;
    assert.equal(err.code, 'BAD_INPUT');
    assert.match(err.message, /none, auto, latent2rgb, taesd/);
  });

  it('sends type-4 previews attributed to prompt and node, JPEG for KSampler latents', async function () {
    const { sub, res, got } = await load([{ id: 'prog', events: ['preview', 'progress'] }], { previews: 'auto' });
    const { prompt_id: id } = await submit(sub, res, { payload: textToImageWorkflow({ steps: 3 }) });
    assert.equal((await historyOf(id)).prompt[3].preview_method, 'auto');
    await waitFor(() => got.prog.length >= 6, 'three previews and three progress msgs');
    // ComfyUI sends the type-4 frame of a step before its progress message.
    assert.deepEqual(
      got.prog.map((m) => m.topic),
      ['preview', 'progress', 'preview', 'progress', 'preview', 'progress'],
    );
    for (const msg of got.prog.filter((m) => m.topic === 'preview')) {
      assert.ok(isJpeg(msg.payload), 'a JPEG Buffer');
      assert.equal(msg.contentType, 'image/jpeg');
      assert.equal(msg.prompt_id, id);
      assert.equal(msg.node, '3');
      assert.equal(msg.title, 'KSampler');
      assert.equal(msg.percent, undefined);
    }
  });

  it('sends SaveImageWebsocket images as PNG previews', async function () {
    const { sub, res, got } = await load([{ id: 'prog', events: ['preview'] }]);
    const { prompt_id: id } = await submit(sub, res, { payload: websocketImageWorkflow(2) });
    await waitFor(() => got.prog.length >= 2, 'two PNG previews');
    assert.equal(got.prog.length, 2);
    for (const msg of got.prog) {
      assert.ok(isPng(msg.payload), 'a PNG Buffer');
      assert.equal(msg.payload.readUInt32BE(16), 32, 'full size');
      assert.equal(msg.contentType, 'image/png');
      assert.equal(msg.prompt_id, id);
      assert.equal(msg.node, '2');
      assert.equal(msg.title, 'Send over WS');
    }
  });

  it('decodes broadcast type-1 previews (JPEG and PNG) of a prompt without client_id in scope all', async function () {
    await restartSimulator({ previewMethod: 'auto' });
    const { got } = await load([
      { id: 'wide', scope: 'all', events: ['preview', 'progress'] },
      { id: 'mine', scope: 'own', events: ['preview', 'progress'] },
    ]);
    // The progress node connects lazily; wait for its socket before anything is broadcast.
    await waitFor(() => helper.getNode('srv').client.state === 'connected', 'the socket');
    const latentId = await rawPrompt(textToImageWorkflow({ steps: 2 }));
    await waitFor(() => got.wide.filter((m) => m.topic === 'preview').length === 2, 'two JPEG previews');
    const pngId = await rawPrompt(websocketImageWorkflow(1));
    await waitFor(() => got.wide.filter((m) => m.topic === 'preview').length === 3, 'one PNG preview');

    const previews = got.wide.filter((m) => m.topic === 'preview');
    for (const msg of previews.slice(0, 2)) {
      assert.equal(msg.contentType, 'image/jpeg');
      assert.ok(isJpeg(msg.payload));
      // Type 1 carries no ids: attributed to the progress message just before it.
      assert.equal(msg.prompt_id, latentId);
      assert.equal(msg.node, '3');
      assert.equal(msg.title, undefined);
    }
    assert.equal(previews[2].contentType, 'image/png');
    assert.ok(isPng(previews[2].payload));
    assert.equal(previews[2].prompt_id, pngId);
    assert.equal(previews[2].node, '2');
    // Type-1 frames follow their progress message.
    assert.deepEqual(
      got.wide.slice(0, 4).map((m) => m.topic),
      ['progress', 'preview', 'progress', 'preview'],
    );
    assert.deepEqual(got.mine, []);
  });

  it('throttles previews to N per second, dropping the excess but always sending the last one', async function () {
    await restartSimulator({ stepMs: 10 });
    const { sub, res, got } = await load(
      [
        { id: 'slow', events: ['preview'], previewRate: 2 },
        { id: 'every', events: ['preview'], previewRate: 0 },
      ],
      { previews: 'auto' },
    );
    const started = Date.now();
    await submit(sub, res, { payload: textToImageWorkflow({ steps: 60 }) });
    await waitFor(() => got.every.length === 60, 'every preview at the unthrottled node');
    const last = got.every[59].payload;
    await waitFor(
      () => got.slow.length > 0 && got.slow[got.slow.length - 1].payload.equals(last),
      'the last preview after the interval',
      3000,
    );
    const elapsed = Date.now() - started;
    assert.ok(got.slow.length >= 2, `${got.slow.length} previews`);
    assert.ok(got.slow.length <= Math.ceil(elapsed / 500) + 1, `${got.slow.length} previews in ${elapsed} ms`);
    assert.ok(got.slow.length < 10);
    assert.ok(got.slow.every((m) => m.contentType === 'image/jpeg' && m.node === '3'));
    await new Promise((resolve) => setTimeout(resolve, 600));
    assert.ok(got.slow[got.slow.length - 1].payload.equals(last), 'nothing after the last one');
  });

  it('coalesce: a prompt of many fast steps gives few msgs, with its start, outputs, end, and the last progress and preview of each node', async function () {
    await restartSimulator({ stepMs: 1 });
    const { sub, res, got } = await load(
      [
        { id: 'calm', coalesce: 4 },
        { id: 'every', coalesce: '' },
      ],
      { previews: 'auto' },
    );
    const started = Date.now();
    const { prompt_id: id } = await submit(sub, res, { payload: textToImageWorkflow({ steps: 200 }) });
    await waitFor(() => got.calm.some(isEnd(id)) && got.every.some(isEnd(id)), 'the final executing at both nodes');
    const elapsed = Date.now() - started;
    const calm = got.calm.filter((m) => m.prompt_id === id);
    const every = got.every.filter((m) => m.prompt_id === id);
    const paced = (m) =>
      ['progress', 'progress_state', 'preview'].includes(m.topic) || (m.topic === 'executing' && m.payload.node !== null);
    const label = (m) => `${m.topic} ${m.node ?? ''}`;

    assert.equal(every.filter((m) => m.topic === 'progress').length, 200, 'the node without coalescing gets every step');
    const progress = calm.filter((m) => m.topic === 'progress');
    assert.ok(progress.length >= 1 && progress.length < 100, `${progress.length} progress msgs for 200 steps`);
    // 4 a second, plus what goes out early just before a must-keep msg or at a change of node (at most 4 keys each time).
    const bound = Math.ceil(elapsed / 250) + 1 + 4 * 5;
    assert.ok(calm.filter(paced).length <= bound, `${calm.filter(paced).length} paced msgs in ${elapsed} ms`);

    // Nothing that matters is lost or reordered: start, cached, outputs, success and the final executing.
    assert.deepEqual(calm.filter((m) => !paced(m)).map(label), every.filter((m) => !paced(m)).map(label));
    assert.deepEqual(
      calm.filter((m) => !paced(m)).map((m) => m.topic),
      ['execution_start', 'execution_cached', 'executed', 'execution_success', 'executing'],
    );
    // The last value of each node is the last one ComfyUI sent: the sampler at its max, its final preview.
    for (const node of new Set(every.filter((m) => m.topic === 'progress').map((m) => m.node))) {
      const last = progress.filter((m) => m.node === node).at(-1);
      assert.deepEqual(last.payload, every.filter((m) => m.topic === 'progress' && m.node === node).at(-1).payload);
      assert.equal(last.payload.value, last.payload.max);
      assert.equal(last.percent, 100);
    }
    const lastPreview = (msgs) => msgs.filter((m) => m.topic === 'preview').at(-1);
    assert.ok(lastPreview(calm).payload.equals(lastPreview(every).payload), 'the final preview');
    assert.ok(calm.filter((m) => m.topic === 'preview').length < 100, 'previews are coalesced too');
    // The node running last is reported (a node that starts replaces the one before), and nothing of the prompt follows its end.
    const lastRunning = (msgs) => msgs.filter((m) => m.topic === 'executing' && m.node).at(-1).node;
    assert.equal(lastRunning(calm), lastRunning(every));
    assert.deepEqual(calm.slice(calm.findIndex((m) => m.topic === 'execution_success')).map(label), ['execution_success ', 'executing ']);
  });

  it('shows "KSampler k/n" in the status, at most about 4 times a second, and green when done', async function () {
    await restartSimulator({ stepMs: 25 });
    const { sub, res } = await load([{ id: 'prog', events: [] }]);
    const prog = helper.getNode('prog');
    await submit(sub, res, { payload: textToImageWorkflow({ steps: 20 }) });
    await waitFor(() => lastStatus(prog).text === 'comfyui-progress.status.done', 'the done status');
    const texts = statusesOf(prog);
    const steps = texts.filter((s) => /^KSampler \d+\/20$/.test(s.text));
    assert.ok(steps.length >= 1, 'a step status');
    assert.ok(steps.length <= 4, `${steps.length} step updates over 500 ms`);
    assert.ok(steps.every((s) => s.fill === 'blue' && s.shape === 'dot'));
    assert.deepEqual(lastStatus(prog), { fill: 'green', shape: 'dot', text: 'comfyui-progress.status.done' });
  });

  it('shows a failed prompt as a red ring', async function () {
    const { sub } = await load([{ id: 'prog', events: ['execution_error'] }]);
    const prog = helper.getNode('prog');
    const got = nextMessage(helper.getNode('prog-out'));
    // LoadImage of a file that is not an image fails at run time.
    const upload = new FormData();
    upload.append('image', new Blob([Buffer.from('not a png')]), 'broken.png');
    const uploaded = await (await fetch(`${env.sim.url}/upload/image`, { method: 'POST', body: upload })).json();
    const failed = nextError(sub);
    sub.receive({
      payload: {
        1: { class_type: 'LoadImage', inputs: { image: uploaded.name }, _meta: { title: 'Broken' } },
        2: { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'x' } },
      },
    });
    await failed;
    const msg = await got;
    assert.equal(msg.topic, 'execution_error');
    assert.equal(msg.node, '1');
    assert.equal(msg.title, 'Broken');
    assert.equal(msg.payload.node_type, 'LoadImage');
    await waitFor(() => lastStatus(prog).text === 'comfyui-progress.status.failed', 'the failed status');
    assert.deepEqual(lastStatus(prog), { fill: 'red', shape: 'ring', text: 'comfyui-progress.status.failed' });
  });

  it('removes its event listener on close', async function () {
    await load([{ id: 'a' }, { id: 'b', scope: 'all' }]);
    const client = helper.getNode('srv').client;
    assert.equal(client.listenerCount('event'), 2);
    await helper.unload();
    assert.equal(client.listenerCount('event'), 0);
  });
});
