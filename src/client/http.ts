/**
 * ComfyUI's REST routes over two keep-alive undici Agents per server: one for the API routes and
 * one for /view downloads, each with a bounded number of connections, so a large download never
 * queues a POST /prompt and a burst of requests never opens a socket per request.
 *
 * Everything an answer carries is bounded (bytes per JSON answer, bytes and total time per
 * download, bytes of an error body) and read into typed values by answer-shapes.ts; every failure
 * becomes a ComfyError that says what was asked and what came back, with credentials redacted and
 * its text clipped. close() stops every request and download in flight at once (CLOSED).
 */
import { EventEmitter } from 'node:events';
import { Agent, FormData } from 'undici';
import type { Dispatcher } from 'undici';
import { Transform } from 'node:stream';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  readHistoryList,
  readHistoryOf,
  readObjectInfo,
  readPromptAccepted,
  readQueue,
  readSystemStats,
  readTextList,
  readUploadResult,
} from './answer-shapes';
import type { Endpoint, RequestTarget } from './endpoint';
import { ComfyError } from './errors';
import { readFeatureFlags } from './event-shapes';
import { isImageName, looksLikeHtml, mediaTypeOfName, sniffImageType } from './media';
import { refusalError, refusalOf } from './refusal';
import { readHead } from './stream-head';
import type { StreamHead } from './stream-head';
import { describeRef } from './outputs';
import { clip, formatMs, ShapeError } from './shape';
import type {
  FeatureFlags,
  HistoryEntry,
  ObjectInfo,
  PromptAccepted,
  PromptRequest,
  QueueState,
  ResultItem,
  ResultType,
  SystemStats,
  UploadResult,
  ViewPreview,
} from './types';

export interface HttpLimits {
  /** Whole-request timeout of the API routes; for downloads, the wait for headers and the longest pause between bytes. */
  timeoutMs: number;
  /** Bytes of one JSON answer (a full /object_info of a server with many custom nodes runs to tens of MB). */
  maxJsonBytes: number;
  /** Bytes of one downloaded file. */
  maxFileBytes: number;
  /** Whole time of one download, however steadily the bytes trickle in. */
  downloadTimeoutMs: number;
  /** Connections per server for the API routes. */
  connections: number;
  /** Connections per server for /view downloads, a pool of their own. */
  downloadConnections: number;
  /** Longest text of an error message. */
  maxTextLength: number;
}

export const defaultHttpLimits: HttpLimits = {
  timeoutMs: 30_000,
  maxJsonBytes: 64 * 1024 * 1024,
  maxFileBytes: 256 * 1024 * 1024,
  downloadTimeoutMs: 300_000,
  connections: 8,
  downloadConnections: 4,
  maxTextLength: 1000,
};

export interface Download {
  body: Buffer;
  contentType: string;
}

/** A file streamed into a sink instead of memory: its bytes written and its media type. */
export interface StreamedDownload {
  size: number;
  contentType: string;
}

/**
 * Where a streamed download goes, opened only once the answer is known to be the file (2xx, not
 * empty, not an HTML page, an image where an image was asked for), with its media type.
 */
export type OpenSink = (contentType: string) => Promise<Writable>;

export interface ViewOptions {
  /** Ask ComfyUI to re-encode an image instead. */
  preview?: ViewPreview;
  /** Stops the download (CLOSED), e.g. when the node that asked for it is closed. */
  signal?: AbortSignal;
}

type Method = 'GET' | 'POST';

export interface UploadRequest {
  bytes: Buffer;
  filename: string;
  subfolder?: string;
  type?: ResultType;
  overwrite?: boolean;
  /** /upload/mask only: the image whose alpha channel the mask replaces. */
  originalRef?: ResultItem;
  /** The name was made up by the caller, not asked for: an earlier upload of the same bytes under any made-up name will do (upload-cache.ts). */
  anyName?: boolean;
}

