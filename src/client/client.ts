/**
 * One ComfyUI server as one object: the HTTP routes, the single WebSocket and the job tracker.
 * A config node holds exactly one of these, however many palette nodes use it.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Endpoint } from './endpoint';
import type { EndpointOptions } from './endpoint';
import { ComfyError, isComfyError } from './errors';
import { EventFeed } from './events';
import type { ComfyEvent } from './events';
import type { FrameEvent } from './frames';
import { ComfyHttp, defaultHttpLimits } from './http';
import type { Download, HttpLimits, OpenSink, StreamedDownload, UploadRequest, ViewOptions } from './http';
import { defaultTrackerOptions, JobTracker } from './jobs';
import type { JobCallbacks, JobResult, TrackerOptions } from './jobs';
import { refusalError } from './refusal';
import type { Refusal } from './refusal';
import { ComfySocket, defaultSocketOptions, RefusedError } from './socket';
import type { SocketOptions, SocketState } from './socket';
import { summarizeEntry } from './outputs';
import { runningPart } from './prompt-graph';
import { queueOrder } from './queue-positions';
import type { QueuePosition } from './queue-positions';
import { defaultQueueWatchOptions, QueueWatch } from './queue-watch';
import type { QueueWatchOptions } from './queue-watch';
import { isPromptId, PROMPT_ID_RULE } from './prompt-id';
import type { PromptSummary } from './outputs';
import { clip, own } from './shape';
import type {
  ApiPrompt,
  FeatureFlags,
  HistoryEntry,
  NodeId,
  ObjectInfo,
  PromptRequest,
  QueuedPrompt,
  QueueState,
  ResultItem,
  UploadResult,
} from './types';
import { readNodeDefinitions } from './node-definitions';
import type { NodeDefinition } from './node-definitions';
import { nodeProblems, validationError } from './validation';
import { UploadCache } from './upload-cache';
import type { CachedUpload } from './upload-cache';
import type { NodeProblem } from './validation';

export interface ClientOptions extends EndpointOptions {
  /** Timeout of each HTTP request, and of waiting for the socket before a submit. */
  timeoutMs?: number;
  /** Bounds on what the server may send: bytes per answer and per file, download time, connections, error text (http.ts). */
  limits?: Partial<Omit<HttpLimits, 'timeoutMs'>>;
  /** Stable for the client's life; ComfyUI routes a prompt's events to the socket with this id. */
  clientId?: string;
  socket?: Partial<SocketOptions>;
  tracker?: Partial<TrackerOptions>;
  /** How often the queue is read for the positions of waiting prompts, and how many run times are kept for ETAs. */
  queueWatch?: Partial<QueueWatchOptions>;
  /** A comfy.org API key for ComfyUI's paid API nodes; sent with each prompt, never shown. */
  comfyOrgApiKey?: string;
}

export interface SubmitOptions {
  /** Track the prompt to its end; without it, the submission resolves once ComfyUI queued it. */
  wait: boolean;
  extraData?: Record<string, unknown>;
  callbacks?: JobCallbacks;
  /** Fail with TIMEOUT when the prompt has not finished this long after submitting. */
  totalTimeoutMs?: number;
  /** Fail with TIMEOUT when the prompt still waits in the queue this long after it was accepted. */
  queueTimeoutMs?: number;
  /** On a timeout, interrupt the prompt (running) or delete it from the queue (pending). */
  cancelOnTimeout?: boolean;
  /** Partial execution: run only these output nodes (and what they need); see prompt-targets.ts. */
  targets?: NodeId[];
  /**
   * Submit under this prompt id instead of a new one (a pool moving a prompt to another server keeps
   * its id, so whoever follows it sees one prompt). Must follow PROMPT_ID_RULE; BAD_INPUT otherwise.
   */
  promptId?: string;
}

export interface FollowOptions {
  callbacks?: JobCallbacks;
  /** Fail with TIMEOUT when the prompt has not finished this long after following starts. */
  totalTimeoutMs?: number;
  /** When the prompt was submitted (epoch ms): the result's duration counts from there. */
  submittedAt?: number;
}

export interface Submission {
  promptId: string;
  number: number;
  /** Output nodes ComfyUI dropped at validation although it accepted the prompt (200 with node_errors). */
  droppedNodes: NodeProblem[];
  nodeErrors: Record<string, unknown>;
  /** Settles when the prompt finishes; present when `wait` was asked. */
  result?: Promise<JobResult>;
}

