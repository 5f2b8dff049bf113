/**
 * One ComfyUI server as one object: the HTTP routes, the single WebSocket and the job tracker.
 * A config node holds exactly one of these, however many palette nodes use it.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Endpoint } from './endpoint';
import type { EndpointOptions } from './endpoint';
import { ComfyError, isComfyError } from './errors';
import type { FrameEvent } from './frames';
import { ComfyHttp } from './http';
import type { Download } from './http';
import { JobTracker } from './jobs';
import type { JobCallbacks, JobResult } from './jobs';
import { ComfySocket, defaultSocketOptions } from './socket';
import type { SocketOptions, SocketState } from './socket';
import type { ApiPrompt, HistoryEntry, PromptRequest, ResultItem } from './types';
import { nodeProblems, validationError } from './validation';
import type { NodeProblem } from './validation';

export interface ClientOptions extends EndpointOptions {
  /** Timeout of each HTTP request, and of waiting for the socket before a submit. */
  timeoutMs?: number;
  /** Stable for the client's life; ComfyUI routes a prompt's events to the socket with this id. */
  clientId?: string;
  socket?: Partial<SocketOptions>;
}

export interface SubmitOptions {
  /** Track the prompt to its end; without it, the submission resolves once ComfyUI queued it. */
  wait: boolean;
  extraData?: Record<string, unknown>;
  callbacks?: JobCallbacks;
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
  problem: [string];
}

export class ComfyClient extends EventEmitter<ComfyClientEvents> {
  readonly endpoint: Endpoint;
  readonly http: ComfyHttp;
  readonly clientId: string;
  private readonly socket: ComfySocket;
  private readonly tracker: JobTracker;
  private readonly timeoutMs: number;
  private closed = false;

  constructor(options: ClientOptions) {
    super();
    this.endpoint = new Endpoint(options);
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.clientId = options.clientId ?? randomUUID();
    this.http = new ComfyHttp(this.endpoint, { timeoutMs: this.timeoutMs });
    this.tracker = new JobTracker((promptId) => this.http.history(promptId));
    this.socket = new ComfySocket(this.endpoint, this.clientId, {
      ...defaultSocketOptions,
      handshakeTimeoutMs: Math.min(defaultSocketOptions.handshakeTimeoutMs, this.timeoutMs),
      ...(options.socket ?? {}),
    });
    this.socket.on('state', (state) => this.emit('state', state));
    this.socket.on('problem', (text) => this.emit('problem', text));
    this.socket.on('frame', (frame) => {
      this.tracker.handle(frame);
      this.emit('frame', frame);
    });
    this.socket.on('open', ({ reconnect }) => {
      if (reconnect) void this.tracker.resync();
    });
  }

  get state(): SocketState {
    return this.socket.state;
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
    this.tracker.failAll(new ComfyError('CLOSED', 'The ComfyUI connection was closed before the prompt finished'));
    await Promise.all([this.socket.close(), this.http.close()]);
  }

  async submit(prompt: ApiPrompt, options: SubmitOptions): Promise<Submission> {
    if (this.closed) throw new ComfyError('CLOSED', 'The ComfyUI connection is closed');
    this.connect();
    if (options.wait) {
      // Events go only to the socket registered under our clientId when they are sent: connect first.
      await this.socket.whenConnected(this.timeoutMs).catch((err: Error) => {
        throw new ComfyError('NETWORK', `Cannot reach ComfyUI's WebSocket at ${this.endpoint.displayUrl}: ${err.message}`, { cause: err });
      });
    }
    const promptId = randomUUID();
    const result = options.wait ? this.tracker.register(promptId, prompt, options.callbacks) : undefined;
    const request: PromptRequest = { prompt, client_id: this.clientId, prompt_id: promptId };
    if (options.extraData) request.extra_data = options.extraData;
    try {
      const accepted = await this.http.postPrompt(request);
      const droppedNodes = nodeProblems(accepted.node_errors, prompt);
      const submission: Submission = {
        promptId,
        number: accepted.number,
        droppedNodes,
        nodeErrors: accepted.node_errors ?? {},
      };
      if (result) submission.result = result;
      return submission;
    } catch (err) {
      const error = isComfyError(err, 'HTTP') && err.status === 400 ? validationError(400, err.body, prompt, promptId) : (err as Error);
      this.tracker.fail(promptId, error);
      throw error;
    }
  }

  /** The history entry of a prompt, or undefined while ComfyUI does not have one. */
  async historyEntry(promptId: string): Promise<HistoryEntry | undefined> {
    return (await this.http.history(promptId))[promptId];
  }

  view(ref: ResultItem): Promise<Download> {
    return this.http.view(ref);
  }

  viewUrl(ref: ResultItem): string {
    return this.http.viewUrl(ref).href;
  }
}