/** Bytes of an error answer kept for the message; the rest is not read. */
const MAX_ERROR_BODY = 4096;
const VIEW_RETRIES = 2;
/** Bytes of a streamed download read before its sink is opened: enough to tell an image or an HTML page (media.ts looks at 512). */
const SNIFF_BYTES = 512;

/** Why a request in flight was stopped. */
type StopReason = 'closed' | 'cancelled' | 'timeout';

/**
 * One request's abort: the client closing, its caller giving up, or its own time limit. It is the
 * request's signal itself: undici takes an EventEmitter with `aborted` and `reason` as well as an
 * AbortSignal, and an AbortController per request cost more than the rest of a small request's work here.
 */
class Flight extends EventEmitter {
  stopped: StopReason | undefined;
  reason: Error | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly onCallerAbort = (): void => this.stop('cancelled');

  constructor(
    private readonly flights: Set<Flight>,
    timeoutMs: number,
    private readonly caller: AbortSignal | undefined,
  ) {
    super();
    flights.add(this);
    this.timer = setTimeout(() => this.stop('timeout'), timeoutMs);
    this.timer.unref();
    if (caller?.aborted) this.stop('cancelled');
    else caller?.addEventListener('abort', this.onCallerAbort, { once: true });
  }

  get aborted(): boolean {
    return this.stopped !== undefined;
  }

  stop(reason: StopReason): void {
    if (this.stopped) return;
    this.stopped = reason;
    this.reason = new Error(`the request was stopped (${reason})`);
    this.emit('abort');
  }

  end(): void {
    clearTimeout(this.timer);
    this.caller?.removeEventListener('abort', this.onCallerAbort);
    this.flights.delete(this);
  }
}

export class ComfyHttp {
  private readonly api: Agent;
  private readonly files: Agent;
  private readonly limits: HttpLimits;
  private readonly flights = new Set<Flight>();
  private closed = false;

  constructor(
    private readonly endpoint: Endpoint,
    limits: Partial<HttpLimits> = {},
  ) {
    this.limits = { ...defaultHttpLimits, ...limits };
    const connect = { timeout: this.limits.timeoutMs, ...(endpoint.tls ?? {}) };
    this.api = new Agent({ keepAliveTimeout: 10_000, connections: this.limits.connections, connect });
    this.files = new Agent({ keepAliveTimeout: 10_000, connections: this.limits.downloadConnections, connect });
  }

  postPrompt(body: PromptRequest): Promise<PromptAccepted> {
    return this.json('POST', '/prompt', readPromptAccepted, { body });
  }

  /**
   * The prompt's entry, or undefined while ComfyUI answers `{}` (unknown, pending or running); never 404.
   * `withPrompt` false: without the prompt it ran (entry.prompt undefined), which is then not read.
   */
  history(promptId: string, withPrompt = true): Promise<HistoryEntry | undefined> {
    return this.json('GET', `/history/${encodeURIComponent(promptId)}`, readHistoryOf(promptId, withPrompt));
  }

  /** `max_items` keeps the newest N; `offset` skips from the oldest. Oldest first either way. */
  historyAll(query: { max_items?: number; offset?: number } = {}): Promise<Array<[string, HistoryEntry]>> {
    return this.json('GET', '/history', readHistoryList, { query });
  }

  deleteHistory(promptIds: string[]): Promise<void> {
    return this.action('/history', { delete: promptIds });
  }

  clearHistory(): Promise<void> {
    return this.action('/history', { clear: true });
  }

  queue(): Promise<QueueState> {
    return this.json('GET', '/queue', readQueue);
  }

  /** Removes pending items only; ComfyUI ignores unknown and running ids. */
  deleteFromQueue(promptIds: string[]): Promise<void> {
    return this.action('/queue', { delete: promptIds });
  }

  clearQueue(): Promise<void> {
    return this.action('/queue', { clear: true });
  }

  /** Without an id: whatever runs now. With one: only if that prompt is the one running. */
  interrupt(promptId?: string): Promise<void> {
    return this.action('/interrupt', promptId === undefined ? {} : { prompt_id: promptId });
  }

