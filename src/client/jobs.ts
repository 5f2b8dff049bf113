/**
 * The job tracker: prompt_id → job, fed by socket events, finished from history.
 *
 * Jobs are registered before POST /prompt is sent (the client makes the prompt_id), because
 * ComfyUI's worker can emit a prompt's first events before the HTTP answer arrives.
 * Completion is `executing {node: null, prompt_id}`; the history entry is then the truth for
 * outputs. `execution_error` / `execution_interrupted` end a job with their own error kinds.
 *
 * ComfyUI keeps no backlog: events sent while our socket was down are gone. So after every
 * reconnect, and whenever a job has heard nothing for a while (the watchdog), the job is
 * checked against history and the queue: finished → delivered once; queued or running → keep
 * waiting; in neither (the server restarted) → LOST after a grace period.
 */
import { ComfyError, isComfyError } from './errors';
import type { FrameEvent, PreviewEvent } from './frames';
import { cachedNodesOf, collectOutputs, executionError, failureOf, interruptedError, labelOf, nodeOf, wasFullyCached } from './outputs';
import type { OutputItem } from './outputs';
import type { QueuePosition } from './queue-positions';
import { WEBSOCKET_OUTPUT_CLASSES, WebsocketCapture } from './websocket-outputs';
import { clip, formatMs } from './shape';
import type { ApiPrompt, ExecutingData, HistoryEntry, NodeId, NodeUiOutput, ProgressData, QueueState } from './types';

export interface JobProgress {
  promptId: string;
  node: NodeId;
  title: string | undefined;
  /** 1-based position of the running node among the nodes that execute. */
  nodeIndex: number;
  nodeCount: number;
  /** Step progress of the running node, when it reports any. */
  value?: number;
  max?: number;
}

export interface JobResult {
  prompt_id: string;
  outputs: Record<NodeId, NodeUiOutput>;
  /** Every output with its kind: files from history, texts, and images sent over the WebSocket (with their bytes). */
  images: OutputItem[];
  /** True when ComfyUI executed nothing: every node came from its cache. */
  cached: boolean;
  cachedNodes: NodeId[];
  /** Milliseconds from registration (just before POST /prompt) to completion; the same as timing.total_ms. */
  duration: number;
  timing: JobTiming;
  status: 'success';
}

/**
 * Where a prompt's time went, as this client saw it: waiting in the queue (from just before POST
 * /prompt to its start), running (start to ComfyUI's `executing null`), and in all (to the result,
 * history read included). A part is null when its start or end was not seen live (a socket gap,
 * a prompt followed after a restart): a guess from a later look at the queue would mislead.
 */
export interface JobTiming {
  queued_ms: number | null;
  running_ms: number | null;
  total_ms: number;
}

export interface JobCallbacks {
  onRunning?(): void;
  onProgress?(progress: JobProgress): void;
  /** The prompt moved in ComfyUI's queue (the client's queue watch calls it, not the tracker). */
  onQueuePosition?(position: QueuePosition): void;
}

export interface JobLimits {
  /** Fail with TIMEOUT when the prompt has not finished this long after it was submitted. */
  totalMs?: number;
  /** Fail with TIMEOUT when the prompt is still waiting in the queue this long after it was accepted. */
  queueMs?: number;
  /** Called after a timeout, e.g. to interrupt or dequeue the prompt. */
  onTimeout?(promptId: string): void;
}

export interface TrackerOptions {
  /** How often and how long to re-ask GET /history/{id} while it still answers `{}`. */
  historyAttempts: number;
  historyRetryMs: number;
  /** Check a job against the server when no event for it arrived for this long. */
  watchdogMs: number;
  /** A job in neither history nor queue is LOST when it is still missing after this long. */
  lostGraceMs: number;
  /** Longest error message a job ends with (a server's exception text can run to megabytes). */
  maxTextLength: number;
  /** Bytes of WebSocket-delivered images kept per prompt (the server's "Largest file"); above it the prompt fails with TOO_LARGE. */
  maxWebsocketBytes: number;
}

export const defaultTrackerOptions: TrackerOptions = {
  historyAttempts: 8,
  historyRetryMs: 50,
  watchdogMs: 60_000,
  lostGraceMs: 3_000,
  maxTextLength: 1000,
  maxWebsocketBytes: 256 * 1024 * 1024,
};

/** What the tracker asks the server; answers arrive typed (answer-shapes.ts), or as BAD_RESPONSE. */
export interface ServerView {
  /** The entry's `prompt` may be left out: the tracker reads each job's own. */
  history(promptId: string): Promise<HistoryEntry | undefined>;
  queue(): Promise<QueueState>;
}

