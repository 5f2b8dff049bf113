/**
 * Responses shaped like aiohttp's, as recorded: JSON with `application/json; charset=utf-8`,
 * the empty 200/400/404 with `application/octet-stream` and Content-Length 0, the crash page
 * `500 Internal Server Error\n\nServer got itself in trouble`, and the 413 text of client_max_size.
 */
import type { IncomingMessage } from 'node:http';
import { dumpPyJson } from './pyjson';

export const SERVER_HEADER = 'Python/3.11 aiohttp/3.8.4';

/** A complete answer; handlers return one so a test-controlled delay can hold it back. */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** Bytes `start`..`end` (inclusive) of a file, streamed from disk instead of `body` (aiohttp's FileResponse sends files so: /view of a large video never sits in memory). */
  file?: { path: string; start: number; end: number };
}

/** A file's bytes `start`..`end` as the answer, read from disk while it is sent. */
export function fileReply(
  path: string,
  range: { start: number; end: number },
  contentType: string,
  extra: Record<string, string>,
  status = 200,
): Reply {
  const length = Math.max(0, range.end - range.start + 1);
  return {
    status,
    headers: { ...extra, 'Content-Type': contentType, 'Content-Length': String(length) },
    body: Buffer.alloc(0),
    ...(length > 0 ? { file: { path, ...range } } : {}),
  };
}

export function empty(status = 200): Reply {
  return { status, headers: { 'Content-Length': '0', 'Content-Type': 'application/octet-stream' }, body: Buffer.alloc(0) };
}

export function json(value: unknown, status = 200): Reply {
  const body = Buffer.from(dumpPyJson(value), 'utf8');
  return { status, headers: { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(body.length) }, body };
}

export function text(value: string, status = 200, contentType = 'text/plain; charset=utf-8'): Reply {
  const body = Buffer.from(value, 'utf8');
  return { status, headers: { 'Content-Type': contentType, 'Content-Length': String(body.length) }, body };
}

export function binary(body: Buffer, contentType: string, extra: Record<string, string> = {}, status = 200): Reply {
  return { status, headers: { ...extra, 'Content-Type': contentType, 'Content-Length': String(body.length) }, body };
}

/** What aiohttp answers when a handler raises. */
export function crash(): Reply {
  return text('500 Internal Server Error\n\nServer got itself in trouble', 500);
}

export function notFound(): Reply {
  return text('404: Not Found', 404);
}

export function methodNotAllowed(allowed: string[]): Reply {
  const r = text('405: Method Not Allowed', 405);
  r.headers.Allow = allowed.join(',');
  return r;
}

/** aiohttp's HTTPRequestEntityTooLarge. */
export class BodyTooLarge extends Error {
  constructor(
    readonly max: number,
    readonly actual: number,
  ) {
    super(`Maximum request body size ${max} exceeded, actual body size ${actual}`);
  }
}

/**
 * Reads a request body with aiohttp's client_max_size rule. The whole body is drained even when
 * it is too large, so the client receives the 413 instead of a reset connection.
 */
export function readBody(req: IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge: BodyTooLarge | undefined;
    req.on('data', (chunk: Buffer) => {
      if (tooLarge) return;
      size += chunk.length;
      if (size > max) {
        tooLarge = new BodyTooLarge(max, size);
        chunks.length = 0;
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => (tooLarge ? reject(tooLarge) : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}
