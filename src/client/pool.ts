/**
 * A pool of ComfyUI servers behind one submit: each prompt goes to a member that is healthy, has
 * every node class and model file the prompt names, and is least loaded (pool-routing.ts,
 * pool-needs.ts); queue, cancel, history and view act on the member that ran a prompt.
 *
 * Failover, never a duplicate delivery: every prompt is followed on its member. When the member
 * is gone (its socket down for `graceMs`) or answers LOST (it restarted and forgot its queue):
 *   - a prompt that had not started moves to another eligible member under the SAME prompt id;
 *     the first member, when it is back, has it deleted from its queue if it is still pending there;
 *   - a prompt that had started fails LOST, or moves again while its `retries` allow.
 * A member's later word on a moved prompt is ignored: each prompt settles exactly once. What the
 * pool cannot prevent: a member that was unreachable but still alive may have started the prompt
 * before it could be deleted there; the prompt then runs twice, and is still delivered once.
 *
 * The pool does not own its clients: close() stops the pool, the caller closes the clients.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { ComfyClient, CancelOutcome, FollowOptions, QueueEntry, Submission, SubmitOptions } from './client';
import { ComfyError, isComfyError, reasonOf } from './errors';
import type { ComfyEvent } from './events';
import type { Download, ViewOptions } from './http';
import type { JobCallbacks, JobResult } from './jobs';
import type { NodeDefinition } from './node-definitions';
import type { PromptSummary } from './outputs';
import { mergeDefinitions } from './pool-definitions';
import { PoolMember } from './pool-member';
import type { MemberOptions } from './pool-member';
import { missingOn, needsOf } from './pool-needs';
import type { PromptNeeds } from './pool-needs';
import { choose } from './pool-routing';
import type { Candidate } from './pool-routing';
import { clip, formatMs } from './shape';
import type { SocketState } from './socket';
import type { ApiPrompt, HistoryEntry, ResultItem } from './types';

export interface PoolMemberConfig {
  /** Unique within the pool; shown in `server` of results and in error messages. */
  name: string;
  client: ComfyClient;
}

export type PoolOptions = Partial<MemberOptions>;

export const defaultPoolOptions: MemberOptions = { graceMs: 10_000, failureLimit: 3, failureCooldownMs: 15_000 };

export interface PoolSubmitOptions extends Omit<SubmitOptions, 'promptId'> {
  /** Prompts with the same key go to the same member while it stays eligible (its caches stay warm). */
  affinity?: string;
  /** A prompt lost while running is submitted again up to this many times (default 0: it fails LOST). */
  retries?: number;
}

export interface PoolResult extends JobResult {
  /** The member that ran it (after a move, the last one). */
  server: string;
}

export interface PoolSubmission extends Omit<Submission, 'result'> {
  /** The member that accepted it. */
  server: string;
  result?: Promise<PoolResult>;
}

export interface PoolQueueEntry extends QueueEntry {
  server: string;
}

export interface PoolQueueSummary {
  running: PoolQueueEntry[];
  /** Each member's pending prompts in the order it runs them, members in pool order. */
  pending: PoolQueueEntry[];
  queue_remaining: number;
  /** Members whose queue could not be read, with why. */
  unreachable: Array<{ server: string; error: string }>;
}

export interface PoolEvents {
  /** A member's event for flows (listened to only while the pool's 'event' is). */
  event: [{ server: string; event: ComfyEvent }];
  state: [{ server: string; state: SocketState }];
  /** A prompt went to another member. */
  moved: [{ promptId: string; from: string; to: string; reason: string }];
  problem: [string];
}

interface PoolJob {
  promptId: string;
  prompt: ApiPrompt;
  options: PoolSubmitOptions;
  needs: PromptNeeds;
  /** The member following it now; undefined while it is being placed. */
  server: string | undefined;
  /** Bumped on every placement: only the current placement's outcome counts. */
  attempt: number;
  started: boolean;
  lostWhileRunning: number;
  settled: boolean;
  promise: Promise<PoolResult>;
  resolve(result: PoolResult): void;
  reject(err: Error): void;
}

