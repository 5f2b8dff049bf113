'use strict';
const assert = require('node:assert/strict');
const { request } = require('undici');
const {
  waitFor,
  nextMessage,
  nextError,
  nextCall,
  saveImageWorkflow,
  textToImageWorkflow,
  lastStatus,
  statusesOf,
  useSimulator,
  loadSubmit,
  uiSaveImageWorkflow,
} = require('./support');

describe('comfyui-submit', function () {
  const env = useSimulator({ testControls: true, stepMs: 30 });

  const load = (submitProps = {}) => loadSubmit(env, submitProps);

  async function history(promptId) {
    const res = await request(`${env.sim.url}/history/${promptId}`);
    return (await res.body.json())[promptId];
  }

  /** The submit node's own statuses in order (catalog keys, and progress texts like "1/2 Save 3/20"), without the connection's. */
  const ownStatuses = (node) =>
    statusesOf(node)
      .map((st) => st.text)
      .filter((text) => typeof text === 'string' && !text.startsWith('node-red:common.status.') && !text.includes('comfyui-server'));

  it('runs a Buffer of JSON as the workflow (File In: UTF-8, with a byte order mark), also over its own workflow', async function () {
    const own = JSON.stringify(saveImageWorkflow({ prefix: 'own' }));
    const { sub, out } = await load({ workflow: own });
    const bytes = Buffer.concat([
      Buffer.from([0xef, 0xbb, 0xbf]),
      Buffer.from(`${JSON.stringify(saveImageWorkflow({ prefix: 'from-file' }))}\n`),
    ]);
    let got = nextMessage(out);
    sub.receive({ payload: bytes });
    assert.match((await got).payload.images[0].filename, /^from-file_/);
    // Bytes that are no JSON (an image from an earlier node, say) leave the node's own workflow in charge.
    got = nextMessage(out);
    sub.receive({ payload: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0]) });
    assert.match((await got).payload.images[0].filename, /^own_/);
  });

  it('waits for the result and sends the input msg on with outputs, image refs, cached flag and duration', async function () {
    const { sub, out } = await load();
    const got = nextMessage(out);
    sub.receive({ payload: saveImageWorkflow({ prefix: 'ok' }), topic: 'keep-me' });
    const msg = await got;
    assert.equal(msg.topic, 'keep-me', 'the input msg travels on');
    assert.match(msg.prompt_id, /^[0-9a-f-]{36}$/);
    const p = msg.payload;
    assert.equal(p.prompt_id, msg.prompt_id);
    assert.equal(p.status, 'success');
    assert.equal(p.cached, false);
    assert.equal(typeof p.duration, 'number');
    assert.ok(p.duration >= 0);
    assert.equal(typeof p.number, 'number');
    assert.deepEqual(Object.keys(p.outputs), ['2']);
    assert.equal(p.images.length, 1);
    assert.deepEqual(Object.keys(p.images[0]).sort(), ['contentType', 'filename', 'key', 'kind', 'node', 'subfolder', 'type']);
    assert.deepEqual([p.images[0].kind, p.images[0].key, p.images[0].contentType], ['image', 'images', 'image/png']);
    assert.match(p.images[0].filename, /^ok_\d{5}_\.png$/);
    assert.equal(p.images[0].type, 'output');
    assert.equal(p.images[0].node, '2');
    assert.deepEqual(p.outputs['2'].images[0], { filename: p.images[0].filename, subfolder: '', type: 'output' });
    const entry = await history(msg.prompt_id);
    assert.equal(entry.prompt[3].client_id, env.sim.connectionLog[0].url.split('clientId=')[1], "submitted with our socket's clientId");
    const texts = ownStatuses(sub);
    assert.equal(texts[0], 'comfyui-submit.status.sending');
    assert.equal(texts[texts.length - 1], 'comfyui-submit.status.done');
  });

  it('reports a fully cached rerun with its outputs and cached: true', async function () {
    const { sub, out } = await load();
    const workflow = saveImageWorkflow({ prefix: 'cache' });
    let got = nextMessage(out);
    sub.receive({ payload: workflow });
    const first = await got;
    got = nextMessage(out);
    sub.receive({ payload: workflow });
    const second = await got;
    assert.equal(first.payload.cached, false);
    assert.equal(second.payload.cached, true);
    assert.notEqual(second.prompt_id, first.prompt_id);
    assert.deepEqual(second.payload.images, first.payload.images, 'a cached run reports the files of the earlier run');
    assert.deepEqual(second.payload.cachedNodes.sort(), ['1', '2']);
    assert.equal(lastStatus(sub).text, 'comfyui-submit.status.cached');
  });

  it('uses its own workflow, and msg.payload only when that is a workflow', async function () {
    const { sub, out } = await load({ workflow: JSON.stringify(saveImageWorkflow({ prefix: 'own' })) });
    let got = nextMessage(out);
    sub.receive({ payload: 1732000000000 }); // an inject timestamp
    assert.match((await got).payload.images[0].filename, /^own_/);
    got = nextMessage(out);
    sub.receive({ payload: JSON.stringify({ prompt: saveImageWorkflow({ prefix: 'wrapped' }) }) });
    assert.match((await got).payload.images[0].filename, /^wrapped_/);
  });

  it('fails with VALIDATION listing every failing node by title and id, input and reason (real 400 shape)', async function () {
    // The server's own refusal: the local check (test/submit-validate.spec.js) would refuse it first.
    const { sub } = await load({ validate: false });
    const workflow = saveImageWorkflow();
    workflow['1'].inputs.width = 0;
    workflow['3'] = { class_type: 'SaveImage', inputs: { images: ['1', 0] }, _meta: { title: 'Second Save' } };
    const seen = nextError(sub);
    sub.receive({ payload: workflow });
    const err = await seen;
    assert.equal(err.code, 'VALIDATION');
    assert.equal(err.status, 400);
    assert.match(err.message, /"Empty Image" \(#1, EmptyImage\) input "width": Value 0 smaller than min of 1/);
    assert.match(err.message, /"Second Save" \(#3, SaveImage\) input "filename_prefix": Required input is missing/);
    assert.equal(err.nodes.length, 2);
    assert.equal(err.body.error.type, 'prompt_outputs_failed_validation');
    assert.equal(lastStatus(sub).text, 'comfyui-submit.status.error');
  });

  it('reports node_errors that come with a 200 (ComfyUI dropped a failing output) as a warning and in the payload', async function () {
    const { sub, out } = await load();
    const workflow = saveImageWorkflow({ prefix: 'partial' });
    workflow['3'] = { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'x' }, _meta: { title: 'Broken Save' } };
    workflow['4'] = { class_type: 'EmptyImage', inputs: { width: 0, height: 8, batch_size: 1, color: 0 } };
    workflow['3'].inputs.images = ['4', 0];
    const warned = nextCall(sub, 'warn');
    const got = nextMessage(out);
    sub.receive({ payload: workflow });
    const warning = (await warned).args[0];
    assert.match(warning, /dropped outputs/);
    assert.match(warning, /#4/);
    const msg = await got;
    assert.deepEqual(Object.keys(msg.payload.node_errors), ['4']);
    assert.deepEqual(Object.keys(msg.payload.outputs), ['2']);
  });

  it('fails with EXECUTION naming node, type and message when a node raises at run time', async function () {
    const { sub } = await load();
    // The global fetch, FormData and Blob together (see test/editor.spec.js, upload()).
    const form = new FormData();
    form.append('image', new Blob([Buffer.from('not a png at all\n')], { type: 'image/png' }), 'broken.png');
    const uploaded = await fetch(`${env.sim.url}/upload/image`, { method: 'POST', body: form });
    assert.equal(uploaded.status, 200);
    const { name } = await uploaded.json();
    const workflow = {
      1: { class_type: 'LoadImage', inputs: { image: name }, _meta: { title: 'Load Photo' } },
      2: { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'never' } },
    };
    const seen = nextError(sub);
    sub.receive({ payload: workflow });
    const err = await seen;
    assert.equal(err.code, 'EXECUTION');
    assert.match(err.message, /"Load Photo" \(#1, LoadImage\) failed: \S+/);
    assert.match(err.promptId, /^[0-9a-f-]{36}$/);
  });

  it('fails with INTERRUPTED when the running prompt is interrupted', async function () {
    const { sub } = await load();
    const seen = nextError(sub, 10000);
    sub.receive({ payload: textToImageWorkflow({ steps: 200 }) });
    await waitFor(() => statusesOf(sub).some((st) => /KSampler \d+\/200/.test(st.text || '')), 'KSampler steps in the status');
    await request(`${env.sim.url}/interrupt`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    const err = await seen;
    assert.equal(err.code, 'INTERRUPTED');
    assert.match(err.message, /"KSampler" \(#3, KSampler\)/);
  });

  it('shows "node k of n" and the step while running', async function () {
    const { sub, out } = await load();
    const got = nextMessage(out);
    sub.receive({ payload: textToImageWorkflow({ steps: 12 }) });
    await got;
    const texts = statusesOf(sub).map((st) => st.text);
    assert.ok(
      texts.some((t) => /^\d\/7 KSampler \d+\/12$/.test(t)),
      `no KSampler step status in ${JSON.stringify(texts)}`,
    );
  });

  it("converts a UI-format workflow with the server's definitions and runs it; a class the server lacks is UI_WORKFLOW naming it", async function () {
    const { sub, out } = await load();
    const got = nextMessage(out);
    const ui = uiSaveImageWorkflow();
    sub.receive({ payload: JSON.stringify(ui) });
    const { payload } = await got;
    const [body] = env.sim.requestLog.filter((r) => r.method === 'POST' && r.url === '/prompt').map((r) => JSON.parse(r.body));
    assert.deepEqual(
      Object.fromEntries(
        Object.entries(body.prompt).map(([id, n]) => [id, { class_type: n.class_type, inputs: n.inputs, title: n._meta.title }]),
      ),
      {
        1: { class_type: 'EmptyImage', inputs: { width: 64, height: 32, batch_size: 1, color: 0 }, title: 'EmptyImage' },
        2: { class_type: 'SaveImage', inputs: { filename_prefix: 'ui_converted', images: ['1', 0] }, title: 'Keep' },
      },
    );
    assert.match(payload.images[0].filename, /^ui_converted_/);

    const seen = nextError(sub);
    sub.receive({ payload: { ...ui, nodes: [...ui.nodes, { id: 3, type: 'NoSuchNode', mode: 0 }] } });
    const err = await seen;
    assert.equal(err.code, 'UI_WORKFLOW');
    assert.match(err.message, /NoSuchNode.*Export \(API\)/s);
    assert.equal(env.sim.requestLog.filter((r) => r.method === 'POST').length, 1, 'nothing more was sent');
  });

  it('applies overrides by node id, by title and by dotted key', async function () {
    const { sub, out } = await load();
    const got = nextMessage(out);
    sub.receive({
      payload: saveImageWorkflow(),
      inputs: { 1: { width: 32 }, 'Empty Image': { height: 16 }, 'Save Image.filename_prefix': 'dotted' },
    });
    const msg = await got;
    const entry = await history(msg.prompt_id);
    assert.equal(entry.prompt[2]['1'].inputs.width, 32);
    assert.equal(entry.prompt[2]['1'].inputs.height, 16);
    assert.match(msg.payload.images[0].filename, /^dotted_/);
  });

  it('fails with UNKNOWN_OVERRIDE naming the unknown target and listing what exists', async function () {
    const { sub } = await load();
    let seen = nextError(sub);
    sub.receive({ payload: saveImageWorkflow(), inputs: { 'No Such Node': { width: 1 } } });
    let err = await seen;
    assert.equal(err.code, 'UNKNOWN_OVERRIDE');
    assert.match(err.message, /No node "No Such Node"/);
    assert.match(err.message, /#1 "Empty Image" \(EmptyImage\), #2 "Save Image" \(SaveImage\)/);
    seen = nextError(sub);
    sub.receive({ payload: saveImageWorkflow(), inputs: { 'Empty Image.depth': 3 } });
    err = await seen;
    assert.equal(err.code, 'UNKNOWN_OVERRIDE');
    assert.match(err.message, /has no input "depth"; its inputs are: width, height, batch_size, color/);
    assert.equal(env.sim.requestLog.filter((r) => r.method === 'POST').length, 0, 'nothing was sent');
  });

  it('randomizes seeds per message when asked, and an override still wins', async function () {
    const { sub, out } = await load({ randomizeSeeds: true });
    const seeds = [];
    for (let i = 0; i < 2; i += 1) {
      const got = nextMessage(out);
      sub.receive({ payload: textToImageWorkflow({ steps: 1, seed: 5 }) });
      seeds.push((await history((await got).prompt_id)).prompt[2]['3'].inputs.seed);
    }
    assert.notEqual(seeds[0], seeds[1]);
    assert.ok(seeds.every((seed) => Number.isInteger(seed) && seed !== 5));
    const got = nextMessage(out);
    sub.receive({ payload: textToImageWorkflow({ steps: 1 }), inputs: { 'KSampler.seed': 77 } });
    assert.equal((await history((await got).prompt_id)).prompt[2]['3'].inputs.seed, 77);
  });

  it('in "queued only" mode sends as soon as ComfyUI accepted the prompt', async function () {
    const { sub, out } = await load({ mode: 'queued' });
    env.sim.faults.pauseWorker();
    const got = nextMessage(out);
    sub.receive({ payload: saveImageWorkflow() });
    const msg = await got;
    assert.deepEqual(Object.keys(msg.payload).sort(), ['node_errors', 'number', 'overrides', 'prompt_id']);
    assert.equal(msg.payload.prompt_id, msg.prompt_id);
    assert.equal(await history(msg.prompt_id), undefined, 'it has not run yet');
    assert.deepEqual(ownStatuses(sub), ['comfyui-submit.status.sending', 'comfyui-submit.status.queued']);
    env.sim.faults.resumeWorker();
  });

  it('shows "sending" until ComfyUI accepted the prompt, then "queued" while it waits in the queue', async function () {
    const { sub, out } = await load();
    env.sim.faults.pauseWorker();
    const got = nextMessage(out);
    sub.receive({ payload: saveImageWorkflow({ prefix: 'sending' }) });
    await waitFor(() => lastStatus(sub).text === 'comfyui-submit.status.queued', 'the queued status');
    assert.deepEqual(ownStatuses(sub), ['comfyui-submit.status.sending', 'comfyui-submit.status.queued']);
    const queue = await (await request(`${env.sim.url}/queue`)).body.json();
    assert.equal(queue.queue_pending.length, 1, 'ComfyUI holds it in its queue');
    env.sim.faults.resumeWorker();
    await got;
    const shown = ownStatuses(sub);
    assert.deepEqual(shown.slice(0, 3), ['comfyui-submit.status.sending', 'comfyui-submit.status.queued', 'comfyui-submit.status.running']);
    assert.equal(shown[shown.length - 1], 'comfyui-submit.status.done');
  });

  it('never shows "queued" for a prompt ComfyUI refused: "sending", then "error"', async function () {
    // ComfyUI's own refusal: with the local check the first prompt would never be sent.
    const { sub } = await load({ validate: false });
    const workflow = saveImageWorkflow();
    workflow['1'].inputs.width = 0;
    const seen = nextError(sub);
    sub.receive({ payload: workflow });
    assert.equal((await seen).code, 'VALIDATION');
    env.sim.faults.failRoute('POST', '/prompt', 502, '<html><title>502 Bad Gateway</title></html>', 'text/html', 1);
    const again = nextError(sub);
    sub.receive({ payload: saveImageWorkflow() });
    assert.equal((await again).code, 'HTTP');
    assert.deepEqual(ownStatuses(sub), [
      'comfyui-submit.status.sending',
      'comfyui-submit.status.error',
      'comfyui-submit.status.sending',
      'comfyui-submit.status.error',
    ]);
  });

  it('does not step back to "queued" when the prompt\'s events overtake the answer to POST /prompt', async function () {
    const { sub, out } = await load();
    env.sim.faults.delayRoute('POST', '/prompt', 500, 1);
    const got = nextMessage(out);
    sub.receive({ payload: textToImageWorkflow({ steps: 4 }) });
    await got;
    const shown = ownStatuses(sub);
    assert.equal(shown[0], 'comfyui-submit.status.sending');
    const running = shown.indexOf('comfyui-submit.status.running');
    assert.ok(running > 0, `running was shown: ${shown.join(', ')}`);
    assert.ok(!shown.slice(running).includes('comfyui-submit.status.queued'), `no "queued" after "running": ${shown.join(', ')}`);
    assert.equal(shown[shown.length - 1], 'comfyui-submit.status.done');
  });

  it('does not lose events that arrive before the POST /prompt answer', async function () {
    const { sub, out } = await load();
    env.sim.faults.delayRoute('POST', '/prompt', 300, 1);
    const got = nextMessage(out);
    sub.receive({ payload: saveImageWorkflow({ prefix: 'race' }) });
    const msg = await got;
    assert.match(msg.payload.images[0].filename, /^race_/);
  });
});
