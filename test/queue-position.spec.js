'use strict';
// Where is my prompt (issue 14 §5): queue positions and ETAs of waiting prompts, and the result's
// split into queue wait and run time. Pure parts with fixed values; the rest over real sockets.
const assert = require('node:assert/strict');
const { request } = require('undici');
const { ComfyClient } = require('../dist/client/client');
const { readQueue } = require('../dist/client/answer-shapes');
const { positionsOf, queueOrder } = require('../dist/client/queue-positions');
const { RunTimes } = require('../dist/client/run-times');
const { workflowFingerprint } = require('../dist/client/workflow-fingerprint');
const { queuePositionStatus } = require('../dist/nodes/queue-position-status');
const { helper, allNodes, startSimulator, waitFor, saveImageWorkflow, statusesOf, useSimulator } = require('./support');

/** EmptyImage → ImageBlur → SaveImage; `color` makes each prompt its own (no cache hits), the workflow stays the same. */
function blurWorkflow(color) {
  return {
    1: { class_type: 'EmptyImage', inputs: { width: 16, height: 16, batch_size: 1, color }, _meta: { title: 'Empty' } },
    2: { class_type: 'ImageBlur', inputs: { image: ['1', 0], blur_radius: 1, sigma: 1 }, _meta: { title: 'Blur' } },
    3: { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: `eta_${color}` }, _meta: { title: 'Save' } },
  };
}

describe('queue positions: the pure parts', function () {
  it('fingerprints a workflow by its nodes, classes and links, not by its values', function () {
    const a = workflowFingerprint(blurWorkflow(1));
    assert.equal(typeof a, 'string');
    assert.equal(workflowFingerprint(blurWorkflow(2)), a, 'another color is the same workflow');
    const retitled = blurWorkflow(1);
    retitled[2]._meta.title = 'Soften';
    assert.equal(workflowFingerprint(retitled), a, 'titles do not change how long it runs');
    const relinked = blurWorkflow(1);
    relinked[3].inputs.images = ['1', 0];
    assert.notEqual(workflowFingerprint(relinked), a, 'another link is another workflow');
    const reclassed = blurWorkflow(1);
    reclassed[2].class_type = 'ImageInvert';
    assert.notEqual(workflowFingerprint(reclassed), a, 'another class is another workflow');
    const extraInput = blurWorkflow(1);
    extraInput[2].inputs.extra = 5;
    assert.notEqual(workflowFingerprint(extraInput), a, 'another input is another workflow');
  });

  it('fingerprints whatever a server puts in its queue without throwing', function () {
    for (const junk of [undefined, null, 'x', 5, [1, 2]]) assert.equal(workflowFingerprint(junk), undefined);
    assert.equal(typeof workflowFingerprint({ 1: null, 2: { class_type: 7, inputs: 'no' }, 3: { inputs: { a: ['1', 'x'] } } }), 'string');
    const queue = readQueue({
      queue_running: [],
      queue_pending: [
        [1, 'has-prompt', blurWorkflow(1), { client_id: 'c' }, ['3']],
        [2, 'no-prompt', 'not a prompt', {}, []],
      ],
    });
    assert.equal(queue.queue_pending[0].fingerprint, workflowFingerprint(blurWorkflow(9)));
    assert.equal(queue.queue_pending[1].fingerprint, undefined, 'an item without a prompt is still read');
  });

  it('keeps the median of the last runs per workflow, for a bounded number of workflows', function () {
    const times = new RunTimes({ runsPerWorkflow: 3, workflows: 2 });
    assert.equal(times.expected('a'), undefined);
    times.record('a', 100);
    assert.equal(times.expected('a'), 100);
    times.record('a', 300);
    assert.equal(times.expected('a'), 200, 'the median of two is their mean');
    times.record('a', 5000);
    assert.equal(times.expected('a'), 300, 'one slow run does not move the median far');
    times.record('a', 400);
    times.record('a', 500);
    assert.equal(times.expected('a'), 500, 'only the last 3 runs count: 5000, 400, 500');
    times.record('b', 10);
    times.record('c', 20);
    assert.equal(times.expected('a'), undefined, 'the workflow that ran longest ago is forgotten first');
    assert.equal(times.expected('c'), 20);
    times.record('x', Number.NaN);
    times.record('x', -1);
    assert.equal(times.expected('x'), undefined, 'no run time from nonsense');
  });

  it('orders pending prompts like ComfyUI and counts the running ones ahead; the ETA adds up what is left', function () {
    const view = {
      queue_running: [{ number: 1, prompt_id: 'r', fingerprint: 'slow' }],
      queue_pending: [
        { number: 5, prompt_id: 'late', fingerprint: 'fast' },
        { number: 3, prompt_id: 'b', fingerprint: 'fast' },
        { number: 3, prompt_id: 'a', fingerprint: 'slow' },
      ],
    };
    const expected = { slow: 1000, fast: 100 };
    const positions = positionsOf(view, {
      expected: (item) => expected[item.fingerprint],
      runningSince: (id) => (id === 'r' ? 10_000 : undefined),
      now: 10_400,
    });
    assert.deepEqual(positions, [
      // r has 600 ms left; a runs 1000 after it
      { prompt_id: 'a', position: 1, ahead: 1, eta_ms: 1600 },
      { prompt_id: 'b', position: 2, ahead: 2, eta_ms: 1700 },
      { prompt_id: 'late', position: 3, ahead: 3, eta_ms: 1800 },
    ]);
    const overdue = positionsOf(view, { expected: (item) => expected[item.fingerprint], runningSince: () => 0, now: 50_000 });
    assert.equal(overdue[0].eta_ms, 1000, 'a running prompt past its expected time counts as about to end, not as negative');
    const unknown = positionsOf(view, {
      expected: (item) => (item.prompt_id === 'b' ? undefined : 100),
      runningSince: () => undefined,
      now: 0,
    });
    assert.deepEqual(
      unknown.map((p) => p.eta_ms),
      [200, null, null],
      'a prompt of an unknown workflow makes its own ETA and every one behind it unknown',
    );
    assert.ok(queueOrder({ number: 2, prompt_id: 'a' }, { number: 1, prompt_id: 'z' }) > 0);
  });

  it("shows the place in the submit node's status as plain text, with the ETA as a clock when known", function () {
    assert.deepEqual(queuePositionStatus({ prompt_id: 'p', position: 3, ahead: 3, eta_ms: null }), {
      fill: 'blue',
      shape: 'ring',
      text: '#3',
    });
    assert.equal(queuePositionStatus({ prompt_id: 'p', position: 1, ahead: 1, eta_ms: 80_000 }).text, '#1 ~1:20');
    assert.equal(
      queuePositionStatus({ prompt_id: 'p', position: 2, ahead: 2, eta_ms: 1 }).text,
      '#2 ~0:01',
      'rounded up: never 0:00 before the end',
    );
    assert.equal(queuePositionStatus({ prompt_id: 'p', position: 9, ahead: 9, eta_ms: 3_725_000 }).text, '#9 ~1:02:05');
  });
});