/** Prompt ids remembered with their member after they finished (for history, view, cancel); bounded. */
const REMEMBERED = 5000;
const AFFINITY_KEYS = 1000;
const MESSAGE_LIMIT = 1000;
/** How long a submit waits for members that are still connecting before NO_SERVER (ComfyClient waits as long for its socket). */
const CONNECT_WAIT_MS = 3_000;

export class ComfyPool extends EventEmitter<PoolEvents> {
  private readonly members = new Map<string, PoolMember>();
  private readonly jobs = new Map<string, PoolJob>();
  private readonly where = new Map<string, string>();
  private readonly affinity = new Map<string, string>();
  /** Per member: prompt ids that moved away from it and may still wait in its queue. */
  private readonly orphans = new Map<string, Set<string>>();
  private readonly detachers: Array<() => void> = [];
  private readonly options: MemberOptions;
  private turn = 0;
  /** The last merged definitions and the member maps they were made of (pool-definitions.ts). */
  private merged: { from: Map<string, Map<string, NodeDefinition>>; definitions: Map<string, NodeDefinition> } | undefined;
  private forwarding: Array<() => void> | undefined;
  private closed = false;

  constructor(members: readonly PoolMemberConfig[], options: PoolOptions = {}) {
    super();
    this.setMaxListeners(0);
    if (members.length === 0) throw new ComfyError('INVALID_CONFIG', 'A pool needs at least one server');
    this.options = { ...defaultPoolOptions, ...options };
    for (const { name, client } of members) {
      if (!name || this.members.has(name))
        throw new ComfyError('INVALID_CONFIG', `Pool member names must be unique and not empty: "${name}"`);
      const member = new PoolMember(name, client, this.options);
      this.members.set(name, member);
      const onGone = (): void => this.memberGone(member);
      const onBack = (): void => this.memberBack(member);
      const onState = (state: SocketState): void => void this.emit('state', { server: name, state });
      member.on('gone', onGone);
      member.on('back', onBack);
      client.on('state', onState);
      this.detachers.push(() => {
        member.detach();
        member.off('gone', onGone);
        member.off('back', onBack);
        client.off('state', onState);
      });
    }
    // Members enrich events only while someone listens: so does the pool.
    // (Node's own listener events are not in PoolEvents: they are reached through the untyped emitter.)
    const untyped = this as EventEmitter;
    untyped.on('newListener', (event: string | symbol) => {
      if (event === 'event' && !this.forwarding) this.forwardEvents();
    });
    untyped.on('removeListener', (event: string | symbol) => {
      if (event === 'event' && this.listenerCount('event') === 0) this.stopForwarding();
    });
  }

  /** Member names in pool order. */
  get servers(): string[] {
    return [...this.members.keys()];
  }

  /** The client of a member, for what the pool does not wrap. */
  client(server: string): ComfyClient | undefined {
    return this.members.get(server)?.client;
  }

  /** The member that ran (or runs) a prompt submitted through the pool. */
  serverOf(promptId: string): string | undefined {
    return this.jobs.get(promptId)?.server ?? this.where.get(promptId);
  }

  /** Why each member is out of routing now (undefined: it is in). */
  health(): Array<{ server: string; unavailable?: string; load: number }> {
    return [...this.members.values()].map((member) => {
      const unavailable = member.unavailable();
      return { server: member.name, load: member.load, ...(unavailable === undefined ? {} : { unavailable }) };
    });
  }

  /** The longest text every member lets into an error message or a status. */
  get textLimit(): number {
    return Math.min(...[...this.members.values()].map((member) => member.client.textLimit));
  }

