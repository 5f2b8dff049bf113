/**
 * Where each waiting prompt stands in ComfyUI's queue, and when it should be done: a pure reading
 * of one GET /queue answer. ComfyUI runs pending prompts by number, ties by prompt_id (its heap
 * of `(number, prompt_id, …)` tuples), and the answer lists them unsorted.
 */
import type { QueuedPrompt, QueueState } from './types';

export interface QueuePosition {
  prompt_id: string;
  /** The place among the prompts waiting: 1 = the next to run. */
  position: number;
  /** Prompts that run before it: those running now and those waiting ahead of it. */
  ahead: number;
  /** Milliseconds until it should be finished; null while any prompt ahead, or its own workflow, has no recent run time on this server. */
  eta_ms: number | null;
}

/** ComfyUI's run order of pending prompts. */
export function queueOrder(a: { number: number; prompt_id: string }, b: { number: number; prompt_id: string }): number {
  return a.number - b.number || (a.prompt_id < b.prompt_id ? -1 : a.prompt_id > b.prompt_id ? 1 : 0);
}

export interface QueueTimes {
  /** How long a prompt like this one runs (ms), if known. */
  expected(item: QueuedPrompt): number | undefined;
  /** Since when (epoch ms) a running prompt runs, if known; an unknown start counts as just started. */
  runningSince(promptId: string): number | undefined;
  now: number;
}

/**
 * The position of every pending prompt, in run order. The ETA adds up what is left of the running
 * prompts (their expected time less how long they run already, never below nothing), the expected
 * times of the prompts waiting ahead, and the prompt's own: one unknown among them makes it null,
 * since a sum that leaves a prompt out is wrong by all of that prompt's time.
 */
export function positionsOf(view: QueueState, times: QueueTimes): QueuePosition[] {
  let before: number | null = 0;
  for (const item of view.queue_running) {
    const expected = times.expected(item);
    const since = times.runningSince(item.prompt_id) ?? times.now;
    before = before === null || expected === undefined ? null : before + Math.max(0, expected - (times.now - since));
  }
  const running = view.queue_running.length;
  return [...view.queue_pending].sort(queueOrder).map((item, index) => {
    const expected = times.expected(item);
    const done = before === null || expected === undefined ? null : before + expected;
    before = done;
    return { prompt_id: item.prompt_id, position: index + 1, ahead: running + index, eta_ms: done === null ? null : Math.round(done) };
  });
}
