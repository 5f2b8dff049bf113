/**
 * The WebSocket side of the server (server.py websocket_handler / send / send_bytes):
 * sid registry with last-registration-wins, per-sid feature flags, and routing of every message
 * to one sid or to everyone, decided at send time (§5.4). Reproduces the real race on purpose:
 * when an *old* socket of a sid closes it deletes the sid's entry even if a newer socket took it,
 * leaving the newer socket deaf (§5.1).
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import { PyValue, dumpPyJson, isDict } from './pyjson';

/** Where a message goes: `null` = broadcast; anything else = the socket registered under that sid. */
export type Target = PyValue;

export class Hub {
  /** sid → socket: last registration wins */
  private readonly sockets = new Map<string, WebSocket>();
  /** sid → the client's feature_flags data */
  private readonly flags = new Map<string, unknown>();
  /** every open server-side socket, registered or not */
  readonly live = new Set<WebSocket>();

  constructor(
    /** the server's own flags (GET /features and the feature_flags reply) */
    private readonly serverFlags: () => PyValue,
    /** queue_remaining for the connect `status` */
    private readonly queueRemaining: () => number,
    /** the sid and display node of the running prompt, for the reconnect `executing` notice */
    private readonly running: () => { clientId: Target; lastNodeId: string | null },
  ) {}

  /** A new socket from /ws?clientId=…: register, greet, then listen for the first feature_flags. */
  attach(ws: WebSocket, req: IncomingMessage): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    let sid = url.searchParams.get('clientId') ?? '';
    if (sid) this.sockets.delete(sid);
    else sid = randomUUID().replace(/-/g, '');
    this.sockets.set(sid, ws);
    this.flags.set(sid, {});
    this.live.add(ws);

    this.send('status', { status: { exec_info: { queue_remaining: this.queueRemaining() } }, sid }, sid);
    const run = this.running();
    if (run.clientId === sid && run.lastNodeId !== null) this.send('executing', { node: run.lastNodeId }, sid);

    let first = true;
    ws.on('message', (data, isBinary) => {
      if (isBinary) return; // binary frames from clients are ignored
      let msg: unknown;
      try {
        msg = JSON.parse((data as Buffer).toString('utf8')); // ws hands text frames over as one Buffer
      } catch {
        return; // "Invalid JSON received" is only logged; it does not count as the first message
      }
      // data.get(...) on a non-object raises inside the try: logged, and still not "first"
      if (!isDict(msg)) return;
      const m = msg as Record<string, unknown>;
      if (first && m.type === 'feature_flags') {
        this.flags.set(sid, Object.hasOwn(m, 'data') ? m.data : {});
        this.send('feature_flags', this.serverFlags(), sid);
      }
      first = false;
    });
    ws.on('close', () => {
      this.live.delete(ws);
      // The real server's `finally: self.sockets.pop(sid)` — even when a newer socket owns the sid.
      this.sockets.delete(sid);
      this.flags.delete(sid);
    });
    ws.on('error', () => undefined);
  }

  private targets(target: Target): WebSocket[] {
    if (target === null) return [...this.sockets.values()];
    if (typeof target !== 'string') return [];
    const ws = this.sockets.get(target);
    return ws ? [ws] : [];
  }

  /** send_json: `{"type": …, "data": …}` in Python's JSON formatting. */
  send(type: string, data: PyValue, target: Target): void {
    const text = dumpPyJson({ type, data });
    for (const ws of this.targets(target)) if (ws.readyState === ws.OPEN) ws.send(text);
  }

  /** send_bytes: u32 big-endian event type + payload. */
  sendBinary(eventType: number, payload: Buffer, target: Target): void {
    const head = Buffer.alloc(4);
    head.writeUInt32BE(eventType, 0);
    const frame = Buffer.concat([head, payload]);
    for (const ws of this.targets(target)) if (ws.readyState === ws.OPEN) ws.send(frame, { binary: true });
  }

  /** feature_flags.supports_feature(sockets_metadata, sid, "supports_preview_metadata") */
  supportsPreviewMetadata(target: Target): boolean {
    if (typeof target !== 'string' || !this.flags.has(target)) return false;
    const f = this.flags.get(target);
    return isDict(f) && (f as Record<string, unknown>).supports_preview_metadata === true;
  }

  /** Abrupt end of every socket (test control "dropSockets", restart, close). */
  /** Test control: any bytes as one frame to every socket, well-formed or not. */
  sendRawToAll(data: string | Buffer, binary: boolean): void {
    for (const ws of this.live) ws.send(data, { binary });
  }

  /**
   * Test control: the server dies mid-frame. A frame header announcing more bytes than follow
   * is written straight to the TCP socket, which is then destroyed.
   */
  cutAllMidFrame(): void {
    for (const ws of this.live) {
      const tcp = (ws as unknown as { _socket?: import('node:net').Socket })._socket;
      if (!tcp) continue;
      // FIN + text opcode, 126 = 16-bit length: 1000 bytes announced, 5 sent.
      tcp.write(Buffer.concat([Buffer.from([0x81, 126, 0x03, 0xe8]), Buffer.from('{"typ')]));
      tcp.destroy();
    }
  }

  terminateAll(): void {
    for (const ws of this.live) ws.terminate();
  }
}