  free(options: { unload_models?: boolean; free_memory?: boolean }): Promise<void> {
    return this.action('/free', options);
  }

  features(): Promise<FeatureFlags> {
    return this.json('GET', '/features', (body) => readFeatureFlags(body, 'body'));
  }

  systemStats(): Promise<SystemStats> {
    return this.json('GET', '/system_stats', readSystemStats);
  }

  /** All classes, or `{}` for one that does not exist (ComfyUI never answers 404 here). */
  objectInfo(nodeClass?: string): Promise<Record<string, ObjectInfo>> {
    return this.json('GET', nodeClass === undefined ? '/object_info' : `/object_info/${encodeURIComponent(nodeClass)}`, readObjectInfo);
  }

  /** The model folder names, or the files of one folder (404 for an unknown folder). */
  models(folder?: string): Promise<string[]> {
    return this.json('GET', folder === undefined ? '/models' : `/models/${encodeURIComponent(folder)}`, readTextList);
  }

  embeddings(): Promise<string[]> {
    return this.json('GET', '/embeddings', readTextList);
  }

  extensions(): Promise<string[]> {
    return this.json('GET', '/extensions', readTextList);
  }

  /** Multipart upload to /upload/image or /upload/mask. */
  upload(kind: 'image' | 'mask', upload: UploadRequest): Promise<UploadResult> {
    const form = new FormData();
    form.append('image', new Blob([new Uint8Array(upload.bytes)]), upload.filename);
    if (upload.type) form.append('type', upload.type);
    if (upload.subfolder) form.append('subfolder', upload.subfolder);
    // ComfyUI overwrites only for the exact strings "true" / "1".
    if (upload.overwrite) form.append('overwrite', 'true');
    if (kind === 'mask') form.append('original_ref', JSON.stringify(upload.originalRef ?? {}));
    return this.exchange('POST', `/upload/${kind}`, readUploadResult, this.endpoint.target(`/upload/${kind}`), form);
  }

  /**
   * The /view URL of a file. Without `withSecrets` it carries no query credentials, so it may go
   * into a msg.
   */
  viewUrl(ref: ResultItem, withSecrets = false, preview?: ViewPreview): URL {
    return this.endpoint.httpUrl('/view', viewQuery(ref, preview), withSecrets);
  }

