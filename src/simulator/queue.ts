/**
 * PromptQueue of execution.py: a heap of pending items, the running item, the history map and
 * the /free flags. Every change calls `onChange` (the server's queue_updated → `status` broadcast),
 * including the recorded double broadcast when the last pending item is deleted.
 */
import { heapPop, heapPush, heapify } from './heap';
import { PyDict, PyFloat, PyValue, deepCopy, setKey } from './pyjson';

/** `[number, prompt_id, prompt, extra_data, outputs_to_execute, sensitive]` (6th never leaves the server) */
export type QueueItem = [number | PyFloat, string, PyDict, PyDict, string[], PyDict];

export interface HistoryEntry {
  prompt: PyValue[];
  outputs: PyDict;
  status: { status_str: 'success' | 'error'; completed: boolean; messages: Array<[string, PyDict]> };
  meta: PyDict;
}

const MAXIMUM_HISTORY_SIZE = 10000;

/** Python tuple ordering of (number, prompt_id, …). */
function less(a: QueueItem, b: QueueItem): boolean {
  const x = Number(a[0]);
  const y = Number(b[0]);
  if (x !== y) return x < y;
  return a[1] < b[1];
}

export class PromptQueue {
  readonly pending: QueueItem[] = [];
  readonly running = new Map<number, QueueItem>();
  readonly history = new Map<string, HistoryEntry>();
  readonly flags: Record<string, PyValue> = {};
  private taskCounter = 0;

  constructor(private readonly onChange: () => void) {}

  put(item: QueueItem): void {
    heapPush(this.pending, item, less);
    this.onChange();
  }

  /** Takes the next item for the worker (the "dequeued" status broadcast). */
  get(): [QueueItem, number] | undefined {
    const item = heapPop(this.pending, less);
    if (!item) return undefined;
    const id = this.taskCounter++;
    this.running.set(id, item);
    this.onChange();
    return [item, id];
  }

  taskDone(id: number, result: { outputs: PyDict; meta: PyDict }, status: HistoryEntry['status']): void {
    const item = this.running.get(id);
    this.running.delete(id);
    if (!item) return;
    if (this.history.size > MAXIMUM_HISTORY_SIZE) this.history.delete(this.history.keys().next().value!);
    // remove_sensitive: prompt[:5]; a reused prompt_id overwrites in place (dict keeps its position)
    this.history.set(item[1], { prompt: item.slice(0, 5), outputs: result.outputs, status, meta: result.meta });
    this.onChange();
  }

  remaining(): number {
    return this.pending.length + this.running.size;
  }

  /** The 5-tuples of GET /queue (copies, the pending array in raw heap order). */
  current(): { running: PyValue[][]; pending: PyValue[][] } {
    const strip = (q: QueueItem): PyValue[] => deepCopy(q.slice(0, 5) as PyValue[]);
    return { running: [...this.running.values()].map(strip), pending: this.pending.map(strip) };
  }

  wipe(): void {
    this.pending.length = 0;
    this.onChange();
  }

  deleteWhere(match: (item: QueueItem) => boolean): boolean {
    for (let x = 0; x < this.pending.length; x++) {
      if (!match(this.pending[x])) continue;
      if (this.pending.length === 1) this.wipe();
      else {
        this.pending.splice(x, 1);
        heapify(this.pending, less);
      }
      this.onChange();
      return true;
    }
    return false;
  }

  /** get_history: newest `maxItems` (oldest first), or `maxItems` after skipping `offset` oldest. */
  getHistory(maxItems: number | null, offset: number): PyDict {
    const out: PyDict = {};
    if (offset < 0 && maxItems !== null) offset = this.history.size - maxItems;
    let i = 0;
    let n = 0;
    for (const [k, v] of this.history) {
      if (i >= offset) {
        setKey(out, k, deepCopy(v as unknown as PyDict));
        n++;
        if (maxItems !== null && n >= maxItems) break;
      }
      i++;
    }
    return out;
  }

  historyItem(id: string): PyDict {
    const v = this.history.get(id);
    return v ? { [id]: deepCopy(v as unknown as PyDict) } : {};
  }
}
