'use strict';
// The generated-input harness (issue 11 §5): a real Node-RED runtime with every palette node on one
// config node (with credentials), against the simulator over real sockets on 127.0.0.1, fed by
// fast-check with hostile frames and hostile answers of every route. After every case:
// - nothing reached uncaughtException or unhandledRejection;
// - every msg sent in ended, through done() or done(err) with a code, within a bound;
// - no secret (token, custom header, comfy.org key) is in any emitted msg, error, status or log line;
// - what progress msgs carry is typed (strings for ids, percent within 0-100);
// and over the run the heap stays bounded and Object.prototype unpolluted.
const v8 = require('node:v8');
const vm = require('node:vm');
const { startSimulator } = require('../../dist/simulator');
const runtime = require('../../bench/lib/runtime');
const { fc, framesPlan, renderFrame, answerPlan, renderAnswer } = require('./arbitraries');
const { MSG_NODES, msgOf, holdsNull, isStrictJson } = require('./msgs');
const { PROGRESS_EVENT_TYPES } = require('../../dist/nodes/messages');

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc');

const SECRETS = ['fuzz-token-S3CR3T-4411', 'fuzz-header-S3CR3T-7723', 'fuzz-apikey-S3CR3T-9931'];
/** How long one msg may take to end: the longest timeout of the flow (2 s) and then some. */
const END_BOUND_MS = 15_000;
/** Cases between checks of the live prompt and of the heap. */
const PERIOD = 100;
/** Heap growth allowed over a run, after garbage collection. */
const HEAP_BOUND_BYTES = 96 * 1024 * 1024;

const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201b5e5a0270000000049454e44ae426082',
  'hex',
);
const WORKFLOW = {
  1: { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: 1 }, _meta: { title: 'Empty Image' } },
  2: { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'fuzz' }, _meta: { title: 'Save Image' } },
};
const PALETTE = ['sub', 'subq', 'subf', 'prog', 'img', 'imgr', 'queue', 'hist', 'free', 'intr', 'info', 'up'];

function flowFor(url) {
  const n = (id, type, props = {}) => ({ id, z: 'fz', type, server: 'srv', wires: [['out']], ...props });
  return [
    { id: 'fz', type: 'tab' },
    {
      id: 'srv',
      type: 'comfyui-server',
      url,
      timeout: 2,
      stall: 0.5,
      auth: 'bearer',
      downloadTimeout: 2,
      maxFileMB: 1,
      maxAnswerMB: 1,
      maxFrameMB: 1,
      maxText: 400,
    },
    n('sub', 'comfyui-submit', { workflow: '', mode: 'wait', timeout: '1.5' }),
    n('subq', 'comfyui-submit', { workflow: '', mode: 'queued' }),
    n('subf', 'comfyui-submit', { workflow: '', mode: 'wait' }),
    {
      ...n('prog', 'comfyui-progress', {
        scope: 'all',
        events: [...PROGRESS_EVENT_TYPES],
        previewRate: 0,
      }),
      wires: [['sink']],
    },
    n('img', 'comfyui-images', { output: 'buffer' }),
    n('imgr', 'comfyui-images', { output: 'refs' }),
    n('queue', 'comfyui-queue', { action: 'get' }),
    n('hist', 'comfyui-history', { action: 'get' }),
    n('free', 'comfyui-free', { unloadModels: true, freeMemory: false }),
    n('intr', 'comfyui-interrupt'),
    n('info', 'comfyui-info', { info: 'system_stats' }),
    n('up', 'comfyui-upload', { kind: 'image', folder: 'input', filename: 'fuzz.png', target: 'Load Image', targetInput: 'image' }),
    // The msgs property's nodes, as test/hostile-input.spec.js configures them.
    ...MSG_NODES.map(([config]) => ({ z: 'fz', server: 'srv', wires: [['out']], ...config, id: `m-${config.id}` })),
    { id: 'out', z: 'fz', type: 'helper' },
    { id: 'sink', z: 'fz', type: 'helper' },
    { id: 'catcher', z: 'fz', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'completer', z: 'fz', type: 'complete', scope: PALETTE, wires: [['completed']] },
    { id: 'caught', z: 'fz', type: 'helper' },
    { id: 'completed', z: 'fz', type: 'helper' },
  ];
}

