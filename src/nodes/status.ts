/**
 * Node status objects. Texts are catalog keys; the editor translates them in the node's
 * namespace, so keys owned by the config node carry their full namespace to resolve anywhere.
 */
import type { NodeStatus } from 'node-red';
import type { Refusal } from '../client/refusal';
import { clip } from '../client/shape';
import type { SocketState } from '../client/socket';

/** The config node's catalog, addressed so that any of our nodes can use its keys. */
export const SERVER_CATALOG = '@comfy-red/node-red-comfyui/comfyui-server:comfyui-server';
const SERVER_NS = `${SERVER_CATALOG}.status`;
/** The pool config node's catalog, likewise. */
export const POOL_CATALOG = '@comfy-red/node-red-comfyui/comfyui-pool:comfyui-pool';
const POOL_NS = `${POOL_CATALOG}.status`;

export const Status = {
  connected: { fill: 'green', shape: 'dot', text: 'node-red:common.status.connected' },
  connecting: { fill: 'yellow', shape: 'ring', text: 'node-red:common.status.connecting' },
  disconnected: { fill: 'red', shape: 'ring', text: 'node-red:common.status.disconnected' },
  invalidUrl: { fill: 'red', shape: 'ring', text: `${SERVER_NS}.invalid-url` },
  refusedAuth: { fill: 'red', shape: 'ring', text: `${SERVER_NS}.refused-auth` },
  refusedEndpoint: { fill: 'red', shape: 'ring', text: `${SERVER_NS}.refused-endpoint` },
  missingServer: { fill: 'red', shape: 'ring', text: `${SERVER_NS}.missing-server` },
  missingPool: { fill: 'red', shape: 'ring', text: `${POOL_NS}.missing-pool` },
  poolReady: { fill: 'green', shape: 'dot', text: `${POOL_NS}.ready` },
  poolPartial: { fill: 'yellow', shape: 'dot', text: `${POOL_NS}.partial` },
  poolDown: { fill: 'red', shape: 'ring', text: `${POOL_NS}.down` },
  clear: {},
} satisfies Record<string, NodeStatus>;

/** A node title or id (from a workflow, or the wire) as part of a status: one short line, at most the server's text limit. */
export function statusLabel(text: string, maxText: number): string {
  return clip(text, Math.min(maxText, STATUS_LABEL_CHARS));
}

const STATUS_LABEL_CHARS = 60;

/** While the server refuses us, that (not "disconnected") is what a person needs to see. */
export function connectionStatus(state: SocketState, refusal?: Refusal): NodeStatus {
  if (refusal && state !== 'connected') return refusal.code === 'AUTH' ? Status.refusedAuth : Status.refusedEndpoint;
  switch (state) {
    case 'connected':
      return Status.connected;
    case 'connecting':
      return Status.connecting;
    default:
      return Status.disconnected;
  }
}

/** Calls `apply` at most once per `intervalMs`, always with the latest value (dashboards and the editor choke on more). */
export class Throttle<T> {
  private timer: NodeJS.Timeout | undefined;
  /** The value to apply when the timer fires; `waiting` says whether there is one (T may be undefined). */
  private latest: T | undefined;
  private waiting = false;
  private last = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly apply: (value: T) => void,
  ) {}

  /** Runs for every progress frame: while a timer is pending it only keeps the value (no clock read, no allocation). */
  push(value: T): void {
    if (this.timer) {
      this.latest = value;
      this.waiting = true;
      return;
    }
    const now = Date.now();
    const wait = this.last + this.intervalMs - now;
    if (wait <= 0) {
      this.last = now;
      this.apply(value);
      return;
    }
    this.latest = value;
    this.waiting = true;
    this.timer = setTimeout(() => this.flush(), wait);
  }

  /**
   * Drops anything pending (the job ended; its final status must not be overwritten). A pending
   * timer stays and finds nothing to apply: clearing it and arming a new one for the next prompt's
   * first frame, at the same moment, cost a timer-list insert and removal per prompt.
   */
  cancel(): void {
    this.latest = undefined;
    this.waiting = false;
  }

  /** The node closes: nothing is applied after this. */
  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.cancel();
  }

  private flush(): void {
    this.timer = undefined;
    if (!this.waiting) return;
    const value = this.latest as T;
    this.latest = undefined;
    this.waiting = false;
    this.last = Date.now();
    this.apply(value);
  }
}
