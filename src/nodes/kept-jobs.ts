/**
 * A submit node's prompts beyond the life of one node instance (issue 13 §3): each prompt it
 * waits for is written to the job store, and when the node starts, what the store still holds is
 * followed to its end and reported once, from the node deployed now. One per node instance; the
 * registry is one per runtime, since during a redeploy the old instance still follows its prompts
 * while the new one reads the store.
 */
import type { Node, NodeAPI } from 'node-red';
import { ComfyError, isComfyError } from '../client/errors';
import type { JobProgress, JobResult } from '../client/jobs';
import type { QueuePosition } from '../client/queue-positions';
import { asComfyError, reportFailure } from './failure';
import { MAX_RECORD_CHARS, storableMsg } from './job-record';
import type { JobRecord } from './job-record';
import { JobStore } from './job-store';
import { liveInstance, targetOf, usableTarget } from './server-api';
import type { TargetNode } from './server-api';

/** Prompt ids recently followed or delivered in this process: never twice, bounded like the client's memory of prompts. */
class RecentIds {
  private readonly ids = new Set<string>();
  constructor(private readonly limit: number) {}
  has(id: string): boolean {
    return this.ids.has(id);
  }
  add(id: string): void {
    this.ids.add(id);
    if (this.ids.size > this.limit) this.ids.delete(this.ids.values().next().value as string);
  }
  delete(id: string): void {
    this.ids.delete(id);
  }
}

export interface KeptJobsRegistry {
  claimed: RecentIds;
  /** By node id, shared by the instances of one node: a node removed after a redeploy also cancels what its predecessor still follows. */
  followedBy: Map<string, Set<string>>;
}

export function keptJobsRegistry(): KeptJobsRegistry {
  return { claimed: new RecentIds(2000), followedBy: new Map() };
}

export interface KeptJobsHooks {
  /** The submit node's Timeout: a recovered prompt gets what is left of it. */
  timeoutMs: number | undefined;
  /** A recovered prompt finished: send `msg` (the stored one, with prompt_id and recovered set). */
  onResult(msg: Record<string, unknown>, result: JobResult, record: JobRecord): void;
  onProgress(progress: JobProgress): void;
  /** A recovered prompt that still waits moved in the queue. */
  onQueuePosition?(position: QueuePosition): void;
}

export class KeptJobs {
  private readonly store: JobStore | undefined;
  private readonly following: Set<string>;
  private readonly warned = new Set<string>();
  /** Records of the prompts this instance keeps, to write again when a pool moves one to another member. */
  private readonly records = new Map<string, JobRecord>();
  private readonly stopMoves: () => void;
  private closing = false;

  constructor(
    private readonly RED: NodeAPI,
    private readonly node: Node,
    private readonly server: TargetNode | undefined,
    private readonly registry: KeptJobsRegistry,
    private readonly hooks: KeptJobsHooks,
  ) {
    this.store = server ? new JobStore(node, server.settings.jobStore) : undefined;
    this.following = registry.followedBy.get(node.id) ?? new Set<string>();
    registry.followedBy.set(node.id, this.following);
    this.stopMoves = usableTarget(server)?.onMoved((promptId, member) => this.moved(promptId, member)) ?? (() => undefined);
  }

  /** A prompt this instance submitted and waits for: no other instance picks it up from the store. */
  track(promptId: string): void {
    this.registry.claimed.add(promptId);
    this.following.add(promptId);
  }

  /** Writes the prompt down before its result is awaited; a store failure costs durability, not the prompt. */
  async keep(record: Omit<JobRecord, 'msg'>, msg: object): Promise<boolean> {
    if (!this.store) return false;
    const { msg: stored, dropped } = storableMsg(msg);
    if (dropped.length > 0) this.warnOnce('dropped', `Kept for a restart without what a context store cannot hold: ${dropped.join(', ')} (said once)`);
    const full: JobRecord = { ...record, msg: stored };
    if (JSON.stringify(full).length > MAX_RECORD_CHARS) {
      this.warnOnce('large', `Prompt ${record.promptId} is too large to keep in the job store: a restart before it finishes loses its result (said once)`);
      return false;
    }
    try {
      await this.store.save(full);
      this.records.set(full.promptId, full);
      return true;
    } catch (err) {
      this.warnOnce('save', `The job store could not keep prompt ${record.promptId}: ${asComfyError(err, 'INTERNAL').message} (said once)`);
      return false;
    }
  }

