/**
 * `comfyui-free`: asks ComfyUI to unload its models and/or to free memory (which also drops the
 * node cache, so the next run executes everything again).
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import {checkSettable, onInput, readInput } from './failure';
import { attachTarget, memberOf, targetOf } from './server-api';
import type { TargetNode } from './server-api';
import { flagOf } from './msg-input';
import { readSetting, settingOf } from './typed-setting';
import type { FreePayload } from './messages';
import { upgradeConfig } from './config-version';

/** Each flag is true/false (a typed-in bool) or a msg/flow/global/env/JSONata source. */
interface FreeConfig extends NodeDef {
  server: string;
  unloadModels: boolean | string;
  freeMemory: boolean | string;
}

export = function (RED: NodeAPI): void {
  function ComfyFreeNode(this: Node, config: FreeConfig): void {
    RED.nodes.createNode(this, config);
    config = upgradeConfig(config);
    const node = this;
    const server: TargetNode | undefined = attachTarget(RED, node, config);
    const settings = {
      unloadModels: settingOf(config, 'unloadModels', { label: 'Unload models', fixed: 'payload.unload_models' }),
      freeMemory: settingOf(config, 'freeMemory', { label: 'Free memory', fixed: 'payload.free_memory' }),
    };

    async function handle(msg: NodeMessageInFlow, send: (msg: NodeMessageInFlow) => void): Promise<void> {
      const request: FreePayload = await readInput(async () => {
        const flags = {
          unload_models: flagOf(await readSetting(RED, node, settings.unloadModels, msg), false),
          free_memory: flagOf(await readSetting(RED, node, settings.freeMemory, msg), false),
        };
        checkSettable(msg, ['payload']);
        return flags;
      });
      const target = targetOf(server);
      const member = await readInput(() => memberOf(target, msg));
      node.status({ fill: 'blue', shape: 'dot', text: 'comfyui-free.status.working' });
      // A pool frees every member unless msg.server names one.
      await target.onMembers(member, 'all', (client) => client.http.free(request));
      msg.payload = request;
      node.status({ fill: 'green', shape: 'dot', text: request.unload_models || request.free_memory ? 'comfyui-free.status.done' : 'comfyui-free.status.nothing' });
      send(msg);
    }

    onInput<NodeMessageInFlow>(node, 'comfyui-free.status.error', handle);

    node.on('close', (removed: boolean, done: () => void) => {
      if (server) server.deregister(node, removed, done);
      else done();
    });
  }

  RED.nodes.registerType('comfyui-free', ComfyFreeNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};
