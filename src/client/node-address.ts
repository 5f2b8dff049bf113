/**
 * How a flow names the nodes of an API prompt: by node id, by exact `_meta.title`, or by class_type.
 * Overrides (msg.inputs), the nodes to run (msg.targets) and the nodes to bypass or mute all look
 * nodes up here, so a name means the same nodes everywhere and every miss reads alike.
 */
import { ComfyError } from './errors';
import { isReservedName } from './plain-json';
import type { ApiPrompt, NodeId, PromptNode } from './types';

/**
 * The nodes `key` names: the node with that id; else the node with that exact title (a title must be
 * unique, or the flow could not tell which node it changes); else EVERY node of that class, in
 * prompt order. A key that names nothing is UNKNOWN_OVERRIDE listing the nodes there are.
 */
export function findNodes(prompt: ApiPrompt, key: string, from: string): NodeId[] {
  checkName(key, 'node', from);
  if (Object.prototype.hasOwnProperty.call(prompt, key)) return [key];
  const titled = Object.keys(prompt).filter((id) => prompt[id]._meta?.title === key);
  if (titled.length > 1) {
    throw new ComfyError(
      'UNKNOWN_OVERRIDE',
      `"${key}" matches several nodes (${titled.map((id) => `#${id}`).join(', ')}): use the node id instead`,
    );
  }
  if (titled.length === 1) return titled;
  const ofClass = Object.keys(prompt).filter((id) => prompt[id].class_type === key);
  if (ofClass.length > 0) return ofClass;
  throw new ComfyError('UNKNOWN_OVERRIDE', `No node "${key}" in the workflow; the nodes are: ${listNodes(prompt)} (named in ${from})`);
}

/** Like findNodes, but an empty list where findNodes would throw. */
export function findNodesOrNone(prompt: ApiPrompt, key: string): NodeId[] {
  try {
    return findNodes(prompt, key, '');
  } catch {
    return [];
  }
}

/**
 * The node names a setting or msg property gives: one text (split at commas, so "Save A, Save B"
 * names two nodes) or a list of texts (taken whole, so a title with a comma can be named). Empty
 * parts are dropped. Anything else is BAD_INPUT saying what `from` must be.
 */
export function nodeKeysOf(value: unknown, from: string): string[] {
  const wrong = (): ComfyError =>
    new ComfyError('BAD_INPUT', `${from} must be a node id, title or class, or a list of them (e.g. "Save Image" or ["3", "9"])`);
  if (typeof value === 'string') return splitKeys(value);
  if (typeof value === 'number' && Number.isInteger(value)) return [String(value)]; // ids look numeric: 9 means "9"
  if (!Array.isArray(value)) throw wrong();
  const keys: string[] = [];
  for (const item of value as unknown[]) {
    if (typeof item === 'number' && Number.isInteger(item)) keys.push(String(item));
    else if (typeof item === 'string') {
      if (item.trim() !== '') keys.push(item.trim());
    } else throw wrong();
  }
  return keys;
}

/** The distinct nodes of every key, in the order they are first named. */
export function findAllNodes(prompt: ApiPrompt, keys: readonly string[], from: string): NodeId[] {
  const ids = new Set<NodeId>();
  for (const key of keys) for (const id of findNodes(prompt, key, from)) ids.add(id);
  return [...ids];
}

/** `__proto__`, `constructor` and `prototype` name no node and no input, whatever the workflow. */
export function checkName(name: string, what: 'node' | 'input', from: string): void {
  if (isReservedName(name)) {
    throw new ComfyError('BAD_INPUT', `${from} names the ${what} "${name}", which is not allowed (it names a JavaScript prototype)`);
  }
}

export function listNodes(prompt: ApiPrompt): string {
  return Object.entries(prompt)
    .map(([id, node]) => nodeLabel(id, node))
    .join(', ');
}

/** `#3 "Title" (Class)`, or `#3 (Class)` for an untitled node. */
export function nodeLabel(id: NodeId, node: PromptNode): string {
  const title = node._meta?.title;
  return typeof title === 'string' && title !== '' ? `#${id} "${title}" (${node.class_type})` : `#${id} (${node.class_type})`;
}

function splitKeys(text: string): string[] {
  return text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}
