'use strict';
// The submit node's check before POST /prompt and its dry run, over the simulator on 127.0.0.1:
// what reaches the server is read from the simulator's own request log.
const assert = require('node:assert/strict');
const {
  helper,
  waitFor,
  nextMessage,
  nextError,
  nextCall,
  textToImageWorkflow,
  lastStatus,
  useSimulator,
  loadSubmit,
} = require('./support');
const { FAKE_CHECKPOINTS } = require('../dist/simulator');

describe('comfyui-submit: validate before submit, dry run', function () {
  const env = useSimulator({ testControls: true, stepMs: 1 });

  const load = (submitProps = {}) => loadSubmit(env, submitProps);

  /** Requests of one method and route (with or without the /api prefix) the simulator has seen. */
  function requests(method, path) {
    return env.sim.requestLog.filter((r) => r.method === method && [path, `/api${path}`].includes(r.url.split('?')[0]));
  }

  function wrongCheckpoint() {
    const workflow = textToImageWorkflow();
    // The same model under the old extension: the server has the .safetensors file.
    workflow['4'].inputs.ckpt_name = 'v1-5-pruned-emaonly.ckpt';
    return workflow;
  }

  it('refuses a checkpoint the server does not have before sending, naming the one it has', async function () {
    assert.ok(FAKE_CHECKPOINTS.includes('v1-5-pruned-emaonly.safetensors'));
    const { sub } = await load();
    const seen = nextError(sub);
    sub.receive({ payload: wrongCheckpoint() });
    const err = await seen;
    assert.equal(err.code, 'VALIDATION');
    assert.match(
      err.message,
      /"Load Checkpoint" \(#4, CheckpointLoaderSimple\) input "ckpt_name": Value not in list; did you mean 'v1-5-pruned-emaonly\.safetensors'/,
    );
    assert.match(err.message, /checked before sending/);
    assert.equal(err.nodes.length, 1);
    assert.deepEqual(
      [err.nodes[0].id, err.nodes[0].type, err.nodes[0].input, err.nodes[0].title],
      ['4', 'value_not_in_list', 'ckpt_name', 'Load Checkpoint'],
    );
    assert.equal(requests('POST', '/prompt').length, 0, 'nothing was queued');
    assert.equal(lastStatus(sub).text, 'comfyui-submit.status.error');
  });

  it('with validation off, the server refuses it itself (its 400)', async function () {
    const { sub } = await load({ validate: false });
    const seen = nextError(sub);
    sub.receive({ payload: wrongCheckpoint() });
    const err = await seen;
    assert.equal(err.code, 'VALIDATION');
    assert.equal(err.status, 400);
    assert.match(err.message, /^ComfyUI rejected the workflow: .*ckpt_name.*Value not in list/);
    assert.equal(requests('POST', '/prompt').length, 1);
    assert.equal(requests('GET', '/object_info').length, 0, 'the definitions were not even asked');
  });

  it("the local refusal carries a body of the server's own shape: the same nodes, error types, inputs and dependent outputs as its 400", async function () {
    const local = await load();
    const seenLocal = nextError(local.sub);
    local.sub.receive({ payload: wrongCheckpoint() });
    const mine = (await seenLocal).body;
    await helper.unload();
    const remote = await load({ validate: false });
    const seenRemote = nextError(remote.sub);
    remote.sub.receive({ payload: wrongCheckpoint() });
    const theirs = (await seenRemote).body;
    assert.deepEqual(mine.error, theirs.error);
    const outline = (nodeErrors) =>
      Object.entries(nodeErrors).map(([id, entry]) => ({
        id,
        class_type: entry.class_type,
        dependent_outputs: entry.dependent_outputs,
        errors: entry.errors.map((e) => [e.type, e.extra_info.input_name]),
      }));
    assert.deepEqual(outline(mine.node_errors), outline(theirs.node_errors));
    assert.ok(outline(theirs.node_errors).length > 0);
  });

  it('a flow saved before the setting existed (no validate property) validates', async function () {
    const { sub } = await load({ validate: undefined });
    const seen = nextError(sub);
    sub.receive({ payload: wrongCheckpoint() });
    assert.match((await seen).message, /checked before sending/);
    assert.equal(requests('POST', '/prompt').length, 0);
  });

  it('a valid prompt runs as before, and outputs that fail beside good ones are left to the server to drop', async function () {
    const { sub, out } = await load();
    const workflow = textToImageWorkflow();
    workflow['20'] = { class_type: 'EmptyImage', inputs: { width: 0, height: 8, batch_size: 1, color: 0 } };
    workflow['21'] = { class_type: 'SaveImage', inputs: { images: ['20', 0], filename_prefix: 'dropped' } };
    const got = nextMessage(out);
    sub.receive({ payload: workflow });
    const msg = await got;
    assert.deepEqual(Object.keys(msg.payload.node_errors), ['20']);
    assert.deepEqual(Object.keys(msg.payload.outputs), ['9']);
    assert.equal(requests('POST', '/prompt').length, 1);
  });

  it('a dry run queues nothing and sends the final prompt (overrides applied) with no problems', async function () {
    const { sub, out } = await load({ dryRun: true });
    const got = nextMessage(out);
    sub.receive({ payload: textToImageWorkflow(), inputs: { 'Positive Prompt': { text: 'a harbour' } } });
    const msg = await got;
    assert.deepEqual(msg.payload.problems, []);
    assert.equal(msg.payload.prompt['6'].inputs.text, 'a harbour');
    assert.equal(msg.payload.prompt['3'].class_type, 'KSampler');
    assert.equal(msg.prompt_id, undefined);
    assert.equal(requests('POST', '/prompt').length, 0);
    assert.deepEqual(lastStatus(sub), { fill: 'green', shape: 'ring', text: 'comfyui-submit.status.dry-run' });
  });

  it('a dry run answers with the problems instead of failing, even with validation off; msg.dryRun asks for one per msg', async function () {
    const { sub, out } = await load({ validate: false });
    const got = nextMessage(out);
    sub.receive({ payload: wrongCheckpoint(), dryRun: true });
    const msg = await got;
    assert.equal(msg.payload.problems.length, 1);
    const [problem] = msg.payload.problems;
    assert.deepEqual(
      [problem.id, problem.class_type, problem.input, problem.type],
      ['4', 'CheckpointLoaderSimple', 'ckpt_name', 'value_not_in_list'],
    );
    assert.match(problem.message, /did you mean 'v1-5-pruned-emaonly\.safetensors'/);
    assert.equal(problem.suggestions[0], 'v1-5-pruned-emaonly.safetensors', 'the same model under its other extension comes first');
    assert.equal(requests('POST', '/prompt').length, 0);
    assert.deepEqual(lastStatus(sub), { fill: 'yellow', shape: 'ring', text: 'comfyui-submit.status.dry-run-problems' });
    // msg.dryRun only counts as true: "yes" is a normal submit.
    const again = nextError(sub);
    sub.receive({ payload: wrongCheckpoint(), dryRun: 'yes' });
    assert.equal((await again).status, 400);
  });

  it('a dry run still fails for a workflow that is no workflow', async function () {
    const { sub } = await load({ dryRun: true });
    const seen = nextError(sub);
    sub.receive({ payload: '{"nodes": [{"id": 1, "type": "NoSuchNode"}], "links": []}' });
    assert.equal((await seen).code, 'UI_WORKFLOW');
    const again = nextError(sub);
    sub.receive({ payload: '{not json' });
    assert.equal((await again).code, 'BAD_WORKFLOW');
  });

  it('asks the definitions once per connection, and again after a reconnect', async function () {
    const { sub, out, client } = await load();
    for (const prefix of ['one', 'two']) {
      const got = nextMessage(out);
      sub.receive({ payload: textToImageWorkflow(), inputs: { 9: { filename_prefix: prefix } } });
      await got;
    }
    assert.equal(requests('GET', '/object_info').length, 1);
    env.sim.faults.dropSockets();
    await waitFor(() => env.sim.connectionLog.length === 2 && client.state === 'connected', 'the reconnect', 8000);
    const got = nextMessage(out);
    sub.receive({ payload: textToImageWorkflow() });
    await got;
    assert.equal(requests('GET', '/object_info').length, 2);
  });

  it('submits unchecked when the definitions cannot be read, and says so once, not per msg', async function () {
    env.sim.faults.failRoute('GET', '/object_info', 500, 'boom');
    const { sub, out } = await load();
    const warned = nextCall(sub, 'warn');
    for (let i = 0; i < 2; i++) {
      const got = nextMessage(out);
      sub.receive({ payload: textToImageWorkflow() });
      assert.equal((await got).payload.status, 'success');
    }
    assert.match((await warned).args[0], /without checking the workflow first.*object_info/);
    const warnings = sub.warn.getCalls().filter((call) => call.thisValue === sub && /without checking/.test(String(call.args[0])));
    assert.equal(warnings.length, 1);
    assert.equal(requests('GET', '/object_info').length, 2, 'asked for each msg (a failed answer is not kept)');
    assert.equal(requests('POST', '/prompt').length, 2);
  });

  it('a dry run fails when the definitions cannot be read (it cannot answer), with the reason', async function () {
    env.sim.faults.failRoute('GET', '/object_info', 500, 'boom');
    const { sub } = await load({ dryRun: true });
    const seen = nextError(sub);
    sub.receive({ payload: textToImageWorkflow() });
    assert.equal((await seen).code, 'HTTP');
    assert.equal(requests('POST', '/prompt').length, 0);
  });
});
