/**
 * What palette nodes may use of a `comfyui-server` config node, and how they find it.
 */
import type { Node, NodeAPI } from 'node-red';
import type { ComfyClient } from '../client/client';
import { ComfyError } from '../client/errors';
import type { ServerSettings } from './server-options';
import { SERVER_CATALOG, Status } from './status';

export interface ServerNode extends Node {
  /** Undefined when the config is unusable (invalid URL); `configError` then says why. */
  client: ComfyClient | undefined;
  configError: ComfyError | undefined;
  users: Record<string, Node>;
  /** The deployed settings (no credentials), for "Test connection". */
  settings: ServerSettings;
  register(node: Node): void;
  deregister(node: Node, removed: boolean, done: () => void): void;
}

/** Looks up the config node named in `config.server` and registers `node` with it. */
export function attachServer(RED: NodeAPI, node: Node, serverId: string | undefined): ServerNode | undefined {
  const server = serverId ? (RED.nodes.getNode(serverId) as ServerNode | null) : null;
  if (!server) {
    node.status(Status.missingServer);
    node.error(RED._(`${SERVER_CATALOG}.errors.missing-server`));
    return undefined;
  }
  server.register(node);
  return server;
}

/** The usable client of a server, or the error that explains why there is none. */
export function clientOf(server: ServerNode | undefined): ComfyClient {
  if (!server) throw new ComfyError('INVALID_URL', 'No ComfyUI server is configured for this node');
  if (!server.client) throw server.configError ?? new ComfyError('INVALID_URL', 'The ComfyUI server configuration is invalid');
  return server.client;
}

/**
 * The node deployed under this node's id now: itself, or the instance that replaced it when
 * only that node was redeployed while it was waiting for ComfyUI.
 */
export function liveInstance(RED: NodeAPI, node: Node): Node {
  const current = RED.nodes.getNode(node.id) as Node | null;
  return current ?? node;
}
