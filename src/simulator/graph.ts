/**
 * The execution order of ComfyUI's ExecutionList (comfy_execution/graph.py): nodes are added from
 * each output backwards (cached inputs are not added at all), and among the ready nodes the
 * "UX friendly" pick prefers an output node, then a node feeding an output, then one two steps
 * away, else the first ready one. That is why o_runtime_error ran LoadImage "3" first and stopped
 * before the independent EmptyImage branch ever started.
 */
import { PyDict, PyValue, isDict } from './pyjson';
import { isPyNumber } from './python';

/** graph_utils.is_link: `[str, int|float]` */
export function isLink(v: PyValue | undefined): v is [string, number] {
  return Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && isPyNumber(v[1]) && typeof v[1] !== 'boolean';
}

export class ExecutionList {
  private readonly pending = new Map<string, true>();
  private readonly blockCount = new Map<string, number>();
  private readonly blocking = new Map<string, Map<string, true>>();
  private staged: string | undefined;

  constructor(
    private readonly prompt: PyDict,
    private readonly isCached: (id: string) => boolean,
    private readonly isOutput: (id: string) => boolean,
  ) {}

  private inputsOf(id: string): PyDict {
    const node = this.prompt[id];
    return isDict(node) && isDict(node.inputs) ? node.inputs : {};
  }

  addNode(start: string): void {
    const stack = [start];
    const links: Array<[string, string]> = [];
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (this.pending.has(id)) continue;
      this.pending.set(id, true);
      this.blockCount.set(id, 0);
      this.blocking.set(id, new Map());
      for (const value of Object.values(this.inputsOf(id))) {
        if (!isLink(value)) continue;
        const from = value[0];
        if (!this.isCached(from)) stack.push(from);
        links.push([from, id]);
      }
    }
    for (const [from, to] of links) this.addStrongLink(from, to);
  }

  private addStrongLink(from: string, to: string): void {
    if (this.isCached(from)) return;
    this.addNode(from);
    const blocked = this.blocking.get(from)!;
    if (!blocked.has(to)) {
      blocked.set(to, true);
      this.blockCount.set(to, (this.blockCount.get(to) ?? 0) + 1);
    }
  }

  isEmpty(): boolean {
    return this.pending.size === 0;
  }

  /** The next node to run, or undefined when nothing is ready (a cycle; validation prevents it). */
  stage(): string | undefined {
    const ready = [...this.pending.keys()].filter((id) => this.blockCount.get(id) === 0);
    if (ready.length === 0) return undefined;
    this.staged = this.pick(ready);
    return this.staged;
  }

  complete(): void {
    const id = this.staged!;
    this.pending.delete(id);
    for (const blocked of this.blocking.get(id)?.keys() ?? []) this.blockCount.set(blocked, this.blockCount.get(blocked)! - 1);
    this.blocking.delete(id);
    this.staged = undefined;
  }

  private pick(ready: string[]): string {
    const blockedBy = (id: string): string[] => [...(this.blocking.get(id)?.keys() ?? [])];
    for (const id of ready) if (this.isOutput(id)) return id;
    for (const id of ready) if (blockedBy(id).some((b) => this.isOutput(b))) return id;
    for (const id of ready) if (blockedBy(id).some((b) => blockedBy(b).some((c) => this.isOutput(c)))) return id;
    return ready[0];
  }
}
