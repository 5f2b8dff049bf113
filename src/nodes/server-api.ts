/**
 * What palette nodes may use of a `comfyui-server` or `comfyui-pool` config node, and how they find it.
 */
import type { Node, NodeAPI } from 'node-red';
import type { ComfyClient } from '../client/client';
import { ComfyError } from '../client/errors';
import type { ComfyTarget } from './comfy-target';
import { describeValue } from './msg-input';
import type { ServerSettings } from './server-options';
import { POOL_CATALOG, SERVER_CATALOG, Status } from './status';

/** A config node palette nodes run on: one server or a pool of them. */
export interface TargetNode extends Node {
  users: Record<string, Node>;
  /** The deployed settings (no credentials); `jobStore` names the context store of submit nodes' prompts in flight. */
  settings: { jobStore: string };
  register(node: Node): void;
  deregister(node: Node, removed: boolean, done: () => void): void;
  /** The server or pool to talk to; throws the configuration's error when it is unusable. */
  target(): ComfyTarget;
}

export interface ServerNode extends TargetNode {
  /** Undefined when the config is unusable (invalid URL); `configError` then says why. */
  client: ComfyClient | undefined;
  configError: ComfyError | undefined;
  /** The deployed settings (no credentials), for "Test connection". */
  settings: ServerSettings & { jobStore: string };
}

/** The config properties every palette node has: `server`, or (when set, it wins) `pool`. */
export interface TargetConfig {
  server?: string;
  pool?: string;
}

/** Looks up the config node the palette node names (its pool, else its server) and registers `node` with it. */
export function attachTarget(RED: NodeAPI, node: Node, config: TargetConfig): TargetNode | undefined {
  const poolId = typeof config.pool === 'string' ? config.pool.trim() : '';
  const id = poolId || (typeof config.server === 'string' ? config.server : '');
  const target = id ? (RED.nodes.getNode(id) as TargetNode | null) : null;
  if (!target || typeof target.register !== 'function') {
    node.status(poolId ? Status.missingPool : Status.missingServer);
    node.error(RED._(poolId ? `${POOL_CATALOG}.errors.missing-pool` : `${SERVER_CATALOG}.errors.missing-server`));
    return undefined;
  }
  target.register(node);
  return target;
}

/** The usable server or pool of a config node, or the error that explains why there is none. */
export function targetOf(config: TargetNode | undefined): ComfyTarget {
  if (!config) throw new ComfyError('INVALID_URL', 'No ComfyUI server or pool is configured for this node');
  return config.target();
}

/** The server or pool of a config node, or undefined while its configuration is unusable (its nodes show why). */
export function usableTarget(config: TargetNode | undefined): ComfyTarget | undefined {
  try {
    return config?.target();
  } catch {
    return undefined;
  }
}

/** The pool member a msg names in `msg.server` (read only for a pool: a server's msgs may carry anything there). */
export function memberOf(target: ComfyTarget, msg: object): string | undefined {
  if (!target.pool) return undefined;
  const value = (msg as { server?: unknown }).server;
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new ComfyError('BAD_INPUT', `msg.server must name a server of the pool, not ${describeValue(value)}`);
  return value;
}

/**
 * The node deployed under this node's id now: itself, or the instance that replaced it when
 * only that node was redeployed while it was waiting for ComfyUI.
 */
export function liveInstance(RED: NodeAPI, node: Node): Node {
  const current = RED.nodes.getNode(node.id) as Node | null;
  return current ?? node;
}
