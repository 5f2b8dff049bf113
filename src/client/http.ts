/**
 * ComfyUI's REST routes over one keep-alive undici Agent per server. Every request has a
 * timeout; every failure becomes a ComfyError that says what was asked and what came back.
 */
import { Agent, FormData, request } from 'undici';
import type { Dispatcher } from 'undici';
import type { Readable } from 'node:stream';
import type { Endpoint } from './endpoint';
import { ComfyError } from './errors';
import { refusalError, refusalOf } from './refusal';
import type {
  FeatureFlags,
  HistoryMap,
  ObjectInfo,
  PromptAccepted,
  PromptRequest,
  QueueState,
  ResultItem,
  ViewPreview,
  ResultType,
  SystemStats,
  UploadResult,
} from './types';

export interface HttpOptions {
  /** Whole-request timeout for JSON calls; inactivity timeout for downloads. */
  timeoutMs: number;
}

export interface Download {
  body: Buffer;
  contentType: string;
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
}

const MAX_ERROR_BODY = 4096;
const VIEW_RETRIES = 2;

export class ComfyHttp {
  private readonly agent: Agent;

  constructor(
    private readonly endpoint: Endpoint,
    private readonly options: HttpOptions,
  ) {
    this.agent = new Agent({
      keepAliveTimeout: 10_000,
      connect: { timeout: options.timeoutMs, ...(endpoint.tls ?? {}) },
    });
  }

  postPrompt(body: PromptRequest): Promise<PromptAccepted> {
    return this.json<PromptAccepted>('POST', '/prompt', { body });
  }

  /** `{}` while the prompt is unknown, pending or running; never 404. */
  history(promptId: string): Promise<HistoryMap> {
    return this.json<HistoryMap>('GET', `/history/${encodeURIComponent(promptId)}`);
  }

  /** `max_items` keeps the newest N; `offset` skips from the oldest. Oldest first either way. */
  historyAll(query: { max_items?: number; offset?: number } = {}): Promise<HistoryMap> {
    return this.json<HistoryMap>('GET', '/history', { query });
  }

  deleteHistory(promptIds: string[]): Promise<void> {
    return this.action('/history', { delete: promptIds });
  }

  clearHistory(): Promise<void> {
    return this.action('/history', { clear: true });
  }

  queue(): Promise<QueueState> {
    return this.json<QueueState>('GET', '/queue');
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
    return this.json<FeatureFlags>('GET', '/features');
  }

  systemStats(): Promise<SystemStats> {
    return this.json<SystemStats>('GET', '/system_stats');
  }

  /** All classes, or `{}` for one that does not exist (ComfyUI never answers 404 here). */
  objectInfo(nodeClass?: string): Promise<Record<string, ObjectInfo>> {
    return this.json<Record<string, ObjectInfo>>(
      'GET',
      nodeClass === undefined ? '/object_info' : `/object_info/${encodeURIComponent(nodeClass)}`,
    );
  }

  /** The model folder names, or the files of one folder (404 for an unknown folder). */
  models(folder?: string): Promise<string[]> {
    return this.json<string[]>('GET', folder === undefined ? '/models' : `/models/${encodeURIComponent(folder)}`);
  }

  embeddings(): Promise<string[]> {
    return this.json<string[]>('GET', '/embeddings');
  }

  extensions(): Promise<string[]> {
    return this.json<string[]>('GET', '/extensions');
  }

  /** Multipart upload to /upload/image or /upload/mask. */
  async upload(kind: 'image' | 'mask', upload: UploadRequest): Promise<UploadResult> {
    const form = new FormData();
    form.append('image', new Blob([new Uint8Array(upload.bytes)]), upload.filename);
    if (upload.type) form.append('type', upload.type);
    if (upload.subfolder) form.append('subfolder', upload.subfolder);
    // ComfyUI overwrites only for the exact strings "true" / "1".
    if (upload.overwrite) form.append('overwrite', 'true');
    if (kind === 'mask') form.append('original_ref', JSON.stringify(upload.originalRef ?? {}));
    const route = `/upload/${kind}`;
    return this.redacting(
      (async () => {
        const response = await this.send('POST', this.endpoint.httpUrl(route), form, true);
        await this.ensureOk('POST', route, response);
        return this.parseJson<UploadResult>('POST', route, response);
      })(),
    );
  }

  /**
   * filename, subfolder and type travel as query parameters, never as path segments. Without
   * `withSecrets` the URL carries no query credentials, so it may go into a msg.
   */
  viewUrl(ref: ResultItem, withSecrets = false, preview?: ViewPreview): URL {
    const query = {
      filename: ref.filename,
      subfolder: ref.subfolder ?? '',
      type: ref.type,
      ...(preview ? { preview: `${preview.format};${preview.quality}` } : {}),
    };
    return this.endpoint.httpUrl('/view', query, withSecrets);
  }

