'use strict';
// The client over real sockets against the simulator: HTTP errors, the socket, the tracker.
const assert = require('node:assert/strict');
const net = require('node:net');
const WebSocket = require('ws');
const { ComfyClient } = require('../dist/client/client');
const { startSimulator } = require('../dist/simulator');
const { waitFor, saveImageWorkflow } = require('./support');

describe('ComfyClient against the simulator', function () {
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

  function connect(options = {}) {
    client = new ComfyClient({ url: sim.url, timeoutMs: 2000, clientId: 'test-client', ...options });
    return client;
  }

  it('announces supports_preview_metadata as its first message and gets the server flags back', async function () {
    connect();
    const frames = [];
    client.on('frame', (f) => frames.push(f));
    client.connect();
    await waitFor(() => frames.find((f) => f.kind === 'message' && f.message.type === 'feature_flags'), 'the feature_flags answer');
    const first = frames[0];
    assert.equal(first.message.type, 'status');
    assert.equal(first.message.data.sid, 'test-client');
    const flags = frames.find((f) => f.message.type === 'feature_flags').message.data;
    assert.equal(flags.supports_preview_metadata, true);
    assert.equal(typeof flags.max_upload_size, 'number');
  });

  it("turns a proxy's HTML 502 page into a clear HTTP error carrying status and body", async function () {
    connect();
    sim.faults.failRoute(
      'GET',
      '/queue',
      502,
      '<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>',
      'text/html',
      1,
    );
    await assert.rejects(client.http.queue(), (err) => {
      assert.equal(err.code, 'HTTP');
      assert.equal(err.status, 502);
      assert.match(err.message, /GET \/queue failed: ComfyUI answered 502: an HTML page \("502 Bad Gateway"\)/);
      assert.match(err.body, /nginx/);
      return true;
    });
  });

  it('says so when a 200 answer is an HTML page instead of JSON', async function () {
    connect();
    sim.faults.failRoute('GET', '/queue', 200, '<!DOCTYPE html><html><title>Sign in</title></html>', 'text/html', 1);
    await assert.rejects(
      client.http.queue(),
      (err) => err.code === 'BAD_RESPONSE' && /HTML page \("Sign in"\) instead of JSON/.test(err.message),
    );
  });

  it('times out a request that does not answer', async function () {
    connect({ timeoutMs: 300 });
    sim.faults.delayRoute('GET', '/queue', 1500, 1);
    await assert.rejects(client.http.queue(), (err) => err.code === 'TIMEOUT' && /within 300 ms/.test(err.message));
  });

  it('reports a refused connection as NETWORK with the reason', async function () {
    const port = sim.port;
    await sim.close();
    client = new ComfyClient({ url: `http://127.0.0.1:${port}`, timeoutMs: 1000 });
    await assert.rejects(client.http.queue(), (err) => err.code === 'NETWORK' && /connection refused/.test(err.message));
    sim = await startSimulator();
  });

  it('delivers a prompt that finished while the socket was down, once, from history after reconnect', async function () {
    connect({ socket: { backoffInitialMs: 400 } });
    client.connect();
    await waitFor(() => client.state === 'connected', 'connected');
    sim.faults.pauseWorker();
    const submission = await client.submit(saveImageWorkflow({ prefix: 'gap' }), { wait: true });
    sim.faults.dropSockets();
    await waitFor(() => client.state !== 'connected', 'the drop');
    sim.faults.resumeWorker(); // runs while nobody listens: its events are lost for good
    const result = await submission.result;
    assert.match(result.images[0].filename, /^gap_/);
    assert.equal(client.pendingJobs, 0);
  });

  it('follows prompts it did not submit: finished → its result, pending → to its end with progress, unknown → LOST; one id once', async function () {
    const { randomUUID } = require('node:crypto');
    // An earlier process with the same client id queued these.
    const earlier = connect();
    const finished = (await earlier.submit(saveImageWorkflow({ prefix: 'earlier' }), { wait: false })).promptId;
    await waitFor(async () => (await earlier.historyEntry(finished)) !== undefined, 'finished in history');
    sim.faults.pauseWorker();
    const pending = (await earlier.submit(saveImageWorkflow({ prefix: 'later' }), { wait: false })).promptId;
    await earlier.close();

    connect({ tracker: { lostGraceMs: 50 } });
    const done = await client.follow(finished, saveImageWorkflow({ prefix: 'earlier' }));
    assert.equal(done.prompt_id, finished);
    assert.match(done.images[0].filename, /^earlier_/);

    const progress = [];
    const followed = client.follow(pending, saveImageWorkflow({ prefix: 'later' }), {
      callbacks: { onProgress: (p) => progress.push(p.node) },
    });
    await waitFor(() => client.pendingJobs === 1, 'the pending prompt followed');
    await assert.rejects(client.follow(pending, saveImageWorkflow()), (err) => err.code === 'INTERNAL');
    sim.faults.resumeWorker();
    const later = await followed;
    assert.match(later.images[0].filename, /^later_/);
    // EmptyImage comes from the cache (the same as the first prompt's): SaveImage is the node that runs.
    assert.deepEqual(progress, ['2'], 'its events reached this client (same client id)');

    await assert.rejects(client.follow(randomUUID(), saveImageWorkflow()), (err) => err.code === 'LOST');
  });

  it('ends pending waits with CLOSED when closed', async function () {
    connect();
    client.connect();
    await waitFor(() => client.state === 'connected', 'connected');
    sim.faults.pauseWorker();
    const submission = await client.submit(saveImageWorkflow(), { wait: true });
    await client.close();
    await assert.rejects(submission.result, (err) => err.code === 'CLOSED');
    sim.faults.resumeWorker();
  });

  it('retries history briefly while it still answers {} after the prompt finished', async function () {
    connect();
    client.connect();
    await waitFor(() => client.state === 'connected', 'connected');
    sim.faults.failRoute('GET', '/history', 200, '{}', 'application/json', 2);
    const submission = await client.submit(saveImageWorkflow({ prefix: 'late' }), { wait: true });
    const result = await submission.result;
    assert.match(result.images[0].filename, /^late_/);
    const historyCalls = sim.requestLog.filter((r) => r.url.startsWith('/history/'));
    assert.equal(historyCalls.length, 3, 'two empty answers, then the entry');
  });
});