  /**
   * What any member in routing has, for converting and checking a prompt before it is routed
   * (pool-definitions.ts); when none is in routing, every member is asked. `stale` (the map a
   * caller found out of date) asks each member again. Throws the first member's error when no
   * member answers.
   */
  async definitions(stale?: Map<string, NodeDefinition>): Promise<Map<string, NodeDefinition>> {
    const inRouting = [...this.members.values()].filter((member) => member.unavailable() === undefined);
    const asked = inRouting.length > 0 ? inRouting : [...this.members.values()];
    const previous = stale !== undefined && stale === this.merged?.definitions ? this.merged.from : undefined;
    const answers = await Promise.allSettled(asked.map((member) => member.client.definitions(previous?.get(member.name))));
    const from = new Map<string, Map<string, NodeDefinition>>();
    answers.forEach((answer, index) => {
      if (answer.status === 'fulfilled') from.set(asked[index].name, answer.value);
    });
    if (from.size === 0) throw (answers[0] as PromiseRejectedResult).reason;
    const known = this.merged;
    if (known && known.from.size === from.size && [...from].every(([name, map]) => known.from.get(name) === map)) return known.definitions;
    this.merged = { from, definitions: mergeDefinitions([...from.values()]) };
    return this.merged.definitions;
  }

  /**
   * Follows to its end a prompt submitted to `server` before this pool existed (a Node-RED
   * restart): on that member only, without failover (it is not known whether it started).
   */
  async follow(promptId: string, prompt: ApiPrompt, server: string, options: FollowOptions = {}): Promise<PoolResult> {
    const member = this.members.get(server);
    if (!member) {
      throw new ComfyError('LOST', `Prompt ${promptId} was submitted to ${server}, which is no longer a server of the pool`, { promptId });
    }
    this.remember(promptId, server);
    const result = await member.client.follow(promptId, prompt, options);
    return { ...result, server };
  }

  /**
   * Removes pending prompts from the members that hold them (a prompt the pool does not know is
   * looked for on every member; 'all' clears every queue). Like ComfyClient.removePending, never a
   * running one. Members that could not be asked are listed in the queue's `unreachable`.
   */
  async removePending(ids: string[] | 'all'): Promise<{ deleted: string[]; ignored: string[]; queue: PoolQueueSummary }> {
    const work = new Map<string, string[] | 'all'>();
    for (const server of this.servers) {
      if (ids === 'all') work.set(server, 'all');
      else {
        const mine = ids.filter((id) => (this.serverOf(id) ?? server) === server);
        if (mine.length > 0) work.set(server, mine);
      }
    }
    const servers = [...work.keys()];
    const answers = await Promise.allSettled(servers.map((server) => this.members.get(server)!.client.removePending(work.get(server)!)));
    const deleted = new Set<string>();
    const failed: Array<{ server: string; error: string }> = [];
    let ignoredOfAll: string[] = [];
    answers.forEach((answer, index) => {
      if (answer.status === 'rejected') return void failed.push({ server: servers[index], error: reasonOf(answer.reason) });
      for (const id of answer.value.deleted) deleted.add(id);
      if (ids === 'all') ignoredOfAll = [...ignoredOfAll, ...answer.value.ignored];
    });
    if (failed.length > 0 && failed.length === servers.length) throw (answers[0] as PromiseRejectedResult).reason;
    const queue = await this.queueSummary();
    for (const entry of failed) if (!queue.unreachable.some((known) => known.server === entry.server)) queue.unreachable.push(entry);
    const ignored = ids === 'all' ? ignoredOfAll : [...new Set(ids)].filter((id) => !deleted.has(id));
    return { deleted: [...deleted], ignored, queue };
  }

  /** Every member's history (in the submit result's shape, each entry with its member); members that did not answer are listed apart. */
  async history(query: { max_items?: number; offset?: number } = {}): Promise<{
    entries: Array<PromptSummary & { server: string }>;
    unreachable: Array<{ server: string; error: string }>;
  }> {
    const servers = this.servers;
    const answers = await Promise.allSettled(servers.map((server) => this.members.get(server)!.client.history(query)));
    const entries: Array<PromptSummary & { server: string }> = [];
    const unreachable: Array<{ server: string; error: string }> = [];
    answers.forEach((answer, index) => {
      const server = servers[index];
      if (answer.status === 'rejected') unreachable.push({ server, error: reasonOf(answer.reason) });
      else entries.push(...answer.value.map((entry) => ({ ...entry, server })));
    });
    if (unreachable.length === servers.length) throw (answers[0] as PromiseRejectedResult).reason;
    return { entries, unreachable };
  }

