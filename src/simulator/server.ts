/**
 * The HTTP server and the WebSocket endpoint: routing with the `/api` double registration
 * (`/x` and `/api/x`; `/internal/*` only bare; `/api/jobs` also as `/api/api/jobs`), the Host/Origin
 * check of §1.4 (403, also on the WS upgrade), OPTIONS, 404/405 like aiohttp's router, the
 * cache-control middleware, the body size limit, and the test-fault rules.
 */
import { createReadStream } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { RouteRule, RouteRules, StreamSpec } from './faults';
import { BodyTooLarge, Reply, SERVER_HEADER, crash, empty, methodNotAllowed, notFound, readBody, text } from './http-util';
import { PyJsonDecodeError } from './pyjson';
import { PyError } from './python';
import { INTERNAL_ROUTES, JOBS_ROUTES, ROUTES, Route, RouteContext } from './routes';
import { ComfyState } from './state';

export type HeaderMap = Record<string, string | string[] | undefined>;

/** One request as the simulator saw it; `body` is the text of a JSON body a route read (tests check what was sent). */
export interface LoggedRequest {
  method: string;
  url: string;
  headers: HeaderMap;
  body?: string;
}

export interface FrontOptions {
  host: string;
  maxUploadSize: number;
  previewMethod: string;
  state: () => ComfyState;
  rules: RouteRules;
  requestLog: LoggedRequest[];
  connectionLog: Array<{ url: string; headers: HeaderMap }>;
}

/* ---------------------------------------------------------- origin check */

interface UrlParts {
  netloc: string;
  hostname: string | null;
  port: number | null;
}

/** The bits of urllib.parse.urlparse / urlsplit('//' + host) that the origin check reads. */
function parseNetloc(netloc: string): UrlParts {
  const hostport = netloc.includes('@') ? netloc.slice(netloc.lastIndexOf('@') + 1) : netloc;
  let hostname: string;
  let port: number | null = null;
  const v6 = /^\[([^\]]*)\](?::(\d*))?$/.exec(hostport);
  if (v6) {
    hostname = v6[1]!;
    if (v6[2]) port = Number(v6[2]);
  } else {
    const c = hostport.lastIndexOf(':');
    hostname = c >= 0 ? hostport.slice(0, c) : hostport;
    const p = c >= 0 ? hostport.slice(c + 1) : '';
    if (/^\d+$/.test(p)) port = Number(p);
  }
  return { netloc, hostname: hostname ? hostname.toLowerCase() : null, port };
}