describe('queue positions: a client against the simulator', function () {
  let sim;
  let client;

  beforeEach(async () => {
    sim = await startSimulator({ testControls: true });
  });
  afterEach(async () => {
    await client?.close();
    client = undefined;
    await sim.close();
  });

  const queueReads = () => sim.requestLog.filter((r) => r.method === 'GET' && /\/queue$/.test(r.url)).length;

  async function deletePending(id) {
    const answer = await request(`${sim.url}/queue`, { method: 'POST', body: JSON.stringify({ delete: [id] }) });
    await answer.body.dump();
  }

  it('reports each waiting prompt as the queue moves, all of them from one shared look at the queue per change', async function () {
    client = new ComfyClient({ url: sim.url, timeoutMs: 3000 });
    client.connect();
    sim.faults.pauseWorker();
    // Someone else's prompt first (no client id): it is ahead of ours, and nobody watches it.
    const foreign = await request(`${sim.url}/prompt`, {
      method: 'POST',
      body: JSON.stringify({ prompt: saveImageWorkflow({ prefix: 'other' }) }),
    });
    const foreignId = (await foreign.body.json()).prompt_id;
    const reports = new Map();
    const ids = [];
    for (const color of [1, 2, 3, 4]) {
      const submission = await client.submit(blurWorkflow(color), {
        wait: true,
        callbacks: { onQueuePosition: (p) => (reports.get(p.prompt_id) ?? reports.set(p.prompt_id, []).get(p.prompt_id)).push(p) },
      });
      ids.push(submission.promptId);
    }
    const latest = () => ids.map((id) => reports.get(id)?.at(-1)?.position);
    await waitFor(() => latest().join() === '2,3,4,5', 'the places behind the foreign prompt');
    for (const [index, id] of ids.entries()) {
      const last = reports.get(id).at(-1);
      assert.deepEqual(last, { prompt_id: id, position: index + 2, ahead: index + 1, eta_ms: null }, 'no run time known here yet: no ETA');
    }

    // One change of the queue (one status broadcast) is one look for all four prompts, not one per prompt.
    const before = queueReads();
    await deletePending(foreignId);
    await waitFor(() => latest().join() === '1,2,3,4', 'every prompt one place up');
    assert.ok(queueReads() - before < ids.length, `${queueReads() - before} looks at the queue for ${ids.length} prompts`);

    // Deleting the first of ours moves those behind it; it leaves the watch (no report for a prompt gone).
    const reportsOfFirst = reports.get(ids[0]).length;
    await deletePending(ids[0]);
    await waitFor(() => latest().slice(1).join() === '1,2,3', 'the others moving up');
    assert.equal(reports.get(ids[0]).length, reportsOfFirst);
    sim.faults.resumeWorker();
  });

  it('reports nothing for a prompt that is only queued (no one waits for it) unless a flow listens to events', async function () {
    client = new ComfyClient({ url: sim.url, timeoutMs: 3000 });
    client.connect();
    sim.faults.pauseWorker();
    const told = [];
    await client.submit(blurWorkflow(1), { wait: false, callbacks: { onQueuePosition: (p) => told.push(p) } });
    const events = [];
    client.on('event', (e) => e.type === 'queue_position' && events.push(e));
    const listened = await client.submit(blurWorkflow(2), { wait: false });
    await waitFor(() => events.length > 0, 'the position event of the prompt queued while a flow listens');
    assert.deepEqual(events[0], {
      type: 'queue_position',
      data: { prompt_id: listened.promptId, position: 2, ahead: 1, eta_ms: null },
      promptId: listened.promptId,
      own: true,
    });
    assert.deepEqual(told, [], 'callbacks are for prompts being waited for');
    assert.ok(
      events.every((e) => e.promptId === listened.promptId),
      'the first prompt was queued while nobody listened',
    );
    sim.faults.resumeWorker();
  });
});

