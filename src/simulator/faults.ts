/**
 * Test-only misbehaviour of routes: delay an answer or replace it (e.g. an HTML 502 page from a
 * proxy). Rules are plain data consulted by server.ts; they are only reachable through the JS
 * `sim.faults` object, never over HTTP.
 */

export interface Faults {
  /** terminate every server-side WebSocket abruptly (clients see close code 1006) */
  dropSockets(): void;
  /** stop and start again on the same port, losing queue, history and sockets (like a ComfyUI restart) */
  restart(): Promise<void>;
  /**
   * Hold back the answer of `method path` by `ms` (the request is still handled at once, so e.g. a
   * delayed POST /prompt is queued and its WS events can overtake the answer). `path` is without
   * the /api prefix and also matches below it ('/history' matches '/history/abc'); `times`
   * defaults to every request; method '*' matches any.
   */
  delayRoute(method: string, path: string, ms: number, times?: number): void;
  /** Answer `method path` with `status` and `body` instead of handling it (`times` as above). */
  failRoute(method: string, path: string, status: number, body?: string, contentType?: string, times?: number): void;
  /**
   * Answer `method path` with a body that trickles: `chunk` every `everyMs`, `count` times
   * (Infinity: an answer without end), then the end. Hostile-server tests: downloads without end,
   * slow drips. `contentLength` is declared in the headers when given (it may lie).
   */
  streamRoute(method: string, path: string, stream: StreamSpec, times?: number): void;
  /** send one frame of any content to every socket (malformed JSON, truncated binary, …) */
  sendRaw(data: string | Buffer, binary?: boolean): void;
  /** write a partial frame to every socket and cut the TCP connection mid-frame */
  cutMidFrame(): void;
  /** hold the queue: submitted prompts stay pending (a running prompt finishes) */
  pauseWorker(): void;
  resumeWorker(): void;
  /** remove all delays and failures */
  reset(): void;
}

export interface StreamSpec {
  status?: number;
  contentType?: string;
  contentLength?: number;
  chunk: Buffer | string;
  everyMs: number;
  count: number;
}

export interface RouteRule {
  kind: 'delay' | 'fail' | 'stream';
  stream?: StreamSpec;
  method: string;
  path: string;
  remaining: number;
  ms: number;
  status: number;
  body: string;
  contentType: string;
}

function normalizePath(path: string): string {
  let p = path.startsWith('/') ? path : `/${path}`;
  if (p.startsWith('/api/') && !p.startsWith('/api/jobs')) p = p.slice(4);
  if (p.length > 1 && p.endsWith('/')) p = p.slice(0, -1);
  return p;
}

export class RouteRules {
  private rules: RouteRule[] = [];

  add(rule: Omit<RouteRule, 'path' | 'method'> & { path: string; method: string }): void {
    if (!(rule.remaining > 0)) rule.remaining = Infinity;
    this.rules.push({ ...rule, method: rule.method.toUpperCase(), path: normalizePath(rule.path) });
  }

  /** The first matching rule of `kind`, consuming one use. `path` is the route path without /api. */
  take(kind: RouteRule['kind'], method: string, path: string): RouteRule | undefined {
    const m = method.toUpperCase();
    const rule = this.rules.find(
      (r) =>
        r.kind === kind &&
        (r.method === '*' || r.method === m || (r.method === 'GET' && m === 'HEAD')) &&
        (path === r.path || path.startsWith(r.path === '/' ? '/' : `${r.path}/`)),
    );
    if (!rule) return undefined;
    rule.remaining -= 1;
    if (rule.remaining <= 0) this.rules = this.rules.filter((r) => r !== rule);
    return rule;
  }

  reset(): void {
    this.rules = [];
  }
}
