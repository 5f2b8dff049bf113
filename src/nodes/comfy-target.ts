/**
 * What a palette node works with: one ComfyUI server (a `comfyui-server` config node's client) or
 * a pool of them (a `comfyui-pool` config node's ComfyPool), behind one small interface so each
 * adapter has one code path. A pool's answers name the member (`server`); a server's never do.
 * Protocol and routing stay in src/client; this only chooses which of the two to call.
 */
import type { ComfyClient, CancelOutcome, QueueSummary, FollowOptions } from '../client/client';
import { ComfyError } from '../client/errors';
import type { ComfyEvent } from '../client/events';
import type { JobResult } from '../client/jobs';
import type { NodeDefinition } from '../client/node-definitions';
import type { PromptSummary } from '../client/outputs';
import type { ComfyPool, PoolQueueSummary, PoolSubmitOptions } from '../client/pool';
import type { NodeProblem } from '../client/validation';
import type { ApiPrompt, HistoryEntry } from '../client/types';

export interface TargetSubmission {
  promptId: string;
  number: number;
  droppedNodes: NodeProblem[];
  nodeErrors: Record<string, unknown>;
  /** The pool member that accepted it. */
  server?: string;
  result?: Promise<TargetResult>;
}

/** A pool's result names the member that ran the prompt (after a move, the last one). */
export type TargetResult = JobResult & { server?: string };

/** Which members a request goes to when msg.server names none (a server has just itself). */
export type MemberScope = 'all' | 'routing' | 'first';

export interface ComfyTarget {
  readonly pool: ComfyPool | undefined;
  readonly textLimit: number;
  definitions(stale?: Map<string, NodeDefinition>): Promise<Map<string, NodeDefinition>>;
  submit(prompt: ApiPrompt, options: PoolSubmitOptions): Promise<TargetSubmission>;
  /** Follows a prompt submitted before (a restart); `member` is the pool member it was submitted to. */
  follow(promptId: string, prompt: ApiPrompt, member: string | undefined, options: FollowOptions): Promise<TargetResult>;
  /** Without an id: whatever runs now (in a pool: on the member `server` names, else on every member). */
  cancel(promptId: string | undefined, server?: string): Promise<{ outcome: CancelOutcome; prompt_id?: string; server?: string }>;
  queueSummary(): Promise<QueueSummary | PoolQueueSummary>;
  removePending(ids: string[] | 'all'): Promise<{ deleted: string[]; ignored: string[]; queue: QueueSummary | PoolQueueSummary }>;
  history(query: { max_items?: number; offset?: number }): Promise<{ entries: PromptSummary[]; unreachable: Array<{ server: string; error: string }> }>;
  historyEntry(promptId: string): Promise<{ server?: string; entry: HistoryEntry } | undefined>;
  /** The client that holds a prompt's files: the member `server` names, else the one that ran `promptId`. */
  filesOf(promptId: string | undefined, server: string | undefined): { server?: string; client: ComfyClient };
  /** `work` on the member `server` names, else on the members `scope` says (a server: on itself). */
  onMembers<T>(server: string | undefined, scope: MemberScope, work: (client: ComfyClient, server?: string) => Promise<T>): Promise<Array<{ server?: string; value: T }>>;
  /** Every event of the server (of every member, each named); returns the unsubscribe. */
  onEvent(listener: (event: ComfyEvent, server?: string) => void): () => void;
  /** A pool moved a prompt to another member; a server never calls it. Returns the unsubscribe. */
  onMoved(listener: (promptId: string, server: string) => void): () => void;
}

export function serverTarget(client: ComfyClient): ComfyTarget {
  return {
    pool: undefined,
    get textLimit() {
      return client.textLimit;
    },
    definitions: (stale) => client.definitions(stale),
    submit: (prompt, { affinity: _affinity, retries: _retries, ...options }) => client.submit(prompt, options),
    follow: (promptId, prompt, _member, options) => client.follow(promptId, prompt, options),
    cancel: (promptId) => client.cancel(promptId),
    queueSummary: () => client.queueSummary(),
    removePending: (ids) => client.removePending(ids),
    history: async (query) => ({ entries: await client.history(query), unreachable: [] }),
    historyEntry: async (promptId) => {
      const entry = await client.historyEntry(promptId);
      return entry ? { entry } : undefined;
    },
    filesOf: () => ({ client }),
    onMembers: async (_server, _scope, work) => [{ value: await work(client) }],
    onEvent(listener) {
      // The client's events name no member: the listener itself, without a hop per event.
      client.on('event', listener);
      return () => client.off('event', listener);
    },
    onMoved: () => () => undefined,
  };
}

export function poolTarget(pool: ComfyPool): ComfyTarget {
  const member = (server: string): ComfyClient => {
    const client = pool.client(server);
    if (!client) throw new ComfyError('BAD_INPUT', `The pool has no server named "${server}": it has ${pool.servers.map((name) => `"${name}"`).join(', ')}`);
    return client;
  };
  const inRouting = (): string[] => {
    const available = pool.available;
    if (available.length === 0) {
      const why = pool.health().map(({ server, unavailable }) => `${server} ${unavailable ?? 'is busy'}`);
      throw new ComfyError('NO_SERVER', `No server of the pool can be asked now: ${why.join('; ')}`);
    }
    return available;
  };
  return {
    pool,
    get textLimit() {
      return pool.textLimit;
    },
    definitions: (stale) => pool.definitions(stale),
    submit: (prompt, options) => pool.submit(prompt, options),
    follow: (promptId, prompt, server, options) => {
      if (server === undefined) return Promise.reject(new ComfyError('LOST', `Prompt ${promptId} was kept without the server of the pool it went to`, { promptId }));
      return pool.follow(promptId, prompt, server, options);
    },
    async cancel(promptId, server) {
      if (promptId !== undefined) return pool.cancel(promptId);
      const answers = await this.onMembers(server, 'all', (client) => client.cancel());
      const stopped = answers.find((answer) => answer.value.outcome === 'interrupted');
      return stopped ? { ...stopped.value, server: stopped.server } : { outcome: 'idle' };
    },
    queueSummary: () => pool.queueSummary(),
    removePending: (ids) => pool.removePending(ids),
    history: (query) => pool.history(query),
    historyEntry: (promptId) => pool.historyEntry(promptId),
    filesOf(promptId, server) {
      const name = server ?? (promptId === undefined ? undefined : pool.serverOf(promptId));
      if (name === undefined) {
        throw new ComfyError('BAD_INPUT', 'Which server of the pool made these files is not known: send msg.server (the submit node sets it) or msg.prompt_id');
      }
      return { server: name, client: member(name) };
    },
    async onMembers(server, scope, work) {
      if (server !== undefined) member(server);
      const servers = server !== undefined ? [server] : scope === 'all' ? pool.servers : scope === 'routing' ? inRouting() : inRouting().slice(0, 1);
      return pool.each(work, servers);
    },
    onEvent(listener) {
      const forward = ({ server, event }: { server: string; event: ComfyEvent }): void => listener(event, server);
      pool.on('event', forward);
      return () => pool.off('event', forward);
    },
    onMoved(listener) {
      const forward = ({ promptId, to }: { promptId: string; to: string }): void => listener(promptId, to);
      pool.on('moved', forward);
      return () => pool.off('moved', forward);
    },
  };
}
