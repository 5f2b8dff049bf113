/**
 * `comfyui-info`: asks ComfyUI what it has (system stats, node classes, models, embeddings,
 * feature flags, extensions) and sends the answer in msg.payload.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import type { ComfyClient } from '../client/client';
import {checkSettable, onInput, readInput } from './failure';
import { attachTarget, memberOf, targetOf } from './server-api';
import type { TargetNode } from './server-api';
import { choiceOf, pathSegmentOf } from './msg-input';
import { readSetting, settingOf } from './typed-setting';
import type { TypedSetting } from './typed-setting';
import { upgradeConfig } from './config-version';

/** What the node can ask; the setting, or msg.info. */
const INFO_KINDS = ['system_stats', 'object_info', 'models', 'embeddings', 'features', 'extensions'] as const;
type InfoKind = (typeof INFO_KINDS)[number];

/** Each setting is a literal or a msg/flow/global/env/JSONata source named by `<setting>Type`. */
interface InfoConfig extends NodeDef {
  server: string;
  info: string;
  /** object_info: one node class, empty for all. */
  nodeClass: string;
  /** models: one folder's files, empty for the folder list. */
  folder: string;
}


export = function (RED: NodeAPI): void {
  function ComfyInfoNode(this: Node, config: InfoConfig): void {
    RED.nodes.createNode(this, config);
    config = upgradeConfig(config);
    const node = this;
    const server: TargetNode | undefined = attachTarget(RED, node, config);
    const settings = {
      info: settingOf(config, 'info', { label: 'Ask for', fixed: 'info' }),
      nodeClass: settingOf(config, 'nodeClass', { label: 'Node class', fixed: 'class', emptyOverrides: true }),
      folder: settingOf(config, 'folder', { label: 'Folder', fixed: 'folder', emptyOverrides: true }),
    };

    async function handle(msg: NodeMessageInFlow, send: (msg: NodeMessageInFlow) => void): Promise<void> {
      const target = targetOf(server);
      const read = (setting: TypedSetting) => readSetting(RED, node, setting, msg);
      const { member, kind, nodeClass, folder } = await readInput(async () => {
        const asked = choiceOf(await read(settings.info), INFO_KINDS, 'system_stats');
        checkSettable(msg, ['topic', 'payload']);
        // The class and the folder only matter (and are only read) for the kind that uses them.
        return {
          member: memberOf(target, msg),
          kind: asked,
          nodeClass: asked === 'object_info' ? pathSegmentOf(await read(settings.nodeClass)) : '',
          folder: asked === 'models' ? pathSegmentOf(await read(settings.folder)) : '',
        };
      });
      node.status({ fill: 'blue', shape: 'dot', text: 'comfyui-info.status.requesting' });
      // A pool answers from the member msg.server names, else from its first member in routing.
      const [answer] = await target.onMembers(member, 'first', (client) => ask(client, kind, nodeClass, folder));
      const { topic, payload } = answer.value;
      if (answer.server !== undefined) (msg as { server?: string }).server = answer.server;
      msg.topic = topic;
      msg.payload = payload;
      node.status({ fill: 'green', shape: 'dot', text: 'comfyui-info.status.done' });
      send(msg);
    }

    onInput<NodeMessageInFlow>(node, 'comfyui-info.status.error', handle);

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
