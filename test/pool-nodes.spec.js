'use strict';
// The `comfyui-pool` config node (issue 13 §1, §2, §4) through palette nodes, over simulators on 127.0.0.1:
// model-aware routing with msg.server, images/queue/interrupt/history/info/upload/free on the right member,
// progress from every member, NO_SERVER, and a burst of 300 prompts through submit nodes with one member killed.
const assert = require('node:assert/strict');
const {
  helper,
  allNodes,
  startSimulator,
  waitFor,
  nextMessage,
  lastStatus,
  saveImageWorkflow,
  textToImageWorkflow,
  isPng,
} = require('./support');

const catchNode = require('@node-red/nodes/core/common/25-catch.js');

function checkpointPrompt(file, prefix = 'pool') {
  const prompt = textToImageWorkflow({ steps: 1, prefix });
  prompt['4'].inputs.ckpt_name = file;
  return prompt;
}

describe('comfyui-pool config node with palette nodes', function () {
  this.timeout(60000);
  let sims = [];

  before(() => helper.startServer());
  after(() => helper.stopServer());
  afterEach(async function () {
    try {
      await helper.unload();
      await helper._context.delete('global');
    } finally {
      await Promise.all(sims.map((sim) => sim.close()));
      sims = [];
    }
  });

  async function startSims(optionsPerSim) {
    sims = await Promise.all(optionsPerSim.map((options) => startSimulator({ testControls: true, stepMs: 1, nodeMs: 1, ...options })));
  }

  /** Three servers (gpu1..gpu3), one pool, and the palette nodes under test, each wired to a helper node. */
  function flow(nodes, poolProps = {}) {
    return [
      { id: 'tab', type: 'tab' },
      ...sims.map((sim, i) => ({ id: `srv${i + 1}`, type: 'comfyui-server', name: `gpu${i + 1}`, url: sim.url, timeout: 5, stall: 1 })),
      {
        id: 'pool',
        type: 'comfyui-pool',
        name: 'gpus',
        ...Object.fromEntries(sims.map((_, i) => [`server${i + 1}`, `srv${i + 1}`])),
        grace: 1,
        ...poolProps,
      },
      { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', z: 'tab', type: 'helper' },
      ...nodes.flatMap((node) => [
        { z: 'tab', pool: 'pool', wires: [[`${node.id}-out`]], ...node },
        { id: `${node.id}-out`, z: 'tab', type: 'helper' },
      ]),
    ];
  }

  async function connected() {
    await waitFor(() => helper.getNode('pool').members.length === sims.length, 'the pool to be built');
    await waitFor(() => sims.every((_, i) => helper.getNode(`srv${i + 1}`).client.state === 'connected'), 'every member to connect');
  }

  it('routes each prompt to the member holding its checkpoint: msg.server names it, and the images come from it', async function () {
    await startSims([{ checkpoints: ['a.safetensors'] }, { checkpoints: ['b.safetensors'] }, { checkpoints: ['c.safetensors'] }]);
    await helper.load(
      [...allNodes, catchNode],
      flow([
        { id: 'sub', type: 'comfyui-submit', workflow: '', mode: 'wait' },
        { id: 'img', type: 'comfyui-images', output: 'bytes' },
      ]),
    );
    await connected();
    for (const [index, file] of ['b.safetensors', 'c.safetensors', 'a.safetensors'].entries()) {
      const result = nextMessage(helper.getNode('sub-out'), 20000);
      helper.getNode('sub').receive({ payload: checkpointPrompt(file, `route${index}`) });
      const msg = await result;
      const expected = `gpu${file.charCodeAt(0) - 96}`;
      assert.equal(msg.server, expected);
      assert.equal(sims[file.charCodeAt(0) - 97].finished.get(msg.prompt_id), 'success');
      const image = nextMessage(helper.getNode('img-out'), 20000);
      helper.getNode('img').receive({ payload: msg.payload, prompt_id: msg.prompt_id, server: msg.server });
      const file0 = await image;
      assert.ok(isPng(file0.payload));
      assert.equal(file0.server, expected);
      // By prompt id alone: the pool finds the member that ran it.
      const byId = nextMessage(helper.getNode('img-out'), 20000);
      helper.getNode('img').receive({ prompt_id: msg.prompt_id });
      assert.equal((await byId).server, expected);
    }
  });

  it('fails NO_SERVER to a Catch node naming what each member lacks, with a red status', async function () {
    await startSims([{ checkpoints: ['a.safetensors'] }, { checkpoints: ['b.safetensors'] }]);
    await helper.load([...allNodes, catchNode], flow([{ id: 'sub', type: 'comfyui-submit', workflow: '', mode: 'wait', validate: false }]));
    await connected();
    const caught = nextMessage(helper.getNode('caught'), 20000);
    helper.getNode('sub').receive({ payload: checkpointPrompt('z.safetensors') });
    const msg = await caught;
    assert.equal(msg.error.code, 'NO_SERVER');
    assert.match(msg.error.message, /gpu1 .*z\.safetensors/);
    assert.match(msg.error.message, /gpu2 .*z\.safetensors/);
    assert.equal(lastStatus(helper.getNode('sub')).fill, 'red');
  });

  it('checks a prompt against what any member has: a checkpoint only one member holds passes, an unknown one is VALIDATION', async function () {
    await startSims([{ checkpoints: ['a.safetensors'] }, { checkpoints: ['b.safetensors'] }]);
    await helper.load([...allNodes, catchNode], flow([{ id: 'sub', type: 'comfyui-submit', workflow: '', mode: 'wait' }]));
    await connected();
    const ok = nextMessage(helper.getNode('sub-out'), 20000);
    helper.getNode('sub').receive({ payload: checkpointPrompt('b.safetensors') });
    assert.equal((await ok).server, 'gpu2');
    const caught = nextMessage(helper.getNode('caught'), 20000);
    helper.getNode('sub').receive({ payload: checkpointPrompt('nowhere.safetensors') });
    const msg = await caught;
    assert.equal(msg.error.code, 'VALIDATION');
    assert.match(msg.error.message, /nowhere\.safetensors/);
  });

  it('affinity keeps prompts with one key on one member; queue, interrupt and history act on the member that holds a prompt', async function () {
    await startSims([{}, {}, {}]);
    await helper.load(
      [...allNodes, catchNode],
      flow([
        { id: 'sub', type: 'comfyui-submit', workflow: '', mode: 'queued', affinity: 'topic', affinityType: 'msg' },
        { id: 'queue', type: 'comfyui-queue', action: 'get' },
        { id: 'stop', type: 'comfyui-interrupt' },
        { id: 'hist', type: 'comfyui-history', action: 'get' },
      ]),
    );
    await connected();
    for (const sim of sims) sim.faults.pauseWorker();
    const queued = [];
    for (let i = 0; i < 6; i += 1) {
      const next = nextMessage(helper.getNode('sub-out'), 20000);
      helper
        .getNode('sub')
        .receive({ payload: saveImageWorkflow({ width: 8, height: 8, color: i, prefix: `aff${i}` }), topic: i < 3 ? 'cam-1' : 'cam-2' });
      queued.push(await next);
    }
    assert.equal(new Set(queued.slice(0, 3).map((m) => m.server)).size, 1, 'cam-1 prompts spread over members');
    assert.equal(new Set(queued.slice(3).map((m) => m.server)).size, 1, 'cam-2 prompts spread over members');

    const summary = nextMessage(helper.getNode('queue-out'));
    helper.getNode('queue').receive({});
    const { payload: queue } = await summary;
    assert.equal(queue.pending.length, 6);
    assert.deepEqual(queue.unreachable, []);
    for (const m of queued) assert.equal(queue.pending.find((entry) => entry.prompt_id === m.prompt_id).server, m.server);

    const target = queued[4];
    const stopped = nextMessage(helper.getNode('stop-out'));
    helper.getNode('stop').receive({ prompt_id: target.prompt_id });
    const stopMsg = await stopped;
    assert.equal(stopMsg.payload.outcome, 'deleted');
    assert.equal(stopMsg.server, target.server);

    for (const sim of sims) sim.faults.resumeWorker();
    const done = queued[0];
    const server = sims[Number(done.server.slice(3)) - 1];
    await waitFor(() => server.finished.get(done.prompt_id) === 'success', 'the first prompt to finish');
    const entry = nextMessage(helper.getNode('hist-out'));
    helper.getNode('hist').receive({ prompt_id: done.prompt_id });
    const histMsg = await entry;
    assert.equal(histMsg.server, done.server);
    assert.equal(histMsg.payload.prompt_id, done.prompt_id);
  });

  it('progress sends the events of every member with msg.server; info, upload and free reach the member msg.server names, or all', async function () {
    await startSims([{}, {}]);
    await helper.load(
      [...allNodes, catchNode],
      flow([
        { id: 'sub', type: 'comfyui-submit', workflow: '', mode: 'wait' },
        { id: 'prog', type: 'comfyui-progress', scope: 'own', events: ['execution_success'] },
        { id: 'info', type: 'comfyui-info', info: 'system_stats' },
        { id: 'up', type: 'comfyui-upload', kind: 'image', target: '' },
        { id: 'free', type: 'comfyui-free', unloadModels: true, unloadModelsType: 'bool', freeMemory: true, freeMemoryType: 'bool' },
      ]),
    );
    await connected();
    const seen = [];
    helper.getNode('prog-out').on('input', (msg) => seen.push(msg));
    const results = [];
    for (let i = 0; i < 4; i += 1) {
      const next = nextMessage(helper.getNode('sub-out'), 20000);
      helper.getNode('sub').receive({ payload: saveImageWorkflow({ width: 8, height: 8, color: i, prefix: `prog${i}` }) });
      results.push(await next);
    }
    assert.deepEqual([...new Set(results.map((m) => m.server))].sort(), ['gpu1', 'gpu2']);
    await waitFor(() => results.every((r) => seen.some((m) => m.prompt_id === r.prompt_id)), 'a success event for each prompt');
    for (const r of results) assert.equal(seen.find((m) => m.prompt_id === r.prompt_id).server, r.server);

    const info = nextMessage(helper.getNode('info-out'));
    helper.getNode('info').receive({ server: 'gpu2' });
    assert.equal((await info).server, 'gpu2');

    const png = Buffer.from(
      '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360f8cf000000020001e221bc330000000049454e44ae426082',
      'hex',
    );
    const uploaded = nextMessage(helper.getNode('up-out'));
    helper.getNode('up').receive({ payload: png, filename: 'pooled.png' });
    const upMsg = await uploaded;
    assert.deepEqual(upMsg.servers, ['gpu1', 'gpu2']);
    // The same name on each member: the second upload overwrote nothing it should not have, under the first one's name.
    for (const sim of sims) assert.equal(sim.requestLog.filter((r) => r.method === 'POST' && r.url.startsWith('/upload/image')).length, 1);

    const freed = nextMessage(helper.getNode('free-out'));
    helper.getNode('free').receive({ server: 'gpu1' });
    await freed;
    const wrong = nextMessage(helper.getNode('caught'));
    helper.getNode('free').receive({ server: 'gpu9' });
    const err = await wrong;
    assert.equal(err.error.code, 'BAD_INPUT');
    assert.match(err.error.message, /gpu9.*"gpu1", "gpu2"/);
  });

  it('300 msgs into submit nodes, one member killed mid-burst: every msg answered exactly once, with its result or a coded error', async function () {
    await startSims([{ nodeMs: 2 }, { nodeMs: 2 }, { nodeMs: 2 }]);
    await helper.load([...allNodes, catchNode], flow([{ id: 'sub', type: 'comfyui-submit', workflow: '', mode: 'wait', validate: false }]));
    await connected();
    const delivered = [];
    const failed = [];
    helper.getNode('sub-out').on('input', (msg) => delivered.push(msg));
    helper.getNode('caught').on('input', (msg) => failed.push(msg));
    for (let i = 0; i < 300; i += 1)
      helper.getNode('sub').receive({ payload: saveImageWorkflow({ width: 8, height: 8, color: i, prefix: `burst${i}` }), n: i });
    await waitFor(() => delivered.length + failed.length >= 100, 'a third of the prompts to finish', 30000);
    await sims[1].close();
    await waitFor(() => delivered.length + failed.length >= 300, 'every msg to be answered', 45000);
    // Nothing more arrives later (no duplicate delivery).
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(delivered.length + failed.length, 300);
    const answered = [...delivered.map((m) => m.n), ...failed.map((m) => m.n)];
    assert.equal(new Set(answered).size, 300, 'a msg answered twice');
    for (const msg of delivered) assert.equal(sims[Number(msg.server.slice(3)) - 1].finished.get(msg.prompt_id), 'success');
    for (const msg of failed) {
      assert.equal(msg.error.code, 'LOST', msg.error.message);
      assert.match(msg.error.message, /gpu2/);
    }
  });

  it('with Retries set, a prompt lost while running on a killed member is submitted again elsewhere: every msg gets its result once', async function () {
    await startSims([{ nodeMs: 2 }, { nodeMs: 2 }, { nodeMs: 2 }]);
    await helper.load(
      [...allNodes, catchNode],
      flow([{ id: 'sub', type: 'comfyui-submit', workflow: '', mode: 'wait', validate: false, retries: 2 }]),
    );
    await connected();
    const delivered = [];
    const failed = [];
    helper.getNode('sub-out').on('input', (msg) => delivered.push(msg));
    helper.getNode('caught').on('input', (msg) => failed.push(msg));
    for (let i = 0; i < 120; i += 1)
      helper.getNode('sub').receive({ payload: saveImageWorkflow({ width: 8, height: 8, color: i, prefix: `retry${i}` }), n: i });
    await waitFor(() => delivered.length >= 30, 'a quarter of the prompts to finish', 30000);
    await sims[1].close();
    await waitFor(() => delivered.length + failed.length >= 120, 'every msg to be answered', 45000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(
      failed.map((m) => m.error.message),
      [],
    );
    assert.equal(new Set(delivered.map((m) => m.n)).size, 120);
    assert.equal(delivered.length, 120);
  });

  it('keeps a prompt in flight in the job store naming the pool and its member; the status shows members out of routing and back', async function () {
    await startSims([{}, {}]);
    await helper.load([...allNodes, catchNode], flow([{ id: 'sub', type: 'comfyui-submit', workflow: '', mode: 'wait' }]));
    await connected();
    await waitFor(() => lastStatus(helper.getNode('sub')).text?.endsWith('.ready'), 'the ready status');
    for (const sim of sims) sim.faults.pauseWorker();
    const result = nextMessage(helper.getNode('sub-out'), 20000);
    helper.getNode('sub').receive({ payload: saveImageWorkflow({ width: 8, height: 8, prefix: 'kept' }), topic: 'kept' });
    const global = helper.getNode('sub-out').context().global;
    const keys = () => global.keys().filter((key) => key.startsWith('comfyui-job-'));
    await waitFor(() => keys().length === 1, 'a record in the store');
    const record = global.get(keys()[0]);
    assert.equal(record.server, 'pool');
    const holder = sims.findIndex((sim) => sim.requestLog.some((r) => r.method === 'POST' && r.url.startsWith('/prompt')));
    assert.equal(record.member, `gpu${holder + 1}`);
    assert.equal(record.msg.topic, 'kept');
    for (const sim of sims) sim.faults.resumeWorker();
    assert.equal((await result).server, record.member);
    await waitFor(() => keys().length === 0, 'the record dropped after the result');

    const port = sims[1].port;
    await sims[1].close();
    await waitFor(() => lastStatus(helper.getNode('sub')).text?.endsWith('.partial'), 'the partial status');
    sims[1] = await startSimulator({ testControls: true, stepMs: 1, nodeMs: 1, port });
    await waitFor(() => lastStatus(helper.getNode('sub')).text?.endsWith('.ready'), 'the ready status again', 15000);
  });
});
