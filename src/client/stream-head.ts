/**
 * The first bytes of a stream, read without taking the rest: the stream is left paused with
 * what came after them still in it, so it can be piped on. Its chunks arrive as they are ('data'
 * events): an async iterator would read() the stream, which joins whatever is buffered into one
 * new Buffer each time, a copy of the whole file when a disk is slower than the network.
 */
import type { Readable } from 'node:stream';

export interface StreamHead {
  /** At least `want` bytes, unless the stream ended first (then all of it). */
  head: Buffer;
  ended: boolean;
}

export function readHead(body: Readable, want: number): Promise<StreamHead> {
  return new Promise<StreamHead>((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    const stop = (): void => {
      body.pause();
      body.off('data', onData);
      body.off('end', onEnd);
      body.off('error', onError);
      body.off('close', onClose);
    };
    const finish = (ended: boolean): void => {
      stop();
      resolve({ head: Buffer.concat(parts, size), ended });
    };
    const onData = (chunk: Buffer): void => {
      parts.push(chunk);
      size += chunk.length;
      if (size >= want) finish(false);
    };
    const onEnd = (): void => finish(true);
    const onError = (err: Error): void => {
      stop();
      reject(err);
    };
    // Destroyed without an error (an abort may do that): it will say nothing more.
    const onClose = (): void => onError(body.errored ?? new Error('the answer stopped before it was complete'));
    if (body.destroyed) return onClose();
    body.on('data', onData);
    body.on('end', onEnd);
    body.on('error', onError);
    body.on('close', onClose);
  });
}
