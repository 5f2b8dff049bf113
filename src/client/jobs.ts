/**
 * The job tracker: prompt_id → job, fed by socket events, finished from history.
 *
 * Jobs are registered before POST /prompt is sent (the client makes the prompt_id), because
 * ComfyUI's worker can emit a prompt's first events before the HTTP answer arrives.
 * Completion is `executing {node: null, prompt_id}`; the history entry is then the truth for
 * outputs. `execution_error` / `execution_interrupted` end a job with their own error kinds.
 */
import { ComfyError } from './errors';
import type { FrameEvent } from './frames';
import { cachedNodesOf, collectFileRefs, executionError, failureOf, interruptedError, titleOf, wasFullyCached } from './outputs';
import type { ImageRef } from './outputs';
import type {
  ApiPrompt,
  ExecutedData,
  ExecutingData,
  ExecutionCachedData,
  ExecutionErrorData,
  ExecutionInterruptedData,
  HistoryEntry,
  HistoryMap,
  NodeId,
  NodeUiOutput,
  ProgressData,
} from './types';

export interface JobProgress {
  promptId: string;
  node: NodeId;
  title: string | undefined;
  /** 1-based position of the running node among the nodes that execute. */
  nodeIndex: number;
  nodeCount: number;
  /** Step progress of the running node, when it reports any. */
  value?: number;
  max?: number;
}

export interface JobResult {
  prompt_id: string;
  outputs: Record<NodeId, NodeUiOutput>;
  images: ImageRef[];
  /** True when ComfyUI executed nothing: every node came from its cache. */
  cached: boolean;
  cachedNodes: NodeId[];
  /** Milliseconds from registration (just before POST /prompt) to completion. */
  duration: number;
  status: 'success';
}

export interface JobCallbacks {
  onRunning?(): void;
  onProgress?(progress: JobProgress): void;
}

export interface TrackerOptions {
  /** How often and how long to re-ask GET /history/{id} while it still answers `{}`. */
  historyAttempts: number;
  historyRetryMs: number;
}

interface Job {
  promptId: string;
  prompt: ApiPrompt;
  callbacks: JobCallbacks;
  registeredAt: number;
  cachedNodes: NodeId[];
  executedNodes: Set<NodeId>;
  /** `executed` outputs seen on the socket: the fallback if history never shows the entry. */
  seenOutputs: Record<NodeId, NodeUiOutput>;
  runningNode: NodeId | undefined;
  finishing: boolean;
  resolve(result: JobResult): void;
  reject(err: Error): void;
}

export type HistoryFetcher = (promptId: string) => Promise<HistoryMap>;

export class JobTracker {
  private readonly jobs = new Map<string, Job>();

  constructor(
    private readonly fetchHistory: HistoryFetcher,
    private readonly options: TrackerOptions = { historyAttempts: 8, historyRetryMs: 50 },
  ) {}

  get size(): number {
    return this.jobs.size;
  }

  has(promptId: string): boolean {
    return this.jobs.has(promptId);
  }

  /** Registers a job; the promise settles exactly once, with the result or a ComfyError. */
  register(promptId: string, prompt: ApiPrompt, callbacks: JobCallbacks = {}): Promise<JobResult> {
    let resolve!: (result: JobResult) => void;
    let reject!: (err: Error) => void;
    const promise = new Promise<JobResult>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // The caller may stop listening (node closed); a settled job must never become an unhandled rejection.
    promise.catch(() => undefined);
    this.jobs.set(promptId, {
      promptId,
      prompt,
      callbacks,
      registeredAt: Date.now(),
      cachedNodes: [],
      executedNodes: new Set(),
      seenOutputs: {},
      runningNode: undefined,
      finishing: false,
      resolve,
      reject,
    });
    return promise;
  }

  /** Ends a job early (its submission failed, or the caller gave up). */
  fail(promptId: string, err: Error): void {
    const job = this.jobs.get(promptId);
    if (!job) return;
    this.jobs.delete(promptId);
    job.reject(err);
  }

  /** Rejects every job, e.g. when the client closes. */
  failAll(err: Error): void {
    for (const promptId of [...this.jobs.keys()]) this.fail(promptId, err);
  }