interface Job {
  promptId: string;
  /** The nodes that run: the whole prompt, or with partial execution the targets and what they need. */
  prompt: ApiPrompt;
  callbacks: JobCallbacks;
  limits: JobLimits;
  registeredAt: number;
  /** ComfyUI answered POST /prompt: from now on it must be in the queue or in history. */
  accepted: boolean;
  started: boolean;
  /** When the start and the end were seen live (epoch ms), for the timing. */
  startedAt: number | undefined;
  endedAt: number | undefined;
  cachedNodes: NodeId[];
  executedNodes: Set<NodeId>;
  /** `executed` outputs seen on the socket: the fallback if history never shows the entry. */
  seenOutputs: Record<NodeId, NodeUiOutput>;
  runningNode: NodeId | undefined;
  /** Images its WebSocket output nodes sent (SaveImageWebsocket): part of the result. */
  websocket: WebsocketCapture;
  finishing: boolean;
  checking: boolean;
  timers: Map<'watchdog' | 'total' | 'queue', NodeJS.Timeout>;
  /** When something was last heard of the job (epoch ms): the watchdog's deadline counts from here. */
  heardAt: number;
  /** The 'watchdog' timer is the plain one (not the lost-grace re-check): touch() only moves heardAt. */
  watching: boolean;
  /** What progressOf reports that changes only with the prompt's cached nodes: how many nodes run. */
  nodeTotal: number | undefined;
  resolve(result: JobResult): void;
  reject(err: Error): void;
}

export class JobTracker {
  private readonly jobs = new Map<string, Job>();
  /** The node (real id) named by the last `executing` of one of our prompts: a type-1 preview frame belongs to it. */
  private current: { promptId: string; node: NodeId } | undefined;

  constructor(
    private readonly server: ServerView,
    private readonly options: TrackerOptions = defaultTrackerOptions,
  ) {}

  get size(): number {
    return this.jobs.size;
  }

  has(promptId: string): boolean {
    return this.jobs.has(promptId);
  }

  /** Registers a job; the promise settles exactly once, with the result or a ComfyError. */
  register(promptId: string, prompt: ApiPrompt, callbacks: JobCallbacks = {}, limits: JobLimits = {}): Promise<JobResult> {
    let resolve!: (result: JobResult) => void;
    let reject!: (err: Error) => void;
    const promise = new Promise<JobResult>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // The caller may stop listening (node closed); a settled job must never become an unhandled rejection.
    promise.catch(() => undefined);
    const job: Job = {
      promptId,
      prompt,
      callbacks,
      limits,
      registeredAt: Date.now(),
      accepted: false,
      started: false,
      startedAt: undefined,
      endedAt: undefined,
      cachedNodes: [],
      executedNodes: new Set(),
      seenOutputs: {},
      runningNode: undefined,
      websocket: new WebsocketCapture(this.options.maxWebsocketBytes),
      finishing: false,
      checking: false,
      timers: new Map(),
      heardAt: 0,
      watching: false,
      nodeTotal: undefined,
      resolve,
      reject,
    };
    this.jobs.set(promptId, job);
    if (limits.totalMs) {
      this.arm(job, 'total', limits.totalMs, () =>
        this.timeout(job, `Prompt ${promptId} did not finish within ${formatMs(limits.totalMs as number)}`),
      );
    }
    return promise;
  }

  /**
   * Follows a prompt ComfyUI accepted earlier, e.g. before Node-RED restarted: the server is asked
   * at once where it is (as after a reconnect), then events and the watchdog take over. A prompt
   * already followed here is refused, since registering it again would orphan the first wait.
   */
  follow(
    promptId: string,
    prompt: ApiPrompt,
    callbacks: JobCallbacks = {},
    limits: JobLimits = {},
    submittedAt?: number,
  ): Promise<JobResult> {
    if (this.jobs.has(promptId)) {
      return Promise.reject(new ComfyError('INTERNAL', `Prompt ${promptId} is already being followed`, { promptId }));
    }
    const result = this.register(promptId, prompt, callbacks, limits);
    const job = this.jobs.get(promptId) as Job;
    if (submittedAt !== undefined) job.registeredAt = submittedAt;
    this.accepted(promptId);
    this.guard(job, this.check(job));
    return result;
  }

  /** ComfyUI accepted the prompt: start watching it. */
  accepted(promptId: string): void {
    const job = this.jobs.get(promptId);
    if (!job || job.accepted) return;
    job.accepted = true;
    this.touch(job);
    if (job.limits.queueMs && !job.started) {
      this.arm(job, 'queue', job.limits.queueMs, () => this.queueTimeout(job));
    }
  }