export interface ComfyClientEvents {
  state: [SocketState];
  frame: [FrameEvent];
  refused: [Refusal];
  /** Frames as flows see them (attributed, titled, with percentages); only computed while listened to. */
  event: [ComfyEvent];
  problem: [string];
  /** A problem a person must act on: a limit of the configuration was hit. */
  warning: [string];
}

export interface QueueEntry {
  prompt_id: string;
  number: number;
  /** Submitted through this client (its clientId). */
  own: boolean;
}

export interface QueueSummary {
  running: QueueEntry[];
  /** Sorted by number: the order ComfyUI will run them in. */
  pending: QueueEntry[];
  queue_remaining: number;
}

/** What cancelling a prompt did: interrupted it (running), deleted it (pending), or nothing. */
export type CancelOutcome = 'interrupted' | 'deleted' | 'finished' | 'unknown' | 'idle';

/** Prompts submitted here, remembered for titles and ownership; bounded so it cannot grow forever. */
const REMEMBERED_PROMPTS = 500;

/** How long a submit waits for the WebSocket before it goes ahead without it. */
const SOCKET_WAIT_MS = 3_000;

export class ComfyClient extends EventEmitter<ComfyClientEvents> {
  readonly endpoint: Endpoint;
  readonly http: ComfyHttp;
  readonly clientId: string;
  private readonly socket: ComfySocket;
  private readonly tracker: JobTracker;
  private readonly queueWatch: QueueWatch;
  private readonly feed: EventFeed;
  private readonly submitted = new Map<string, ApiPrompt>();
  private readonly timeoutMs: number;
  private featureFlags: Promise<FeatureFlags> | undefined;
  /** What this client uploaded, by content (upload-cache.ts), so the same bytes are sent once. */
  private readonly uploads = new UploadCache();
  private nodeDefinitions: Promise<Map<string, NodeDefinition>> | undefined;
  /** What nodeDefinitions resolved to; undefined while it is being asked. */
  private latestDefinitions: Map<string, NodeDefinition> | undefined;
  private readonly comfyOrgApiKey: string | undefined;
  private readonly maxTextLength: number;
  /** Kinds of malformed frames already reported: each is reported once, not once per frame. */
  private readonly reported = new Set<string>();
  private closed = false;

  constructor(options: ClientOptions) {
    super();
    // Every palette node using the config node listens here: 11 progress nodes are not a leak.
    this.setMaxListeners(0);
    this.endpoint = new Endpoint(options);
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.comfyOrgApiKey = options.comfyOrgApiKey || undefined;
    this.clientId = options.clientId ?? randomUUID();
    this.maxTextLength = options.limits?.maxTextLength ?? defaultHttpLimits.maxTextLength;
    this.http = new ComfyHttp(this.endpoint, { ...(options.limits ?? {}), timeoutMs: this.timeoutMs });
    this.tracker = new JobTracker(
      // The tracker has each job's prompt: the copy in the history entry is left unread.
      { history: (promptId) => this.http.history(promptId, false), queue: () => this.http.queue() },
      {
        ...defaultTrackerOptions,
        maxTextLength: this.maxTextLength,
        // Images sent over the WebSocket are held in memory like a download: the same bound.
        maxWebsocketBytes: options.limits?.maxFileBytes ?? defaultHttpLimits.maxFileBytes,
        ...(options.tracker ?? {}),
      },
    );
    this.queueWatch = new QueueWatch(
      () => this.http.queue(),
      (position, listener) => this.onPosition(position, listener),
      { ...defaultQueueWatchOptions, ...(options.queueWatch ?? {}) },
    );
    this.feed = new EventFeed((promptId) => this.submitted.get(promptId));
    this.socket = new ComfySocket(this.endpoint, this.clientId, (frame) => this.onFrame(frame), {
      ...defaultSocketOptions,
      handshakeTimeoutMs: Math.min(defaultSocketOptions.handshakeTimeoutMs, this.timeoutMs),
      ...(options.socket ?? {}),
    });
    this.socket.on('state', (state) => this.safely('a state listener', () => this.emit('state', state)));
    this.socket.on('problem', (text) => this.problem(text));
    this.socket.on('warning', (text) => this.safely('a warning listener', () => this.emit('warning', text)));
    this.socket.on('refused', (refusal) => this.safely('a refusal listener', () => this.emit('refused', refusal)));
    this.socket.on('open', ({ reconnect }) => {
      if (!reconnect) return;
      this.nodeDefinitions = undefined;
      // The server may have restarted: with another --max-upload-size, without the files uploaded before.
      this.featureFlags = undefined;
      this.uploads.forget();
      this.tracker.resync().catch((err: unknown) => this.problem(`re-checking prompts after a reconnect failed: ${describe(err)}`));
    });
  }