  /** Downloads a file; a dropped connection is retried, since GET /view is safe to repeat. */
  async view(ref: ResultItem, options: ViewOptions = {}): Promise<Download> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.sanitized(this.viewOnce(ref, options));
      } catch (err) {
        const transient = err instanceof ComfyError && err.code === 'NETWORK';
        if (!transient || attempt >= VIEW_RETRIES || this.closed || options.signal?.aborted) throw err;
        await new Promise((resolve) => setTimeout(resolve, 200 * (attempt + 1)));
      }
    }
  }

  /**
   * Streams a file into the sink `open` gives, with backpressure, so memory stays flat whatever
   * its size. The same URL, credentials, size cap ("Largest file") and time limits as view(); a
   * dropped connection is retried only while the sink is not opened yet (nothing was written).
   * A failure after that rejects once the sink is destroyed: the caller removes what it wrote.
   * A sink that fails (disk full, no permission) is FILE_WRITE.
   */
  async viewTo(ref: ResultItem, open: OpenSink, options: ViewOptions = {}): Promise<StreamedDownload> {
    let opened = false;
    const openOnce: OpenSink = (contentType) => {
      opened = true;
      return open(contentType);
    };
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.sanitized(this.viewToOnce(ref, openOnce, options));
      } catch (err) {
        const transient = err instanceof ComfyError && err.code === 'NETWORK' && !opened;
        if (!transient || attempt >= VIEW_RETRIES || this.closed || options.signal?.aborted) throw err;
        await new Promise((resolve) => setTimeout(resolve, 200 * (attempt + 1)));
      }
    }
  }

  /** For good: every request and download in flight ends with CLOSED at once, and the connections are dropped. */
  async close(): Promise<void> {
    this.closed = true;
    for (const flight of [...this.flights]) flight.stop('closed');
    await Promise.all([this.api.destroy().catch(() => undefined), this.files.destroy().catch(() => undefined)]);
  }

  private async viewOnce(ref: ResultItem, options: ViewOptions): Promise<Download> {
    const what = `the download of ${describeRef(ref)}`;
    const flight = this.start(this.limits.downloadTimeoutMs, options.signal);
    try {
      const response = await this.send(
        this.files,
        'GET',
        this.endpoint.target('/view', viewQuery(ref, options.preview)),
        undefined,
        flight,
        what,
      );
      await this.ensureOk('GET', '/view', response, flight, what);
      const body = await this.readCapped(response, { max: this.limits.maxFileBytes, limit: 'maxFileBytes' }, flight, what);
      return { body, contentType: checkedContentType(ref, options.preview, body, headerText(response.headers['content-type'])) };
    } finally {
      flight.end();
    }
  }

  private async viewToOnce(ref: ResultItem, open: OpenSink, options: ViewOptions): Promise<StreamedDownload> {
    const what = `the download of ${describeRef(ref)}`;
    const flight = this.start(this.limits.downloadTimeoutMs, options.signal);
    let body: Readable | undefined;
    try {
      const response = await this.send(this.files, 'GET', this.endpoint.target('/view', viewQuery(ref)), undefined, flight, what);
      await this.ensureOk('GET', '/view', response, flight, what);
      body = response.body;
      const max = this.limits.maxFileBytes;
      const tooLarge = (size: string): ComfyError => this.tooLarge(response, what, max, size, 'maxFileBytes');
      const declared = Number(headerText(response.headers['content-length']));
      if (Number.isFinite(declared) && declared > max) throw tooLarge(formatBytes(declared));
      // Whose failure ends the copy: pipeline destroys every stream with the first error, so only the first tells.
      // Listened to from here on: the body may fail while it waits paused for the sink to open.
      let failed: 'source' | 'sink' | undefined;
      const source = body;
      source.on('error', () => (failed ??= 'source'));
      source.on('close', () => {
        if (!source.readableEnded) failed ??= 'source';
      });
      // The first bytes decide whether this is the file at all, before anything is written.
      let first: StreamHead;
      try {
        first = await readHead(body, SNIFF_BYTES);
      } catch (err) {
        throw this.transportError(err, flight, what, 'the answer was cut off');
      }
      if (first.head.length > max) throw tooLarge(`over ${formatBytes(max)}`);
      const contentType = checkedContentType(ref, undefined, first.head, headerText(response.headers['content-type']));
      const sink = await open(contentType);
      // The rest goes through as it arrives (no async iterator: see stream-head.ts), counted against the cap.
      let size = 0;
      let overCap: ComfyError | undefined;
      const capped = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          size += chunk.length;
          if (size > max) overCap ??= tooLarge(`over ${formatBytes(max)}`);
          callback(overCap ?? null, chunk);
        },
      });
      sink.on('error', () => (failed ??= 'sink'));
      capped.write(first.head);
      if (first.ended) capped.end();
      try {
        await (first.ended ? pipeline(capped, sink) : pipeline(body, capped, sink));
      } catch (err) {
        // The cap's is a ComfyError (the body, destroyed with it, may report its own first); the source's is the transport's; anything else is the sink's.
        if (overCap) throw overCap;
        if (err instanceof ComfyError) throw err;
        if (failed === 'source') throw this.transportError(err, flight, what, 'the answer was cut off');
        throw new ComfyError('FILE_WRITE', `${what} could not be written: ${errorText(err)}`, { cause: err });
      }
      return { size, contentType };
    } finally {
      // Whatever stopped early (a check, the sink, the cap) leaves no connection half read.
      if (body && !body.readableEnded) body.destroy();
      flight.end();
    }
  }

  /** A JSON route: sends `body` as JSON (ComfyUI crashes with 500 on empty POST bodies), reads the answer with `read`. */
  private json<T>(
    method: Method,
    route: string,
    read: (body: unknown) => T,
    opts: { body?: unknown; query?: Record<string, string | number | undefined> } = {},
  ): Promise<T> {
    const payload = method === 'POST' ? JSON.stringify(opts.body ?? {}) : undefined;
    return this.exchange(method, route, read, this.endpoint.target(route, opts.query), payload);
  }

  /** Posts to a route that answers an empty 200 (queue, history, interrupt, free). */
  private action(route: string, body: unknown): Promise<void> {
    return this.exchange('POST', route, undefined, this.endpoint.target(route), JSON.stringify(body));
  }

  /** One API request: sent, checked, its answer read (bounded) and parsed; `read` undefined skips the body. */
  private exchange<T>(
    method: Method,
    route: string,
    read: (body: unknown) => T,
    target: RequestTarget,
    payload: string | FormData | undefined,
  ): Promise<T>;
  private exchange(
    method: Method,
    route: string,
    read: undefined,
    target: RequestTarget,
    payload: string | FormData | undefined,
  ): Promise<void>;
  private exchange<T>(
    method: Method,
    route: string,
    read: ((body: unknown) => T) | undefined,
    target: RequestTarget,
    payload: string | FormData | undefined,
  ): Promise<T | void> {
    return this.sanitized(
      (async () => {
        const what = `${method} ${route}`;
        const flight = this.start(this.limits.timeoutMs, undefined);
        try {
          const response = await this.send(this.api, method, target, payload, flight, what);
          await this.ensureOk(method, route, response, flight, what);
          if (!read) {
            await this.readCapped(response, { max: MAX_ERROR_BODY }, flight, what);
            return;
          }
          const text = await this.readJsonText(response, flight, what);
          return parseAnswer(method, route, response.statusCode, headerText(response.headers['content-type']), text, read);
        } finally {
          flight.end();
        }
      })(),
    );
  }

  private start(timeoutMs: number, caller: AbortSignal | undefined): Flight {
    const flight = new Flight(this.flights, timeoutMs, caller);
    if (this.closed) flight.stop('closed');
    return flight;
  }

  private async send(
    agent: Agent,
    method: Method,
    target: RequestTarget,
    body: string | FormData | undefined,
    flight: Flight,
    what: string,
  ): Promise<Dispatcher.ResponseData> {
    try {
      if (flight.stopped) throw new Error('stopped before it was sent');
      // The agent itself, given origin and path: undici's request(url) parses a URL and copies the options first.
      return await agent.request({
        origin: target.origin,
        path: target.path,
        method,
        headers: this.endpoint.requestHeaders(typeof body === 'string' ? { 'content-type': 'application/json' } : undefined),
        body,
        headersTimeout: this.limits.timeoutMs,
        bodyTimeout: this.limits.timeoutMs,
        signal: flight,
      });
    } catch (err) {
      throw this.transportError(err, flight, what, 'no answer');
    }
  }

  /**
   * A JSON answer as text, within maxJsonBytes. One whose Content-Length is within the cap (ComfyUI
   * declares it on every JSON answer) is read by undici in one go: looping over the body as a stream
   * cost a small answer more than everything else the client does for its request.
   */
  private async readJsonText(response: Dispatcher.ResponseData, flight: Flight, what: string): Promise<string> {
    const length = headerText(response.headers['content-length']);
    if (/^\d+$/.test(length) && Number(length) <= this.limits.maxJsonBytes) {
      try {
        return await response.body.text();
      } catch (err) {
        throw this.transportError(err, flight, what, 'the answer was cut off');
      }
    }
    return (await this.readCapped(response, { max: this.limits.maxJsonBytes, limit: 'maxJsonBytes' }, flight, what)).toString('utf8');
  }

  /**
   * Reads at most `cap.max` bytes: past that the body is dropped and, where `cap.limit` names the
   * setting, TOO_LARGE says which one to raise. `what` names the request in messages ("GET /queue",
   * "the download of x.png").
   */
  private async readCapped(response: Dispatcher.ResponseData, cap: Cap, flight: Flight, what: string): Promise<Buffer> {
    const body = response.body as Readable;
    const { max, limit } = cap;
    const tooLarge = (size: string, setting: keyof typeof LIMIT_LABELS): ComfyError => this.tooLarge(response, what, max, size, setting);
    const declared = Number(headerText(response.headers['content-length']));
    if (limit && Number.isFinite(declared) && declared > max) throw tooLarge(formatBytes(declared), limit);
    // Number('') is 0: only a Content-Length that is there (a chunked body has none) is a declared length.
    if (/^\d+$/.test(headerText(response.headers['content-length'])) && declared <= max)
      return this.readDeclared(body, declared, flight, what);
    const chunks: Buffer[] = [];
    let size = 0;
    try {
      for await (const chunk of body) {
        const bytes = chunk as Buffer;
        if (size + bytes.length > max) {
          if (limit) throw tooLarge(`over ${formatBytes(max)}`, limit);
          chunks.push(bytes.subarray(0, max - size));
          size = max;
          body.destroy(); // the rest of an error page is of no use
          break;
        }
        chunks.push(bytes);
        size += bytes.length;
      }
    } catch (err) {
      if (err instanceof ComfyError) throw err;
      throw this.transportError(err, flight, what, 'the answer was cut off');
    }
    return Buffer.concat(chunks, size);
  }

  /**
   * A body of a declared length goes straight into one buffer of that size, so the chunks are not
   * held beside their concatenation: half the peak memory of a 20 MB image, and no copy at the end.
   * undici fails a body that does not match its Content-Length; a longer one is refused here too.
   */
  private async readDeclared(body: Readable, declared: number, flight: Flight, what: string): Promise<Buffer> {
    const out = Buffer.allocUnsafe(declared);
    let size = 0;
    try {
      for await (const chunk of body) {
        const bytes = chunk as Buffer;
        if (size + bytes.length > declared) throw new Error(`more bytes than the ${declared} its Content-Length declared`);
        bytes.copy(out, size);
        size += bytes.length;
      }
    } catch (err) {
      if (err instanceof ComfyError) throw err;
      throw this.transportError(err, flight, what, 'the answer was cut off');
    }
    return size === declared ? out : out.subarray(0, size);
  }

  /** TOO_LARGE naming the setting to raise; the rest of the body is dropped. */
  private tooLarge(
    response: Dispatcher.ResponseData,
    what: string,
    max: number,
    size: string,
    setting: keyof typeof LIMIT_LABELS,
  ): ComfyError {
    (response.body as Readable).destroy();
    const subject = what.startsWith('the download') ? what : `${what}: the answer`;
    const message = `${subject} is ${size}, more than the limit of ${formatBytes(max)} (the "${LIMIT_LABELS[setting]}" setting of the server configuration)`;
    return new ComfyError('TOO_LARGE', message, { status: response.statusCode });
  }

  private async ensureOk(method: Method, route: string, response: Dispatcher.ResponseData, flight: Flight, what: string): Promise<void> {
    if (response.statusCode >= 200 && response.statusCode < 300) return;
    const text = (await this.readCapped(response, { max: MAX_ERROR_BODY }, flight, what).catch(() => Buffer.alloc(0))).toString('utf8');
    const type = headerText(response.headers['content-type']);
    let body: unknown = text;
    if (type.includes('json')) {
      try {
        body = JSON.parse(text);
      } catch {
        /* keep the text */
      }
    }
    // 404 is an ordinary answer where it names a missing thing (a file, a model folder).
    const ordinary404 = route === '/view' || route.startsWith('/models/');
    const refusal = response.statusCode === 404 && ordinary404 ? undefined : refusalOf(response.statusCode, `for ${method} ${route}`);
    if (refusal) throw refusalError(refusal, body);
    if (response.statusCode === 413) {
      throw new ComfyError(
        'TOO_LARGE',
        `${method} ${route}: the request is larger than this ComfyUI accepts (--max-upload-size): ${describeBody(type, text)}`,
        {
          status: 413,
          body,
        },
      );
    }
    const shown = typeof body === 'string' ? describeBody(type, body) : JSON.stringify(body).slice(0, 500);
    throw new ComfyError('HTTP', `${method} ${route} failed: ComfyUI answered ${response.statusCode}${shown ? `: ${shown}` : ''}`, {
      status: response.statusCode,
      body,
    });
  }

  /** Why a request ended early, in the words and codes a flow can act on. */
  private transportError(err: unknown, flight: Flight, what: string, cut: string): ComfyError {
    switch (flight.stopped) {
      case 'closed':
        return new ComfyError('CLOSED', `${what} was stopped: the ComfyUI connection was closed`);
      case 'cancelled':
        return new ComfyError('CLOSED', `${what} was stopped: the node that asked for it was closed`);
      case 'timeout':
        return what.startsWith('the download')
          ? new ComfyError(
              'TIMEOUT',
              `${what} took longer than ${formatMs(this.limits.downloadTimeoutMs)} (the "Download time limit" setting of the server configuration)`,
            )
          : new ComfyError(
              'TIMEOUT',
              `${what}: no complete answer from ${this.endpoint.displayUrl} within ${formatMs(this.limits.timeoutMs)}`,
            );
      default:
    }
    const code = (err as { code?: unknown } | null)?.code;
    const codeText = typeof code === 'string' ? code : '';
    if (codeText.startsWith('UND_ERR_') && codeText.includes('TIMEOUT')) {
      return new ComfyError('TIMEOUT', `${what}: ${this.endpoint.displayUrl} went silent for ${formatMs(this.limits.timeoutMs)}`, {
        cause: err,
      });
    }
    if (codeText === 'UND_ERR_INVALID_ARG') {
      return new ComfyError(
        'INVALID_CONFIG',
        `${what} could not be sent: ${errorText(err)} (check the custom headers of the server configuration)`,
        { cause: err },
      );
    }
    const inner = (err as { cause?: { code?: unknown } } | null)?.cause;
    const detail =
      inner?.code === 'ECONNREFUSED' || code === 'ECONNREFUSED' ? 'connection refused: is ComfyUI running there?' : errorText(inner ?? err);
    return new ComfyError('NETWORK', `${what}: ${cut === 'no answer' ? `cannot reach ${this.endpoint.displayUrl}` : cut} (${detail})`, {
      cause: err,
    });
  }

  /**
   * Errors leave this class without credentials and within the text limit: message and body are
   * redacted, the message clipped, and the cause (a transport error that could carry request
   * details) is reduced to its name and code, as text, so a debug sidebar shows it as such.
   */
  private async sanitized<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (err) {
      const error =
        err instanceof ComfyError ? err : new ComfyError('NETWORK', `ComfyUI request failed: ${errorText(err)}`, { cause: err });
      throw new ComfyError(error.code, clip(this.endpoint.redact(error.message), this.limits.maxTextLength), {
        status: error.status,
        body: this.endpoint.redactValue(error.body),
        promptId: error.promptId,
        nodes: error.nodes,
        cause: causeText(error.cause),
      });
    }
  }
}

