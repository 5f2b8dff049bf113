/**
 * `comfyui-free`: asks ComfyUI to unload its models and/or to free memory (which also drops the
 * node cache, so the next run executes everything again).
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { ComfyError } from '../client/errors';
import { attachServer, clientOf } from './server-api';
import type { ServerNode } from './server-api';
import type { FreePayload } from './messages';

interface FreeConfig extends NodeDef {
  server: string;
  unloadModels: boolean;
  freeMemory: boolean;
}


type FreeFlag = keyof FreePayload;

export = function (RED: NodeAPI): void {
  function ComfyFreeNode(this: Node, config: FreeConfig): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const server: ServerNode | undefined = attachServer(RED, node, config.server);

    async function handle(msg: NodeMessageInFlow, send: (msg: NodeMessageInFlow) => void): Promise<void> {
      const request: FreePayload = {
        unload_models: flagOf(msg.payload, 'unload_models', config.unloadModels === true),
        free_memory: flagOf(msg.payload, 'free_memory', config.freeMemory === true),
      };
      const client = clientOf(server);
      node.status({ fill: 'blue', shape: 'dot', text: 'comfyui-free.status.working' });
      await client.http.free(request);
      msg.payload = request;
      node.status({ fill: 'green', shape: 'dot', text: request.unload_models || request.free_memory ? 'comfyui-free.status.done' : 'comfyui-free.status.nothing' });
      send(msg);
    }

    node.on('input', (msg: NodeMessageInFlow, send: (msg: NodeMessageInFlow) => void, done: (err?: Error) => void) => {
      handle(msg, send).then(
        () => done(),
        (err: unknown) => {
          node.status({ fill: 'red', shape: 'ring', text: 'comfyui-free.status.error' });
          done(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });

    node.on('close', (removed: boolean, done: () => void) => {
      if (server) server.deregister(node, removed, done);
      else done();
    });
  }

  RED.nodes.registerType('comfyui-free', ComfyFreeNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};

/** msg.payload.<flag> when it is set (it must be a boolean), else the node's checkbox. */
function flagOf(payload: unknown, flag: FreeFlag, configured: boolean): boolean {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload) || Buffer.isBuffer(payload)) return configured;
  const value = (payload as Record<string, unknown>)[flag];
  if (value === undefined) return configured;
  if (typeof value === 'boolean') return value;
  throw new ComfyError('BAD_INPUT', `msg.payload.${flag} must be true or false; got ${typeof value === 'string' ? `the string "${value.slice(0, 60)}"` : value === null ? 'null' : typeof value}`);
}