  /**
   * Downloads a file; a dropped connection is retried, since GET /view is safe to repeat.
   * `preview` asks ComfyUI to re-encode an image instead.
   */
  async view(ref: ResultItem, preview?: ViewPreview): Promise<Download> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.redacting(this.viewOnce(ref, preview));
      } catch (err) {
        const transient = err instanceof ComfyError && err.code === 'NETWORK';
        if (!transient || attempt >= VIEW_RETRIES) throw err;
        await new Promise((resolve) => setTimeout(resolve, 200 * (attempt + 1)));
      }
    }
  }

  private async viewOnce(ref: ResultItem, preview: ViewPreview | undefined): Promise<Download> {
    const url = this.viewUrl(ref, true, preview);
    const response = await this.send('GET', url, undefined, false);
    await this.ensureOk('GET', '/view', response);
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of response.body as Readable) chunks.push(chunk as Buffer);
    } catch (err) {
      throw new ComfyError('NETWORK', `GET /view: the download of ${ref.filename} was cut off (${errorText(err)})`, { cause: err });
    }
    return { body: Buffer.concat(chunks), contentType: headerText(response.headers['content-type']) || 'application/octet-stream' };
  }

  async close(): Promise<void> {
    await this.agent.close().catch(() => this.agent.destroy());
  }

  /** A JSON route: sends `body` as JSON (ComfyUI crashes with 500 on empty POST bodies), parses the answer. */
  json<T>(method: Method, route: string, opts: { body?: unknown; query?: Record<string, string | number | undefined> } = {}): Promise<T> {
    return this.redacting(
      (async () => {
        const url = this.endpoint.httpUrl(route, opts.query);
        const payload = method === 'POST' ? JSON.stringify(opts.body ?? {}) : undefined;
        const response = await this.send(method, url, payload, true);
        await this.ensureOk(method, route, response);
        return this.parseJson<T>(method, route, response);
      })(),
    );
  }

  /**
   * Errors leave this class without credentials: message and body are redacted, and the cause
   * (a transport error that could carry request details) is reduced to its name and code.
   */
  private async redacting<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (err) {
      if (!(err instanceof ComfyError)) throw err;
      const cause = err.cause as { name?: string; code?: string } | undefined;
      throw new ComfyError(err.code, this.endpoint.redact(err.message), {
        status: err.status,
        body: typeof err.body === 'string' ? this.endpoint.redact(err.body) : err.body,
        promptId: err.promptId,
        nodes: err.nodes,
        cause: cause ? { name: cause.name, code: cause.code } : undefined,
      });
    }
  }

  private async parseJson<T>(method: Method, route: string, response: Dispatcher.ResponseData): Promise<T> {
    const text = await readText(response, method, route);
    if (text === '') return undefined as T;
    const type = headerText(response.headers['content-type']);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ComfyError(
        'BAD_RESPONSE',
        `${method} ${route} answered ${response.statusCode} with ${describeBody(type, text)} instead of JSON: ` +
          'is the URL pointing at ComfyUI (and not at a proxy or login page)?',
        { status: response.statusCode, body: text.slice(0, MAX_ERROR_BODY) },
      );
    }
  }

  /** Posts to a route that answers an empty 200 (queue, history, interrupt, free). */
  async action(route: string, body: unknown): Promise<void> {
    await this.json<unknown>('POST', route, { body });
  }

  private async send(
    method: Method,
    url: URL,
    body: string | FormData | undefined,
    wholeTimeout: boolean,
  ): Promise<Dispatcher.ResponseData> {
    const route = url.pathname;
    try {
      return await request(url, {
        method,
        dispatcher: this.agent,
        headers: this.endpoint.requestHeaders(typeof body === 'string' ? { 'content-type': 'application/json' } : undefined),
        body,
        headersTimeout: this.options.timeoutMs,
        bodyTimeout: this.options.timeoutMs,
        ...(wholeTimeout ? { signal: AbortSignal.timeout(this.options.timeoutMs) } : {}),
      });
    } catch (err) {
      throw networkError(method, route, err, this.options.timeoutMs, this.endpoint.displayUrl);
    }
  }

  private async ensureOk(method: Method, route: string, response: Dispatcher.ResponseData): Promise<void> {
    if (response.statusCode >= 200 && response.statusCode < 300) return;
    const text = await readText(response, method, route).catch(() => '');
    const type = headerText(response.headers['content-type']);
    let body: unknown = text.slice(0, MAX_ERROR_BODY);
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
}

async function readText(response: Dispatcher.ResponseData, method: Method, route: string): Promise<string> {
  try {
    return await response.body.text();
  } catch (err) {
    throw new ComfyError('NETWORK', `${method} ${route}: the answer was cut off (${errorText(err)})`, { cause: err });
  }
}

function describeBody(contentType: string, text: string): string {
  if (text === '') return 'an empty body';
  if (contentType.includes('html') || /^\s*<(!doctype|html)/i.test(text)) {
    const title = /<title>([^<]*)<\/title>/i.exec(text)?.[1]?.trim();
    return `an HTML page${title ? ` ("${title}")` : ''}`;
  }
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > 300 ? `${oneLine.slice(0, 300)}…` : oneLine;
}

function headerText(value: string | string[] | undefined): string {
  return (Array.isArray(value) ? value[0] : value) ?? '';
}

function errorText(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: string }).code;
    return code && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

function networkError(method: Method, route: string, err: unknown, timeoutMs: number, server: string): ComfyError {
  const name = err instanceof Error ? err.name : '';
  const code = (err as { code?: string } | null)?.code ?? '';
  if (name === 'TimeoutError' || name === 'AbortError' || (code.startsWith('UND_ERR_') && code.includes('TIMEOUT'))) {
    return new ComfyError('TIMEOUT', `${method} ${route}: no answer from ${server} within ${timeoutMs} ms`, { cause: err });
  }
  const cause = (err as { cause?: { code?: string; message?: string } } | null)?.cause;
  const reason = cause?.code ?? code ?? '';
  const detail = reason === 'ECONNREFUSED' ? 'connection refused: is ComfyUI running there?' : errorText(cause ?? err);
  return new ComfyError('NETWORK', `${method} ${route}: cannot reach ${server} (${detail})`, { cause: err });
}
