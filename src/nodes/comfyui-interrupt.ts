/**
 * `comfyui-interrupt`: stops whatever runs now, or one prompt (msg.prompt_id) whatever its
 * state: a running prompt is interrupted, a pending one deleted from the queue.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import {checkSettable, onInput, readInput } from './failure';
import { attachTarget, memberOf, targetOf } from './server-api';
import type { TargetNode } from './server-api';
import { promptIdOf } from './msg-input';
import { readSetting, settingOf } from './typed-setting';
import type { InterruptPayload } from './messages';
import { upgradeConfig } from './config-version';

interface InterruptConfig extends NodeDef {
  server: string;
  /** Where the prompt id is read, a msg/flow/global/env/JSONata source or typed-in text (promptIdType); empty: everything. */
  promptId?: string;
}

export = function (RED: NodeAPI): void {
  function ComfyInterruptNode(this: Node, config: InterruptConfig): void {
    RED.nodes.createNode(this, config);
    config = upgradeConfig(config);
    const node = this;
    const server: TargetNode | undefined = attachTarget(RED, node, config);
    const promptIdSetting = settingOf(config, 'promptId', { label: 'Prompt id' });

    async function handle(msg: NodeMessageInFlow, send: (msg: NodeMessageInFlow) => void): Promise<void> {
      const target = targetOf(server);
      const { promptId, member } = await readInput(async () => {
        const id = promptIdOf(await readSetting(RED, node, promptIdSetting, msg));
        checkSettable(msg, ['payload']);
        return { promptId: id, member: memberOf(target, msg) };
      });
      node.status({ fill: 'blue', shape: 'dot', text: 'comfyui-interrupt.status.working' });
      const result = await target.cancel(promptId, member);
      const payload: InterruptPayload = { outcome: result.outcome, prompt_id: result.prompt_id ?? null };
      msg.payload = payload;
      if (result.server !== undefined) (msg as { server?: string }).server = result.server;
      const stopped = result.outcome === 'interrupted' || result.outcome === 'deleted';
      node.status({ fill: stopped ? 'green' : 'grey', shape: stopped ? 'dot' : 'ring', text: `comfyui-interrupt.status.${result.outcome}` });
      send(msg);
    }

    onInput<NodeMessageInFlow>(node, 'comfyui-interrupt.status.error', handle);

    node.on('close', (removed: boolean, done: () => void) => {
      if (server) server.deregister(node, removed, done);
      else done();
    });
  }

  RED.nodes.registerType('comfyui-interrupt', ComfyInterruptNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};