const LIMIT_LABELS = { maxJsonBytes: 'Largest answer', maxFileBytes: 'Largest file' } as const;

/** How much of a body to read; `limit` names the setting when going past it is an error, not a cut. */
interface Cap {
  max: number;
  limit?: keyof typeof LIMIT_LABELS;
}

/** filename, subfolder and type travel as query parameters of /view, never as path segments. */
function viewQuery(ref: ResultItem, preview?: ViewPreview): Record<string, string> {
  return {
    filename: ref.filename,
    subfolder: ref.subfolder ?? '',
    type: ref.type,
    ...(preview ? { preview: `${preview.format};${preview.quality}` } : {}),
  };
}

/** An answer's body, parsed and read into its type; anything else is BAD_RESPONSE naming the route (and the field). */
function parseAnswer<T>(method: Method, route: string, status: number, contentType: string, text: string, read: (body: unknown) => T): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ComfyError(
      'BAD_RESPONSE',
      `${method} ${route} answered ${status} with ${describeBody(contentType, text)} instead of JSON: ` +
        'is the URL pointing at ComfyUI (and not at a proxy or login page)?',
      { status, body: text.slice(0, MAX_ERROR_BODY) },
    );
  }
  try {
    return read(parsed);
  } catch (err) {
    if (!(err instanceof ShapeError)) throw err;
    throw new ComfyError('BAD_RESPONSE', `${method} ${route} answered with something ComfyUI does not send: ${err.message}`, { status });
  }
}