  /** Ends a job early (its submission failed, or the caller gave up). */
  fail(promptId: string, err: Error): void {
    const job = this.jobs.get(promptId);
    if (job) this.settle(job, err);
  }

  /** Rejects every job, e.g. when the client closes. */
  failAll(err: Error): void {
    for (const job of [...this.jobs.values()]) this.settle(job, err);
  }

  handle(event: FrameEvent): void {
    if (event.kind === 'preview') return this.onPreview(event);
    if (event.kind !== 'message') return;
    const message = event.message;
    if (message.type === 'status' || message.type === 'feature_flags') return;
    const promptId = message.data.prompt_id;
    if (promptId === undefined) return;
    const job = this.jobs.get(promptId);
    if (!job || job.finishing) return;
    this.touch(job);
    switch (message.type) {
      case 'execution_start':
        this.markStarted(job, true);
        break;
      case 'execution_cached':
        job.cachedNodes = message.data.nodes;
        job.nodeTotal = undefined;
        break;
      case 'executing':
        this.onExecuting(job, message.data);
        break;
      case 'progress':
        this.onProgress(job, message.data);
        break;
      case 'executed':
        if (message.data.output) job.seenOutputs[message.data.node] = message.data.output;
        break;
      case 'execution_error':
        // ExecutionBlocked is ComfyUI's non-fatal "a node blocked this branch": the prompt goes on.
        if (message.data.exception_type === 'ExecutionBlocked') break;
        this.settle(job, executionError(message.data, job.prompt, promptId));
        break;
      case 'execution_interrupted':
        this.settle(job, interruptedError(message.data, job.prompt, promptId));
        break;
      default:
        break;
    }
  }

  /** After a socket gap: every accepted job is checked, since its completion may be gone for good. */
  async resync(): Promise<void> {
    await Promise.all([...this.jobs.values()].filter((job) => job.accepted).map((job) => this.check(job)));
  }

  /**
   * Asks the server where the job is. Finished → delivered; queued or running → keep waiting;
   * in neither → checked once more after the grace period (it may be between queue and history),
   * then LOST.
   */
  private async check(job: Job, final = false): Promise<void> {
    if (job.checking || job.finishing || !this.isCurrent(job)) return;
    job.checking = true;
    try {
      const entry = await this.server.history(job.promptId);
      if (!this.isCurrent(job) || job.finishing) return;
      if (entry) return this.finishFromEntry(job, entry);
      const queue = await this.server.queue();
      if (!this.isCurrent(job) || job.finishing) return;
      const running = queue.queue_running.some((item) => item.prompt_id === job.promptId);
      const pending = queue.queue_pending.some((item) => item.prompt_id === job.promptId);
      if (running) this.markStarted(job);
      if (running || pending) return this.touch(job);
      if (final) {
        const message = `ComfyUI no longer knows prompt ${job.promptId}: it is in neither its queue nor its history (was the server restarted?)`;
        return this.settle(job, new ComfyError('LOST', message, { promptId: job.promptId }));
      }
      this.arm(job, 'watchdog', this.options.lostGraceMs, () => this.check(job, true));
    } catch (err) {
      // An answer that is not ComfyUI's will not become one by asking again: the job ends with it.
      if (isComfyError(err, 'BAD_RESPONSE')) return this.settle(job, err);
      // The server did not answer: try again on the watchdog's schedule.
      this.touch(job);
    } finally {
      job.checking = false;
    }
  }

  /** A queue timeout only counts while the prompt really is still pending. */
  private async queueTimeout(job: Job): Promise<void> {
    if (!this.isCurrent(job) || job.started) return;
    const queue = await this.server.queue().catch(() => undefined);
    if (!this.isCurrent(job) || job.started) return;
    if (queue?.queue_running.some((item) => item.prompt_id === job.promptId)) return this.markStarted(job);
    this.timeout(job, `Prompt ${job.promptId} waited in ComfyUI's queue for more than ${formatMs(job.limits.queueMs as number)}`);
  }

  private timeout(job: Job, message: string): void {
    if (!this.isCurrent(job)) return;
    this.settle(job, new ComfyError('TIMEOUT', message, { promptId: job.promptId }));
    job.limits.onTimeout?.(job.promptId);
  }

  /** `seen`: from the prompt's own events, so the moment is known; a look at the queue only says it started by now. */
  private markStarted(job: Job, seen = false): void {
    if (job.started) return;
    job.started = true;
    if (seen) job.startedAt = Date.now();
    this.disarm(job, 'queue');
    job.callbacks.onRunning?.();
  }