  /** The prompt's outcome was reported: its record goes. */
  forget(promptId: string): void {
    this.following.delete(promptId);
    this.records.delete(promptId);
    this.store
      ?.remove(promptId)
      .catch((err: unknown) => this.warnOnce('remove', `The job store could not drop prompt ${promptId}: ${asComfyError(err, 'INTERNAL').message}`));
  }

  /**
   * The config node closed under a kept prompt while this node closes too (a redeploy, a stop):
   * the record stays for the next instance, and nothing is reported. True when that is the case.
   */
  handOver(err: unknown, promptId: string | undefined, kept: boolean): boolean {
    if (!this.closing || !kept || promptId === undefined || !isComfyError(err, 'CLOSED')) return false;
    this.following.delete(promptId);
    this.registry.claimed.delete(promptId);
    return true;
  }

  /** Prompts a previous instance or process left in the store: each followed to its end and reported once. */
  async recover(): Promise<void> {
    if (!this.store) return;
    const { records, skipped } = await this.store.list();
    if (skipped > 0) this.node.warn(`Ignored ${skipped} unreadable entries in the job store`);
    for (const record of records) {
      if (this.registry.claimed.has(record.promptId)) continue;
      this.track(record.promptId);
      this.follow(record).catch((err: unknown) => this.node.error(asComfyError(err, 'INTERNAL')));
    }
  }

  /**
   * The node closes. A redeploy or a stop leaves the prompts to the next instance; a removed node
   * has nobody left to report them: their records go, after cancelling them when `cancel`.
   */
  async close(removed: boolean, cancel: boolean): Promise<void> {
    this.closing = true;
    this.stopMoves();
    if (!removed) return;
    this.registry.followedBy.delete(this.node.id);
    const ids = [...this.following];
    const target = cancel ? usableTarget(this.server) : undefined;
    const cancels = target ? ids.map((id) => target.cancel(id)) : [];
    await Promise.allSettled([...cancels, ...ids.map((id) => this.store?.remove(id))]);
  }

  private async follow(record: JobRecord): Promise<void> {
    const msg: Record<string, unknown> = { ...record.msg, prompt_id: record.promptId, recovered: true };
    try {
      // Each record names the config node (server or pool) it was submitted to, and a pool's member.
      const owner = record.server === this.server?.id ? this.server : ((this.RED.nodes.getNode(record.server) as TargetNode | null) ?? undefined);
      if (!owner) {
        throw new ComfyError('LOST', `Prompt ${record.promptId} was submitted to a ComfyUI server configuration that no longer exists`, {
          promptId: record.promptId,
        });
      }
      const { timeoutMs } = this.hooks;
      const result = await targetOf(owner).follow(record.promptId, record.prompt, record.member, {
        submittedAt: record.submittedAt,
        totalTimeoutMs: timeoutMs === undefined ? undefined : Math.max(1, record.submittedAt + timeoutMs - Date.now()),
        callbacks: { onProgress: (p) => this.hooks.onProgress(p), onQueuePosition: (p) => this.hooks.onQueuePosition?.(p) },
      });
      // Sent first, then forgotten: a crash between the two sends it again after the next start (msg.recovered says so), never not at all.
      this.hooks.onResult(msg, result, record);
      this.forget(record.promptId);
    } catch (err) {
      if (this.handOver(err, record.promptId, true)) return;
      const target = liveInstance(this.RED, this.node);
      reportFailure(target, err, 'comfyui-submit.status.error', msg);
      this.forget(record.promptId);
    }
  }

  /** A pool moved a kept prompt: its record names the new member, so a restart follows it there. */
  private moved(promptId: string, member: string): void {
    const record = this.records.get(promptId);
    if (!record || !this.store) return;
    const next = { ...record, member };
    this.records.set(promptId, next);
    this.store.save(next).catch((err: unknown) => this.warnOnce('save', `The job store could not keep prompt ${promptId}: ${asComfyError(err, 'INTERNAL').message} (said once)`));
  }

  private warnOnce(kind: string, text: string): void {
    if (this.warned.has(kind)) return;
    this.warned.add(kind);
    this.node.warn(text);
  }
}