/**
 * The media type of a downloaded file, once its bytes are known to be what was asked for: an
 * empty answer or an HTML page (a login or proxy page) where a file was expected is BAD_RESPONSE,
 * and so are bytes that are no image where an image was asked for.
 */
function checkedContentType(ref: ResultItem, preview: ViewPreview | undefined, body: Buffer, declared: string): string {
  const name = describeRef(ref);
  if (body.length === 0) throw new ComfyError('BAD_RESPONSE', `GET /view answered 0 bytes for ${name}`);
  const expectsImage = preview !== undefined || isImageName(ref.filename);
  const sniffed = sniffImageType(body);
  if (!/\.x?html?$/i.test(ref.filename) && (/html/i.test(declared) || looksLikeHtml(body)) && !sniffed) {
    throw new ComfyError(
      'BAD_RESPONSE',
      `GET /view answered ${name} with an HTML page instead of the file (a login or proxy page in front of ComfyUI?)`,
    );
  }
  if (expectsImage && !sniffed) {
    throw new ComfyError(
      'BAD_RESPONSE',
      `GET /view answered ${name} with ${body.length} bytes that are not an image${declared ? ` (${clip(declared, 60)})` : ''}`,
    );
  }
  const type = declared.split(';')[0]?.trim().toLowerCase() ?? '';
  return sniffed ?? (type && type !== 'application/octet-stream' ? type : mediaTypeOfName(ref.filename));
}

