/**
 * CPython's heapq, line for line. GET /queue returns the raw heap array (`queue_pending` is not
 * sorted), so the simulator must keep its pending items in exactly the order CPython's heap would,
 * e.g. the recording r_prompt_options shows `[-1000.0, -44, 45, 43]` after pushing 43, -44, 45, -1000.
 */

export type Less<T> = (a: T, b: T) => boolean;

function siftDown<T>(heap: T[], startPos: number, pos: number, less: Less<T>): void {
  const newItem = heap[pos];
  while (pos > startPos) {
    const parentPos = (pos - 1) >> 1;
    const parent = heap[parentPos];
    if (less(newItem, parent)) {
      heap[pos] = parent;
      pos = parentPos;
      continue;
    }
    break;
  }
  heap[pos] = newItem;
}

function siftUp<T>(heap: T[], pos: number, less: Less<T>): void {
  const endPos = heap.length;
  const startPos = pos;
  const newItem = heap[pos];
  let childPos = 2 * pos + 1;
  while (childPos < endPos) {
    const rightPos = childPos + 1;
    if (rightPos < endPos && !less(heap[childPos], heap[rightPos])) childPos = rightPos;
    heap[pos] = heap[childPos]!;
    pos = childPos;
    childPos = 2 * pos + 1;
  }
  heap[pos] = newItem;
  siftDown(heap, startPos, pos, less);
}

export function heapPush<T>(heap: T[], item: T, less: Less<T>): void {
  heap.push(item);
  siftDown(heap, 0, heap.length - 1, less);
}

export function heapPop<T>(heap: T[], less: Less<T>): T | undefined {
  const last = heap.pop();
  if (last === undefined || heap.length === 0) return last;
  const top = heap[0];
  heap[0] = last;
  siftUp(heap, 0, less);
  return top;
}

export function heapify<T>(heap: T[], less: Less<T>): void {
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) siftUp(heap, i, less);
}
