/**
 * One server of a pool as the pool sees it: is it fit to take prompts, how loaded is it, and has it
 * been gone long enough that its waiting prompts must move. It only listens to its ComfyClient
 * (which keeps its one WebSocket); deciding and moving prompts is pool.ts's job.
 */
import { EventEmitter } from 'node:events';
import type { ComfyClient } from './client';
import type { FrameEvent } from './frames';
import type { SocketState } from './socket';

export interface MemberOptions {
  /** A member whose socket is down this long is taken as gone: its prompts that did not start move. */
  graceMs: number;
  /** Consecutive failed submissions after which a member leaves routing for `failureCooldownMs`. */
  failureLimit: number;
  failureCooldownMs: number;
}

export interface MemberEvents {
  /** The socket stayed down for the grace period. */
  gone: [];
  /** The socket is connected again (after being down or gone). */
  back: [];
}

export class PoolMember extends EventEmitter<MemberEvents> {
  /** Prompts of the pool this member has accepted and not finished. */
  readonly active = new Set<string>();
  /** POST /prompt sent here and not answered yet. */
  postsInFlight = 0;
  /** queue_remaining of the latest `status` frame: running + pending of every client of the server. */
  private queueRemaining = 0;
  private failures = 0;
  private lastFailure = '';
  private failingUntil = 0;
  private graceTimer: NodeJS.Timeout | undefined;
  private wasGone = false;
  private readonly onState = (state: SocketState): void => this.stateChanged(state);
  private readonly onFrame = (frame: FrameEvent): void => {
    if (frame.kind === 'message' && frame.message.type === 'status')
      this.queueRemaining = frame.message.data.status.exec_info.queue_remaining;
  };

  constructor(
    readonly name: string,
    readonly client: ComfyClient,
    private readonly options: MemberOptions,
  ) {
    super();
    client.on('state', this.onState);
    client.on('frame', this.onFrame);
    client.connect();
  }

  /** Why it cannot take a prompt now, or undefined when it can. */
  unavailable(now = Date.now()): string | undefined {
    const refusal = this.client.refusal;
    if (refusal) return `refuses the connection: ${refusal.message}`;
    if (this.client.state !== 'connected') return `is not connected (${this.client.state})`;
    if (now < this.failingUntil) return `failed ${this.failures} submissions in a row (last: ${this.lastFailure})`;
    return undefined;
  }

  /** Running + pending: the server's own count, or ours when the status frame has not caught up yet; plus POSTs on their way. */
  get load(): number {
    return Math.max(this.queueRemaining, this.active.size) + this.postsInFlight;
  }

  /** Connecting (first time or again within the grace period), not refused: worth a short wait. */
  get mayConnectSoon(): boolean {
    const state = this.client.state;
    return !this.wasGone && this.client.refusal === undefined && (state === 'connecting' || state === 'idle' || state === 'disconnected');
  }

  /** Its socket stayed down for the grace period and has not come back since. */
  get isGone(): boolean {
    return this.wasGone;
  }

  submitted(): void {
    this.failures = 0;
  }

  /** A submission failed for a reason of the server (not of the prompt). */
  failed(reason: string): void {
    this.failures += 1;
    this.lastFailure = reason;
    if (this.failures >= this.options.failureLimit) this.failingUntil = Date.now() + this.options.failureCooldownMs;
  }

  detach(): void {
    clearTimeout(this.graceTimer);
    this.client.off('state', this.onState);
    this.client.off('frame', this.onFrame);
  }

  private stateChanged(state: SocketState): void {
    if (state === 'connected') {
      clearTimeout(this.graceTimer);
      this.graceTimer = undefined;
      // A fresh socket: the failing streak was the old connection's.
      this.failures = 0;
      this.failingUntil = 0;
      this.wasGone = false;
      this.emit('back');
      return;
    }
    if (this.graceTimer || this.wasGone) return;
    this.graceTimer = setTimeout(() => {
      this.graceTimer = undefined;
      if (this.client.state === 'connected') return;
      this.wasGone = true;
      this.emit('gone');
    }, this.options.graceMs);
    this.graceTimer.unref();
  }
}
