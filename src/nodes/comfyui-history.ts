/**
 * `comfyui-history`: reads ComfyUI's history (all of it, a page of it, or one prompt), deletes
 * entries or clears it. Entries come out in the submit node's result shape, so the images node
 * takes them as they are.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import type { ComfyClient } from '../client/client';
import { ComfyError } from '../client/errors';
import { summarizeEntry } from '../client/outputs';
import type { PromptSummary } from '../client/outputs';
import { attachServer, clientOf } from './server-api';
import type { ServerNode } from './server-api';
import { choiceOf, describeValue, promptIdOf, promptIdsOf } from './msg-input';
import type { HistoryPayload } from './messages';

type HistoryAction = 'get' | 'delete' | 'clear';
const ACTIONS: readonly HistoryAction[] = ['get', 'delete', 'clear'];

interface HistoryConfig extends NodeDef {
  server: string;
  action: HistoryAction;
  /** Empty: no limit. */
  maxItems: string | number;
  /** Empty: from the oldest. */
  offset: string | number;
}


type HistoryMsg = NodeMessageInFlow & { action?: unknown; prompt_id?: unknown; max_items?: unknown; offset?: unknown };

export = function (RED: NodeAPI): void {
  function ComfyHistoryNode(this: Node, config: HistoryConfig): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const server: ServerNode | undefined = attachServer(RED, node, config.server);
    const configured: HistoryAction = ACTIONS.includes(config.action) ? config.action : 'get';

    async function handle(msg: HistoryMsg, send: (msg: HistoryMsg) => void): Promise<void> {
      const action = choiceOf(msg.action, ACTIONS, configured);
      // Everything from the msg is checked before anything is asked of ComfyUI.
      const ids = action === 'delete' ? promptIdsOf(msg.payload, 'To delete history entries') : [];
      const promptId = action === 'get' ? promptIdOf(msg.prompt_id) : undefined;
      const query =
        action === 'get' && promptId === undefined
          ? {
              max_items: countOf(msg.max_items, 'msg.max_items') ?? countOf(config.maxItems, 'Max items'),
              offset: countOf(msg.offset, 'msg.offset') ?? countOf(config.offset, 'Offset'),
            }
          : {};
      const client = clientOf(server);
      node.status({ fill: 'blue', shape: 'dot', text: 'comfyui-history.status.working' });
      let payload: HistoryPayload;
      if (action === 'clear') {
        await client.http.clearHistory();
        payload = { cleared: true };
        node.status({ fill: 'green', shape: 'dot', text: 'comfyui-history.status.cleared' });
      } else if (action === 'delete') {
        await client.http.deleteHistory(ids);
        payload = { deleted: ids };
        node.status({ fill: 'green', shape: 'dot', text: 'comfyui-history.status.deleted' });
      } else if (promptId !== undefined) {
        payload = await entryOf(client, promptId);
        node.status(
          payload
            ? { fill: 'green', shape: 'dot', text: 'comfyui-history.status.found' }
            : { fill: 'grey', shape: 'ring', text: 'comfyui-history.status.not-found' },
        );
      } else {
        const entries = await client.history(query);
        payload = entries;
        // A number is not translated: how many entries were sent.
        node.status({ fill: 'green', shape: 'dot', text: String(entries.length) });
      }
      msg.payload = payload;
      send(msg);
    }

    node.on('input', (msg: HistoryMsg, send: (msg: HistoryMsg) => void, done: (err?: Error) => void) => {
      handle(msg, send).then(
        () => done(),
        (err: unknown) => {
          node.status({ fill: 'red', shape: 'ring', text: 'comfyui-history.status.error' });
          done(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });

    node.on('close', (removed: boolean, done: () => void) => {
      if (server) server.deregister(node, removed, done);
      else done();
    });
  }

  /** One prompt's summary; null while ComfyUI has no entry (unknown, still queued or running, or deleted). */
  async function entryOf(client: ComfyClient, promptId: string): Promise<PromptSummary | null> {
    const entry = await client.historyEntry(promptId);
    return entry ? summarizeEntry(promptId, entry) : null;
  }

  RED.nodes.registerType('comfyui-history', ComfyHistoryNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};



/** A whole number ≥ 0 from a msg property or a node setting; empty means "not set". */
function countOf(value: unknown, what: string): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const number = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof number === 'number' && Number.isSafeInteger(number) && number >= 0) return number;
  throw new ComfyError('BAD_INPUT', `${what} must be a whole number of 0 or more; got ${describeValue(value)}`);
}


