/**
 * Fetches a file from an http(s) URL that a msg named, for an upload: the one place this package
 * talks to a host that is not the configured ComfyUI, so it shares nothing with the server's
 * connection: its own short-lived undici Agent, no custom headers, no credentials, no TLS
 * options of the server configuration.
 *
 * What it may reach is decided per connection: every address a host name resolves to is judged
 * by `refuse` (address-policy.ts) inside the Agent's DNS lookup, when the socket is opened, so a
 * name that resolves to a public address first and to 127.0.0.1 later (DNS rebinding) is caught
 * where it matters. Address literals never reach a lookup and are judged before the request.
 * Redirects are followed by hand, a few at most, each hop judged the same way; the body is
 * streamed and dropped at `maxBytes`; the whole fetch has one time limit.
 */
import { lookup as dnsLookup } from 'node:dns';
import type { LookupAddress, LookupOptions } from 'node:dns';
import type { LookupFunction } from 'node:net';
import type { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import { ComfyError } from './errors';
import { clip, formatMs } from './shape';

export interface RemoteFileOptions {
  /** Why an address may not be reached, or undefined when it may (addressRefusal, or a setting allowing all). */
  refuse: (address: string) => string | undefined;
  /** Bytes to read at most: beyond them the download stops with TOO_LARGE. */
  maxBytes: number;
  /** The limit's reason for the TOO_LARGE message, e.g. "this ComfyUI accepts at most 100 MB (--max-upload-size)". */
  limitText: string;
  /** The whole fetch, redirects included. */
  timeoutMs: number;
  /** Redirects followed at most; the next one fails. */
  maxRedirects?: number;
  /** Stops the fetch (CLOSED), e.g. when the node that asked for it is closed. */
  signal?: AbortSignal;
}

export interface RemoteFile {
  bytes: Buffer;
  /** Where the bytes came from after redirects. */
  url: URL;
}

export const DEFAULT_REDIRECTS = 3;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** A lookup (or a literal) that found an address `refuse` does not allow. */
class RefusedAddress extends Error {
  constructor(
    readonly host: string,
    readonly address: string,
    readonly reason: string,
  ) {
    super(`${host} is ${address}, ${reason}`);
  }
}

export async function fetchRemoteFile(start: URL, options: RemoteFileOptions): Promise<RemoteFile> {
  const maxRedirects = options.maxRedirects ?? DEFAULT_REDIRECTS;
  const controller = new AbortController();
  let stopped: 'timeout' | 'cancelled' | undefined;
  const stop = (why: 'timeout' | 'cancelled'): void => {
    stopped ??= why;
    controller.abort();
  };
  const timer = setTimeout(() => stop('timeout'), options.timeoutMs);
  timer.unref();
  const onCallerAbort = (): void => stop('cancelled');
  if (options.signal?.aborted) stop('cancelled');
  else options.signal?.addEventListener('abort', onCallerAbort, { once: true });
  const agent = new Agent({
    connections: 2,
    // Checked here, at connect time, for every connection the Agent opens.
    connect: { timeout: options.timeoutMs, lookup: guardedLookup(options.refuse) },
  });
  let url = start;
  try {
    for (let hop = 0; ; hop += 1) {
      checkUrl(url, options.refuse);
      const response = await request(url, {
        method: 'GET',
        dispatcher: agent,
        headers: { accept: 'image/*, */*;q=0.5', 'user-agent': 'node-red-comfyui' },
        signal: controller.signal,
        headersTimeout: options.timeoutMs,
        bodyTimeout: options.timeoutMs,
      });
      const status = response.statusCode;
      if (REDIRECT_STATUSES.has(status)) {
        discard(response.body);
        const location = headerText(response.headers.location);
        if (!location) throw new ComfyError('HTTP', `${describeUrl(url)} answered ${status} (a redirect) without a Location`, { status });
        if (hop >= maxRedirects) {
          throw new ComfyError(
            'HTTP',
            `${describeUrl(start)} redirects more than ${maxRedirects} times; the last hop was ${describeUrl(url)}`,
            {
              status,
            },
          );
        }
        url = nextUrl(location, url);
        continue;
      }
      if (status < 200 || status >= 300) {
        discard(response.body);
        throw new ComfyError('HTTP', `${describeUrl(url)} answered ${status} instead of the file`, { status });
      }
      return { bytes: await readCapped(response.body, headerText(response.headers['content-length']), url, options), url };
    }
  } catch (err) {
    throw fetchError(err, url, stopped, options.timeoutMs);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener('abort', onCallerAbort);
    await agent.destroy().catch(() => undefined);
  }
}

/** An http(s) URL without credentials, whose host, when it is an address literal, is allowed. */
function checkUrl(url: URL, refuse: RemoteFileOptions['refuse']): void {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ComfyError('NOT_ALLOWED', `Only http and https URLs are fetched; got a ${clip(url.protocol, 20)} URL`);
  }
  if (url.username || url.password) {
    // They would be sent to wherever a redirect leads: refused rather than guarded.
    throw new ComfyError('NOT_ALLOWED', `${describeUrl(url)}: a URL with a user name or password is not fetched`);
  }
  // The URL parser has already normalised every spelling of an address (2130706433, 0x7f.1, [::ffff:7f00:1]).
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (/^[\d.]+$/.test(host) || host.includes(':')) {
    const reason = refuse(host);
    if (reason !== undefined) throw new RefusedAddress(host, host, reason);
  }
}

