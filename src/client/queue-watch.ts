/**
 * The queue as one client's waiting prompts see it: their positions and ETAs, from one shared,
 * rate-limited GET /queue however many prompts wait, and the run times of this client's own
 * prompts on this server (run-times.ts), which the ETAs are made of.
 *
 * When to ask: ComfyUI broadcasts `status` on every change of its queue (a prompt added, taken by
 * the worker, done, deleted). Every one of them is a reason to look, not only those whose
 * queue_remaining differs: the worker taking the next prompt moves everyone waiting one place up
 * while queue_remaining stays the same. The broadcasts come in bursts (done, then taken), so a
 * look waits a moment for the rest of the burst, and looks are at least `minIntervalMs` apart (more
 * while looks are slow, see LOOK_SHARE), with one more after the last reason, so the final state of
 * the queue is always seen.
 */
import { positionsOf } from './queue-positions';
import type { QueuePosition } from './queue-positions';
import { defaultRunTimesOptions, RunTimes } from './run-times';
import type { RunTimesOptions } from './run-times';
import type { FrameEvent } from './frames';
import type { ApiPrompt, QueueState } from './types';
import { workflowFingerprint } from './workflow-fingerprint';

export interface QueueWatchOptions {
  /** A burst of queue changes is read once, this long after its first change. */
  debounceMs: number;
  /** GET /queue at most this often for all waiting prompts together. */
  minIntervalMs: number;
  runTimes: RunTimesOptions;
}

/**
 * Looks take at most this share of the time: the wait after a look is at least this many times
 * as long as the look took. Every queued item carries its whole prompt, so with hundreds queued a
 * look costs the server (and us) tens of milliseconds, and four a second would slow the very
 * queue they report on (500 prompts at once: 1.3× the time of a client that never looks).
 */
const LOOK_SHARE = 10;

export const defaultQueueWatchOptions: QueueWatchOptions = { debounceMs: 30, minIntervalMs: 250, runTimes: defaultRunTimesOptions };

/** Called for each new position of a watched prompt, with the listener given for that prompt. */
export type PositionReport = (position: QueuePosition, listener: ((position: QueuePosition) => void) | undefined) => void;

interface Watched {
  listener: ((position: QueuePosition) => void) | undefined;
  /** Looks started before the watch began cannot know the prompt: its absence there means nothing. */
  sinceLook: number;
  last?: { position: number; ahead: number };
}

interface OwnPrompt {
  nodeCount: number;
  /** Until its fingerprint is worked out (see remember()); then dropped, so no prompt is kept for it. */
  prompt: ApiPrompt | undefined;
  fingerprint: string | undefined;
}

interface Run {
  since: number;
  /** Started as far as we know, from a queue view rather than from its execution_start: no run time to record. */
  guessed: boolean;
  /** Every node came from ComfyUI's cache: how long that took says nothing about the workflow. */
  cached: boolean;
}

/** Prompts remembered for run times and starts; beyond these the oldest are forgotten. */
const REMEMBERED = 1000;
/** Watched prompts; more than ComfyUI's queue plausibly holds for one client. */
const MAX_WATCHED = 5000;

export class QueueWatch {
  private readonly runTimes: RunTimes;
  private readonly own = new Map<string, OwnPrompt>();
  private readonly watched = new Map<string, Watched>();
  private readonly runs = new Map<string, Run>();
  private timer: NodeJS.Timeout | undefined;
  private looking = false;
  private lookAgain = false;
  private looks = 0;
  private lastLook = 0;
  /** How long the last look took (ms), for LOOK_SHARE. */
  private lastLookMs = 0;
  private closed = false;

  constructor(
    private readonly readQueue: () => Promise<QueueState>,
    private readonly report: PositionReport,
    private readonly options: QueueWatchOptions = defaultQueueWatchOptions,
  ) {
    this.runTimes = new RunTimes(options.runTimes);
  }

  /**
   * A prompt this client queued: its run time will count for the ETAs of its workflow. Its fingerprint
   * is worked out by fingerprintSoon(), or when first asked for; the prompt is held until then.
   */
  remember(promptId: string, prompt: ApiPrompt): void {
    const own: OwnPrompt = { nodeCount: Object.keys(prompt).length, prompt, fingerprint: undefined };
    bounded(this.own, promptId, own, REMEMBERED);
  }

  /**
   * Works out a remembered prompt's fingerprint a turn from now, and lets go of the prompt. Nothing
   * asks for it before the prompt has run, so the client calls this once ComfyUI has answered the
   * POST: worked out while that answer was on its way, it held up reading it (by 16–31 µs a tiny
   * prompt here, timed step by step), while after it the server is running the prompt.
   */
  fingerprintSoon(promptId: string): void {
    const own = this.own.get(promptId);
    if (own?.prompt) setImmediate(() => fingerprintOf(own));
  }