  /**
   * Runs `work` on each named member (default: every member) at once. All must succeed: one error
   * names every member that failed and why, with the first failure's code, after the others ran.
   */
  async each<T>(
    work: (client: ComfyClient, server: string) => Promise<T>,
    servers: readonly string[] = this.servers,
  ): Promise<Array<{ server: string; value: T }>> {
    const answers = await Promise.allSettled(
      servers.map((server) => {
        const member = this.members.get(server);
        return member
          ? work(member.client, server)
          : Promise.reject(new ComfyError('NO_SERVER', `The pool has no server named "${server}"`));
      }),
    );
    const failures = answers.flatMap((answer, index) =>
      answer.status === 'rejected' ? [{ server: servers[index], reason: answer.reason as unknown }] : [],
    );
    if (failures.length > 0) {
      const first = failures[0].reason;
      const code = isComfyError(first) ? first.code : 'INTERNAL';
      const text = failures.map(({ server, reason }) => `${server}: ${reasonOf(reason)}`).join('; ');
      const done = servers.length - failures.length;
      throw new ComfyError(
        code,
        clip(`${done > 0 ? `Done on ${done} of ${servers.length} servers; failed on ` : ''}${text}`, MESSAGE_LIMIT),
      );
    }
    return answers.map((answer, index) => ({ server: servers[index], value: (answer as PromiseFulfilledResult<T>).value }));
  }

  /** The members that can take prompts now, in pool order. */
  get available(): string[] {
    return [...this.members.values()].filter((member) => member.unavailable() === undefined).map((member) => member.name);
  }

  async submit(prompt: ApiPrompt, options: PoolSubmitOptions): Promise<PoolSubmission> {
    if (this.closed) throw new ComfyError('CLOSED', 'The pool is closed');
    let resolve!: (result: PoolResult) => void;
    let reject!: (err: Error) => void;
    const promise = new Promise<PoolResult>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // The caller may not wait for the result (wait: false) or stop listening: never an unhandled rejection.
    promise.catch(() => undefined);
    const job: PoolJob = {
      promptId: randomUUID(),
      prompt,
      options,
      needs: needsOf(prompt),
      server: undefined,
      attempt: 0,
      started: false,
      lostWhileRunning: 0,
      settled: false,
      promise,
      resolve,
      reject,
    };
    const { submission, server } = await this.place(job);
    const { promptId, number, droppedNodes, nodeErrors } = submission;
    return { promptId, number, droppedNodes, nodeErrors, server, ...(options.wait ? { result: promise } : {}) };
  }

  async queueSummary(): Promise<PoolQueueSummary> {
    const members = [...this.members.values()];
    const answers = await Promise.allSettled(members.map((member) => member.client.queueSummary()));
    const summary: PoolQueueSummary = { running: [], pending: [], queue_remaining: 0, unreachable: [] };
    answers.forEach((answer, index) => {
      const server = members[index].name;
      if (answer.status === 'rejected') return void summary.unreachable.push({ server, error: reasonOf(answer.reason) });
      summary.running.push(...answer.value.running.map((entry) => ({ ...entry, server })));
      summary.pending.push(...answer.value.pending.map((entry) => ({ ...entry, server })));
      summary.queue_remaining += answer.value.queue_remaining;
    });
    return summary;
  }

  /** Cancels a prompt on the member that has it; a prompt the pool never placed is looked for on every member. */
  async cancel(promptId: string): Promise<{ outcome: CancelOutcome; prompt_id: string; server?: string }> {
    const known = this.serverOf(promptId);
    const servers = known === undefined ? this.servers : [known];
    for (const server of servers) {
      const outcome = await this.members.get(server)!.client.cancel(promptId);
      if (outcome.outcome !== 'unknown' || known !== undefined) return { outcome: outcome.outcome, prompt_id: promptId, server };
    }
    return { outcome: 'unknown', prompt_id: promptId };
  }