function nextUrl(location: string, from: URL): URL {
  try {
    return new URL(location, from);
  } catch {
    throw new ComfyError('HTTP', `${describeUrl(from)} redirects to ${JSON.stringify(clip(location, 80))}, which is not a URL`);
  }
}

/**
 * dns.lookup with every resolved address judged before the socket connects to one: one refused
 * address refuses the host, so whichever address the connection would pick, it is an allowed one.
 */
function guardedLookup(refuse: RemoteFileOptions['refuse']): LookupFunction {
  return (hostname: string, options: LookupOptions, callback) => {
    dnsLookup(hostname, { ...options, all: true }, (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => {
      if (err) {
        callback(err, '', 0);
        return;
      }
      for (const { address } of addresses) {
        const reason = refuse(address);
        if (reason !== undefined) {
          callback(new RefusedAddress(hostname, address, reason), '', 0);
          return;
        }
      }
      const first = addresses[0];
      if (options.all) callback(null, addresses);
      else if (first) callback(null, first.address, first.family);
      else callback(Object.assign(new Error(`${hostname} resolved to no address`), { code: 'ENOTFOUND' }), '', 0);
    });
  };
}

async function readCapped(body: Readable, declared: string, url: URL, options: RemoteFileOptions): Promise<Buffer> {
  const tooLarge = (size: string): ComfyError => {
    discard(body);
    return new ComfyError('TOO_LARGE', `The file at ${describeUrl(url)} is ${size}; ${options.limitText}. Nothing was uploaded.`);
  };
  const length = Number(declared);
  if (declared !== '' && Number.isFinite(length) && length > options.maxBytes) throw tooLarge(`${length} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const bytes = chunk as Buffer;
    size += bytes.length;
    if (size > options.maxBytes) throw tooLarge(`more than ${options.maxBytes} bytes (the download was stopped there)`);
    chunks.push(bytes);
  }
  if (size === 0) throw new ComfyError('BAD_INPUT', `The file at ${describeUrl(url)} is empty. Nothing was uploaded.`);
  return Buffer.concat(chunks, size);
}

/** What went wrong, with the code a flow can act on; never the query string of the URL. */
function fetchError(err: unknown, url: URL, stopped: 'timeout' | 'cancelled' | undefined, timeoutMs: number): ComfyError {
  const refused = refusedIn(err);
  if (refused) {
    return new ComfyError(
      'NOT_ALLOWED',
      `${describeUrl(url)} was not fetched: ${refused.host === refused.address ? refused.address : `${refused.host} resolves to ${refused.address}`}, ` +
        `${refused.reason}. Tick "also private addresses" in the upload node to fetch from such addresses.`,
    );
  }
  if (stopped === 'timeout')
    return new ComfyError('TIMEOUT', `Fetching ${describeUrl(url)} took longer than ${formatMs(timeoutMs)} (the "URL time limit" setting)`);
  if (stopped === 'cancelled')
    return new ComfyError('CLOSED', `Fetching ${describeUrl(url)} was stopped: the node that asked for it was closed`);
  if (err instanceof ComfyError) return err;
  const code = codeIn(err);
  if (code.startsWith('UND_ERR_') && code.includes('TIMEOUT')) {
    return new ComfyError('TIMEOUT', `Fetching ${describeUrl(url)}: the host went silent for ${formatMs(timeoutMs)}`);
  }
  const detail = code === 'ECONNREFUSED' ? 'connection refused' : code === 'ENOTFOUND' ? 'no such host' : code || messageOf(err);
  return new ComfyError('NETWORK', `Fetching ${describeUrl(url)} failed (${clip(detail, 200)})`, { cause: code || undefined });
}

function refusedIn(err: unknown): RefusedAddress | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth += 1) {
    if (e instanceof RefusedAddress) return e;
  }
  return undefined;
}

function codeIn(err: unknown): string {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth += 1) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR_SOCKET') return code;
  }
  return '';
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : 'unknown error';
}

/** Scheme, host and path: a query string can carry a signature or a token, so it is never shown. */
export function describeUrl(url: URL): string {
  return clip(`${url.protocol}//${url.host}${url.pathname}`, 160);
}

/** Drops a body not read to its end; undici then reports the abort as an 'error' nobody else listens to. */
function discard(body: Readable): void {
  body.on('error', () => undefined);
  body.destroy();
}

function headerText(value: string | string[] | undefined): string {
  return (Array.isArray(value) ? value[0] : value) ?? '';
}
