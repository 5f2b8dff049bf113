/**
 * The links of an API prompt: which input takes which node's output, and which nodes an output
 * node needs. ComfyUI's rule for a link (comfy_execution/graph_utils.is_link) lives here only.
 */
import type { ApiPrompt, Link, NodeId } from './types';

/** An input value that is a link `["<node id>", <output slot>]`, as ComfyUI tells one (a number slot; a float counts). */
export function linkOf(value: unknown): Link | undefined {
  if (!Array.isArray(value) || value.length !== 2) return undefined;
  const [from, slot] = value as unknown[];
  return typeof from === 'string' && typeof slot === 'number' ? [from, slot] : undefined;
}

/** The given nodes and every node they take input from, directly or not: what runs when only they are asked for. */
export function nodesNeededBy(prompt: ApiPrompt, targets: readonly NodeId[]): Set<NodeId> {
  const needed = new Set<NodeId>();
  const stack = [...targets];
  for (let id = stack.pop(); id !== undefined; id = stack.pop()) {
    if (needed.has(id) || !Object.prototype.hasOwnProperty.call(prompt, id)) continue;
    needed.add(id);
    for (const value of Object.values(prompt[id].inputs)) {
      const link = linkOf(value);
      if (link) stack.push(link[0]);
    }
  }
  return needed;
}

/** The part of the prompt that runs: all of it, or with partial execution the targets and the nodes they need. */
export function runningPart(prompt: ApiPrompt, targets: readonly NodeId[] | undefined): ApiPrompt {
  if (!targets) return prompt;
  const needed = nodesNeededBy(prompt, targets);
  return Object.fromEntries(Object.entries(prompt).filter(([id]) => needed.has(id)));
}