  /**
   * Each frame once, in steps that cannot stop one another: the tracker, raw listeners, then the
   * enriched event for flows. A step that throws loses that frame for that step only.
   */
  private onFrame(frame: FrameEvent): void {
    if (frame.kind === 'invalid') {
      if (!this.reported.has(frame.problem) && this.reported.size < 256) {
        this.reported.add(frame.problem);
        this.problem(`ignored a malformed frame: ${frame.reason} (reported once for this kind)`);
      }
      return;
    }
    // One try per step rather than safely(): this runs for every frame, and a closure per step per frame was measurable.
    try {
      this.tracker.handle(frame);
    } catch (err) {
      this.frameFailed('the job tracker', err);
    }
    try {
      this.queueWatch.handle(frame);
    } catch (err) {
      this.frameFailed('the queue watch', err);
    }
    try {
      this.emit('frame', frame);
    } catch (err) {
      this.frameFailed('a frame listener', err);
    }
    if (this.listenerCount('event') === 0) return;
    try {
      const event = this.feed.enrich(frame);
      if (event) this.emit('event', event);
    } catch (err) {
      this.frameFailed('an event listener', err);
    }
  }

  private frameFailed(where: string, err: unknown): void {
    this.problem(`${where} failed on a frame: ${describe(err)}`);
  }

  /** A waiting prompt moved in the queue: its submitter's callback, then flows (as a `queue_position` event). */
  private onPosition(position: QueuePosition, listener: ((position: QueuePosition) => void) | undefined): void {
    if (listener) this.safely('a queue position listener', () => listener(position));
    if (this.listenerCount('event') === 0) return;
    this.safely('an event listener', () =>
      this.emit('event', { type: 'queue_position', data: { ...position }, promptId: position.prompt_id, own: true }),
    );
  }

  /** Runs work from a socket callback: a throw is reported as a problem and never reaches the process. */
  private safely(where: string, work: () => void): void {
    try {
      work();
    } catch (err) {
      this.frameFailed(where, err);
    }
  }

  private problem(text: string): void {
    try {
      this.emit('problem', clip(this.endpoint.redact(text), this.maxTextLength));
    } catch {
      // A problem listener that throws has nobody left to tell.
    }
  }

  get state(): SocketState {
    return this.socket.state;
  }

  /** Why the server refuses our WebSocket, until it accepts it again. */
  get refusal(): Refusal | undefined {
    return this.socket.lastRefusal;
  }

  /** Prompts being tracked to their end. */
  get pendingJobs(): number {
    return this.tracker.size;
  }

  /** Opens the WebSocket (once; later calls do nothing while it is up). */
  connect(): void {
    if (!this.closed) this.socket.start();
  }

  /** Closes the WebSocket but keeps the client usable: the next connect() opens it again. */
  disconnect(): Promise<void> {
    return this.socket.close();
  }

  /** For good: pending waits end with CLOSED, the socket and the HTTP agent are released. */
  async close(): Promise<void> {
    this.closed = true;
    this.queueWatch.close();
    this.tracker.failAll(new ComfyError('CLOSED', 'The ComfyUI connection was closed before the prompt finished'));
    await Promise.all([this.socket.close(), this.http.close()]);
  }

