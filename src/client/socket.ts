/**
 * The one WebSocket to a ComfyUI server. It connects with a stable clientId, negotiates preview
 * metadata, keeps itself alive with pings, and reconnects with capped exponential backoff — but
 * only after the previous socket has fully closed, because ComfyUI deletes a sid's registration
 * when an old socket with that sid closes, which would leave a new socket silently deaf.
 *
 * It never emits 'error' (an unlistened 'error' event kills the process); problems are reported
 * as 'problem' events carrying a message.
 */
import { EventEmitter } from 'node:events';
import WebSocket from 'ws';
import type { RawData } from 'ws';
import type { Endpoint } from './endpoint';
import { decodeBinaryFrame, decodeTextFrame } from './frames';
import type { FrameEvent } from './frames';
import { refusalOf } from './refusal';
import type { Refusal } from './refusal';

/** `disconnected`: waiting for the next attempt; `connecting`: dialing (first time or again). */
export type SocketState = 'idle' | 'connecting' | 'connected' | 'disconnected' | 'closing' | 'closed';

export interface SocketOptions {
  handshakeTimeoutMs: number;
  pingIntervalMs: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** A connection that stayed up this long resets the backoff. */
  stableAfterMs: number;
  /** How long close() waits for the closing handshake before terminating (a redeploy must finish within a second). */
  closeTimeoutMs: number;
  /** Largest frame accepted; a larger one closes the connection (1009) and it is opened again. */
  maxFrameBytes: number;
}

export const defaultSocketOptions: SocketOptions = {
  handshakeTimeoutMs: 10_000,
  pingIntervalMs: 15_000,
  backoffInitialMs: 500,
  backoffMaxMs: 30_000,
  stableAfterMs: 60_000,
  closeTimeoutMs: 500,
  // ws's own default: SaveImageWebsocket sends full-size PNGs as frames.
  maxFrameBytes: 100 * 1024 * 1024,
};

export interface ComfySocketEvents {
  state: [SocketState];
  /** A connection is open and the first message has been sent; `reconnect` is true after a gap. */
  open: [{ reconnect: boolean }];
  /** The upgrade was refused in a way retrying cannot fix (401/403/404); retries slow down. */
  refused: [Refusal];
  problem: [string];
  /** A problem a person must act on (a limit of the configuration was hit), not just a note for the debug log. */
  warning: [string];
}

export class ComfySocket extends EventEmitter<ComfySocketEvents> {
  private ws: WebSocket | undefined;
  private currentState: SocketState = 'idle';
  private attempt = 0;
  private everConnected = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;
  private stableTimer: NodeJS.Timeout | undefined;
  private awaitingPong = false;
  private closePromise: Promise<void> | undefined;
  private refusal: Refusal | undefined;

  /**
   * @param onFrame every decoded frame, once. A plain callback rather than an event: it runs for every
   * frame, and an emit per frame (a rest array, a listener lookup) was measurable at 100 000 frames.
   */
  constructor(
    private readonly endpoint: Endpoint,
    readonly clientId: string,
    private readonly onFrame: (frame: FrameEvent) => void,
    private readonly options: SocketOptions = defaultSocketOptions,
  ) {
    super();
    // Every submit waiting for the connection listens here for a moment: a burst of them is not a leak.
    this.setMaxListeners(0);
  }

  get state(): SocketState {
    return this.currentState;
  }

  /** Why the last upgrade was refused, until a connection succeeds. */
  get lastRefusal(): Refusal | undefined {
    return this.refusal;
  }

  /** Starts connecting; calling it again while active does nothing. After close() it starts afresh. */
  start(): void {
    if (this.currentState === 'closing') {
      void this.closePromise?.then(() => this.start());
      return;
    }
    if (this.currentState !== 'idle' && this.currentState !== 'closed') return;
    this.closePromise = undefined;
    this.attempt = 0;
    this.dial();
  }

  /** Closes within `closeTimeoutMs` and stops reconnecting until start() is called again. */
  close(): Promise<void> {
    if (this.closePromise) return this.closePromise;
    this.setState('closing');
    this.clearTimers();
    const ws = this.ws;
    this.closePromise = new Promise<void>((resolve) => {
      if (!ws || ws.readyState === WebSocket.CLOSED) return resolve();
      const force = setTimeout(() => ws.terminate(), this.options.closeTimeoutMs);
      ws.once('close', () => {
        clearTimeout(force);
        resolve();
      });
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close(1000, 'client closing');
    }).then(() => {
      this.ws = undefined;
      this.setState('closed');
    });
    return this.closePromise;
  }

  /** Waits until connected; rejects after `timeoutMs`, when an attempt fails or the socket closes, or at once while the server refuses us. */
  whenConnected(timeoutMs: number): Promise<void> {
    if (this.currentState === 'connected') return Promise.resolve();
    if (this.refusal) return Promise.reject(new RefusedError(this.refusal));
    return new Promise<void>((resolve, reject) => {
      const onState = (state: SocketState): void => {
        if (state === 'connected') finish();
        else if (state === 'closing' || state === 'closed') finish(new Error('the connection was closed'));
        else if (state === 'disconnected') finish(new Error('the connection attempt failed'));
      };
      const onRefused = (refusal: Refusal): void => finish(new RefusedError(refusal));
      const timer = setTimeout(() => finish(new Error(`not connected within ${timeoutMs} ms`)), timeoutMs);
      const finish = (err?: Error): void => {
        clearTimeout(timer);
        this.off('state', onState);
        this.off('refused', onRefused);
        if (err) reject(err);
        else resolve();
      };
      this.on('state', onState);
      this.on('refused', onRefused);
    });
  }

