/**
 * The progress node's coalescing: at most N msgs per second per prompt, always the newest value,
 * without losing or holding back the msgs a flow acts on. Node-RED-free apart from the msg shape, with
 * an injected clock, so its rules can be tested on generated event sequences without real timers.
 *
 * - Must-keep msgs (start, cached, node outputs, the ends, anything unknown) go out at once, never
 *   counted; the prompt's pending msgs go out just before them, so a prompt's last progress comes
 *   before its end and nothing of it is left to come after.
 * - The others (progress, progress_state, executing a node, preview, status, queue_position) are
 *   paced per stream: a prompt, or for msgs without one (the queue `status`) the server they came
 *   from. A msg in a free slot goes out at once; in a busy one it waits, replacing a waiting msg of
 *   the same topic and node (the newest value wins, keeping its place in line: a key updated on every
 *   event would otherwise never reach the front). Each slot sends the msg waiting longest. For
 *   `executing` the node is the value (the node running now), so a node that started replaces the
 *   one before it: fast nodes would otherwise fill the slots while the sampler's progress waits.
 * - Previews can have a lower rate of their own. The last preview of a node is final (a sampler's
 *   last step): once the prompt moves to another node it goes out at once, not behind later msgs.
 * - A stream lives only while something waits or its slot is busy; prompts that never end (an
 *   interrupted broadcast prompt) vanish with their last slot, and a cap bounds the rest.
 *
 * Per event: a map lookup and at most one entry per new key; no timer churn while a slot is busy.
 */

/** What the coalescer reads of a msg (a ProgressMsg). */
export interface CoalescibleMsg {
  topic: string;
  prompt_id?: string;
  node?: string;
  server?: string;
}

export interface CoalescerClock {
  /** Milliseconds, only ever compared and subtracted. */
  now(): number;
  setTimer(run: () => void, ms: number): unknown;
  clearTimer(timer: unknown): void;
}

export interface CoalescerOptions<M extends CoalescibleMsg> {
  /** Paced msgs per second per stream; 0 = no limit (then only previews are paced). */
  perSecond: number;
  /** Previews per second per stream, on top of `perSecond`; 0 = no limit of their own. */
  previewsPerSecond: number;
  send: (msg: M) => void;
  clock?: CoalescerClock;
  /** Prompts followed at once at most; beyond, the oldest one's waiting msgs are sent and it is forgotten. */
  maxStreams?: number;
}

/** The events that describe a state which a newer event of the same kind replaces. */
const PACED_TOPICS: ReadonlySet<string> = new Set(['progress', 'progress_state', 'executing', 'preview', 'status', 'queue_position']);

/** `executing` without a node is ComfyUI's "done with the prompt" (`node: null`): the very last msg, kept. */
function isPaced(msg: CoalescibleMsg): boolean {
  return PACED_TOPICS.has(msg.topic) && (msg.topic !== 'executing' || msg.node !== undefined);
}

const DEFAULT_MAX_STREAMS = 1000;

const realClock: CoalescerClock = {
  // Monotonic: a wall clock set back must not hold msgs for the difference.
  now: () => performance.now(),
  setTimer: (run, ms) => setTimeout(run, ms),
  clearTimer: (timer) => clearTimeout(timer as NodeJS.Timeout),
};

interface Entry<M> {
  msg: M;
  /** The node part of its key: previews and progress of two nodes are two values; for `executing` the node is the value. */
  readonly nodeKey: string;
  next: Entry<M> | undefined;
}

interface Stream<M> {
  readonly key: string;
  readonly promptless: boolean;
  /** The next paced send may happen from then on. */
  nextAt: number;
  nextPreviewAt: number;
  /** The waiting msgs, longest waiting first. */
  head: Entry<M> | undefined;
  tail: Entry<M> | undefined;
  /** topic → node key → its waiting entry. */
  readonly waiting: Map<string, Map<string, Entry<M>>>;
  /** The waiting preview: at most one, since one of another node sends it. */
  preview: Entry<M> | undefined;
  timer: unknown;
  dueAt: number;
  readonly tick: () => void;
}

