/**
 * `comfyui-queue`: reads ComfyUI's queue, clears its pending prompts or deletes some of them.
 * Every action answers with the queue as it is afterwards.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import {checkSettable, onInput, readInput } from './failure';
import { attachTarget, targetOf } from './server-api';
import type { TargetNode } from './server-api';
import { choiceOf, promptIdsOf } from './msg-input';
import { readSetting, settingOf } from './typed-setting';
import type { QueuePayload } from './messages';
import { upgradeConfig } from './config-version';

type QueueAction = 'get' | 'clear' | 'delete';
const ACTIONS: readonly QueueAction[] = ['get', 'clear', 'delete'];

interface QueueConfig extends NodeDef {
  server: string;
  /** A literal action, or a msg/flow/global/env/JSONata source (actionType). */
  action: string;
  actionType?: string;
}

type QueueMsg = NodeMessageInFlow & { action?: unknown };

export = function (RED: NodeAPI): void {
  function ComfyQueueNode(this: Node, config: QueueConfig): void {
    RED.nodes.createNode(this, config);
    config = upgradeConfig(config);
    const node = this;
    const server: TargetNode | undefined = attachTarget(RED, node, config);
    const actionSetting = settingOf(config, 'action', { label: 'Action', fixed: 'action' });

    async function handle(msg: QueueMsg, send: (msg: QueueMsg) => void): Promise<void> {
      const { action, ids } = await readInput(async () => {
        const chosen = choiceOf(await readSetting(RED, node, actionSetting, msg), ACTIONS, 'get');
        checkSettable(msg, ['payload']);
        return { action: chosen, ids: chosen === 'delete' ? promptIdsOf(msg.payload, 'To delete from the queue') : [] };
      });
      const client = targetOf(server);
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

    onInput<QueueMsg>(node, 'comfyui-queue.status.error', handle);

    node.on('close', (removed: boolean, done: () => void) => {
      if (server) server.deregister(node, removed, done);
      else done();
    });
  }

  RED.nodes.registerType('comfyui-queue', ComfyQueueNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};