  /** Reports the prompt's position from now on, until it runs or leaves the queue. */
  watch(promptId: string, listener?: (position: QueuePosition) => void): void {
    if (this.closed) return;
    bounded(this.watched, promptId, { listener, sinceLook: this.looks }, MAX_WATCHED);
    this.schedule();
  }

  unwatch(promptId: string): void {
    this.watched.delete(promptId);
  }

  /** Frames, once each, from the client; typed by the boundary. */
  handle(event: FrameEvent): void {
    if (event.kind !== 'message') return;
    const message = event.message;
    switch (message.type) {
      case 'status':
        if (this.watched.size > 0) this.schedule();
        return;
      case 'execution_start':
        this.unwatch(message.data.prompt_id);
        bounded(this.runs, message.data.prompt_id, { since: Date.now(), guessed: false, cached: false }, REMEMBERED);
        return;
      case 'execution_cached': {
        const run = this.runs.get(message.data.prompt_id);
        const prompt = this.own.get(message.data.prompt_id);
        if (run && prompt) run.cached = message.data.nodes.length >= prompt.nodeCount;
        return;
      }
      case 'execution_success':
        this.recordRun(message.data.prompt_id);
        return;
      case 'execution_error':
      case 'execution_interrupted':
        this.runs.delete(message.data.prompt_id);
        return;
      case 'executing':
        if (message.data.node === null && message.data.prompt_id !== undefined) this.ended(message.data.prompt_id);
        return;
      default:
    }
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.watched.clear();
  }

  private recordRun(promptId: string): void {
    const run = this.runs.get(promptId);
    const fingerprint = this.ownFingerprint(promptId);
    if (run && !run.guessed && !run.cached && fingerprint !== undefined) this.runTimes.record(fingerprint, Date.now() - run.since);
  }

  private ownFingerprint(promptId: string): string | undefined {
    const own = this.own.get(promptId);
    return own && fingerprintOf(own);
  }

  private ended(promptId: string): void {
    this.unwatch(promptId);
    this.runs.delete(promptId);
  }

  private schedule(): void {
    if (this.closed || this.watched.size === 0) return;
    if (this.looking) {
      this.lookAgain = true;
      return;
    }
    if (this.timer) return;
    const interval = Math.max(this.options.minIntervalMs, this.lastLookMs * LOOK_SHARE);
    const wait = Math.max(this.options.debounceMs, this.lastLook + interval - Date.now());
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.look();
    }, wait);
    // Positions are a courtesy: they must not keep a process (a test, a CLI) alive.
    this.timer.unref();
  }

  private async look(): Promise<void> {
    if (this.closed || this.watched.size === 0) return;
    this.looking = true;
    this.lookAgain = false;
    this.lastLook = Date.now();
    const look = ++this.looks;
    try {
      const view = await this.readQueue();
      this.lastLookMs = Date.now() - this.lastLook;
      if (!this.closed) this.apply(view, look);
    } catch {
      // The server did not answer (or not as ComfyUI): positions wait for its next status broadcast.
      // The job tracker, not this, decides whether a prompt is in trouble.
    } finally {
      this.looking = false;
      if (this.lookAgain) this.schedule();
    }
  }

  private apply(view: QueueState, look: number): void {
    const now = Date.now();
    for (const item of view.queue_running) {
      // Someone else's prompt, or ours whose execution_start we missed: running since we know of it.
      if (!this.runs.has(item.prompt_id)) bounded(this.runs, item.prompt_id, { since: now, guessed: true, cached: false }, REMEMBERED);
      this.unwatch(item.prompt_id);
    }
    const positions = positionsOf(view, {
      expected: (item) => this.runTimes.expected(item.fingerprint ?? this.ownFingerprint(item.prompt_id)),
      runningSince: (promptId) => this.runs.get(promptId)?.since,
      now,
    });
    const waiting = new Set<string>();
    for (const position of positions) {
      const watched = this.watched.get(position.prompt_id);
      if (!watched) continue;
      waiting.add(position.prompt_id);
      if (watched.last?.position === position.position && watched.last.ahead === position.ahead) continue;
      watched.last = { position: position.position, ahead: position.ahead };
      this.report(position, watched.listener);
    }
    // Neither waiting nor running: it finished, failed or was deleted between two looks.
    for (const [promptId, watched] of this.watched) {
      if (!waiting.has(promptId) && watched.sinceLook < look) this.watched.delete(promptId);
    }
  }
}

/** Sets `key` as the newest entry of a map that keeps at most `limit` entries, forgetting the oldest. */
function bounded<V>(map: Map<string, V>, key: string, value: V, limit: number): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > limit) map.delete(map.keys().next().value as string);
}

function fingerprintOf(own: OwnPrompt): string | undefined {
  const prompt = own.prompt;
  if (prompt) {
    own.prompt = undefined;
    try {
      own.fingerprint = workflowFingerprint(prompt);
    } catch {
      // A caller's object whose getter throws now (it was read once already): no ETA for it, and no throw from an immediate.
    }
  }
  return own.fingerprint;
}