  /** The history entry of a prompt with the member that has it, or undefined while none has one. */
  async historyEntry(promptId: string): Promise<{ server: string; entry: HistoryEntry } | undefined> {
    const known = this.serverOf(promptId);
    const servers = known === undefined ? this.servers : [known];
    const answers = await Promise.allSettled(servers.map((server) => this.members.get(server)!.client.historyEntry(promptId)));
    for (const [index, answer] of answers.entries()) {
      if (answer.status === 'fulfilled' && answer.value) return { server: servers[index], entry: answer.value };
    }
    const failed = answers.find((answer): answer is PromiseRejectedResult => answer.status === 'rejected');
    if (known !== undefined && failed) throw failed.reason;
    return undefined;
  }

  /** A file of a prompt's outputs, from the member that ran it. */
  view(promptId: string, ref: ResultItem, options?: ViewOptions): Promise<Download> {
    const server = this.serverOf(promptId);
    if (server === undefined) {
      return Promise.reject(new ComfyError('NOT_FOUND', `No server of the pool ran prompt ${promptId}`, { promptId }));
    }
    return this.members.get(server)!.client.view(ref, options);
  }

  /** Stops the pool: prompts it follows end with CLOSED (left to run on their server). The clients stay open (their owner closes them). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const job of [...this.jobs.values()]) {
      const closed = new ComfyError('CLOSED', 'The pool was closed before the prompt finished', { promptId: job.promptId });
      // Its member stops following it too (the prompt itself stays on the server).
      if (job.server !== undefined) this.members.get(job.server)?.client.forget(job.promptId, closed);
      this.settle(job, closed);
    }
    this.stopForwarding();
    for (const detach of this.detachers) detach();
  }

  /**
   * Places a job on a member: routes, submits, and on a failure of the member (not of the prompt)
   * tries the next eligible one. Resolves once a member accepted it.
   */
  private async place(job: PoolJob): Promise<{ submission: Submission; server: string }> {
    const excluded = new Map<string, string>();
    for (;;) {
      const server = await this.route(job, excluded);
      const member = this.members.get(server)!;
      const attempt = (job.attempt += 1);
      job.server = undefined;
      member.postsInFlight += 1;
      let submission: Submission;
      try {
        submission = await member.client.submit(job.prompt, {
          ...job.options,
          wait: true,
          promptId: job.promptId,
          callbacks: this.callbacksFor(job, attempt),
        });
      } catch (err) {
        if (!movable(err)) {
          this.settle(job, err as Error);
          throw err;
        }
        member.failed(reasonOf(err));
        // The POST may have reached the server before the connection broke.
        if (isComfyError(err, 'NETWORK') || isComfyError(err, 'TIMEOUT')) this.orphan(server, job.promptId);
        excluded.set(server, `failed to take it: ${reasonOf(err)}`);
        continue;
      } finally {
        member.postsInFlight -= 1;
      }
      if (this.closed || job.settled) {
        member.client.forget(job.promptId, new ComfyError('CLOSED', 'The pool was closed'));
        throw new ComfyError('CLOSED', 'The pool was closed before the prompt was placed', { promptId: job.promptId });
      }
      member.submitted();
      job.server = server;
      member.active.add(job.promptId);
      this.orphans.get(server)?.delete(job.promptId);
      this.jobs.set(job.promptId, job);
      this.remember(job.promptId, server);
      if (job.options.affinity !== undefined) this.bind(job.options.affinity, server);
      submission.result!.then(
        (result) => this.finished(job, attempt, server, result),
        (err: Error) => this.failedOn(job, attempt, server, err),
      );
      // Accepted by a member that is already taken as gone: it moves at once instead of waiting for it.
      if (member.isGone) this.memberGone(member);
      return { submission, server };
    }
  }

