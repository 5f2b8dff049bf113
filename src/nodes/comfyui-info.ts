/**
 * `comfyui-info`: asks ComfyUI what it has (system stats, node classes, models, embeddings,
 * feature flags, extensions) and sends the answer in msg.payload.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import type { ComfyClient } from '../client/client';
import { ComfyError } from '../client/errors';
import { attachServer, clientOf } from './server-api';
import type { ServerNode } from './server-api';

/** What the node can ask; the setting, or msg.info. */
const INFO_KINDS = ['system_stats', 'object_info', 'models', 'embeddings', 'features', 'extensions'] as const;
type InfoKind = (typeof INFO_KINDS)[number];

interface InfoConfig extends NodeDef {
  server: string;
  info: InfoKind;
  /** object_info: one node class, empty for all. */
  nodeClass: string;
  /** models: one folder's files, empty for the folder list. */
  folder: string;
}

type InfoMsg = NodeMessageInFlow & { info?: unknown; class?: unknown; folder?: unknown };

export = function (RED: NodeAPI): void {
  function ComfyInfoNode(this: Node, config: InfoConfig): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const server: ServerNode | undefined = attachServer(RED, node, config.server);

    async function handle(msg: InfoMsg, send: (msg: InfoMsg) => void): Promise<void> {
      const client = clientOf(server);
      const kind = kindOf(msg.info, config.info);
      // msg.class and msg.folder only matter (and are only checked) for the kind that uses them.
      const nodeClass = kind === 'object_info' ? (textOf(msg.class, 'msg.class') ?? (config.nodeClass ?? '').trim()) : '';
      const folder = kind === 'models' ? (textOf(msg.folder, 'msg.folder') ?? (config.folder ?? '').trim()) : '';
      node.status({ fill: 'blue', shape: 'dot', text: 'comfyui-info.status.requesting' });
      const { topic, payload } = await ask(client, kind, nodeClass, folder);
      msg.topic = topic;
      msg.payload = payload;
      node.status({ fill: 'green', shape: 'dot', text: 'comfyui-info.status.done' });
      send(msg);
    }

    node.on('input', (msg: InfoMsg, send: (msg: InfoMsg) => void, done: (err?: Error) => void) => {
      handle(msg, send).then(
        () => done(),
        (err: unknown) => {
          node.status({ fill: 'red', shape: 'ring', text: 'comfyui-info.status.error' });
          done(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });

    node.on('close', (removed: boolean, done: () => void) => {
      if (server) server.deregister(node, removed, done);
      else done();
    });
  }

  RED.nodes.registerType('comfyui-info', ComfyInfoNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};

async function ask(client: ComfyClient, kind: InfoKind, nodeClass: string, folder: string): Promise<{ topic: string; payload: unknown }> {
  switch (kind) {
    case 'system_stats':
      return { topic: kind, payload: await client.http.systemStats() };
    case 'object_info':
      return nodeClass
        ? { topic: `object_info/${nodeClass}`, payload: await client.nodeInfo(nodeClass) }
        : { topic: kind, payload: await client.http.objectInfo() };
    case 'models':
      return folder ? { topic: `models/${folder}`, payload: await client.modelFiles(folder) } : { topic: kind, payload: await client.http.models() };
    case 'embeddings':
      return { topic: kind, payload: await client.http.embeddings() };
    case 'features':
      return { topic: kind, payload: await client.features() };
    case 'extensions':
      return { topic: kind, payload: await client.http.extensions() };
  }
}

/** msg.info wins over the setting; anything else than a known kind is refused before asking. */
function kindOf(fromMsg: unknown, fromConfig: unknown): InfoKind {
  const value = fromMsg === undefined || fromMsg === null || fromMsg === '' ? fromConfig || 'system_stats' : fromMsg;
  if (typeof value === 'string' && (INFO_KINDS as readonly string[]).includes(value)) return value as InfoKind;
  const source = fromMsg === undefined || fromMsg === null || fromMsg === '' ? 'the node setting' : 'msg.info';
  throw new ComfyError('BAD_INPUT', `${source} must be one of ${INFO_KINDS.join(', ')}; got ${describe(value)}`);
}

/** A msg override that is a string (trimmed), undefined when absent; anything else is refused. */
function textOf(value: unknown, name: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new ComfyError('BAD_INPUT', `${name} must be a string; got ${describe(value)}`);
  return value.trim();
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}