  async submit(prompt: ApiPrompt, options: SubmitOptions): Promise<Submission> {
    if (this.closed) throw new ComfyError('CLOSED', 'The ComfyUI connection is closed');
    this.connect();
    if (options.wait) {
      // Events go only to the socket registered under our clientId when they are sent: connect
      // first. A socket that stays down does not stop the submission, though: the job is then
      // recovered from history after the reconnect, or by the watchdog.
      await this.socket.whenConnected(Math.min(this.timeoutMs, SOCKET_WAIT_MS)).catch((err: Error) => {
        if (err instanceof RefusedError) throw refusalError(err.refusal);
      });
    }
    if (options.promptId !== undefined && !isPromptId(options.promptId)) {
      throw new ComfyError('BAD_INPUT', `A prompt id must be ${PROMPT_ID_RULE}`);
    }
    const promptId = options.promptId ?? randomUUID();
    // Progress, titles and the cached flag count the nodes that run; with partial execution that is part of the prompt.
    // Worked out before the POST: it reads the caller's prompt and may throw, and nothing may throw once it is sent.
    const running = runningPart(prompt, options.targets);
    const request: PromptRequest = { prompt, client_id: this.clientId, prompt_id: promptId };
    // ComfyUI moves api_key_comfy_org out of extra_data before queueing: it never shows in queue or history.
    const extraData = { ...(options.extraData ?? {}), ...(this.comfyOrgApiKey ? { api_key_comfy_org: this.comfyOrgApiKey } : {}) };
    if (Object.keys(extraData).length > 0) request.extra_data = extraData;
    if (options.targets) request.partial_execution_targets = options.targets;
    // postPrompt starts the request, but undici writes it a turn of the event loop later (it checks an idle
    // keep-alive socket first), so the bookkeeping below is still on the way to the server: keep it small.
    // It runs before any answer or event can arrive (this is one synchronous step), so the prompt's first
    // events, which may overtake the answer, find it registered.
    const posting = this.http.postPrompt(request);
    posting.catch(() => undefined); // awaited below; a throw in between must not leave it unhandled
    this.remember(promptId, running);
    const result = options.wait
      ? this.tracker.register(promptId, running, options.callbacks, {
          totalMs: options.totalTimeoutMs,
          queueMs: options.queueTimeoutMs,
          onTimeout: options.cancelOnTimeout
            ? (id) => void this.cancel(id).catch((err: Error) => this.emit('problem', `cancel after timeout: ${err.message}`))
            : undefined,
        })
      : undefined;
    this.queueWatch.remember(promptId, prompt);
    try {
      const accepted = await posting;
      this.tracker.accepted(promptId);
      // Callbacks are for prompts being waited for, like the tracker's: a prompt only queued has nobody to tell but flows.
      this.watchPosition(promptId, options.wait ? options.callbacks : undefined);
      const droppedNodes = nodeProblems(accepted.node_errors, prompt);
      const submission: Submission = {
        promptId,
        number: accepted.number,
        droppedNodes,
        nodeErrors: accepted.node_errors,
      };
      if (result) submission.result = result;
      return submission;
    } catch (err) {
      const error =
        isComfyError(err, 'HTTP') && err.status === 400 ? this.clipped(validationError(400, err.body, prompt, promptId)) : (err as Error);
      this.tracker.fail(promptId, error);
      throw error;
    } finally {
      this.queueWatch.fingerprintSoon(promptId);
    }
  }

  /**
   * Stops following a prompt here without asking the server anything (a pool moved it to another
   * server while this one was unreachable): its wait ends at once with `reason`.
   */
  forget(promptId: string, reason: ComfyError): void {
    this.queueWatch.unwatch(promptId);
    this.tracker.fail(promptId, reason);
  }

  /**
   * Tracks to its end a prompt this client did not submit in this process (one submitted before a
   * restart): finished → its result; pending or running → followed; unknown to the server → LOST.
   * The socket is opened first, so events from now on reach the tracker and the first look at
   * history and queue covers everything before it.
   */
  async follow(promptId: string, prompt: ApiPrompt, options: FollowOptions = {}): Promise<JobResult> {
    if (this.closed) throw new ComfyError('CLOSED', 'The ComfyUI connection is closed');
    this.connect();
    // A socket that stays down (or is refused) does not stop following: history and the queue are asked over HTTP.
    await this.socket.whenConnected(Math.min(this.timeoutMs, SOCKET_WAIT_MS)).catch(() => undefined);
    if (this.closed) throw new ComfyError('CLOSED', 'The ComfyUI connection is closed');
    this.remember(promptId, prompt);
    const result = this.tracker.follow(promptId, prompt, options.callbacks, { totalMs: options.totalTimeoutMs }, options.submittedAt);
    this.queueWatch.remember(promptId, prompt);
    this.queueWatch.fingerprintSoon(promptId);
    this.watchPosition(promptId, options.callbacks);
    return result;
  }

  /** Our prompt is in ComfyUI's queue: while someone wants to know (its submitter, or a flow listening to events), its position is reported until it runs. */
  private watchPosition(promptId: string, callbacks: JobCallbacks | undefined): void {
    const listener = callbacks?.onQueuePosition ? (position: QueuePosition) => callbacks.onQueuePosition?.(position) : undefined;
    if (listener || this.listenerCount('event') > 0) this.queueWatch.watch(promptId, listener);
  }

  async queueSummary(): Promise<QueueSummary> {
    return this.summarize(await this.http.queue());
  }

