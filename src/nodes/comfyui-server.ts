/**
 * `comfyui-server`: the config node. It owns the one ComfyClient (one WebSocket, one HTTP
 * agent, the job tracker) for a server, connects lazily when its first user registers, and
 * fans its connection status out to every user.
 */
import { randomUUID } from 'node:crypto';
import type { Node, NodeAPI, NodeDef } from 'node-red';
import { ComfyClient } from '../client/client';
import { withoutUserinfo } from '../client/endpoint';
import { ComfyError } from '../client/errors';
import { registerAdminRoutes } from './admin';
import { serverTarget } from './comfy-target';
import type { ComfyTarget } from './comfy-target';
import type { ServerNode } from './server-api';
import { clientOptionsFrom, SERVER_CREDENTIALS } from './server-options';
import type { ServerSettings } from './server-options';
import { connectionStatus, SERVER_CATALOG, Status } from './status';
import { upgradeConfig } from './config-version';

type ServerConfig = NodeDef & ServerSettings;

export = function (RED: NodeAPI): void {
  function ComfyServerNode(this: ServerNode, config: ServerConfig): void {
    RED.nodes.createNode(this, config);
    config = upgradeConfig(config);
    const node = this;
    node.users = {};
    node.settings = {
      url: config.url,
      timeout: config.timeout,
      stall: config.stall,
      auth: config.auth,
      queryParam: config.queryParam,
      tls: config.tls,
      maxFileMB: config.maxFileMB,
      maxAnswerMB: config.maxAnswerMB,
      maxFrameMB: config.maxFrameMB,
      downloadTimeout: config.downloadTimeout,
      maxText: config.maxText,
      jobStore: typeof config.jobStore === 'string' ? config.jobStore.trim() : '',
    };
    node.client = undefined;
    node.configError = undefined;
    let status = Status.disconnected as ReturnType<typeof connectionStatus>;

    try {
      node.client = new ComfyClient({
        ...clientOptionsFrom(RED, config, (node.credentials ?? {})),
        clientId: keptClientId(node, node.settings.jobStore),
      });
    } catch (err) {
      node.configError = err instanceof ComfyError ? err : new ComfyError('INVALID_URL', String(err));
      status = Status.invalidUrl;
      node.error(
        node.configError.code === 'INVALID_URL'
          ? RED._(`${SERVER_CATALOG}.errors.invalid-url`, { url: withoutUserinfo(String(config.url ?? '')) })
          : node.configError.message,
      );
    }

    const setStatusAll = (next: typeof status): void => {
      status = next;
      for (const user of Object.values(node.users)) user.status(next);
    };

    const client = node.client;
    let target: ComfyTarget | undefined;
    node.target = (): ComfyTarget => {
      if (!client) throw node.configError ?? new ComfyError('INVALID_URL', 'The ComfyUI server configuration is invalid');
      target ??= serverTarget(client);
      return target;
    };
    let reported: string | undefined;
    client?.on('state', (state) => {
      setStatusAll(connectionStatus(state, client.refusal));
      if (state === 'connected') reported = undefined;
    });
    client?.on('refused', (refusal) => {
      setStatusAll(connectionStatus(client.state, refusal));
      // Once per kind of refusal, not on every slow retry.
      if (reported !== refusal.message) node.warn(`ComfyUI at ${client.endpoint.displayUrl}: ${refusal.message}`);
      reported = refusal.message;
    });
    client?.on('problem', (text) => node.debug(text));
    // Once per kind: a server that keeps sending oversized frames must not fill the log.
    const warned = new Set<string>();
    client?.on('warning', (text) => {
      if (warned.has(text)) return;
      warned.add(text);
      node.warn(text);
    });

    node.register = (user: Node): void => {
      node.users[user.id] = user;
      user.status(status);
      // Lazy: an unused config node opens nothing.
      if (Object.keys(node.users).length === 1) node.client?.connect();
    };

    node.deregister = (user: Node, removed: boolean, done: () => void): void => {
      delete node.users[user.id];
      if (removed && Object.keys(node.users).length === 0 && node.client) {
        node.client.disconnect().then(done, done);
        return;
      }
      done();
    };

    node.on('close', (_removed: boolean, done: () => void) => {
      node.users = {};
      if (!node.client) return done();
      node.client.close().then(
        () => done(),
        () => done(),
      );
    });
  }

  /**
   * ComfyUI sends a prompt's progress only to the socket of the client id it was submitted with,
   * so the id is kept in the job store: after a restart (persistent store) or a redeploy, prompts
   * submitted before still report to us. The random part keeps two Node-RED instances with the
   * same flows apart, each with its own store. A store that only answers asynchronously cannot be
   * read here: the id is then new, and prompts from before are found by the watchdog instead.
   */
  function keptClientId(node: ServerNode, store: string | undefined): string {
    const fresh = `node-red-${node.id}-${randomUUID().slice(0, 8)}`;
    const name = store || undefined;
    // Global context: a node's own is deleted whenever it closes unless settings.js configures stores.
    const key = `comfyui-client-${node.id}`;
    try {
      const kept: unknown = node.context().global.get(key, name);
      if (typeof kept === 'string' && /^[A-Za-z0-9_-]{1,200}$/.test(kept)) return kept;
      node.context().global.set(key, fresh, name);
    } catch {
      // an asynchronous store (or a broken plugin): a fresh id for this run
    }
    return fresh;
  }

  RED.nodes.registerType('comfyui-server', ComfyServerNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1], {
    credentials: SERVER_CREDENTIALS,
  });
  registerAdminRoutes(RED);
};

