/**
 * `comfyui-queue`: reads ComfyUI's queue, clears its pending prompts or deletes some of them.
 * Every action answers with the queue as it is afterwards.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { ComfyError } from '../client/errors';
import { attachServer, clientOf } from './server-api';
import type { ServerNode } from './server-api';
import type { QueuePayload } from './messages';

type QueueAction = 'get' | 'clear' | 'delete';
const ACTIONS: readonly QueueAction[] = ['get', 'clear', 'delete'];

interface QueueConfig extends NodeDef {
  server: string;
  action: QueueAction;
}


type QueueMsg = NodeMessageInFlow & { action?: unknown };

export = function (RED: NodeAPI): void {
  function ComfyQueueNode(this: Node, config: QueueConfig): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const server: ServerNode | undefined = attachServer(RED, node, config.server);
    const configured: QueueAction = ACTIONS.includes(config.action) ? config.action : 'get';

    async function handle(msg: QueueMsg, send: (msg: QueueMsg) => void): Promise<void> {
      const action = actionOf(msg.action, configured);
      const ids = action === 'delete' ? idsOf(msg.payload) : [];
      const client = clientOf(server);
      node.status({ fill: 'blue', shape: 'dot', text: 'comfyui-queue.status.working' });
      let payload: QueuePayload;
      if (action === 'get') {
        payload = await client.queueSummary();
      } else {
        const { deleted, ignored, queue } = await client.removePending(action === 'clear' ? 'all' : ids);
        payload = action === 'clear' ? queue : { ...queue, deleted, ignored };
      }
      msg.payload = payload;
      // A number is not translated: the prompts left in the queue.
      node.status({ fill: 'green', shape: 'dot', text: String(payload.queue_remaining) });
      send(msg);
    }

    node.on('input', (msg: QueueMsg, send: (msg: QueueMsg) => void, done: (err?: Error) => void) => {
      handle(msg, send).then(
        () => done(),
        (err: unknown) => {
          node.status({ fill: 'red', shape: 'ring', text: 'comfyui-queue.status.error' });
          done(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });

    node.on('close', (removed: boolean, done: () => void) => {
      if (server) server.deregister(node, removed, done);
      else done();
    });
  }

  RED.nodes.registerType('comfyui-queue', ComfyQueueNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};

function actionOf(value: unknown, configured: QueueAction): QueueAction {
  if (value === undefined || value === null || value === '') return configured;
  if (typeof value === 'string' && (ACTIONS as readonly string[]).includes(value)) return value as QueueAction;
  throw new ComfyError('BAD_INPUT', `msg.action must be one of ${ACTIONS.join(', ')}; got ${describe(value)}`);
}

/** The prompt ids to delete: one string or an array of strings, duplicates dropped. */
function idsOf(payload: unknown): string[] {
  if (typeof payload === 'string' && payload !== '') return [payload];
  if (Array.isArray(payload) && payload.every((id) => typeof id === 'string')) return [...new Set(payload as string[])];
  throw new ComfyError('BAD_INPUT', `To delete from the queue, msg.payload must be a prompt id or an array of prompt ids; got ${describe(payload)}`);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) {
    const index = value.findIndex((item) => typeof item !== 'string');
    return index < 0 ? 'an array' : `an array with ${describe(value[index])} at index ${index}`;
  }
  if (Buffer.isBuffer(value)) return 'a Buffer';
  if (typeof value === 'string') return value === '' ? 'an empty string' : `the string "${value.slice(0, 60)}"`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}