  /**
   * Removes pending prompts (the given ids, or all of them) and never a running one. What was
   * removed is read back from the queue afterwards, so a prompt that started running in the
   * meantime counts as ignored; waits for removed prompts of ours end with INTERRUPTED, since a
   * removed prompt never gets events or history.
   */
  async removePending(ids: string[] | 'all'): Promise<{ deleted: string[]; ignored: string[]; queue: QueueSummary }> {
    const before = new Set((await this.http.queue()).queue_pending.map((item) => item.prompt_id));
    const targets = ids === 'all' ? [...before] : ids.filter((id) => before.has(id));
    if (ids === 'all') await this.http.clearQueue();
    else if (targets.length > 0) await this.http.deleteFromQueue(targets);
    const after = await this.http.queue();
    const stillThere = new Set([...after.queue_pending, ...after.queue_running].map((item) => item.prompt_id));
    const deleted = targets.filter((id) => !stillThere.has(id));
    for (const id of deleted) {
      this.tracker.fail(id, new ComfyError('INTERRUPTED', `Prompt ${id} was removed from the queue before it ran`, { promptId: id }));
    }
    const ignored = ids === 'all' ? targets.filter((id) => stillThere.has(id)) : ids.filter((id) => !deleted.includes(id));
    return { deleted, ignored, queue: this.summarize(after) };
  }

  private summarize(state: QueueState): QueueSummary {
    const entry = (item: QueuedPrompt): QueueEntry => ({
      prompt_id: item.prompt_id,
      number: item.number,
      own: item.client_id === this.clientId || this.submitted.has(item.prompt_id),
    });
    const running = state.queue_running.map(entry);
    // ComfyUI sends the pending heap unsorted.
    const pending = state.queue_pending.map(entry).sort(queueOrder);
    return { running, pending, queue_remaining: running.length + pending.length };
  }

  /**
   * Stops a prompt whatever its state: a running one is interrupted, a pending one deleted from
   * the queue (ComfyUI's interrupt ignores pending prompts). Without an id: whatever runs now.
   */
  async cancel(promptId?: string): Promise<{ outcome: CancelOutcome; prompt_id?: string }> {
    const queue = await this.http.queue();
    const running = queue.queue_running[0]?.prompt_id;
    if (promptId === undefined) {
      if (running === undefined) return { outcome: 'idle' };
      await this.http.interrupt(running);
      return { outcome: 'interrupted', prompt_id: running };
    }
    if (running === promptId) {
      await this.http.interrupt(promptId);
      return { outcome: 'interrupted', prompt_id: promptId };
    }
    if (queue.queue_pending.some((item) => item.prompt_id === promptId)) {
      const { deleted } = await this.removePending([promptId]);
      if (deleted.length > 0) return { outcome: 'deleted', prompt_id: promptId };
      // It started running in between: interrupt it after all.
      await this.http.interrupt(promptId);
      return { outcome: 'interrupted', prompt_id: promptId };
    }
    const finished = await this.historyEntry(promptId);
    return { outcome: finished ? 'finished' : 'unknown', prompt_id: promptId };
  }

  /** History entries in the submit node's result shape, oldest first. */
  async history(query: { max_items?: number; offset?: number } = {}): Promise<PromptSummary[]> {
    const entries = await this.http.historyAll(query);
    return entries.map(([id, entry]) => summarizeEntry(id, entry));
  }

  /** The server's feature flags, asked once per client. */
  features(): Promise<FeatureFlags> {
    this.featureFlags ??= this.http.features().catch((err: unknown) => {
      this.featureFlags = undefined;
      throw err;
    });
    return this.featureFlags;
  }

  /**
   * Every node class the server has, as typed definitions: asked once and shared by every caller
   * (conversion, validation, bypass), asked again after a reconnect (the server may have restarted with
   * other custom nodes or model files). A failed answer is not kept, so the next caller asks again.
   * `stale`: the definitions a caller found out of date (a model file added since): asked again,
   * unless another caller already did, so a burst of msgs with the same unknown name asks once.
   */
  definitions(stale?: Map<string, NodeDefinition>): Promise<Map<string, NodeDefinition>> {
    if (stale !== undefined && stale === this.latestDefinitions) this.nodeDefinitions = undefined;
    if (this.nodeDefinitions) return this.nodeDefinitions;
    this.latestDefinitions = undefined;
    // A reconnect may drop this request's promise while it runs: only the current one updates the cache.
    const asked: Promise<Map<string, NodeDefinition>> = this.http.objectInfo().then(
      (all) => {
        const definitions = readNodeDefinitions(all);
        if (this.nodeDefinitions === asked) this.latestDefinitions = definitions;
        return definitions;
      },
      (err: unknown) => {
        if (this.nodeDefinitions === asked) this.nodeDefinitions = undefined;
        throw err;
      },
    );
    this.nodeDefinitions = asked;
    return asked;
  }