  /**
   * Something was heard of the job: the watchdog starts over. Called for every frame of the job, so
   * it only notes the time; the one timer, when it fires, waits out whatever is left of the quiet
   * period (re-arming a timer per frame was a third of the tracker's cost at 100 000 events).
   */
  private touch(job: Job): void {
    if (!job.accepted || job.finishing) return;
    job.heardAt = Date.now();
    if (job.watching) return;
    this.arm(job, 'watchdog', this.options.watchdogMs, () => this.watch(job));
    job.watching = true;
  }

  private watch(job: Job): void | Promise<void> {
    const left = job.heardAt + this.options.watchdogMs - Date.now();
    if (left <= 0) return this.check(job);
    this.arm(job, 'watchdog', left, () => this.watch(job));
    job.watching = true;
  }

  private onExecuting(job: Job, data: ExecutingData): void {
    if (data.node === null) {
      job.endedAt = Date.now();
      if (this.current?.promptId === job.promptId) this.current = undefined;
      this.guard(job, this.finish(job));
      return;
    }
    this.current = { promptId: job.promptId, node: data.node };
    this.markStarted(job, true);
    const node = data.display_node ?? data.node;
    job.runningNode = node;
    job.executedNodes.add(node);
    job.callbacks.onProgress?.(this.progressOf(job, node));
  }

  /**
   * A binary image: kept when it comes from a WebSocket output node of a prompt we follow. A type-4
   * frame names its prompt and node; a type-1 frame belongs to the node that `executing` named last.
   */
  private onPreview(event: PreviewEvent): void {
    const meta = event.metadata;
    const promptId = meta ? meta.prompt_id : this.current?.promptId;
    const node = meta ? (meta.real_node_id ?? meta.node_id) : this.current?.node;
    if (promptId === undefined || node === undefined) return;
    const job = this.jobs.get(promptId);
    if (!job || job.finishing) return;
    const classType = nodeOf(job.prompt, node)?.class_type;
    if (classType === undefined || !WEBSOCKET_OUTPUT_CLASSES.has(classType)) return;
    this.touch(job);
    if (job.websocket.add(node, event.image, event.contentType)) return;
    const mb = Math.round((this.options.maxWebsocketBytes / 1048576) * 10) / 10;
    this.settle(
      job,
      new ComfyError(
        'TOO_LARGE',
        `Node ${node} (${classType}) sent more than ${mb} MB of images over the WebSocket, more than the limit of ${mb} MB (the "Largest file" setting of the server configuration)`,
        { promptId },
      ),
    );
  }

  private onProgress(job: Job, data: ProgressData): void {
    if (!job.callbacks.onProgress) return;
    const node = data.node ?? job.runningNode;
    if (node === undefined) return;
    // One literal with the step in it, for every frame: adding value and max to progressOf's object
    // afterwards grows its property store each time, and a spread of it costs 2-4 µs (V8, Node 20).
    job.callbacks.onProgress({
      promptId: job.promptId,
      node,
      title: labelOf(job.prompt, node),
      nodeIndex: job.executedNodes.size,
      nodeCount: this.nodeCountOf(job),
      value: data.value,
      max: data.max,
    });
  }

  private progressOf(job: Job, node: NodeId): JobProgress {
    return {
      promptId: job.promptId,
      node,
      title: labelOf(job.prompt, node),
      nodeIndex: job.executedNodes.size,
      nodeCount: this.nodeCountOf(job),
    };
  }

  private nodeCountOf(job: Job): number {
    // ComfyUI lists every cached node of the prompt it got, also those a partial execution does not run (and job.prompt leaves out).
    const total = (job.nodeTotal ??= Object.keys(job.prompt).length - job.cachedNodes.filter((id) => Object.hasOwn(job.prompt, id)).length);
    return Math.max(total, job.executedNodes.size);
  }

