'use strict';
// Never lose a result, never hang: socket gaps, restarts, deaf sockets, refusals and timeouts.
const assert = require('node:assert/strict');
const WebSocket = require('ws');
const { ComfyClient } = require('../dist/client/client');
const { startSimulator } = require('../dist/simulator');
const { waitFor, saveImageWorkflow, textToImageWorkflow } = require('./support');

describe('reliability of the client under faults', function () {
  let sim;
  let client;

  beforeEach(async () => {
    sim = await startSimulator({ testControls: true, stepMs: 20 });
  });
  afterEach(async () => {
    await client?.close();
    client = undefined;
    await sim.close();
  });

  async function connected(options = {}) {
    client = new ComfyClient({ url: sim.url, timeoutMs: 2000, clientId: 'rel', ...options });
    client.connect();
    await waitFor(() => client.state === 'connected', 'connected');
    return client;
  }

  it('fails with LOST, not a hang, when the server restarts mid-run and forgets the prompt', async function () {
    await connected({ socket: { backoffInitialMs: 100 }, tracker: { lostGraceMs: 200 } });
    const submission = await client.submit(textToImageWorkflow({ steps: 500 }), { wait: true });
    await waitFor(async () => (await client.http.queue()).queue_running.length === 1, 'the prompt running');
    await sim.faults.restart();
    await assert.rejects(submission.result, (err) => {
      assert.equal(err.code, 'LOST');
      assert.match(err.message, /neither its queue nor its history/);
      return true;
    });
    assert.equal(client.pendingJobs, 0);
  });

  it('keeps waiting across a reconnect for a prompt that is still queued, then delivers it once', async function () {
    await connected({ socket: { backoffInitialMs: 100 }, tracker: { lostGraceMs: 100 } });
    sim.faults.pauseWorker();
    const submission = await client.submit(saveImageWorkflow({ prefix: 'queued' }), { wait: true });
    let settled = 0;
    submission.result.then(
      () => (settled += 1),
      () => (settled += 1),
    );
    sim.faults.dropSockets();
    await waitFor(() => sim.connectionLog.length === 2 && client.state === 'connected', 'the reconnect');
    await new Promise((resolve) => setTimeout(resolve, 400)); // well past the LOST grace period
    assert.equal(settled, 0, 'a queued prompt is not LOST');
    sim.faults.resumeWorker();
    const result = await submission.result;
    assert.match(result.images[0].filename, /^queued_/);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(settled, 1);
  });

  it('the watchdog delivers a prompt whose events went missing without any socket drop', async function () {
    await connected({ tracker: { watchdogMs: 300 } });
    // ComfyUI's own race: a second socket with our clientId that closes deletes our registration,
    // and our (still open) socket silently receives nothing any more.
    const twin = new WebSocket(`${sim.url.replace('http', 'ws')}/ws?clientId=rel`);
    await new Promise((resolve) => twin.once('open', resolve));
    twin.close();
    await new Promise((resolve) => twin.once('close', resolve));
    const frames = [];
    client.on('frame', (f) => frames.push(f));
    const submission = await client.submit(saveImageWorkflow({ prefix: 'deaf' }), { wait: true });
    const result = await submission.result;
    assert.match(result.images[0].filename, /^deaf_/);
    assert.equal(frames.filter((f) => f.kind === 'message' && f.message.type === 'executing').length, 0, 'no events reached us');
  });

  it('the watchdog leaves a prompt alone while its events keep coming, however long it runs', async function () {
    // 60 steps of 20 ms: over a second of progress, four times the watchdog's quiet period.
    await connected({ tracker: { watchdogMs: 300 } });
    const asked = () => sim.requestLog.filter((r) => r.method === 'GET' && (r.url.startsWith('/history/') || r.url === '/queue')).length;
    const steps = [];
    const submission = await client.submit(textToImageWorkflow({ steps: 60 }), {
      wait: true,
      callbacks: { onProgress: (p) => steps.push(p.value) },
    });
    const before = asked();
    const result = await submission.result;
    assert.equal(result.status, 'success');
    assert.ok(steps.length >= 60, `${steps.length} progress events`);
    // Only the one GET /history/{id} that fetches the result: no watchdog check while events arrived.
    assert.equal(asked() - before, 1);
  });

  it('does not retry a 401 on the WebSocket upgrade faster than the slow schedule, and says why', async function () {
    sim.faults.failRoute('GET', '/ws', 401, 'Unauthorized');
    client = new ComfyClient({ url: sim.url, timeoutMs: 2000, socket: { backoffInitialMs: 20, backoffMaxMs: 1000 } });
    const refusals = [];
    client.on('refused', (r) => refusals.push(r));
    client.connect();
    await new Promise((resolve) => setTimeout(resolve, 1300));
    // Fast backoff from 20 ms would have dialed about ten times by now.
    assert.ok(sim.connectionLog.length <= 3, `${sim.connectionLog.length} attempts`);
    assert.ok(refusals.length >= 1);
    assert.equal(refusals[0].code, 'AUTH');
    assert.match(refusals[0].message, /server refused \(401\).*check credentials/);
    await assert.rejects(client.submit(saveImageWorkflow(), { wait: true }), (err) => err.code === 'AUTH');
  });

  it('uses fast backoff for a server that is merely down (502 on upgrade)', async function () {
    sim.faults.failRoute('GET', '/ws', 502, 'Bad Gateway');
    client = new ComfyClient({ url: sim.url, timeoutMs: 2000, socket: { backoffInitialMs: 20, backoffMaxMs: 1000 } });
    client.connect();
    await waitFor(() => sim.connectionLog.length >= 5, 'several quick attempts', 2000);
    assert.equal(client.refusal, undefined);
  });

  it('names a 404 as a wrong endpoint, on HTTP and on the upgrade', async function () {
    sim.faults.failRoute('POST', '/prompt', 404, '404: Not Found', 'text/plain', 1);
    sim.faults.failRoute('GET', '/ws', 404, '404: Not Found', 'text/plain');
    client = new ComfyClient({ url: sim.url, timeoutMs: 2000 });
    const refused = new Promise((resolve) => client.once('refused', resolve));
    await assert.rejects(client.submit(saveImageWorkflow(), { wait: false }), (err) => {
      assert.equal(err.code, 'WRONG_ENDPOINT');
      assert.match(err.message, /not a ComfyUI endpoint \(404\) for POST \/prompt: check the URL and base path/);
      return true;
    });
    const refusal = await refused; // submit opened the socket, lazily
    assert.equal(refusal.code, 'WRONG_ENDPOINT');
    assert.match(refusal.message, /for the WebSocket upgrade/);
  });

  it('times out a prompt stuck in the queue and deletes it from the queue when asked', async function () {
    await connected();
    sim.faults.pauseWorker();
    const submission = await client.submit(saveImageWorkflow(), { wait: true, queueTimeoutMs: 200, cancelOnTimeout: true });
    await assert.rejects(submission.result, (err) => err.code === 'TIMEOUT' && /waited in ComfyUI's queue/.test(err.message));
    await waitFor(async () => (await client.http.queue()).queue_pending.length === 0, 'the prompt dequeued');
    sim.faults.resumeWorker();
  });

  it('times out a prompt that runs too long and interrupts it when asked', async function () {
    await connected();
    const submission = await client.submit(textToImageWorkflow({ steps: 500 }), { wait: true, totalTimeoutMs: 300, cancelOnTimeout: true });
    await assert.rejects(submission.result, (err) => err.code === 'TIMEOUT' && /did not finish within 300 ms/.test(err.message));
    await waitFor(async () => {
      const entry = await client.http.history(submission.promptId);
      return entry?.status.status_str === 'error';
    }, 'the interrupted prompt in history');
  });

  it('a queue timeout does not fire for a prompt that is already running', async function () {
    await connected();
    const submission = await client.submit(textToImageWorkflow({ steps: 15 }), { wait: true, queueTimeoutMs: 100 });
    const result = await submission.result;
    assert.equal(result.status, 'success');
  });
});