/** The node and msg that make the client call each route, and the path a fault must match. */
const ROUTES = {
  'POST /prompt': { node: 'subq', path: () => '/prompt', msg: () => ({ payload: WORKFLOW }) },
  'POST /prompt (wait)': { route: 'POST /prompt', node: 'sub', path: () => '/prompt', msg: () => ({ payload: WORKFLOW }) },
  'GET /history/{id}': { node: 'hist', path: (id) => `/history/${id}`, msg: (id) => ({ prompt_id: id }) },
  'GET /history/{id} (images)': {
    route: 'GET /history/{id}',
    node: 'img',
    path: (id) => `/history/${id}`,
    msg: (id) => ({ prompt_id: id }),
  },
  'GET /history': { node: 'hist', path: () => '/history', msg: () => ({}) },
  'GET /queue': { node: 'queue', path: () => '/queue', msg: () => ({}) },
  'GET /queue (interrupt)': { route: 'GET /queue', node: 'intr', path: () => '/queue', msg: (id) => ({ prompt_id: id }) },
  'POST /queue': { node: 'queue', path: () => '/queue', msg: () => ({ action: 'clear' }) },
  'POST /free': { node: 'free', path: () => '/free', msg: () => ({}) },
  'GET /features': { node: 'info', path: () => '/features', msg: () => ({ info: 'features' }) },
  'GET /system_stats': { node: 'info', path: () => '/system_stats', msg: () => ({ info: 'system_stats' }) },
  'GET /object_info': { node: 'info', path: () => '/object_info', msg: () => ({ info: 'object_info' }) },
  'GET /object_info/{class}': {
    node: 'info',
    path: () => '/object_info/KSampler',
    msg: () => ({ info: 'object_info', class: 'KSampler' }),
  },
  'GET /models': { node: 'info', path: () => '/models', msg: () => ({ info: 'models' }) },
  'GET /models/{folder}': { node: 'info', path: () => '/models/checkpoints', msg: () => ({ info: 'models', folder: 'checkpoints' }) },
  'GET /embeddings': { node: 'info', path: () => '/embeddings', msg: () => ({ info: 'embeddings' }) },
  'GET /extensions': { node: 'info', path: () => '/extensions', msg: () => ({ info: 'extensions' }) },
  'POST /upload/image': { node: 'up', path: () => '/upload/image', msg: () => ({ payload: PNG }) },
  'GET /view': {
    node: 'img',
    path: () => '/view',
    msg: () => ({ payload: { images: [{ filename: 'x.png', subfolder: '', type: 'output' }] } }),
  },
};

/** A msg for one of the msgs property's nodes: which node, and the recipe that builds the msg. */
const msgCase = fc.oneof(
  ...MSG_NODES.map(([config, fields, base]) => msgOf(fields, base).map((build) => ({ node: `m-${config.id}`, build }))),
);

/** Route cases weighted by how often flows call them; waiting submits are slow (their timeout), so rarer. */
const routeCase = fc.oneof(
  ...Object.keys(ROUTES).map((key) => ({
    weight: key === 'POST /prompt (wait)' ? 1 : 10,
    arbitrary: answerPlan(ROUTES[key].route ?? key).map((plan) => ({ key, plan })),
  })),
);

class Harness {
  static async start() {
    const harness = new Harness();
    await harness.init();
    return harness;
  }