  handle(event: FrameEvent): void {
    if (event.kind !== 'message') return;
    const { type, data } = event.message;
    if (typeof data !== 'object' || data === null) return;
    const promptId = (data as { prompt_id?: unknown }).prompt_id;
    if (typeof promptId !== 'string') return;
    const job = this.jobs.get(promptId);
    if (!job || job.finishing) return;
    switch (type) {
      case 'execution_start':
        job.callbacks.onRunning?.();
        break;
      case 'execution_cached':
        job.cachedNodes = ((data as ExecutionCachedData).nodes ?? []).map(String);
        break;
      case 'executing':
        this.onExecuting(job, data as ExecutingData);
        break;
      case 'progress':
        this.onProgress(job, data as ProgressData);
        break;
      case 'executed': {
        const executed = data as ExecutedData;
        if (executed.output) job.seenOutputs[String(executed.node)] = executed.output;
        break;
      }
      case 'execution_error':
        // ExecutionBlocked is ComfyUI's non-fatal "a node blocked this branch": the prompt goes on.
        if ((data as ExecutionErrorData).exception_type === 'ExecutionBlocked') break;
        this.settle(job, executionError(data as unknown as Record<string, unknown>, job.prompt, promptId));
        break;
      case 'execution_interrupted':
        this.settle(job, interruptedError(data as unknown as ExecutionInterruptedData & Record<string, unknown>, job.prompt, promptId));
        break;
      default:
        break;
    }
  }

  /**
   * Asks history about every job still waiting: after a socket gap their completion events
   * may be gone for good, and ComfyUI keeps no backlog.
   */
  async resync(): Promise<void> {
    await Promise.all(
      [...this.jobs.values()].map(async (job) => {
        const entry = await this.fetchHistory(job.promptId)
          .then((map) => map[job.promptId])
          .catch(() => undefined);
        if (entry && this.jobs.get(job.promptId) === job && !job.finishing) this.finishFromEntry(job, entry);
      }),
    );
  }

  private onExecuting(job: Job, data: ExecutingData): void {
    if (data.node === null || data.node === undefined) {
      void this.finish(job);
      return;
    }
    const node = String(data.display_node ?? data.node);
    job.runningNode = node;
    job.executedNodes.add(node);
    job.callbacks.onProgress?.(this.progressOf(job, node));
  }

  private onProgress(job: Job, data: ProgressData): void {
    const node = data.node === null || data.node === undefined ? job.runningNode : String(data.node);
    if (node === undefined) return;
    job.callbacks.onProgress?.({ ...this.progressOf(job, node), value: data.value, max: data.max });
  }

  private progressOf(job: Job, node: NodeId): JobProgress {
    const total = Object.keys(job.prompt).length - job.cachedNodes.length;
    return {
      promptId: job.promptId,
      node,
      title: titleOf(job.prompt, node) ?? job.prompt[node]?.class_type,
      nodeIndex: job.executedNodes.size,
      nodeCount: Math.max(total, job.executedNodes.size),
    };
  }

  /** `executing null` arrived: history is written by then, but allow a brief retry while it says `{}`. */
  private async finish(job: Job): Promise<void> {
    job.finishing = true;
    let lastError: unknown;
    for (let attempt = 0; attempt < this.options.historyAttempts; attempt += 1) {
      if (this.jobs.get(job.promptId) !== job) return;
      try {
        const entry = (await this.fetchHistory(job.promptId))[job.promptId];
        if (entry) return this.finishFromEntry(job, entry);
      } catch (err) {
        lastError = err;
      }
      await delay(this.options.historyRetryMs * 2 ** attempt);
    }
    if (this.jobs.get(job.promptId) !== job) return;
    if (Object.keys(job.seenOutputs).length > 0 || lastError === undefined) {
      // History never showed the entry; the outputs the socket reported are the best truth left.
      this.settle(job, this.result(job, job.seenOutputs, job.cachedNodes, job.executedNodes.size === 0));
      return;
    }
    this.settle(
      job,
      new ComfyError('HTTP', `Prompt ${job.promptId} finished but its history could not be read: ${String((lastError as Error)?.message ?? lastError)}`, {
        promptId: job.promptId,
        cause: lastError,
      }),
    );
  }

  private finishFromEntry(job: Job, entry: HistoryEntry): void {
    job.finishing = true;
    const failure = failureOf(entry, job.prompt, job.promptId);
    if (failure) return this.settle(job, failure);
    this.settle(job, this.result(job, entry.outputs ?? {}, cachedNodesOf(entry), wasFullyCached(entry)));
  }

  private result(job: Job, outputs: Record<NodeId, NodeUiOutput>, cachedNodes: NodeId[], cached: boolean): JobResult {
    return {
      prompt_id: job.promptId,
      outputs,
      images: collectFileRefs(outputs),
      cached,
      cachedNodes,
      duration: Date.now() - job.registeredAt,
      status: 'success',
    };
  }

  private settle(job: Job, outcome: JobResult | Error): void {
    if (this.jobs.get(job.promptId) !== job) return;
    this.jobs.delete(job.promptId);
    if (outcome instanceof Error) job.reject(outcome);
    else job.resolve(outcome);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