  /** `executing null` arrived: history is written by then, but allow a brief retry while it says `{}`. */
  private async finish(job: Job): Promise<void> {
    job.finishing = true;
    this.disarm(job, 'watchdog');
    let lastError: unknown;
    for (let attempt = 0; attempt < this.options.historyAttempts; attempt += 1) {
      if (!this.isCurrent(job)) return;
      try {
        const entry = await this.server.history(job.promptId);
        if (entry) return this.finishFromEntry(job, entry);
      } catch (err) {
        if (isComfyError(err, 'BAD_RESPONSE')) return this.settle(job, err);
        lastError = err;
      }
      await delay(this.options.historyRetryMs * 2 ** attempt);
    }
    if (!this.isCurrent(job)) return;
    if (Object.keys(job.seenOutputs).length > 0) {
      // History never showed the entry; the outputs the socket reported are the best truth left.
      this.settle(job, this.result(job, job.seenOutputs, job.cachedNodes, job.executedNodes.size === 0));
      return;
    }
    const why =
      lastError === undefined
        ? 'ComfyUI has no history entry for it (was the server restarted?)'
        : `its history could not be read: ${lastError instanceof Error ? lastError.message : 'unknown error'}`;
    const code = lastError === undefined ? 'LOST' : isComfyError(lastError) ? lastError.code : 'HTTP';
    this.settle(job, new ComfyError(code, `Prompt ${job.promptId} finished but ${why}`, { promptId: job.promptId }));
  }

  /** The entry is typed (answer-shapes.ts); still, whatever fails in reading it ends the job rather than leaving it waiting. */
  private finishFromEntry(job: Job, entry: HistoryEntry): void {
    job.finishing = true;
    try {
      const failure = failureOf(entry, job.prompt, job.promptId);
      this.settle(job, failure ?? this.result(job, entry.outputs, cachedNodesOf(entry), wasFullyCached(entry, Object.keys(job.prompt))));
    } catch (err) {
      const reason = err instanceof Error ? err.message : 'unknown error';
      this.settle(
        job,
        new ComfyError('BAD_RESPONSE', `The history entry of prompt ${job.promptId} could not be read: ${reason}`, {
          promptId: job.promptId,
        }),
      );
    }
  }

  private result(job: Job, outputs: Record<NodeId, NodeUiOutput>, cachedNodes: NodeId[], cached: boolean): JobResult {
    const total = Date.now() - job.registeredAt;
    const { startedAt, endedAt } = job;
    return {
      prompt_id: job.promptId,
      outputs,
      images: [...collectOutputs(outputs), ...job.websocket.list()],
      cached,
      cachedNodes,
      duration: total,
      timing: {
        queued_ms: startedAt === undefined ? null : startedAt - job.registeredAt,
        running_ms: startedAt === undefined || endedAt === undefined ? null : endedAt - startedAt,
        total_ms: total,
      },
      status: 'success',
    };
  }

  /** The one place a job ends: exactly once, with every timer released. */
  private settle(job: Job, outcome: JobResult | Error): void {
    if (!this.isCurrent(job)) return;
    this.jobs.delete(job.promptId);
    job.finishing = true;
    for (const timer of job.timers.values()) clearTimeout(timer);
    job.timers.clear();
    if (outcome instanceof Error) job.reject(this.clipped(outcome));
    else job.resolve(outcome);
  }

  private isCurrent(job: Job): boolean {
    return this.jobs.get(job.promptId) === job;
  }

  /** A job's timer; whatever its work throws or rejects ends that job instead of reaching the process. */
  private arm(job: Job, name: 'watchdog' | 'total' | 'queue', ms: number, run: () => void | Promise<void>): void {
    clearTimeout(job.timers.get(name));
    if (name === 'watchdog') job.watching = false;
    const timer = setTimeout(() => {
      job.timers.delete(name);
      if (name === 'watchdog') job.watching = false;
      try {
        const work = run();
        if (work) this.guard(job, work);
      } catch (err) {
        this.fault(job, err);
      }
    }, ms);
    // A pending job must not keep a process (a test, a CLI) alive on its own.
    timer.unref();
    job.timers.set(name, timer);
  }

  private clipped(err: Error): Error {
    if (!isComfyError(err) || err.message.length <= this.options.maxTextLength) return err;
    const { status, body, promptId, nodes } = err;
    return new ComfyError(err.code, clip(err.message, this.options.maxTextLength), { status, body, promptId, nodes });
  }

  private guard(job: Job, work: Promise<void>): void {
    work.catch((err: unknown) => this.fault(job, err));
  }

  /** A failure of our own while following a job: the job ends with it, the tracker goes on. */
  private fault(job: Job, err: unknown): void {
    if (isComfyError(err)) return this.settle(job, err);
    const reason = err instanceof Error ? err.message : 'unknown error';
    this.settle(job, new ComfyError('INTERNAL', `Following prompt ${job.promptId} failed: ${reason}`, { promptId: job.promptId }));
  }

  private disarm(job: Job, name: 'watchdog' | 'total' | 'queue'): void {
    if (name === 'watchdog') job.watching = false;
    clearTimeout(job.timers.get(name));
    job.timers.delete(name);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