export class ProgressCoalescer<M extends CoalescibleMsg> {
  private readonly interval: number;
  private readonly previewInterval: number;
  private readonly send: (msg: M) => void;
  private readonly clock: CoalescerClock;
  private readonly maxStreams: number;
  private readonly prompts = new Map<string, Stream<M>>();
  /** Msgs without a prompt, per server (a pool's members each have their own queue). */
  private readonly promptless = new Map<string, Stream<M>>();
  private closed = false;

  constructor(options: CoalescerOptions<M>) {
    this.interval = intervalOf(options.perSecond);
    this.previewInterval = intervalOf(options.previewsPerSecond);
    this.send = options.send;
    this.clock = options.clock ?? realClock;
    this.maxStreams = options.maxStreams ?? DEFAULT_MAX_STREAMS;
  }

  /** Streams alive (tests check that none is left behind). */
  get size(): number {
    return this.prompts.size + this.promptless.size;
  }

  push(msg: M): void {
    if (this.closed) return;
    let stream = this.streamOf(msg);
    if (!isPaced(msg)) {
      if (stream?.head) this.flushThrough(stream, undefined, this.clock.now());
      this.send(msg);
      return;
    }
    // The waiting preview is its node's last one once the prompt is busy with another node (a preview of
    // no known node counts as another node: one preview waits at most).
    const waitingPreview = stream?.preview;
    if (stream && waitingPreview && msg.node !== waitingPreview.msg.node && (msg.node !== undefined || msg.topic === 'preview')) {
      this.flushThrough(stream, waitingPreview, this.clock.now());
      // That may have ended the stream (nothing left, no slot busy).
      stream = this.streamOf(msg);
    }
    const isPreview = msg.topic === 'preview';
    if (!isPreview && this.interval === 0) {
      this.send(msg);
      return;
    }
    const nodeKey = msg.topic === 'executing' ? '' : (msg.node ?? '');
    // In a burst the msg replaced is nearly always the last one in line: no map lookups then.
    const tail = stream?.tail;
    const same = tail !== undefined && tail.msg.topic === msg.topic && tail.nodeKey === nodeKey ? tail : stream?.waiting.get(msg.topic)?.get(nodeKey);
    if (same) {
      // The common case in a burst: no clock, no timer, no allocation.
      same.msg = msg;
      return;
    }
    const now = this.clock.now();
    stream ??= this.open(msg);
    if (stream.head === undefined && now >= stream.nextAt && (!isPreview || now >= stream.nextPreviewAt)) {
      this.sent(stream, isPreview, now);
      this.send(msg);
    } else {
      this.enqueue(stream, msg, nodeKey, isPreview);
    }
    this.schedule(stream, now);
  }

  /** Forgets everything waiting and stops every timer (the node is closing: nothing may be sent). */
  close(): void {
    this.closed = true;
    for (const streams of [this.prompts, this.promptless]) {
      for (const stream of streams.values()) this.clock.clearTimer(stream.timer);
      streams.clear();
    }
  }

  private streamOf(msg: M): Stream<M> | undefined {
    return msg.prompt_id === undefined ? this.promptless.get(msg.server ?? '') : this.prompts.get(msg.prompt_id);
  }

  private open(msg: M): Stream<M> {
    const promptless = msg.prompt_id === undefined;
    const key = msg.prompt_id ?? msg.server ?? '';
    const stream: Stream<M> = {
      key,
      promptless,
      nextAt: -Infinity,
      nextPreviewAt: -Infinity,
      head: undefined,
      tail: undefined,
      waiting: new Map(),
      preview: undefined,
      timer: undefined,
      dueAt: Infinity,
      tick: () => this.tick(stream),
    };
    const streams = promptless ? this.promptless : this.prompts;
    streams.set(key, stream);
    if (streams.size > this.maxStreams) {
      // Map order is creation order: the oldest is the likeliest to have ended unseen.
      const oldest = streams.values().next().value as Stream<M>;
      this.flushThrough(oldest, undefined, this.clock.now());
      this.drop(oldest);
    }
    return stream;
  }