  private async route(job: PoolJob, excluded: ReadonlyMap<string, string>, waited = false): Promise<string> {
    const members = [...this.members.values()];
    let definitions = await Promise.all(members.map((member) => this.definitionsOf(member, excluded)));
    let choice = choose(this.candidates(job, members, definitions, excluded), this.turn, this.preferred(job));
    if ('reasons' in choice && definitions.some((known) => known instanceof Map && missingOn(job.needs, known).length > 0)) {
      // A model file added since the definitions were read: ask those members again, once.
      definitions = await Promise.all(members.map((member, index) => this.definitionsOf(member, excluded, definitions[index])));
      choice = choose(this.candidates(job, members, definitions, excluded), this.turn, this.preferred(job));
    }
    if ('reasons' in choice && !waited && members.some((member) => member.mayConnectSoon)) {
      // Members still (re)connecting, e.g. a pool just started: like ComfyClient.submit, wait a moment for them.
      await this.someMemberConnects(CONNECT_WAIT_MS);
      return this.route(job, excluded, true);
    }
    if ('reasons' in choice) {
      const reasons = choice.reasons.map(({ server, reason }) => `${server} ${reason}`).join('; ');
      throw new ComfyError('NO_SERVER', clip(`No server of the pool can take prompt ${job.promptId}: ${reasons}`, MESSAGE_LIMIT), {
        promptId: job.promptId,
      });
    }
    this.turn = choice.index + 1;
    return choice.server;
  }