  /** One node class; ComfyUI answers `{}` for unknown ones, which becomes NOT_FOUND here. */
  async nodeInfo(nodeClass: string): Promise<ObjectInfo> {
    const info = own(await this.http.objectInfo(nodeClass), nodeClass);
    if (!info)
      throw new ComfyError(
        'NOT_FOUND',
        `ComfyUI has no node class "${clip(nodeClass, 80)}" (class names are case-sensitive, e.g. KSampler)`,
      );
    return info;
  }

  /** The files of a model folder; an unknown folder is NOT_FOUND with the list of folders. */
  async modelFiles(folder: string): Promise<string[]> {
    try {
      return await this.http.models(folder);
    } catch (err) {
      if (!isComfyError(err, 'HTTP') || err.status !== 404) throw err;
      const folders = await this.http.models().catch(() => [] as string[]);
      throw this.clipped(
        new ComfyError(
          'NOT_FOUND',
          `ComfyUI has no model folder "${clip(folder, 80)}"${folders.length ? `; folders: ${folders.join(', ')}` : ''}`,
        ),
      );
    }
  }

  /**
   * Uploads after checking the size against the server's advertised max_upload_size. Images whose
   * bytes this client already uploaded to the same folder are not sent again: the earlier answer
   * comes back with `reused` (upload-cache.ts, forgotten on every reconnect).
   */
  async upload(kind: 'image' | 'mask', upload: UploadRequest): Promise<CachedUpload> {
    if (kind === 'mask') return { ...(await this.send(kind, upload)), reused: false };
    return this.uploads.upload(upload, () => this.send(kind, upload));
  }

  private async send(kind: 'image' | 'mask', upload: UploadRequest): Promise<UploadResult> {
    const limit = await this.uploadLimit();
    if (limit !== undefined && upload.bytes.length > limit) {
      throw new ComfyError(
        'TOO_LARGE',
        `${upload.filename} is ${upload.bytes.length} bytes; this ComfyUI accepts at most ${limit} bytes (--max-upload-size)`,
      );
    }
    return this.http.upload(kind, upload);
  }

  /** The largest request body the server accepts (bytes, from /features), or undefined when it does not say. */
  async uploadLimit(): Promise<number | undefined> {
    const limit = (await this.features().catch((): FeatureFlags => ({}))).max_upload_size;
    return typeof limit === 'number' && limit >= 0 ? Math.floor(limit) : undefined;
  }

  /** The history entry of a prompt, or undefined while ComfyUI does not have one. */
  historyEntry(promptId: string): Promise<HistoryEntry | undefined> {
    return this.http.history(promptId);
  }

  /** A file's bytes; with `preview`, an image re-encoded by ComfyUI; `signal` stops the download. */
  view(ref: ResultItem, options?: ViewOptions): Promise<Download> {
    return this.http.view(ref, options);
  }

  /** A file streamed into the sink `open` gives (opened once the answer is known to be the file); `signal` stops it. */
  viewTo(ref: ResultItem, open: OpenSink, options?: ViewOptions): Promise<StreamedDownload> {
    return this.http.viewTo(ref, open, options);
  }

  /** The longest text the server configuration lets into an error message or a status. */
  get textLimit(): number {
    return this.maxTextLength;
  }

  /** The same error within the text limit (errors of the client's own making; http.ts clips its own). */
  private clipped(err: ComfyError): ComfyError {
    if (err.message.length <= this.maxTextLength) return err;
    return new ComfyError(err.code, clip(err.message, this.maxTextLength), {
      status: err.status,
      body: err.body,
      promptId: err.promptId,
      nodes: err.nodes,
    });
  }

  /** The /view URL of a file, without query credentials (it may go into a msg). */
  viewUrl(ref: ResultItem): string {
    return this.http.viewUrl(ref).href;
  }

  private remember(promptId: string, prompt: ApiPrompt): void {
    this.submitted.set(promptId, prompt);
    if (this.submitted.size > REMEMBERED_PROMPTS) this.submitted.delete(this.submitted.keys().next().value as string);
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : 'unknown error';
}