describe('queue positions: submit and progress nodes', function () {
  // A fixed run time per prompt, long enough for the queue to be read while each prompt runs.
  const env = useSimulator({ testControls: true, nodeMsByClass: { ImageBlur: 600 } });

  async function load() {
    const flow = [
      { id: 'srv', type: 'comfyui-server', url: env.sim.url, timeout: 5 },
      { id: 'ahead', type: 'comfyui-submit', server: 'srv', workflow: '', mode: 'wait', wires: [['aheadOut']] },
      { id: 'aheadOut', type: 'helper' },
      { id: 'mine', type: 'comfyui-submit', server: 'srv', workflow: '', mode: 'wait', wires: [['mineOut']] },
      { id: 'mineOut', type: 'helper' },
      // As a new node gets it from the editor.
      {
        id: 'prog',
        type: 'comfyui-progress',
        server: 'srv',
        scope: 'own',
        events: ['queue_position', 'execution_start'],
        wires: [['progOut']],
      },
      { id: 'progOut', type: 'helper' },
      // Flows from before queue_position: no event list, and an explicit list of every older type.
      { id: 'old', type: 'comfyui-progress', server: 'srv', scope: 'own', wires: [['oldOut']] },
      { id: 'oldOut', type: 'helper' },
      {
        id: 'oldList',
        type: 'comfyui-progress',
        server: 'srv',
        scope: 'own',
        events: [
          'execution_start',
          'execution_cached',
          'executing',
          'progress',
          'progress_state',
          'executed',
          'execution_success',
          'status',
        ],
        wires: [['oldListOut']],
      },
      { id: 'oldListOut', type: 'helper' },
    ];
    await helper.load(allNodes, flow);
    const node = (id) => helper.getNode(id);
    const record = (id) => {
      const msgs = [];
      node(id).on('input', (msg) => msgs.push(msg));
      return msgs;
    };
    return {
      client: node('srv').client,
      ahead: node('ahead'),
      mine: node('mine'),
      results: { ahead: record('aheadOut'), mine: record('mineOut') },
      prog: record('progOut'),
      old: record('oldOut'),
      oldList: record('oldListOut'),
    };
  }

  it('goes #4 → #3 → #2 → #1 → running as the prompts ahead run; the result splits queue wait from run time', async function () {
    const { client, ahead, mine, results, prog, old, oldList } = await load();
    await waitFor(() => client.state === 'connected', 'the socket');
    const sim = env.sim;
    sim.faults.pauseWorker();
    for (const color of [1, 2, 3]) ahead.receive({ payload: blurWorkflow(color) });
    await waitFor(async () => (await client.http.queue()).queue_pending.length === 3, 'three prompts ahead');
    mine.receive({ payload: blurWorkflow(4) });
    const mineId = await waitFor(
      () => prog.find((m) => m.topic === 'queue_position' && m.payload.position === 4)?.prompt_id,
      'my place, #4',
    );
    sim.faults.resumeWorker();
    await waitFor(() => results.mine.length === 1 && results.ahead.length === 3, 'every result');

    // The progress node: my prompt's places in order, each with the prompts ahead of it, then its start.
    const mineMsgs = prog.filter((m) => m.prompt_id === mineId);
    const places = mineMsgs.filter((m) => m.topic === 'queue_position').map((m) => m.payload);
    for (const p of places) assert.deepEqual(Object.keys(p).sort(), ['ahead', 'eta_ms', 'position', 'prompt_id']);
    const positions = places.map((p) => p.position).filter((n, i, all) => all.indexOf(n) === i);
    assert.deepEqual(positions, [4, 3, 2, 1], 'every place, in order');
    for (let i = 1; i < places.length; i++) {
      assert.ok(places[i].position <= places[i - 1].position && places[i].ahead <= places[i - 1].ahead, 'never a step back');
    }
    assert.equal(places.at(-1).ahead, 1, 'at #1 only the running prompt is ahead');
    assert.equal(mineMsgs.at(-1).topic, 'execution_start', 'running after the last place');
    assert.equal(places[0].eta_ms, null, 'no run of this workflow on this server yet: no ETA');
    assert.equal(typeof places.at(-1).eta_ms, 'number', 'after the prompts ahead ran, the workflow has run times');
    assert.ok(places.at(-1).eta_ms >= 0);

    // The submit node's status: the places, then running, then done.
    const texts = statusesOf(mine).map((s) => s.text);
    const shown = texts.filter((t) => t.startsWith('#')).map((t) => t.split(' ')[0]);
    assert.deepEqual(
      shown.filter((t, i) => shown.indexOf(t) === i),
      ['#4', '#3', '#2', '#1'],
    );
    const lastPlace = texts.findLastIndex((t) => t.startsWith('#'));
    assert.ok(texts.indexOf('comfyui-submit.status.running') > lastPlace, 'running comes after the last place');
    assert.equal(texts.at(-1), 'comfyui-submit.status.done');
    assert.ok(texts.indexOf('comfyui-submit.status.queued') < texts.findIndex((t) => t.startsWith('#')), 'queued, then its place');

    // The result: queue wait and run time apart. My prompt waited while the 2nd and 3rd ran (whole).
    const timing = results.mine[0].payload.timing;
    const [, second, third] = results.ahead.map((m) => m.payload.timing);
    for (const t of [timing, second, third]) {
      assert.ok(t.queued_ms >= 0 && t.running_ms >= 0, JSON.stringify(t));
      assert.ok(t.queued_ms + t.running_ms <= t.total_ms, `the parts fit in the whole: ${JSON.stringify(t)}`);
    }
    assert.equal(results.mine[0].payload.duration, timing.total_ms, 'duration stays, the same as total_ms');
    assert.ok(timing.queued_ms >= second.running_ms + third.running_ms, 'waiting covers the runs of the prompts ahead');

    // Old flows get no new msgs.
    assert.ok(old.length > 0 && oldList.length > 0, 'the old progress nodes did see the prompts');
    assert.deepEqual(
      [...old, ...oldList].filter((m) => m.topic === 'queue_position'),
      [],
    );
  });
});