  async init() {
    this.failures = [];
    this.onUncaught = (err) => this.failures.push(`uncaughtException: ${err && err.stack ? err.stack : err}`);
    this.onUnhandled = (reason) => this.failures.push(`unhandledRejection: ${reason && reason.stack ? reason.stack : reason}`);
    process.on('uncaughtException', this.onUncaught);
    process.on('unhandledRejection', this.onUnhandled);
    this.sim = await startSimulator({ testControls: true, stepMs: 0, nodeMs: 0 });
    const credentials = { srv: { token: SECRETS[0], headers: JSON.stringify({ 'X-Fuzz-Key': SECRETS[1] }), apiKey: SECRETS[2] } };
    const core = [runtime.coreNode('common/25-catch.js'), runtime.coreNode('common/24-complete.js')];
    this.helper = await runtime.load(flowFor(this.sim.url), core, credentials);
    this.client = this.helper.getNode('srv').client;
    this.watchOutputs();
    const started = Date.now();
    while (this.client.state !== 'connected') {
      if (Date.now() - started > 10_000) throw new Error('the config node did not connect');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    this.serial = 0;
    this.live = undefined;
    this.heapBase = undefined;
  }

  /** Every emitted msg, error, status and log line is scanned for secrets and odd shapes. */
  watchOutputs() {
    const { helper } = this;
    this.ended = new Map();
    const finish = (how) => (msg) => {
      const waiter = this.ended.get(msg.fuzz);
      this.scan(`${how} msg`, how === 'caught' ? msg.error : msg);
      if (how === 'caught') this.checkError(msg.error);
      if (waiter) {
        this.ended.delete(msg.fuzz);
        waiter({ how, msg });
      }
    };
    helper.getNode('caught').on('input', finish('caught'));
    helper.getNode('completed').on('input', finish('completed'));
    helper.getNode('out').on('input', (msg) => {
      this.scan('output msg', msg);
      if (msg.fuzz === 'live' && this.live) this.live.done({ how: 'completed', msg });
    });
    helper.getNode('sink').on('input', (msg) => this.checkProgress(msg));
    const { log } = require(require.resolve('@node-red/util', { paths: [require.resolve('node-red')] }));
    const { EventEmitter } = require('node:events');
    this.logHandler = new EventEmitter();
    this.logHandler.on('log', (entry) => this.scan('log line', entry && entry.msg));
    log.addHandler(this.logHandler);
    this.removeLogHandler = () => log.removeHandler(this.logHandler);
    for (const id of [...PALETTE, 'srv']) {
      const node = helper.getNode(id);
      const status = node.status.bind(node);
      node.status = (s) => {
        this.scan('status', s);
        return status(s);
      };
    }
    this.client.on('problem', (text) => this.scan('problem', text));
    // Hostile msgs may not survive the copy a Catch or Complete node makes: those nodes' ends are
    // seen where done() lands, by the msg object itself.
    this.pending = new Map();
    for (const [config] of MSG_NODES) {
      const node = helper.getNode(`m-${config.id}`);
      const complete = node._complete;
      node._complete = (msg, error) => {
        const settle = this.pending.get(msg);
        if (settle) {
          this.pending.delete(msg);
          settle(error);
        }
        return complete.call(node, msg, error);
      };
    }
  }

  /** Every text inside `value` (keys too), read defensively: msgs of the msgs property hold Proxies, cycles and BigInts. */
  scan(where, value) {
    const found = [];
    const seen = new Set();
    const walk = (v, depth) => {
      if (typeof v === 'string') {
        for (const secret of SECRETS) if (v.includes(secret)) found.push(v.slice(0, 300));
        return;
      }
      if (typeof v !== 'object' || v === null || depth > 40 || seen.has(v) || Buffer.isBuffer(v) || ArrayBuffer.isView(v)) return;
      seen.add(v);
      try {
        for (const key of Reflect.ownKeys(v)) {
          if (typeof key === 'string') walk(key, depth + 1);
          const property = Reflect.getOwnPropertyDescriptor(v, key);
          if (property && 'value' in property) walk(property.value, depth + 1);
        }
      } catch {
        // a Proxy whose traps throw holds nothing we put there
      }
    };
    walk(value, 0);
    for (const text of found) this.failures.push(`a secret in a ${where}: ${text}`);
  }

  checkError(error) {
    if (!error || typeof error.code !== 'string' || !/^[A-Z_]+$/.test(error.code))
      this.failures.push(`an error without a code reached a Catch node: ${JSON.stringify(error).slice(0, 300)}`);
    else if (typeof error.message !== 'string' || error.message.length > 2000)
      this.failures.push(`an error message of ${String(error.message).length} characters`);
  }

  checkProgress(msg) {
    if (typeof msg.topic !== 'string') this.failures.push(`a progress msg without a topic: ${JSON.stringify(msg).slice(0, 200)}`);
    if (msg.percent !== undefined && !(msg.percent >= 0 && msg.percent <= 100)) this.failures.push(`progress percent ${msg.percent}`);
    if (msg.overall !== undefined && !(msg.overall >= 0 && msg.overall <= 100)) this.failures.push(`progress overall ${msg.overall}`);
    for (const key of ['node', 'prompt_id', 'title']) {
      if (msg[key] !== undefined && typeof msg[key] !== 'string') this.failures.push(`progress msg.${key} is ${typeof msg[key]}`);
    }
    this.scan('progress msg', msg);
  }

  /** Sends a msg into a node and resolves when it ended (Complete or Catch); fails past the bound. */
  send(nodeId, msg) {
    const id = `case-${(this.serial += 1)}`;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.ended.delete(id);
        this.failures.push(`a msg into ${nodeId} did not end within ${END_BOUND_MS} ms`);
        resolve({ how: 'hung' });
      }, END_BOUND_MS);
      this.ended.set(id, (outcome) => {
        clearTimeout(timer);
        resolve(outcome);
      });
      this.helper.getNode(nodeId).receive({ ...msg, fuzz: id });
    });
  }

  takeFailures() {
    if ({}.polluted !== undefined || Object.prototype.polluted !== undefined) this.failures.push('Object.prototype was polluted');
    return this.failures.splice(0);
  }

  /** One hostile answer of one route, for the msg that makes a node call it. */
  async answerCase({ key, plan }) {
    const target = ROUTES[key];
    const promptId = `fz${(this.serial + 1).toString(36)}`;
    const [method] = (target.route ?? key).split(' ');
    const body = renderAnswer(plan, promptId, SECRETS[0]);
    this.sim.faults.reset();
    this.sim.faults.failRoute(method, target.path(promptId), plan.status, body, plan.contentType, 1);
    await this.send(target.node, target.msg(promptId));
    this.sim.faults.reset();
    return this.takeFailures();
  }

  /** One hostile msg into one node: it must end (done or a coded error that is not INTERNAL), and only plain JSON may reach ComfyUI. */
  async msgCase({ node: id, build }) {
    const { msg, values } = build();
    const before = this.sim.requestLog.length;
    const error = await new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(msg);
        this.failures.push(`a msg into ${id} did not end within ${END_BOUND_MS} ms`);
        resolve(undefined);
      }, END_BOUND_MS);
      this.pending.set(msg, (err) => {
        clearTimeout(timer);
        resolve(err);
      });
      this.helper.getNode(id).receive(msg);
    });
    if (error !== undefined) {
      if (!(error instanceof Error) || error.name !== 'ComfyError' || typeof error.code !== 'string')
        this.failures.push(`${id}: an error without a code: ${String(error && error.message)}`);
      else if (error.code === 'INTERNAL') this.failures.push(`${id}: a fault of ours: ${error.message}`);
      this.scan('error', { message: error && error.message });
    }
    for (const request of this.sim.requestLog.slice(before)) {
      if (request.method !== 'POST' || request.body === undefined) continue;
      let body;
      try {
        body = JSON.parse(request.body);
      } catch {
        this.failures.push(`${request.url}: a body that is not strict JSON`);
        continue;
      }
      if (!isStrictJson(body)) this.failures.push(`${request.url}: not plain JSON`);
      if (/\/prompt$/.test(request.url) && holdsNull(body.prompt) && !holdsNull(values))
        this.failures.push(`${request.url}: a null ComfyUI got that the msg never had`);
    }
    return this.takeFailures();
  }

  /** A prompt held in the queue while hostile frames name it; resumed and awaited every so often. */
  async ensureLive() {
    if (this.live) return this.live;
    this.sim.faults.pauseWorker();
    let done;
    const ended = new Promise((resolve) => (done = resolve));
    this.live = { id: undefined, ended, done };
    this.ended.set('live', (outcome) => done(outcome));
    this.helper
      .getNode('subf')
      .receive({ payload: { ...WORKFLOW, 1: { ...WORKFLOW[1], inputs: { ...WORKFLOW[1].inputs, color: this.serial } } }, fuzz: 'live' });
    const started = Date.now();
    while (!this.live.id) {
      const queue = await this.client.http.queue().catch(() => undefined);
      const pending = queue && queue.queue_pending[0];
      if (pending) this.live.id = pending.prompt_id;
      else if (Date.now() - started > 10_000) throw new Error('the live prompt was not queued');
      else await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return this.live;
  }

  /** Resumes the worker: the live prompt must end (a result, or a coded error a frame caused). */
  async settleLive() {
    if (!this.live) return this.takeFailures();
    const { ended } = this.live;
    this.sim.faults.resumeWorker();
    const outcome = await Promise.race([ended, new Promise((resolve) => setTimeout(() => resolve({ how: 'hung' }), END_BOUND_MS * 2))]);
    if (outcome.how === 'hung') this.failures.push('the live prompt did not end after the worker resumed');
    this.ended.delete('live');
    this.live = undefined;
    return this.takeFailures();
  }

  async framesCase(frames) {
    const live = await this.ensureLive();
    const marker = (this.serial += 1);
    const arrived = new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.client.off('frame', onFrame);
        this.failures.push('a marker frame did not arrive after the case (the connection is stuck)');
        resolve();
      }, END_BOUND_MS);
      const onFrame = (frame) => {
        if (frame.kind === 'custom' && frame.type === 'fuzz.marker' && frame.data && frame.data.n === marker) {
          clearTimeout(timer);
          this.client.off('frame', onFrame);
          resolve();
        }
      };
      this.client.on('frame', onFrame);
    });
    for (const frame of frames) this.sim.faults.sendRaw(renderFrame(frame, live.id), frame.binary);
    this.sim.faults.sendRaw(JSON.stringify({ type: 'fuzz.marker', data: { n: marker } }), false);
    await arrived;
    return this.takeFailures();
  }

  /** Heap after collection: its growth since the first measurement must stay bounded. */
  checkHeap() {
    gc();
    const used = process.memoryUsage().heapUsed;
    if (this.heapBase === undefined) this.heapBase = used;
    else if (used - this.heapBase > HEAP_BOUND_BYTES)
      this.failures.push(`the heap grew by ${Math.round((used - this.heapBase) / 1048576)} MB`);
    return this.takeFailures();
  }

  async stop() {
    this.sim.faults.resumeWorker();
    this.removeLogHandler();
    await runtime.unload();
    await runtime.stop();
    await this.sim.close();
    process.off('uncaughtException', this.onUncaught);
    process.off('unhandledRejection', this.onUnhandled);
  }
}