function urlparse(origin: string): UrlParts {
  const m = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\/([^/?#]*)/.exec(origin);
  return parseNetloc(m ? m[1] : '');
}

/**
 * is_loopback(): loopback IPs, and names that resolve only to loopback. The simulator does not
 * resolve names; it treats `localhost` and `*.localhost` as loopback and every other name as not.
 */
function isLoopback(host: string | null): boolean {
  if (!host) return false;
  if (/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)) return true;
  if (host === '::1' || host === '0:0:0:0:0:0:0:1') return true;
  return host === 'localhost' || host.endsWith('.localhost');
}

/** create_origin_only_middleware: false → 403. */
export function originAllowed(headers: HeaderMap): boolean {
  const host = headers.host;
  const origin = headers.origin;
  if (typeof host !== 'string' || typeof origin !== 'string') return true;
  let hostDomain: string | null = host.toLowerCase();
  const parsed = urlparse(origin);
  let originDomain: string | null = parsed.netloc.toLowerCase();
  const hostParsed = parseNetloc(/^[^/?#]*/.exec(hostDomain)![0]);
  const loopback = isLoopback(hostParsed.hostname);
  if (parsed.port === null) hostDomain = hostParsed.hostname;
  if (hostParsed.port === null) originDomain = parsed.hostname;
  if (loopback && hostDomain && originDomain && hostDomain !== originDomain) return false;
  return true;
}

/* --------------------------------------------------------------- routing */

type Match = { route: Route; params: Record<string, string> } | { status: 404 } | { status: 405; allowed: string[] };

function matchPattern(pattern: string, path: string): Record<string, string> | undefined {
  const ps = pattern.split('/');
  const xs = path.split('/');
  if (ps.length !== xs.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < ps.length; i++) {
    const p = ps[i];
    const x = xs[i];
    if (p.startsWith('{')) {
      if (!x) return undefined;
      try {
        params[p.slice(1, -1)] = decodeURIComponent(x);
      } catch {
        params[p.slice(1, -1)] = x;
      }
    } else if (p !== x) return undefined;
  }
  return params;
}

/** Which table serves `path`, and the route path used for matching and fault rules. */
export function routePath(path: string): { table: Route[]; path: string } | undefined {
  if (path.startsWith('/api/api/jobs')) return { table: JOBS_ROUTES, path: path.slice(4) };
  if (path.startsWith('/api/jobs')) return { table: JOBS_ROUTES, path };
  if (path.startsWith('/internal/')) return { table: INTERNAL_ROUTES, path };
  if (path === '/api' || path === '/api/') return { table: ROUTES, path: '/' };
  if (path.startsWith('/api/')) {
    const p = path.slice(4);
    if (p.startsWith('/internal/')) return undefined;
    return { table: ROUTES, path: p };
  }
  return { table: ROUTES, path };
}

function match(method: string, rawPath: string): Match {
  const where = routePath(rawPath);
  if (!where) return method === 'GET' || method === 'HEAD' ? { status: 404 } : { status: 405, allowed: [] };
  const allowed: string[] = [];
  for (const route of where.table) {
    const params = matchPattern(route.pattern, where.path);
    if (!params) continue;
    if (route.method === method || (route.method === 'GET' && method === 'HEAD')) return { route, params };
    allowed.push(route.method);
  }
  // a GET the router cannot serve falls through to the static mount (404); other methods get 405
  if (method === 'GET' || method === 'HEAD') return { status: 404 };
  return { status: 405, allowed: allowed.length > 0 ? allowed : ['GET', 'HEAD'] };
}

const IMG_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.ppm', '.bmp', '.pgm', '.tif', '.tiff', '.webp'];

/** cache_control middleware */
function cacheControl(path: string, reply: Reply): void {
  const last = path.slice(path.lastIndexOf('/') + 1);
  const entry = last.startsWith('index') && last.endsWith('.json');
  const has = Object.keys(reply.headers).some((h) => h.toLowerCase() === 'cache-control');
  if (has) return;
  if (path.endsWith('.js') || path.endsWith('.css') || entry) reply.headers['Cache-Control'] = 'no-cache';
  else if (IMG_EXTENSIONS.some((e) => path.toLowerCase().endsWith(e))) {
    if (reply.status === 404) reply.headers['Cache-Control'] = 'public, max-age=3600';
    else if ([200, 201, 202, 203, 204, 205, 206, 301, 308].includes(reply.status)) reply.headers['Cache-Control'] = 'public, max-age=86400';
  }
}

function faultReply(rule: RouteRule): Reply {
  if (rule.body === '' && rule.contentType === '') return empty(rule.status);
  return text(rule.body, rule.status, rule.contentType || 'text/plain; charset=utf-8');
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A test fault: the answer's body drips out chunk by chunk (or never ends), until the client goes away. */
async function trickle(res: ServerResponse, spec: StreamSpec): Promise<void> {
  const headers: Record<string, string | number> = {
    'Content-Type': spec.contentType ?? 'application/octet-stream',
    Server: SERVER_HEADER,
  };
  if (spec.contentLength !== undefined) headers['Content-Length'] = spec.contentLength;
  res.writeHead(spec.status ?? 200, headers);
  for (let sent = 0; sent < spec.count; sent += 1) {
    if (res.destroyed) return;
    res.write(spec.chunk);
    await sleep(spec.everyMs);
  }
  if (!res.destroyed) res.end();
}

/** A file's bytes as the body, read while sent; a file gone meanwhile cuts the answer (as a server does), never the process. */
function sendFile(res: ServerResponse, file: { path: string; start: number; end: number }): void {
  const stream = createReadStream(file.path, { start: file.start, end: file.end, highWaterMark: 256 * 1024 });
  stream.on('error', () => res.destroy());
  res.on('close', () => stream.destroy());
  stream.pipe(res);
}

/** The request logs keep the newest 10 000 entries, so a long `npm start` session does not grow forever. */
const LOG_LIMIT = 10000;
function remember<T>(log: T[], entry: T): void {
  log.push(entry);
  if (log.length > LOG_LIMIT) log.splice(0, log.length - LOG_LIMIT);
}

/* ---------------------------------------------------------------- server */

export class HttpFront {
  readonly server: Server;
  private readonly wss: WebSocketServer;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly opts: FrontOptions) {
    this.server = createServer({ keepAliveTimeout: 5000 }, (req, res) => void this.handle(req, res));
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    // aiohttp: 4 MiB cap on client messages (close 1009), permessage-deflate accepted when offered
    this.wss = new WebSocketServer({ noServer: true, maxPayload: 4 * 1024 * 1024, perMessageDeflate: true });
    this.server.on('upgrade', (req, socket, head) => void this.upgrade(req, socket, head));
  }

  listen(port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (e: Error): void => reject(e);
      this.server.once('error', onError);
      this.server.listen(port, this.opts.host, () => {
        this.server.off('error', onError);
        const addr = this.server.address();
        resolve(typeof addr === 'object' && addr ? addr.port : port);
      });
    });
  }

  get connectionCount(): number {
    return this.sockets.size;
  }

  get port(): number {
    const addr = this.server.address();
    return typeof addr === 'object' && addr ? addr.port : 0;
  }

  /** Stop listening and cut every connection; resolves when the port is free. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      for (const ws of this.wss.clients) ws.terminate();
      this.wss.close();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
      for (const s of this.sockets) s.destroy();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = (req.method ?? 'GET').toUpperCase();
    const rawUrl = req.url ?? '/';
    const logged: LoggedRequest = { method, url: rawUrl, headers: { ...req.headers } };
    remember(this.opts.requestLog, logged);
    const q = rawUrl.indexOf('?');
    const path = q >= 0 ? rawUrl.slice(0, q) : rawUrl;
    const query = new URLSearchParams(q >= 0 ? rawUrl.slice(q + 1) : '');
    let reply: Reply;
    let delay = 0;
    const state = this.opts.state();
    if (!originAllowed(req.headers)) {
      state.log(
        `WARNING: request with non matching host and origin ${String(req.headers.host)} != ${String(req.headers.origin)}, returning 403`,
      );
      reply = empty(403);
    } else if (method === 'OPTIONS') {
      reply = empty(200);
    } else {
      const route = routePath(path);
      const rulePath = route?.path ?? path;
      const fail = this.opts.rules.take('fail', method, rulePath);
      const delayRule = this.opts.rules.take('delay', method, rulePath);
      const stream = fail ? undefined : this.opts.rules.take('stream', method, rulePath);
      delay = delayRule?.ms ?? 0;
      if (stream?.stream) {
        req.resume();
        return trickle(res, stream.stream);
      }
      if (fail) {
        req.resume();
        reply = faultReply(fail);
      } else {
        reply = await this.dispatch(req, method, path, query, state, logged);
      }
      cacheControl(path, reply);
    }
    req.resume();
    if (delay > 0) await sleep(delay);
    if (res.destroyed || res.writableEnded) return;
    try {
      res.writeHead(reply.status, { ...reply.headers, Server: SERVER_HEADER });
      if (reply.file && method !== 'HEAD') return sendFile(res, reply.file);
      res.end(method === 'HEAD' ? undefined : reply.body);
    } catch {
      /* the connection went away during a delay or a restart */
    }
  }

  private async dispatch(
    req: IncomingMessage,
    method: string,
    path: string,
    query: URLSearchParams,
    state: ComfyState,
    logged: LoggedRequest,
  ): Promise<Reply> {
    const m = match(method, path);
    if ('status' in m) return m.status === 404 ? notFound() : methodNotAllowed(m.allowed);
    let bodyPromise: Promise<Buffer> | undefined;
    const ctx: RouteContext = {
      req,
      query,
      params: m.params,
      state,
      port: this.port,
      previewMethod: this.opts.previewMethod,
      body: () =>
        (bodyPromise ??= readBody(req, this.opts.maxUploadSize).then((body) => {
          if (/^application\/json\b/i.test(String(req.headers['content-type']))) logged.body = body.toString('utf8');
          return body;
        })),
    };
    try {
      return await m.route.handler(ctx);
    } catch (e) {
      if (e instanceof BodyTooLarge) return text(e.message, 413);
      if (!(e instanceof PyError) && !(e instanceof PyJsonDecodeError)) state.log(`simulator error: ${(e as Error).stack ?? String(e)}`);
      return crash();
    }
  }

  /** GET /ws with Upgrade: the same checks as any request, then the WebSocket handshake. */
  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const rawUrl = req.url ?? '/';
    remember(this.opts.connectionLog, { url: rawUrl, headers: { ...req.headers } });
    socket.on('error', () => undefined);
    const path = rawUrl.split('?')[0];
    const raw = (status: number, reason: string, body = '', contentType = 'application/octet-stream'): void => {
      const buf = Buffer.from(body, 'utf8');
      socket.end(
        `HTTP/1.1 ${status} ${reason}\r\nContent-Type: ${contentType}\r\nContent-Length: ${buf.length}\r\nServer: ${SERVER_HEADER}\r\nConnection: close\r\n\r\n` +
          body,
      );
    };
    if (!originAllowed(req.headers)) return raw(403, 'Forbidden');
    const route = routePath(path);
    const rulePath = route?.path ?? path;
    const fail = this.opts.rules.take('fail', 'GET', rulePath);
    const delayRule = this.opts.rules.take('delay', 'GET', rulePath);
    if (fail) return raw(fail.status, 'Error', fail.body, fail.contentType || 'text/plain; charset=utf-8');
    if (delayRule) await sleep(delayRule.ms);
    if (!route || route.table !== ROUTES || route.path !== '/ws')
      return raw(404, 'Not Found', '404: Not Found', 'text/plain; charset=utf-8');
    if (String(req.headers.upgrade).toLowerCase() !== 'websocket') {
      return raw(
        400,
        'Bad Request',
        `No WebSocket UPGRADE hdr: ${String(req.headers.upgrade)}\n Can "Upgrade" only to "WebSocket".`,
        'text/plain; charset=utf-8',
      );
    }
    if (socket.destroyed) return;
    const state = this.opts.state();
    this.wss.handleUpgrade(req, socket, head, (ws) => state.hub.attach(ws, req));
  }
}