  private dial(): void {
    this.setState('connecting');
    let ws: WebSocket;
    try {
      ws = new WebSocket(this.endpoint.webSocketUrl(this.clientId), {
        headers: this.endpoint.requestHeaders(),
        handshakeTimeout: this.options.handshakeTimeoutMs,
        perMessageDeflate: false,
        maxPayload: this.options.maxFrameBytes,
        ...(this.endpoint.tls ?? {}),
      });
    } catch (err) {
      // Dialing throws at once for settings no server can fix (a header value with a line break):
      // say so and retry on the slow schedule rather than throw into a timer.
      this.emit('problem', this.endpoint.redact(`the WebSocket cannot be opened: ${err instanceof Error ? err.message : 'unknown error'}`));
      this.ws = undefined;
      this.attempt = Math.max(this.attempt, 16);
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.on('open', () => this.onOpen(ws));
    ws.on('message', (data, isBinary) => this.onMessage(data, isBinary));
    ws.on('pong', () => {
      this.awaitingPong = false;
    });
    ws.on('unexpected-response', (_request, response) => {
      const status = response.statusCode ?? 0;
      const refusal = refusalOf(status, 'for the WebSocket upgrade');
      if (refusal) {
        this.refusal = refusal;
        this.emit('refused', refusal);
      } else {
        this.emit('problem', `WebSocket upgrade refused: HTTP ${status}`);
      }
      response.resume();
      ws.terminate();
    });
    ws.on('error', (err: Error & { code?: string }) => {
      if (err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') {
        const limit = Math.round((this.options.maxFrameBytes / 1048576) * 10) / 10;
        this.emit(
          'warning',
          `ComfyUI sent a WebSocket frame larger than ${limit} MB (the "Largest frame" setting of the server configuration): ` +
            'the frame was refused and the connection opened again (prompts still finish from history)',
        );
        return;
      }
      this.emit('problem', this.endpoint.redact(`WebSocket error: ${err.message}`));
    });
    ws.on('close', () => this.onClose(ws));
  }

  private onOpen(ws: WebSocket): void {
    if (ws !== this.ws || this.currentState === 'closing') return;
    const reconnect = this.everConnected;
    this.everConnected = true;
    this.refusal = undefined;
    // The first message is the only one ComfyUI reads; it is reset for every new connection.
    ws.send(JSON.stringify({ type: 'feature_flags', data: { supports_preview_metadata: true } }));
    this.setState('connected');
    this.startPing(ws);
    this.stableTimer = setTimeout(() => {
      this.attempt = 0;
    }, this.options.stableAfterMs);
    this.emit('open', { reconnect });
  }

  /** The last line of defence for frames: nothing a frame causes may throw into ws (and so into the process). */
  private onMessage(data: RawData, isBinary: boolean): void {
    try {
      // toString() without arguments is UTF-8 and skips Buffer's argument handling (once per frame).
      const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data);
      this.onFrame(isBinary ? decodeBinaryFrame(buffer) : decodeTextFrame(buffer.toString()));
    } catch (err) {
      this.emit('problem', `handling a frame failed: ${err instanceof Error ? err.message : 'unknown error'}`);
    }
  }

  private onClose(ws: WebSocket): void {
    ws.removeAllListeners();
    // A late 'error' from a socket we no longer listen to must still have a listener.
    ws.on('error', () => undefined);
    if (ws !== this.ws) return;
    this.clearTimers();
    if (this.currentState === 'closing' || this.currentState === 'closed') return;
    this.ws = undefined;
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    // A refusal will not change in a second: retry on the slow end of the schedule.
    const ceiling = this.refusal
      ? this.options.backoffMaxMs
      : Math.min(this.options.backoffMaxMs, this.options.backoffInitialMs * 2 ** this.attempt);
    // Full jitter in the upper half keeps many clients from reconnecting in lockstep.
    const delay = Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
    this.attempt += 1;
    this.setState('disconnected');
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.dial();
    }, delay);
  }

  private startPing(ws: WebSocket): void {
    this.awaitingPong = false;
    this.pingTimer = setInterval(() => {
      try {
        if (this.awaitingPong) {
          this.emit('problem', 'no answer to ping: dropping the connection');
          ws.terminate();
          return;
        }
        this.awaitingPong = true;
        ws.ping();
      } catch {
        ws.terminate(); // a socket that cannot be pinged is not worth keeping
      }
    }, this.options.pingIntervalMs);
  }

  private clearTimers(): void {
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    clearTimeout(this.stableTimer);
    this.retryTimer = this.pingTimer = this.stableTimer = undefined;
  }

  private setState(state: SocketState): void {
    if (state === this.currentState) return;
    this.currentState = state;
    this.emit('state', state);
  }
}

/** whenConnected() while the server refuses the upgrade. */
export class RefusedError extends Error {
  constructor(readonly refusal: Refusal) {
    super(refusal.message);
    this.name = 'RefusedError';
  }
}
