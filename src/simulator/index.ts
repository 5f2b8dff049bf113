/**
 * A faithful fake ComfyUI v0.8.0 over real HTTP and WebSocket on 127.0.0.1, for tests and for
 * `npm start` without a GPU. Its behaviour is checked against traffic recorded from a real server
 * (test/fixtures/transcripts); it shares only protocol *types* with the client, never its code.
 *
 *   const sim = await startSimulator({ testControls: true });
 *   // … point a client at sim.url …
 *   await sim.close();
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Faults, RouteRules } from './faults';
import { Folders } from './files';
import { PreviewMethod } from './nodes';
import { HttpFront } from './server';
import type { LoggedRequest } from './server';
import { ComfyState } from './state';

export type { Faults } from './faults';
export { FAKE_CHECKPOINTS } from './catalog';

export interface SimulatorOptions {
  /** default '127.0.0.1' (never bind anything else) */
  host?: string;
  /** default 0 = a free port */
  port?: number;
  /** time per KSampler step, default 20 */
  stepMs?: number;
  /** time per ordinary node, default 1 */
  nodeMs?: number;
  /**
   * Time per node of one class, overriding nodeMs (e.g. `{ ImageBlur: 500 }` to hold a prompt in
   * the running state the way a real, slow blur does in the h_queue recording).
   */
  nodeMsByClass?: Record<string, number>;
  /** the server default like --preview-method; default 'none' (the real default) */
  previewMethod?: PreviewMethod;
  /** bytes, default 100 MiB: 413 above it for every body; advertised in the feature flags */
  maxUploadSize?: number;
  /** input/output/temp folders live here; default a fresh dir under os.tmpdir(), removed on close */
  dataDir?: string;
  /** The checkpoint files it offers (CheckpointLoaderSimple, GET /models/checkpoints); default FAKE_CHECKPOINTS. */
  checkpoints?: string[];
  /** default false; when false `sim.faults` throws. npm start passes false. */
  testControls?: boolean;
}

export interface Simulator {
  /** 'http://127.0.0.1:<port>' */
  readonly url: string;
  readonly port: number;
  /** server-side WebSocket connections currently open */
  openSocketCount(): number;
  /** TCP connections open to the simulator now (HTTP keep-alive and WebSocket alike) */
  openConnectionCount(): number;
  /** every WS upgrade request seen (tests check no Origin header is sent); the newest 10 000 */
  connectionLog: Array<{ url: string; headers: Record<string, string | string[] | undefined> }>;
  /** every HTTP request (WS upgrades are in connectionLog), with the text of JSON bodies a route read; the newest 10 000 */
  requestLog: LoggedRequest[];
  /**
   * prompt_id → outcome of every prompt that finished on this simulator, across restarts: the
   * server-side truth a soak run compares delivered results with.
   */
  finished: Map<string, 'success' | 'error'>;
  /** only when testControls */
  faults: Faults;
  /** closes every socket and the server, resolves when fully closed */
  close(): Promise<void>;
}

const PREVIEW_METHODS: PreviewMethod[] = ['none', 'auto', 'latent2rgb', 'taesd'];

export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const host = options.host ?? '127.0.0.1';
  const previewMethod = options.previewMethod ?? 'none';
  if (!PREVIEW_METHODS.includes(previewMethod)) throw new Error(`previewMethod must be one of ${PREVIEW_METHODS.join(', ')}`);
  const maxUploadSize = options.maxUploadSize ?? 100 * 1024 * 1024;
  const ownDir = options.dataDir === undefined;
  const dataDir = ownDir ? mkdtempSync(join(tmpdir(), 'comfyui-sim-')) : resolve(options.dataDir!);
  const folders = new Folders(dataDir);
  const finished = new Map<string, 'success' | 'error'>();
  const checkpoints = options.checkpoints ? [...options.checkpoints] : undefined;
  const executorOptions = {
    onFinished: (promptId: string, outcome: 'success' | 'error') => void finished.set(promptId, outcome),
    stepMs: options.stepMs ?? 20,
    nodeMs: options.nodeMs ?? 1,
    nodeMsByClass: { ...(options.nodeMsByClass ?? {}) },
    previewMethod,
  };
  const rules = new RouteRules();
  const requestLog: Simulator['requestLog'] = [];
  const connectionLog: Simulator['connectionLog'] = [];
  let state = new ComfyState(folders, maxUploadSize, executorOptions, checkpoints);
  const makeFront = (): HttpFront =>
    new HttpFront({ host, maxUploadSize, previewMethod, state: () => state, rules, requestLog: requestLog, connectionLog });
  let front = makeFront();
  let port: number;
  try {
    port = await front.listen(options.port ?? 0);
  } catch (e) {
    state.stop();
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    throw e;
  }
  let closed = false;
  let restarting: Promise<void> | undefined;

  const faults: Faults = {
    dropSockets: () => state.hub.terminateAll(),
    sendRaw: (data, binary) => state.hub.sendRawToAll(data, binary ?? Buffer.isBuffer(data)),
    cutMidFrame: () => state.hub.cutAllMidFrame(),
    restart: async () => {
      if (closed) throw new Error('the simulator is closed');
      restarting = (async () => {
        state.stop();
        await front.close();
        state = new ComfyState(folders, maxUploadSize, executorOptions, checkpoints);
        front = makeFront();
        await front.listen(port);
      })();
      try {
        await restarting;
      } finally {
        restarting = undefined;
      }
    },
    delayRoute: (method, path, ms, times) =>
      rules.add({ kind: 'delay', method, path, ms, remaining: times ?? Infinity, status: 0, body: '', contentType: '' }),
    failRoute: (method, path, status, body = '', contentType = '', times) =>
      rules.add({
        kind: 'fail',
        method,
        path,
        ms: 0,
        remaining: times ?? Infinity,
        status,
        body,
        contentType: body && !contentType ? 'text/plain; charset=utf-8' : contentType,
      }),
    streamRoute: (method, path, stream, times) =>
      rules.add({
        kind: 'stream',
        method,
        path,
        ms: 0,
        remaining: times ?? Infinity,
        status: stream.status ?? 200,
        body: '',
        contentType: '',
        stream,
      }),
    pauseWorker: () => state.executor.pause(),
    resumeWorker: () => state.executor.resume(),
    reset: () => rules.reset(),
  };

  const sim: Simulator = {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    openSocketCount: () => state.hub.live.size,
    openConnectionCount: () => front.connectionCount,
    connectionLog,
    requestLog,
    finished,
    get faults(): Faults {
      if (!options.testControls) throw new Error('simulator test controls are disabled: start it with { testControls: true }');
      return faults;
    },
    close: async () => {
      if (closed) return;
      closed = true;
      if (restarting) await restarting.catch(() => undefined);
      state.stop();
      await front.close();
      if (ownDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return sim;
}
