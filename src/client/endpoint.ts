/**
 * Where a ComfyUI server is and how to reach it: the base URL (which may carry a path prefix
 * such as https://host/comfy/), the URLs of its routes and WebSocket, and the one place where
 * request headers and TLS options are decided for every channel (REST, WebSocket, /view, upload).
 */
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { authParts } from './auth';
import type { AuthSettings } from './auth';
import { ComfyError } from './errors';

export interface EndpointOptions {
  /** http(s)://host[:port][/prefix] */
  url: string;
  /** Extra headers for every request and the WebSocket upgrade (auth lands here). */
  headers?: Record<string, string>;
  /** Query parameters added to every URL (login plugins that take a token in the query). */
  query?: Record<string, string>;
  /** TLS options for https/wss (custom CA, client certificate, verification switch). */
  tls?: TlsOptions;
  /** Credentials for a proxy or login plugin in front of ComfyUI. */
  auth?: AuthSettings;
}

/** Where a request goes, in the form undici's dispatcher takes: `http://host:port` and `/prefix/route?query`. */
export interface RequestTarget {
  origin: string;
  path: string;
}

export class Endpoint {
  readonly base: URL;
  readonly tls: TlsOptions | undefined;
  private readonly headers: Record<string, string>;
  private readonly query: Record<string, string>;
  private readonly secrets: string[];
  private readonly originText: string;
  /** The base path without its trailing slashes: routes are joined to it. */
  private readonly prefix: string;

  constructor(options: EndpointOptions) {
    const base = parseServerUrl(options.url);
    // user:password@ in the URL means basic auth; it is sent as a header, never left in a URL.
    const fromUrl = base.username
      ? { mode: 'basic' as const, user: decodeURIComponent(base.username), password: decodeURIComponent(base.password) }
      : undefined;
    base.username = '';
    base.password = '';
    this.base = base;
    this.originText = base.origin;
    this.prefix = base.pathname.replace(/\/+$/, '');
    const auth = authParts(
      options.auth && options.auth.mode !== 'none' ? options.auth : { ...(fromUrl ?? { mode: 'none' }), headers: options.auth?.headers },
    );
    this.headers = { ...(options.headers ?? {}), ...auth.headers };
    this.query = { ...(options.query ?? {}), ...auth.query };
    this.secrets = [...auth.secrets, ...Object.values(options.headers ?? {}), ...Object.values(options.query ?? {})].filter(
      (s) => s.length >= 4,
    );
    this.tls = options.tls;
  }

  /** The origin undici dials, e.g. `http://127.0.0.1:8188`. */
  get origin(): string {
    return this.base.origin;
  }

  /**
   * A route as undici's dispatcher takes it, without a URL object (building and reading one cost a
   * small request more than the rest of its own work here): the origin, and the base path prefix +
   * the route + the query. With `withSecrets` false it leaves out query credentials.
   */
  target(route: string, query?: Record<string, string | number | undefined>, withSecrets = true): RequestTarget {
    const search = this.search(query, withSecrets);
    return { origin: this.originText, path: search ? `${this.routePath(route)}?${search}` : this.routePath(route) };
  }

  /** A route's URL, keeping the base path prefix: `/comfy` + `/prompt`; the form that may appear in a msg has `withSecrets` false. */
  httpUrl(route: string, query?: Record<string, string | number | undefined>, withSecrets = true): URL {
    const url = new URL(this.base.href);
    url.pathname = this.routePath(route);
    url.search = this.search(query, withSecrets);
    return url;
  }

  /** `ws[s]://host/prefix/ws?clientId=<id>` */
  webSocketUrl(clientId: string): URL {
    const url = this.httpUrl('/ws', { clientId });
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    return url;
  }

  /** Headers for a request; never an Origin header (ComfyUI answers a mismatched one with 403). */
  requestHeaders(extra?: Record<string, string>): Record<string, string> {
    return { ...this.headers, ...(extra ?? {}) };
  }

  private routePath(route: string): string {
    return `${this.prefix}/${route.replace(/^\/+/, '')}`;
  }

  /** The query string (no `?`): the configured query credentials first, then `query`'s defined values. */
  private search(query: Record<string, string | number | undefined> | undefined, withSecrets: boolean): string {
    const params = new URLSearchParams();
    if (withSecrets) for (const [key, value] of Object.entries(this.query)) params.set(key, value);
    if (query) for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
    return params.size === 0 ? '' : params.toString();
  }

  /** Replaces every credential in a text (an error message, a log line) with `***`. */
  redact(text: string): string {
    let result = text;
    for (const secret of this.secrets) result = result.split(secret).join('***');
    return result;
  }

  /** `redact` through a parsed body too (an error answer may echo a header back inside its JSON). */
  redactValue(value: unknown, depth = 0): unknown {
    if (typeof value === 'string') return this.redact(value);
    if (typeof value !== 'object' || value === null || depth > 32) return value;
    if (Array.isArray(value)) return value.map((item) => this.redactValue(item, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      Object.defineProperty(out, this.redact(key), {
        value: this.redactValue(item, depth + 1),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }

  /** The URL as it may be shown to a person (no credentials, no query secrets). */
  get displayUrl(): string {
    const url = new URL(this.base.href);
    url.username = '';
    url.password = '';
    url.search = '';
    return url.href;
  }
}

/** Validates a server URL; anything but http(s) with a host is refused with a clear message. */
export function parseServerUrl(raw: string): URL {
  const text = String(raw ?? '').trim();
  const shown = withoutUserinfo(text);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ComfyError('INVALID_URL', `Invalid ComfyUI URL "${shown}": use http://host:port or https://host/path`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    // "user:pass@host" parses with the scheme "user:": name the scheme only when no userinfo was cut out.
    const scheme = shown === text ? `, not ${url.protocol.replace(':', '')}` : '';
    throw new ComfyError('INVALID_URL', `Invalid ComfyUI URL "${shown}": the scheme must be http or https${scheme}`);
  }
  if (!url.hostname) {
    throw new ComfyError('INVALID_URL', `Invalid ComfyUI URL "${shown}": it names no host`);
  }
  url.hash = '';
  url.search = '';
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return url;
}

/**
 * A URL text as it may be printed, even one that does not parse: everything from after
 * `http:` / `scheme://` (or from the start, as in `user:pass@host`) up to the last `@` is cut out. Greedy on
 * purpose: a password may itself hold `@`, `/`, `?` or `#`, and a URL that does not parse
 * cannot be split reliably. A base URL rarely has `@` in its path, and that only loses text.
 */
export function withoutUserinfo(text: string): string {
  return text.replace(/^([a-z][a-z0-9+.-]*:[\\/]+|https?:|wss?:)?[^]*@/i, '$1');
}

/** Whether two server URLs name the same server: same origin and the same base path. */
export function sameServer(a: string, b: string): boolean {
  try {
    const first = parseServerUrl(a);
    const second = parseServerUrl(b);
    return first.origin === second.origin && first.pathname === second.pathname;
  } catch {
    return false;
  }
}
