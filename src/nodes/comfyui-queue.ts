/**
 * `comfyui-queue`: reads ComfyUI's queue, clears its pending prompts or deletes some of them.
 * Every action answers with the queue as it is afterwards.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import type { ComfyClient, QueueSummary } from '../client/client';
import { ComfyError } from '../client/errors';
import { attachServer, clientOf } from './server-api';
import type { ServerNode } from './server-api';

type QueueAction = 'get' | 'clear' | 'delete';
const ACTIONS: readonly QueueAction[] = ['get', 'clear', 'delete'];

interface QueueConfig extends NodeDef {
  server: string;
  action: QueueAction;
}

/** msg.payload of `comfyui-queue`; `deleted` and `ignored` only for the delete action. */
interface QueuePayload extends QueueSummary {
  /** Pending prompts that were removed from the queue. */
  deleted?: string[];
  /** Ids that were not pending (running, finished or unknown) and were left alone. */
  ignored?: string[];
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
      if (action === 'clear') {
        await clearPending(client);
        payload = await client.queueSummary();
      } else if (action === 'delete') {
        const { deleted, ignored } = await deletePending(client, ids);
        payload = { ...(await client.queueSummary()), deleted, ignored };
      } else {
        payload = await client.queueSummary();
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

  /**
   * Removes the ids that are pending and leaves the rest: a running prompt must not be stopped
   * here (that is the interrupt node's job). Prompts submitted through this server config go
   * through `cancel`, which also ends a submit node's wait for them with INTERRUPTED.
   */
  async function deletePending(client: ComfyClient, ids: string[]): Promise<{ deleted: string[]; ignored: string[] }> {
    const before = await client.queueSummary();
    const pending = new Map(before.pending.map((entry) => [entry.prompt_id, entry.own]));
    const deleted: string[] = [];
    const ignored: string[] = [];
    const foreign: string[] = [];
    for (const id of ids) {
      if (!pending.has(id)) {
        ignored.push(id);
      } else if (!pending.get(id)) {
        // Nobody here waits for it: one plain delete, which ComfyUI never applies to a running prompt.
        foreign.push(id);
        deleted.push(id);
      } else {
        const { outcome } = await client.cancel(id);
        if (outcome === 'deleted' || outcome === 'interrupted') deleted.push(id);
        else ignored.push(id);
      }
    }
    if (foreign.length > 0) await client.http.deleteFromQueue(foreign);
    return { deleted, ignored };
  }

  /**
   * Clears the pending prompts. Ours go one by one through `cancel` first, so submit nodes
   * waiting for them fail with INTERRUPTED instead of waiting forever; one clear takes the rest.
   */
  async function clearPending(client: ComfyClient): Promise<void> {
    const before = await client.queueSummary();
    for (const entry of before.pending) {
      if (entry.own) await client.cancel(entry.prompt_id);
    }
    await client.http.clearQueue();
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
