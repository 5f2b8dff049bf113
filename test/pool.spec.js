'use strict';
// ComfyPool (src/client/pool.ts) over three simulators on 127.0.0.1: routing, model-aware routing, failover.
const assert = require('node:assert/strict');
const { ComfyClient } = require('../dist/client/client');
const { ComfyPool } = require('../dist/client/pool');
const { startSimulator } = require('../dist/simulator');
const { waitFor, saveImageWorkflow, textToImageWorkflow } = require('./support');

/** A short grace so that a member counts as gone soon after its socket stays down. */
const GRACE_MS = 400;

function tiny(i) {
  return saveImageWorkflow({ width: 8, height: 8, color: i % 0xffffff, prefix: `pool/${i}` });
}

/** An EmptyImage → ImageBlur → SaveImage prompt that stays running for `nodeMsByClass.ImageBlur`. */
function slow(i) {
  return {
    1: { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: i } },
    2: { class_type: 'ImageBlur', inputs: { image: ['1', 0], blur_radius: 1, sigma: 1 } },
    3: { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: `slow/${i}` } },
  };
}

function checkpointPrompt(file) {
  const prompt = textToImageWorkflow({ steps: 1 });
  prompt['4'].inputs.ckpt_name = file;
  return prompt;
}

describe('ComfyPool over three simulators', function () {
  this.timeout(60000);
  let sims = [];
  let clients = [];
  let pool;

  async function start(optionsPerSim = [{}, {}, {}], poolOptions = {}, { connected = true } = {}) {
    sims = await Promise.all(optionsPerSim.map((options) => startSimulator({ testControls: true, stepMs: 1, nodeMs: 1, ...options })));
    clients = sims.map(
      (sim) =>
        new ComfyClient({
          url: sim.url,
          timeoutMs: 3000,
          socket: { backoffInitialMs: 50, backoffMaxMs: 200 },
          tracker: { lostGraceMs: 200 },
        }),
    );
    pool = new ComfyPool(
      clients.map((client, i) => ({ name: `gpu${i + 1}`, client })),
      { graceMs: GRACE_MS, ...poolOptions },
    );
    if (connected) await waitFor(() => clients.every((client) => client.state === 'connected'), 'every member to connect');
  }

  afterEach(async function () {
    pool?.close();
    await Promise.all(clients.map((client) => client.close()));
    await Promise.all(sims.map((sim) => sim.close()));
    pool = undefined;
    sims = [];
    clients = [];
  });

  it('spreads prompts over the least loaded members in turn, and tells which member ran each', async function () {
    await start();
    for (const sim of sims) sim.faults.pauseWorker();
    const submissions = [];
    for (let i = 0; i < 9; i += 1) submissions.push(await pool.submit(tiny(i), { wait: true }));
    const perServer = {};
    for (const s of submissions) perServer[s.server] = (perServer[s.server] ?? 0) + 1;
    assert.deepEqual(perServer, { gpu1: 3, gpu2: 3, gpu3: 3 });
    const queue = await pool.queueSummary();
    assert.equal(queue.pending.length, 9);
    assert.equal(queue.queue_remaining, 9);
    for (const entry of queue.pending) assert.equal(entry.server, pool.serverOf(entry.prompt_id));
    for (const sim of sims) sim.faults.resumeWorker();
    const results = await Promise.all(submissions.map((s) => s.result));
    for (const [i, result] of results.entries()) {
      assert.equal(result.server, submissions[i].server);
      assert.equal(result.prompt_id, submissions[i].promptId);
      const sim = sims[Number(result.server.slice(3)) - 1];
      assert.equal(sim.finished.get(result.prompt_id), 'success');
      const found = await pool.historyEntry(result.prompt_id);
      assert.equal(found.server, result.server);
      const file = await pool.view(result.prompt_id, result.images[0]);
      assert.ok(file.body.length > 0);
    }
  });

  it('a submit right after the pool is made waits for its members to connect instead of failing NO_SERVER', async function () {
    await start([{}, {}, {}], {}, { connected: false });
    assert.ok(clients.every((client) => client.state !== 'connected'));
    const s = await pool.submit(tiny(1), { wait: true });
    assert.equal((await s.result).server, s.server);
  });

  it('routes by model file: only members holding the checkpoint; none → NO_SERVER naming what each lacks', async function () {
    await start([
      { checkpoints: ['a.safetensors'] },
      { checkpoints: ['b.safetensors'] },
      { checkpoints: ['a.safetensors', 'b.safetensors'] },
    ]);
    const onB = [];
    for (let i = 0; i < 6; i += 1) onB.push(await pool.submit(checkpointPrompt('b.safetensors'), { wait: true }));
    assert.deepEqual([...new Set(onB.map((s) => s.server))].sort(), ['gpu2', 'gpu3']);
    for (const s of onB) assert.equal((await s.result).server, s.server);
    const onA = await pool.submit(checkpointPrompt('a.safetensors'), { wait: true });
    assert.ok(['gpu1', 'gpu3'].includes(onA.server));
    await onA.result;

    const err = await pool.submit(checkpointPrompt('z.safetensors'), { wait: true }).then(
      () => assert.fail('a prompt no member can run was accepted'),
      (e) => e,
    );
    assert.equal(err.code, 'NO_SERVER');
    for (const name of ['gpu1', 'gpu2', 'gpu3']) assert.match(err.message, new RegExp(`${name} lacks model file z\\.safetensors`));
    const unknownClass = await pool.submit({ 1: { class_type: 'NoSuchNode', inputs: {} } }, { wait: true }).catch((e) => e);
    assert.equal(unknownClass.code, 'NO_SERVER');
    assert.match(unknownClass.message, /gpu1 lacks node class NoSuchNode/);
    for (const sim of sims) assert.equal([...sim.finished.keys()].filter((id) => id === err.promptId).length, 0);
  });

  it('affinity keeps related prompts on one member while the others are idler', async function () {
    await start();
    for (const sim of sims) sim.faults.pauseWorker();
    const first = await pool.submit(tiny(1), { wait: true, affinity: 'user-7' });
    const next = [];
    for (let i = 2; i < 6; i += 1) next.push(await pool.submit(tiny(i), { wait: true, affinity: 'user-7' }));
    for (const s of next) assert.equal(s.server, first.server);
    const other = await pool.submit(tiny(9), { wait: true });
    assert.notEqual(other.server, first.server);
    for (const sim of sims) sim.faults.resumeWorker();
    await Promise.all([first, ...next, other].map((s) => s.result));
  });

  it('a member that refuses the connection is out of routing and named in NO_SERVER', async function () {
    await start();
    sims[0].faults.failRoute('GET', '/ws', 401);
    sims[0].faults.dropSockets();
    await waitFor(() => clients[0].refusal !== undefined, 'gpu1 to be refused');
    for (let i = 0; i < 4; i += 1) assert.notEqual((await pool.submit(tiny(i), { wait: false })).server, 'gpu1');
    const health = pool.health();
    assert.match(health[0].unavailable, /refuses the connection/);
    await sims[1].close();
    await sims[2].close();
    await waitFor(() => clients[1].state !== 'connected' && clients[2].state !== 'connected', 'gpu2 and gpu3 to drop');
    const err = await pool.submit(tiny(5), { wait: true }).catch((e) => e);
    assert.equal(err.code, 'NO_SERVER');
    assert.match(err.message, /gpu1 refuses the connection/);
    assert.match(err.message, /gpu2 is not connected/);
  });

  it('a member whose submissions keep failing leaves routing, and is back when its socket is', async function () {
    await start([{}, {}, {}], { failureLimit: 2, failureCooldownMs: 60000 });
    sims[0].faults.failRoute('POST', '/prompt', 500, 'boom', 'text/plain', 2);
    const servers = [];
    for (let i = 0; i < 6; i += 1) {
      const s = await pool.submit(tiny(i), { wait: true });
      servers.push(s.server);
      await s.result;
    }
    assert.match(pool.health()[0].unavailable ?? '', /failed 2 submissions in a row/);
    assert.ok(!servers.includes('gpu1'), `gpu1 took ${servers}`);
    sims[0].faults.dropSockets();
    await waitFor(() => clients[0].state !== 'connected', 'gpu1 to drop');
    await waitFor(() => pool.health()[0].unavailable === undefined, 'gpu1 back in routing');
  });

  it('a member gone with prompts waiting: they move under the same id, run once, and are deleted there when it is back', async function () {
    await start();
    for (const sim of sims) sim.faults.pauseWorker();
    const submissions = [];
    for (let i = 0; i < 6; i += 1) submissions.push(await pool.submit(tiny(i), { wait: true }));
    const onFirst = submissions.filter((s) => s.server === 'gpu1');
    assert.equal(onFirst.length, 2);
    const moved = [];
    pool.on('moved', (event) => moved.push(event));
    // gpu1's server lives on (its queue too) but our socket cannot reach it for longer than the grace period.
    sims[0].faults.failRoute('GET', '/ws', 503);
    sims[0].faults.dropSockets();
    await waitFor(() => moved.length === 2, 'both prompts of gpu1 to move', 10000);
    for (const event of moved) {
      assert.equal(event.from, 'gpu1');
      assert.ok(['gpu2', 'gpu3'].includes(event.to));
    }
    assert.equal((await clients[0].http.queue()).queue_pending.length, 2, 'still pending on gpu1 while it is unreachable');
    sims[0].faults.reset();
    await waitFor(() => clients[0].state === 'connected', 'gpu1 back');
    await waitFor(async () => (await clients[0].http.queue()).queue_pending.length === 0, 'the moved prompts deleted on gpu1');
    for (const sim of sims) sim.faults.resumeWorker();
    const results = await Promise.all(submissions.map((s) => s.result));
    for (const [i, result] of results.entries()) assert.equal(result.prompt_id, submissions[i].promptId);
    for (const s of onFirst) {
      const result = await s.result;
      assert.notEqual(result.server, 'gpu1');
      assert.equal(sims[0].finished.has(s.promptId), false, 'ran on gpu1 too');
    }
  });

  it('a member gone with a prompt running: it fails LOST; the prompts waiting behind it move', async function () {
    await start([{ nodeMsByClass: { ImageBlur: 60000 } }, {}, {}]);
    let started = false;
    const ran = await pool.submit(slow(1), { wait: true, affinity: 'k', callbacks: { onRunning: () => (started = true) } });
    assert.equal(ran.server, 'gpu1');
    const waiting = await pool.submit(slow(2), { wait: true, affinity: 'k' });
    assert.equal(waiting.server, 'gpu1');
    await waitFor(() => started, 'the first prompt to run');
    await sims[0].close();
    const err = await ran.result.catch((e) => e);
    assert.equal(err.code, 'LOST');
    assert.equal(err.promptId, ran.promptId);
    assert.match(err.message, /lost while running on gpu1/);
    const moved = await waiting.result;
    assert.notEqual(moved.server, 'gpu1');
    assert.equal(moved.prompt_id, waiting.promptId);
  });

  it('a prompt lost while running moves when the caller allows a retry, and runs once elsewhere', async function () {
    await start([{ nodeMsByClass: { ImageBlur: 60000 } }, {}, {}]);
    let started = 0;
    const retried = await pool.submit(slow(1), { wait: true, affinity: 'k', retries: 1, callbacks: { onRunning: () => (started += 1) } });
    assert.equal(retried.server, 'gpu1');
    await waitFor(() => started === 1, 'the prompt to run on gpu1');
    await sims[0].close();
    const result = await retried.result;
    assert.notEqual(result.server, 'gpu1');
    assert.equal(result.prompt_id, retried.promptId);
    assert.equal(started, 2);
    const ranOn = sims.filter((sim) => sim.finished.get(retried.promptId) === 'success');
    assert.equal(ranOn.length, 1);
  });

  it('300 prompts at once, one member killed mid-burst: every prompt delivered exactly once or failed with a code', async function () {
    await start([{ nodeMs: 2 }, { nodeMs: 2 }, { nodeMs: 2 }]);
    const moved = [];
    pool.on('moved', (event) => moved.push(event));
    let settled = 0;
    const outcomes = [];
    for (let i = 0; i < 300; i += 1) {
      outcomes.push(
        pool
          .submit(tiny(i), { wait: true })
          .then((s) => s.result)
          .then(
            (result) => ({ result }),
            (error) => ({ error }),
          )
          .finally(() => (settled += 1)),
      );
    }
    await waitFor(() => settled >= 100, 'a third of the prompts to finish', 30000);
    const killedLoad = pool.health()[1].load;
    await sims[1].close();
    const all = await Promise.all(outcomes);
    const delivered = all.filter((o) => o.result).map((o) => o.result);
    const failed = all.filter((o) => o.error).map((o) => o.error);
    assert.equal(delivered.length + failed.length, 300);
    assert.equal(new Set(delivered.map((r) => r.prompt_id)).size, delivered.length, 'a prompt delivered twice');
    for (const result of delivered) assert.equal(sims[Number(result.server.slice(3)) - 1].finished.get(result.prompt_id), 'success');
    // Each prompt ran on one member only: nothing was run twice behind the pool's back.
    const runs = new Map();
    for (const sim of sims) for (const id of sim.finished.keys()) runs.set(id, (runs.get(id) ?? 0) + 1);
    assert.deepEqual(
      [...runs.values()].filter((n) => n > 1),
      [],
    );
    // gpu2 held more than the one prompt it could be running when it was killed: those waited, and moved.
    if (killedLoad >= 2) assert.ok(moved.length >= 1, 'nothing moved');
    for (const event of moved) assert.equal(event.from, 'gpu2');
    // Only what had started on gpu2 may fail (LOST: running, or finished there with its history out of reach), and it ran nowhere else.
    for (const err of failed) {
      assert.equal(err.code, 'LOST', err.message);
      assert.match(err.message, /lost while running on gpu2/);
      assert.ok(!sims[0].finished.has(err.promptId) && !sims[2].finished.has(err.promptId));
    }
  });

  it("merges the members' events, each tagged with its member, and stops listening to them with the last listener", async function () {
    await start();
    const seen = [];
    const listener = ({ server, event }) => seen.push({ server, type: event.type, promptId: event.promptId });
    pool.on('event', listener);
    const submissions = [];
    for (let i = 0; i < 3; i += 1) submissions.push(await pool.submit(tiny(i), { wait: true }));
    await Promise.all(submissions.map((s) => s.result));
    for (const s of submissions) {
      await waitFor(() => seen.some((e) => e.promptId === s.promptId && e.type === 'executing'), `events of ${s.promptId}`);
      assert.deepEqual([...new Set(seen.filter((e) => e.promptId === s.promptId).map((e) => e.server))], [s.server]);
    }
    assert.ok(clients.every((client) => client.listenerCount('event') === 1));
    pool.off('event', listener);
    assert.ok(clients.every((client) => client.listenerCount('event') === 0));
  });

  it('cancels a prompt on the member that has it: a pending one is deleted there and its wait ends INTERRUPTED, not moved', async function () {
    await start();
    for (const sim of sims) sim.faults.pauseWorker();
    const submissions = [];
    for (let i = 0; i < 3; i += 1) submissions.push(await pool.submit(tiny(i), { wait: true }));
    const target = submissions[1];
    const cancelled = await pool.cancel(target.promptId);
    assert.deepEqual(cancelled, { outcome: 'deleted', prompt_id: target.promptId, server: target.server });
    const err = await target.result.catch((e) => e);
    assert.equal(err.code, 'INTERRUPTED');
    for (const sim of sims) sim.faults.resumeWorker();
    await Promise.all([submissions[0].result, submissions[2].result]);
    for (const sim of sims) assert.equal(sim.finished.has(target.promptId), false);
    assert.deepEqual(await pool.cancel('never-submitted'), { outcome: 'unknown', prompt_id: 'never-submitted' });
  });

  it('closing the pool ends its waits with CLOSED and its members stop following them', async function () {
    await start();
    for (const sim of sims) sim.faults.pauseWorker();
    const s = await pool.submit(tiny(1), { wait: true });
    assert.equal(
      clients.reduce((n, client) => n + client.pendingJobs, 0),
      1,
    );
    pool.close();
    assert.equal((await s.result.catch((e) => e)).code, 'CLOSED');
    assert.equal(
      clients.reduce((n, client) => n + client.pendingJobs, 0),
      0,
    );
    assert.equal((await pool.submit(tiny(2), { wait: true }).catch((e) => e)).code, 'CLOSED');
  });

  it('submit under a given prompt id; a malformed one is BAD_INPUT and nothing is sent', async function () {
    await start([{}]);
    const s = await clients[0].submit(tiny(1), { wait: true, promptId: 'my-id_1' });
    assert.equal(s.promptId, 'my-id_1');
    assert.equal((await s.result).prompt_id, 'my-id_1');
    const posts = () => sims[0].requestLog.filter((r) => r.method === 'POST').length;
    const before = posts();
    const err = await clients[0].submit(tiny(2), { wait: true, promptId: '../x' }).catch((e) => e);
    assert.equal(err.code, 'BAD_INPUT');
    assert.equal(posts(), before);
  });
});