  /** Resolves when any member connects, or after `ms`. */
  private someMemberConnects(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const clients = [...this.members.values()].map((member) => member.client);
      const onState = (state: SocketState): void => {
        if (state === 'connected') done();
      };
      const timer = setTimeout(() => done(), ms);
      const done = (): void => {
        clearTimeout(timer);
        for (const client of clients) client.off('state', onState);
        resolve();
      };
      for (const client of clients) client.on('state', onState);
    });
  }

  /** A member's definitions, or why they are not known; `stale` asks again. */
  private async definitionsOf(
    member: PoolMember,
    excluded: ReadonlyMap<string, string>,
    stale?: Map<string, NodeDefinition> | string,
  ): Promise<Map<string, NodeDefinition> | string> {
    if (excluded.has(member.name) || member.unavailable() !== undefined) return 'unavailable';
    try {
      return await member.client.definitions(stale instanceof Map ? stale : undefined);
    } catch (err) {
      return `its node definitions could not be read: ${reasonOf(err)}`;
    }
  }

  /** Built synchronously after every await, so that loads are read at the moment of choosing. */
  private candidates(
    job: PoolJob,
    members: PoolMember[],
    definitions: Array<Map<string, NodeDefinition> | string>,
    excluded: ReadonlyMap<string, string>,
  ): Candidate[] {
    return members.map((member, index) => {
      const known = definitions[index];
      const unavailable = excluded.get(member.name) ?? member.unavailable() ?? (typeof known === 'string' ? known : undefined);
      const missing = known instanceof Map ? missingOn(job.needs, known) : [];
      return { name: member.name, load: member.load, missing, ...(unavailable === undefined ? {} : { unavailable }) };
    });
  }

  private preferred(job: PoolJob): string | undefined {
    return job.options.affinity === undefined ? undefined : this.affinity.get(job.options.affinity);
  }

  private callbacksFor(job: PoolJob, attempt: number): JobCallbacks {
    const current = (): boolean => job.attempt === attempt && !job.settled;
    const given = job.options.callbacks;
    return {
      onRunning: () => {
        if (!current()) return;
        job.started = true;
        given?.onRunning?.();
      },
      onProgress: (progress) => {
        if (current()) given?.onProgress?.(progress);
      },
      onQueuePosition: (position) => {
        if (current()) given?.onQueuePosition?.(position);
      },
    };
  }

  private finished(job: PoolJob, attempt: number, server: string, result: JobResult): void {
    if (job.attempt !== attempt) return;
    this.settle(job, { ...result, server });
  }

  private failedOn(job: PoolJob, attempt: number, server: string, err: Error): void {
    if (job.attempt !== attempt || job.settled) return;
    // The member restarted and forgot it: it was never run there (or was lost running).
    if (isComfyError(err, 'LOST')) return this.move(job, server, reasonOf(err));
    this.settle(job, err);
  }

  /** The member is gone: what it held moves (or fails LOST when it was running). */
  private memberGone(member: PoolMember): void {
    for (const promptId of [...member.active]) {
      const job = this.jobs.get(promptId);
      if (!job || job.server !== member.name) continue;
      this.move(job, member.name, `${member.name} was unreachable for ${formatMs(this.options.graceMs)}`);
      this.orphan(member.name, promptId);
      member.client.forget(promptId, new ComfyError('LOST', `Prompt ${promptId} moved to another server of the pool`, { promptId }));
    }
  }

  /** Back after a gap: prompts that moved away and still wait in its queue are deleted there. */
  private memberBack(member: PoolMember): void {
    const ids = [...(this.orphans.get(member.name) ?? [])].filter((id) => this.jobs.get(id)?.server !== member.name);
    this.orphans.delete(member.name);
    if (ids.length === 0) return;
    member.client.removePending(ids).catch((err: unknown) => {
      this.emit('problem', `could not delete ${ids.length} moved prompts from the queue of ${member.name}: ${reasonOf(err)}`);
    });
  }

  private move(job: PoolJob, from: string, reason: string): void {
    if (job.settled) return;
    this.members.get(from)?.active.delete(job.promptId);
    // Whatever the old member still says about it is stale from now on.
    job.attempt += 1;
    job.server = undefined;
    if (job.started) {
      if (job.lostWhileRunning >= (job.options.retries ?? 0)) {
        return this.settle(
          job,
          new ComfyError('LOST', `Prompt ${job.promptId} was lost while running on ${from}: ${reason}`, { promptId: job.promptId }),
        );
      }
      job.lostWhileRunning += 1;
      job.started = false;
    }
    this.place(job).then(
      ({ server }) => this.emit('moved', { promptId: job.promptId, from, to: server, reason }),
      (err: unknown) => this.settle(job, err instanceof Error ? err : new ComfyError('INTERNAL', reasonOf(err))),
    );
  }

  private settle(job: PoolJob, outcome: PoolResult | Error): void {
    if (job.settled) return;
    job.settled = true;
    this.jobs.delete(job.promptId);
    if (job.server !== undefined) this.members.get(job.server)?.active.delete(job.promptId);
    if (outcome instanceof Error) job.reject(outcome);
    else job.resolve(outcome);
  }

  private orphan(server: string, promptId: string): void {
    const set = this.orphans.get(server) ?? new Set<string>();
    set.add(promptId);
    this.orphans.set(server, set);
  }

  private remember(promptId: string, server: string): void {
    this.where.delete(promptId);
    this.where.set(promptId, server);
    if (this.where.size > REMEMBERED) this.where.delete(this.where.keys().next().value as string);
  }

  private bind(key: string, server: string): void {
    this.affinity.delete(key);
    this.affinity.set(key, server);
    if (this.affinity.size > AFFINITY_KEYS) this.affinity.delete(this.affinity.keys().next().value as string);
  }

  private forwardEvents(): void {
    this.forwarding = [...this.members.values()].map((member) => {
      const forward = (event: ComfyEvent): void => void this.emit('event', { server: member.name, event });
      member.client.on('event', forward);
      return () => member.client.off('event', forward);
    });
  }

  private stopForwarding(): void {
    for (const stop of this.forwarding ?? []) stop();
    this.forwarding = undefined;
  }
}

/** A failure of the member (unreachable, refusing, broken), not of the prompt: another member may take it. */
function movable(err: unknown): boolean {
  if (!isComfyError(err)) return false;
  if (err.code === 'HTTP') return err.status === undefined || err.status >= 500;
  return ['NETWORK', 'TIMEOUT', 'CLOSED', 'AUTH', 'WRONG_ENDPOINT', 'BAD_RESPONSE'].includes(err.code);
}
