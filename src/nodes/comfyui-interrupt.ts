/**
 * `comfyui-interrupt`: stops whatever runs now, or one prompt (msg.prompt_id) whatever its
 * state: a running prompt is interrupted, a pending one deleted from the queue.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { attachServer, clientOf } from './server-api';
import type { ServerNode } from './server-api';
import { promptIdOf } from './msg-input';
import type { InterruptPayload } from './messages';

interface InterruptConfig extends NodeDef {
  server: string;
}


type InterruptMsg = NodeMessageInFlow & { prompt_id?: unknown };

export = function (RED: NodeAPI): void {
  function ComfyInterruptNode(this: Node, config: InterruptConfig): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const server: ServerNode | undefined = attachServer(RED, node, config.server);

    async function handle(msg: InterruptMsg, send: (msg: InterruptMsg) => void): Promise<void> {
      const promptId = promptIdOf(msg.prompt_id);
      const client = clientOf(server);
      node.status({ fill: 'blue', shape: 'dot', text: 'comfyui-interrupt.status.working' });
      const result = await client.cancel(promptId);
      const payload: InterruptPayload = { outcome: result.outcome, prompt_id: result.prompt_id ?? null };
      msg.payload = payload;
      const stopped = result.outcome === 'interrupted' || result.outcome === 'deleted';
      node.status({ fill: stopped ? 'green' : 'grey', shape: stopped ? 'dot' : 'ring', text: `comfyui-interrupt.status.${result.outcome}` });
      send(msg);
    }

    node.on('input', (msg: InterruptMsg, send: (msg: InterruptMsg) => void, done: (err?: Error) => void) => {
      handle(msg, send).then(
        () => done(),
        (err: unknown) => {
          node.status({ fill: 'red', shape: 'ring', text: 'comfyui-interrupt.status.error' });
          done(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });

    node.on('close', (removed: boolean, done: () => void) => {
      if (server) server.deregister(node, removed, done);
      else done();
    });
  }

  RED.nodes.registerType('comfyui-interrupt', ComfyInterruptNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};