describe('ComfySocket liveness against misbehaving peers on 127.0.0.1', function () {
  let server;
  let client;

  afterEach(async () => {
    await client?.close();
    client = undefined;
    await new Promise((resolve) => (server ? server.close(() => resolve()) : resolve()));
    server = undefined;
  });

  it('drops a socket whose peer stops answering pings, and dials again', async function () {
    // ComfyUI never pings; a half-open link is only found by our own pings.
    server = new WebSocket.Server({ host: '127.0.0.1', port: 0, autoPong: false });
    let connections = 0;
    server.on('connection', () => (connections += 1));
    await new Promise((resolve) => server.once('listening', resolve));
    const problems = [];
    client = new ComfyClient({
      url: `http://127.0.0.1:${server.address().port}`,
      socket: { pingIntervalMs: 100, backoffInitialMs: 50 },
    });
    client.on('problem', (p) => problems.push(p));
    client.connect();
    await waitFor(() => connections >= 2, 'a second connection after the missed pong', 3000);
    assert.ok(
      problems.some((p) => /no answer to ping/.test(p)),
      problems.join('\n'),
    );
  });

  it('gives up a handshake that never completes, and retries', async function () {
    const sockets = [];
    server = net.createServer((socket) => sockets.push(socket)); // accepts TCP, never answers the upgrade
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const problems = [];
    client = new ComfyClient({
      url: `http://127.0.0.1:${server.address().port}`,
      socket: { handshakeTimeoutMs: 150, backoffInitialMs: 50 },
    });
    client.on('problem', (p) => problems.push(p));
    client.connect();
    await waitFor(() => sockets.length >= 2, 'a second attempt after the handshake timeout', 3000);
    assert.ok(
      problems.some((p) => /timed out/i.test(p)),
      problems.join('\n'),
    );
    await client.close();
    client = undefined;
    sockets.forEach((s) => s.destroy());
  });
});