  private enqueue(stream: Stream<M>, msg: M, nodeKey: string, isPreview: boolean): void {
    const entry: Entry<M> = { msg, nodeKey, next: undefined };
    if (stream.tail) stream.tail.next = entry;
    else stream.head = entry;
    stream.tail = entry;
    let byNode = stream.waiting.get(msg.topic);
    if (!byNode) {
      byNode = new Map<string, Entry<M>>();
      stream.waiting.set(msg.topic, byNode);
    }
    byNode.set(nodeKey, entry);
    if (isPreview) stream.preview = entry;
  }

  /** Takes `entry` out of the line; `before` is the entry ahead of it (undefined for the head). */
  private unlink(stream: Stream<M>, entry: Entry<M>, before: Entry<M> | undefined): void {
    if (before) before.next = entry.next;
    else stream.head = entry.next;
    if (stream.tail === entry) stream.tail = before;
    entry.next = undefined;
    stream.waiting.get(entry.msg.topic)?.delete(entry.nodeKey);
    if (stream.preview === entry) stream.preview = undefined;
  }

  /** Sends the waiting msgs in line up to `last` (all when undefined), now: a msg that must not wait behind them follows. */
  private flushThrough(stream: Stream<M>, last: Entry<M> | undefined, now: number): void {
    if (stream.head === undefined) return;
    let sentPreview = false;
    while (stream.head) {
      const entry = stream.head;
      this.unlink(stream, entry, undefined);
      sentPreview ||= entry.msg.topic === 'preview';
      this.send(entry.msg);
      if (entry === last) break;
    }
    // They took this slot: what follows waits for the next one.
    this.sent(stream, sentPreview, now);
    this.schedule(stream, now);
  }

  private sent(stream: Stream<M>, preview: boolean, now: number): void {
    stream.nextAt = now + this.interval;
    if (preview) stream.nextPreviewAt = now + this.previewInterval;
  }

  private tick(stream: Stream<M>): void {
    stream.timer = undefined;
    stream.dueAt = Infinity;
    const now = this.clock.now();
    const head = stream.head;
    if (head && now >= stream.nextAt) {
      // A preview that must wait for its own rate lets the msg behind it go first.
      const previewWaits = head === stream.preview && now < stream.nextPreviewAt;
      const entry = previewWaits ? head.next : head;
      if (entry) {
        this.unlink(stream, entry, previewWaits ? head : undefined);
        this.sent(stream, entry.msg.topic === 'preview', now);
        this.send(entry.msg);
      }
    }
    this.schedule(stream, now);
  }

  /** Sets the one timer a stream has to when it next has something to do; forgets the stream when nothing is left. */
  private schedule(stream: Stream<M>, now: number): void {
    const head = stream.head;
    let due: number;
    if (head === undefined) due = Math.max(stream.nextAt, stream.nextPreviewAt);
    else if (head === stream.preview && head.next === undefined) due = Math.max(stream.nextAt, stream.nextPreviewAt);
    else due = stream.nextAt;
    if (head === undefined && due <= now) {
      this.drop(stream);
      return;
    }
    if (stream.timer !== undefined && stream.dueAt === due) return;
    if (stream.timer !== undefined) this.clock.clearTimer(stream.timer);
    stream.dueAt = due;
    stream.timer = this.clock.setTimer(stream.tick, Math.max(0, Math.ceil(due - now)));
  }

  private drop(stream: Stream<M>): void {
    if (stream.timer !== undefined) this.clock.clearTimer(stream.timer);
    stream.timer = undefined;
    const streams = stream.promptless ? this.promptless : this.prompts;
    if (streams.get(stream.key) === stream) streams.delete(stream.key);
  }
}

/** Milliseconds between two sends at `perSecond`; 0 for no limit (0, negative, not a number). */
function intervalOf(perSecond: number): number {
  return Number.isFinite(perSecond) && perSecond > 0 ? 1000 / perSecond : 0;
}