/**
 * Runs the properties with `runs` cases in all (frames and answers 40 % each, msgs 20 %), from `seed`.
 * Returns `{ cases, failures: [{ property, counterexample, error }] }`.
 */
async function fuzz({ runs, seed, log = () => undefined }) {
  const harness = await Harness.start();
  const results = { cases: 0, failures: [] };
  /** `periodic` runs after every PERIOD cases (and its problems fail the case that was last). */
  const check = async (property, numRuns, arbitrary, run, periodic) => {
    let count = 0;
    const details = await fc.check(
      fc.asyncProperty(arbitrary, async (input) => {
        count += 1;
        const problems = await run(input);
        if (periodic && count % PERIOD === 0) problems.push(...(await periodic()));
        if (problems.length > 0) throw new Error(problems.join('\n'));
      }),
      { numRuns, seed, endOnFailure: false, interruptAfterTimeLimit: undefined },
    );
    results.cases += details.numRuns;
    log(`${property}: ${details.numRuns} cases, ${details.failed ? 1 : 0} failures`);
    if (details.failed) {
      results.failures.push({
        property,
        seed: details.seed,
        path: details.counterexamplePath,
        counterexample: details.counterexample,
        error: String(details.errorInstance && details.errorInstance.message),
      });
    }
  };
  try {
    harness.checkHeap();
    const frames = Math.ceil(runs * 0.4);
    const answers = Math.ceil(runs * 0.4);
    await check(
      'frames',
      frames,
      framesPlan,
      (input) => harness.framesCase(input),
      async () => [...(await harness.settleLive()), ...harness.checkHeap()],
    );
    const settled = await harness.settleLive();
    if (settled.length > 0) results.failures.push({ property: 'frames', error: settled.join('\n') });
    await check(
      'answers',
      answers,
      routeCase,
      (input) => harness.answerCase(input),
      async () => harness.checkHeap(),
    );
    await check(
      'msgs',
      Math.max(0, runs - frames - answers),
      msgCase,
      (input) => harness.msgCase(input),
      async () => harness.checkHeap(),
    );
    const heap = harness.checkHeap();
    if (heap.length > 0) results.failures.push({ property: 'memory', error: heap.join('\n') });
  } finally {
    await harness.stop();
  }
  return results;
}

module.exports = { fuzz, Harness, SECRETS };
