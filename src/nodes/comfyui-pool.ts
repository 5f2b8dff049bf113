/**
 * `comfyui-pool`: a config node over up to eight `comfyui-server` config nodes (each keeps its
 * one WebSocket). Palette nodes that name a pool get a ComfyPool (src/client/pool.ts) built over
 * the members' clients when the first of them registers; the pool's health is their status.
 *
 * The members are separate string properties (`server1` … `server8`) on purpose: Node-RED then
 * starts the member servers before the pool, redeploys the pool (and its users) when a member
 * changes, and exports the members with the pool.
 */
import type { Node, NodeAPI, NodeDef, NodeStatus } from 'node-red';
import { ComfyError } from '../client/errors';
import { ComfyPool } from '../client/pool';
import { poolTarget } from './comfy-target';
import type { ComfyTarget } from './comfy-target';
import type { ServerNode, TargetNode } from './server-api';
import { POOL_CATALOG, Status } from './status';
import { upgradeConfig } from './config-version';

const MAX_MEMBERS = 8;
/** How often members' health is looked at besides their state changes (a failing member's cooldown ends without an event). */
const HEALTH_INTERVAL_MS = 2_000;

interface PoolConfig extends NodeDef {
  /** Seconds a member may be unreachable before the prompts waiting in its queue move. */
  grace?: string | number;
  jobStore?: string;
  [slot: `server${number}`]: string | undefined;
}

interface PoolNode extends TargetNode {
  /** Member names (what msg.server holds), in pool order, once the pool is built. */
  members: string[];
}

export = function (RED: NodeAPI): void {
  function ComfyPoolNode(this: PoolNode, config: PoolConfig): void {
    RED.nodes.createNode(this, config);
    config = upgradeConfig(config);
    const node = this;
    node.users = {};
    node.members = [];
    node.settings = { jobStore: typeof config.jobStore === 'string' ? config.jobStore.trim() : '' };
    const graceSeconds = Number(config.grace);
    const graceMs = Number.isFinite(graceSeconds) && graceSeconds >= 1 ? Math.min(graceSeconds, 3600) * 1000 : undefined;
    // Stands for the pool among each member server's users: keeps the member connected while the pool is used.
    const asUser = { id: node.id, status: () => undefined } as unknown as Node;
    const servers = memberServers(config);
    let pool: ComfyPool | undefined;
    let target: ComfyTarget | undefined;
    let configError: ComfyError | undefined;
    let status: NodeStatus = Status.poolDown;
    let out = new Map<string, string>();
    /** Members that have been in routing since the pool was built. */
    const wasIn = new Set<string>();
    let healthTimer: NodeJS.Timeout | undefined;
    let closing = false;

    const named = servers.filter((server) => server.client);
    if (named.length === 0) {
      configError = new ComfyError('INVALID_CONFIG', RED._(`${POOL_CATALOG}.errors.no-members`));
      node.error(configError.message);
    }
    for (const server of servers.filter((candidate) => !candidate.client)) {
      node.warn(`Left out of the pool: ${server.name || server.id}: ${server.configError?.message ?? 'its configuration is invalid'}`);
    }

    function build(): ComfyPool | undefined {
      if (pool || configError) return pool;
      const names = uniqueNames(named);
      node.members = names;
      pool = new ComfyPool(
        named.map((server, index) => ({ name: names[index], client: server.client! })),
        graceMs === undefined ? {} : { graceMs },
      );
      for (const server of named) server.register(asUser);
      pool.on('state', () => checkHealth());
      pool.on('moved', ({ promptId, from, to, reason }) => node.log(`Prompt ${promptId} moved from ${from} to ${to}: ${reason}`));
      pool.on('problem', (text) => node.warn(text));
      healthTimer = setInterval(checkHealth, HEALTH_INTERVAL_MS);
      healthTimer.unref();
      checkHealth();
      return pool;
    }

    /** Members in and out of routing: the status of every user, and a log line for each change. */
    function checkHealth(): void {
      // Closing: members go down because we stop, which is no news either.
      if (!pool || closing) return;
      const health = pool.health();
      const now = new Map(health.flatMap(({ server, unavailable }) => (unavailable === undefined ? [] : [[server, unavailable] as const])));
      for (const [server, why] of now) {
        // A member still connecting at the start is no news; one that was in routing, or refuses us, is.
        const state = pool.client(server)?.state;
        const stopping = state === 'closing' || state === 'closed';
        if (!out.has(server) && !stopping && (wasIn.has(server) || why.startsWith('refuses'))) node.warn(`${server} is out of the pool's routing: it ${why}`);
      }
      for (const { server } of health) {
        if (now.has(server)) continue;
        if (wasIn.has(server) && out.has(server)) node.log(`${server} is back in the pool's routing`);
        wasIn.add(server);
      }
      out = now;
      const next = now.size === 0 ? Status.poolReady : now.size < health.length ? Status.poolPartial : Status.poolDown;
      if (next === status) return;
      status = next;
      for (const user of Object.values(node.users)) user.status(status);
    }

    node.target = (): ComfyTarget => {
      const built = build();
      if (!built) throw configError ?? new ComfyError('INVALID_CONFIG', 'The pool has no usable ComfyUI server');
      target ??= poolTarget(built);
      return target;
    };

    node.register = (user: Node): void => {
      node.users[user.id] = user;
      // Lazy: an unused pool opens nothing.
      build();
      user.status(configError ? Status.poolDown : status);
    };

    node.deregister = (user: Node, removed: boolean, done: () => void): void => {
      delete node.users[user.id];
      if (removed && Object.keys(node.users).length === 0 && pool) {
        stop(true).then(done, done);
        return;
      }
      done();
    };

    /** The pool stops following; each member server is left to its own users (and closes itself when it is redeployed too). */
    async function stop(removed: boolean): Promise<void> {
      clearInterval(healthTimer);
      const stopping = pool;
      pool = undefined;
      target = undefined;
      if (!stopping) return;
      stopping.close();
      await Promise.all(named.map((server) => new Promise<void>((resolve) => server.deregister(asUser, removed, resolve))));
    }

    node.on('close', (removed: boolean, done: () => void) => {
      closing = true;
      node.users = {};
      stop(removed).then(
        () => done(),
        () => done(),
      );
    });
  }

  /** The member server config nodes, in slot order, each once (deployed ones only). */
  function memberServers(config: PoolConfig): ServerNode[] {
    const servers: ServerNode[] = [];
    for (let slot = 1; slot <= MAX_MEMBERS; slot += 1) {
      const id = config[`server${slot}`];
      if (typeof id !== 'string' || id === '') continue;
      const server = RED.nodes.getNode(id) as ServerNode | null;
      if (server && server.type === 'comfyui-server' && !servers.includes(server)) servers.push(server);
    }
    return servers;
  }

  RED.nodes.registerType('comfyui-pool', ComfyPoolNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};

/** What msg.server says for each member: its Name, else its URL's host; the same name twice gets " (2)". */
function uniqueNames(servers: ServerNode[]): string[] {
  const taken = new Set<string>();
  return servers.map((server) => {
    const base = (server.name ?? '').trim() || hostOf(server.settings.url) || server.id;
    let name = base;
    for (let n = 2; taken.has(name); n += 1) name = `${base} (${n})`;
    taken.add(name);
    return name;
  });
}

function hostOf(url: unknown): string {
  try {
    return new URL(String(url)).host;
  } catch {
    return '';
  }
}
