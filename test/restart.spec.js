'use strict';
// Issue 13 §4, the restart proof: a real Node-RED process (the node-red binary, a temporary
// userDir, a localfilesystem context store) is stopped with SIGTERM or SIGKILL while prompts are
// running and pending on the simulator, prompts finish while it is down, and it starts again.
// The flow appends one line per result (or error) to a file; every prompt must be there once.
const assert = require('node:assert/strict');
const { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { request } = require('undici');
const { lineAppender, settingsFile, startNodeRed } = require('./red-process');
const { startSimulator, waitFor, textToImageWorkflow } = require('./support');

describe('jobs that outlive Node-RED: a real process stopped and started again', function () {
  this.timeout(120000);
  let sim;
  let dir;
  let red;

  beforeEach(async function () {
    sim = await startSimulator({ testControls: true, stepMs: 20 });
    dir = mkdtempSync(join(tmpdir(), 'comfyui-restart-'));
    writeFileSync(join(dir, 'flows.json'), JSON.stringify(flow(sim.url, join(dir, 'results.txt'))));
  });

  afterEach(async function () {
    if (this.currentTest.state === 'failed') console.log(`Node-RED said:\n${red?.output()}\nresults:\n${results().join('\n')}`);
    await red?.stop('SIGTERM');
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /**
   * localfilesystem with its cache writes every flushInterval (100 ms here); without it, it is an
   * asynchronous store (every access by callback) that writes at once.
   */
  function writeSettings(cache) {
    writeFileSync(join(dir, 'settings.js'), settingsFile(cache ? { flushInterval: 0.1 } : { cache: false }));
  }

  /** POST /go with a workflow → submit (waits for the result) → one line per result or error in results.txt. */
  function flow(url, results) {
    return [
      { id: 'tab', type: 'tab', label: 'restart' },
      { id: 'srv', type: 'comfyui-server', url, timeout: 5, stall: 1 },
      { id: 'in', z: 'tab', type: 'http in', url: '/go', method: 'post', wires: [['resp', 'sub']] },
      { id: 'resp', z: 'tab', type: 'http response', statusCode: '200', wires: [] },
      { id: 'sub', z: 'tab', type: 'comfyui-submit', server: 'srv', workflow: '', mode: 'wait', randomizeSeeds: false, wires: [['line']] },
      {
        id: 'line',
        z: 'tab',
        type: 'function',
        func: "msg.payload = (msg.recovered ? 'recovered ' : 'live ') + msg.prompt_id + ' ' + msg.payload.images[0].filename; return msg;",
        wires: [['appender']],
      },
      { id: 'catcher', z: 'tab', type: 'catch', scope: null, uncaught: false, wires: [['errline']] },
      {
        id: 'errline',
        z: 'tab',
        type: 'function',
        func: "msg.payload = 'error ' + msg.error.code + ' ' + msg.prompt_id; return msg;",
        wires: [['appender']],
      },
      lineAppender(results),
    ];
  }

  async function start() {
    red = await startNodeRed(dir, { waitFor });
    return red.base;
  }

  const stop = (signal) => red.stop(signal);

  async function go(base, prefix, steps) {
    const workflow = textToImageWorkflow({ steps });
    workflow[9].inputs.filename_prefix = prefix;
    const answer = await request(`${base}/go`, {
      method: 'POST',
      body: JSON.stringify(workflow),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(answer.statusCode, 200);
    await answer.body.dump();
  }

  const queue = async () => (await request(`${sim.url}/queue`)).body.json();
  const results = () => (existsSync(join(dir, 'results.txt')) ? readFileSync(join(dir, 'results.txt'), 'utf8').trim().split('\n') : []);
  const lineOf = (prefix) => results().filter((line) => line.includes(` ${prefix}_`));
  /** The job records on disk, as the localfilesystem store flushed them. */
  const recordsOnDisk = () => {
    const file = join(dir, 'context', 'global', 'global.json');
    if (!existsSync(file)) return [];
    return Object.keys(JSON.parse(readFileSync(file, 'utf8'))).filter((key) => key.startsWith('comfyui-job-'));
  };
  const findPrompt = async (prefix) => {
    const { queue_running: running, queue_pending: pending } = await queue();
    // ComfyUI's queue items are [number, prompt_id, prompt, extra_data, outputs].
    const item = [...running, ...pending].find((entry) => JSON.stringify(entry[2]).includes(`"${prefix}"`));
    return item?.[1];
  };

  const cases = [
    { signal: 'SIGTERM', cache: true, what: 'localfilesystem flushed every 100 ms' },
    { signal: 'SIGKILL', cache: true, what: 'localfilesystem flushed every 100 ms' },
    { signal: 'SIGKILL', cache: false, what: 'localfilesystem without cache: an asynchronous store' },
  ];
  for (const { signal, cache, what } of cases) {
    it(`${signal}, ${what}: prompts running and pending at the stop, finishing while it is down and after the start are each delivered once`, async function () {
      writeSettings(cache);
      let base = await start();
      // One result before the stop, delivered live.
      await go(base, 'before', 2);
      await waitFor(() => lineOf('before').length === 1, 'the live result', 20000);

      // One running (long), two pending behind it (the worker holds them).
      await go(base, 'running', 120);
      await waitFor(async () => (await queue()).queue_running.length === 1, 'the long prompt running', 20000);
      sim.faults.pauseWorker();
      await go(base, 'pendingA', 150);
      await go(base, 'pendingB', 2);
      await waitFor(async () => (await queue()).queue_pending.length === 2, 'two pending', 20000);
      const ids = { running: await findPrompt('running'), pendingA: await findPrompt('pendingA'), pendingB: await findPrompt('pendingB') };
      // SIGKILL loses what the store did not flush yet: stop once the three records (and no others) are on disk.
      await waitFor(
        () => {
          const onDisk = recordsOnDisk();
          return onDisk.length === 3 && Object.values(ids).every((id) => onDisk.includes(`comfyui-job-${id}`));
        },
        'the three records flushed',
        20000,
      );
      await stop(signal);

      // While Node-RED is down: the running prompt finishes, the next one starts running, the last stays pending.
      await waitFor(async () => (await queue()).queue_running.length === 0, 'the running prompt finished while Node-RED was down', 20000);
      sim.faults.resumeWorker();
      await waitFor(async () => (await queue()).queue_running.some((item) => item[1] === ids.pendingA), 'pendingA running', 20000);
      sim.faults.pauseWorker();

      base = await start();
      await waitFor(() => lineOf('running').length === 1, 'the prompt that finished while down', 30000);
      sim.faults.resumeWorker();
      await waitFor(() => lineOf('pendingA').length === 1 && lineOf('pendingB').length === 1, 'the other two', 30000);
      // One more through the restarted flow: whatever recovery sent twice would be in the file before it.
      await go(base, 'after', 2);
      await waitFor(() => lineOf('after').length === 1, 'the result after the restart', 20000);

      const lines = results();
      assert.equal(lines.length, 5, lines.join('\n'));
      assert.match(lineOf('before')[0], /^live /);
      for (const name of ['running', 'pendingA', 'pendingB']) {
        assert.deepEqual(lineOf(name), [`recovered ${ids[name]} ${/ (\S+)$/.exec(lineOf(name)[0])[1]}`], name);
      }
      assert.match(lineOf('after')[0], /^live /);
      await waitFor(() => recordsOnDisk().length === 0, 'no records left on disk', 20000);
    });
  }
});