function describeBody(contentType: string, text: string): string {
  if (text === '') return 'an empty body';
  if (contentType.includes('html') || /^\s*<(!doctype|html)/i.test(text)) {
    const title = /<title>([^<]{0,200})<\/title>/i.exec(text)?.[1]?.trim();
    return `an HTML page${title ? ` ("${clip(title, 80)}")` : ''}`;
  }
  return clip(text.slice(0, 1000).replace(/\s+/g, ' ').trim(), 300);
}

function headerText(value: string | string[] | undefined): string {
  return (Array.isArray(value) ? value[0] : value) ?? '';
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return typeof code === 'string' && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return typeof err === 'string' ? err : 'unknown error';
}

/** A transport error's name and code as plain text: nothing of the request it failed on. */
function causeText(cause: unknown): string | undefined {
  if (cause === undefined || cause === null) return undefined;
  if (typeof cause === 'string') return cause;
  const name = (cause as { name?: unknown }).name;
  const code = (cause as { code?: unknown }).code;
  const parts = [typeof name === 'string' ? name : '', typeof code === 'string' ? code : ''].filter(Boolean);
  return parts.length > 0 ? parts.join(' ') : undefined;
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Math.round((bytes / 1024 / 1024) * 10) / 10} MB`;
  if (bytes >= 1024) return `${Math.round((bytes / 1024) * 10) / 10} KB`;
  return `${bytes} bytes`;
}
