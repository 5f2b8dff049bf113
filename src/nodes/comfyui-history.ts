/**
 * `comfyui-history`: reads ComfyUI's history (all of it, a page of it, or one prompt), deletes
 * entries or clears it. Entries come out in the submit node's result shape, so the images node
 * takes them as they are.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { summarizeEntry } from '../client/outputs';
import {checkSettable, onInput, readInput } from './failure';
import { attachTarget, targetOf } from './server-api';
import type { TargetNode } from './server-api';
import { choiceOf, countOf, promptIdOf, promptIdsOf } from './msg-input';
import { readSetting, settingOf } from './typed-setting';
import type { TypedSetting } from './typed-setting';
import type { HistoryPayload } from './messages';
import { upgradeConfig } from './config-version';

type HistoryAction = 'get' | 'delete' | 'clear';
const ACTIONS: readonly HistoryAction[] = ['get', 'delete', 'clear'];

/** Each setting is a literal or a msg/flow/global/env/JSONata source named by `<setting>Type`. */
interface HistoryConfig extends NodeDef {
  server: string;
  action: string;
  /** Empty: no limit. */
  maxItems: string | number;
  /** Empty: from the oldest. */
  offset: string | number;
  /** Get one: where the prompt id is read (msg.prompt_id by default). */
  promptId?: string;
}

export = function (RED: NodeAPI): void {
  function ComfyHistoryNode(this: Node, config: HistoryConfig): void {
    RED.nodes.createNode(this, config);
    config = upgradeConfig(config);
    const node = this;
    const server: TargetNode | undefined = attachTarget(RED, node, config);
    const settings = {
      action: settingOf(config, 'action', { label: 'Action', fixed: 'action' }),
      maxItems: settingOf(config, 'maxItems', { label: 'Max items', fixed: 'max_items' }),
      offset: settingOf(config, 'offset', { label: 'Offset', fixed: 'offset' }),
      promptId: settingOf(config, 'promptId', { label: 'Prompt id' }),
    };

    async function handle(msg: NodeMessageInFlow, send: (msg: NodeMessageInFlow) => void): Promise<void> {
      const read = (setting: TypedSetting) => readSetting(RED, node, setting, msg);
      // Everything from the msg is checked before anything is asked of ComfyUI.
      const { action, ids, promptId, query } = await readInput(async () => {
        const chosen = choiceOf(await read(settings.action), ACTIONS, 'get');
        const id = chosen === 'get' ? promptIdOf(await read(settings.promptId)) : undefined;
        checkSettable(msg, ['payload']);
        return {
          action: chosen,
          ids: chosen === 'delete' ? promptIdsOf(msg.payload, 'To delete history entries') : [],
          promptId: id,
          query:
            chosen === 'get' && id === undefined
              ? { max_items: countOf(await read(settings.maxItems)), offset: countOf(await read(settings.offset)) }
              : {},
        };
      });
      const target = targetOf(server);
      node.status({ fill: 'blue', shape: 'dot', text: 'comfyui-history.status.working' });
      let payload: HistoryPayload;
      // A pool clears and deletes on every member (deleting an id a member does not have is harmless).
      if (action === 'clear') {
        await target.onMembers(undefined, 'all', (client) => client.http.clearHistory());
        payload = { cleared: true };
        node.status({ fill: 'green', shape: 'dot', text: 'comfyui-history.status.cleared' });
      } else if (action === 'delete') {
        await target.onMembers(undefined, 'all', (client) => client.http.deleteHistory(ids));
        payload = { deleted: ids };
        node.status({ fill: 'green', shape: 'dot', text: 'comfyui-history.status.deleted' });
      } else if (promptId !== undefined) {
        const found = await target.historyEntry(promptId);
        payload = found ? summarizeEntry(promptId, found.entry) : null;
        if (found?.server !== undefined) (msg as { server?: string }).server = found.server;
        node.status(
          payload
            ? { fill: 'green', shape: 'dot', text: 'comfyui-history.status.found' }
            : { fill: 'grey', shape: 'ring', text: 'comfyui-history.status.not-found' },
        );
      } else {
        const { entries, unreachable } = await target.history(query);
        for (const { server: member, error } of unreachable) node.warn(`History of ${member} could not be read: ${error}`);
        payload = entries;
        // A number is not translated: how many entries were sent.
        node.status({ fill: 'green', shape: 'dot', text: String(entries.length) });
      }
      msg.payload = payload;
      send(msg);
    }

    onInput<NodeMessageInFlow>(node, 'comfyui-history.status.error', handle);

    node.on('close', (removed: boolean, done: () => void) => {
      if (server) server.deregister(node, removed, done);
      else done();
    });
  }

  RED.nodes.registerType('comfyui-history', ComfyHistoryNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};
