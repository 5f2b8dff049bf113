/**
 * Workflow input: tells the API format from the UI format, unwraps `{prompt: …}`, applies
 * overrides addressed by node id or `_meta.title`, and randomizes seeds. Never mutates its input.
 */
import { randomInt } from 'node:crypto';
import { ComfyError } from './errors';
import type { ApiPrompt, NodeId, PromptNode } from './types';

export const UI_FORMAT_HINT =
  'This is a UI-format workflow (what ComfyUI\'s "Save" writes). Export it in API format instead: ' +
  'in ComfyUI use Workflow → Export (API) (on older versions enable "Dev mode" in the settings first), ' +
  'then paste that JSON into the node or send it in msg.payload.';

/** Turns whatever the user gave (object, `{prompt}` wrapper, JSON text) into an API prompt. */
export function normalizeWorkflow(input: unknown): ApiPrompt {
  let value = input;
  if (typeof value === 'string') {
    const text = value.trim();
    if (text === '') throw new ComfyError('BAD_WORKFLOW', 'The workflow is empty: paste an API-format workflow or send one in msg.payload');
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new ComfyError('BAD_WORKFLOW', `The workflow is not valid JSON: ${(err as Error).message}`);
    }
  }
  if (Array.isArray(value)) {
    throw new ComfyError('BAD_WORKFLOW', 'The workflow is a JSON array; an API-format workflow is an object keyed by node id');
  }
  if (typeof value !== 'object' || value === null) {
    throw new ComfyError('BAD_WORKFLOW', `The workflow must be an object keyed by node id, not ${describeType(value)}`);
  }
  if (isUiWorkflow(value)) throw new ComfyError('UI_WORKFLOW', UI_FORMAT_HINT);
  const record = value as Record<string, unknown>;
  if ('prompt' in record && !looksLikeNode(record.prompt)) {
    const inner = record.prompt;
    if (typeof inner !== 'object' || inner === null || Array.isArray(inner)) {
      throw new ComfyError('BAD_WORKFLOW', `"prompt" must be an API-format workflow object, not ${describeType(inner)}`);
    }
    if (isUiWorkflow(inner)) throw new ComfyError('UI_WORKFLOW', UI_FORMAT_HINT);
    return checkApiPrompt(inner as Record<string, unknown>);
  }
  return checkApiPrompt(record);
}

export function isUiWorkflow(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return Array.isArray(record.nodes) && (Array.isArray(record.links) || 'state' in record);
}

function checkApiPrompt(record: Record<string, unknown>): ApiPrompt {
  const ids = Object.keys(record);
  if (ids.length === 0) throw new ComfyError('BAD_WORKFLOW', 'The workflow has no nodes');
  for (const id of ids) {
    const node = record[id];
    if (!looksLikeNode(node)) {
      throw new ComfyError(
        'BAD_WORKFLOW',
        `Workflow entry "${id}" is not a node: every entry of an API-format workflow needs "class_type" (text) and "inputs" (object)`,
      );
    }
  }
  return record as ApiPrompt;
}

function looksLikeNode(value: unknown): value is PromptNode {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const node = value as Record<string, unknown>;
  return typeof node.class_type === 'string' && typeof node.inputs === 'object' && node.inputs !== null && !Array.isArray(node.inputs);
}

/**
 * Applies `{"<id or title>": {"<input>": value}}` and `{"<id or title>.<input>": value}`.
 * Input names never contain dots, so a dotted key splits at its last dot (titles and ids may have dots).
 */
export function applyOverrides(prompt: ApiPrompt, overrides: unknown): ApiPrompt {
  if (overrides === undefined || overrides === null) return prompt;
  if (typeof overrides !== 'object' || Array.isArray(overrides)) {
    throw new ComfyError('BAD_INPUT', `msg.inputs must be an object like {"KSampler": {"seed": 42}}, not ${describeType(overrides)}`);
  }
  const result = clonePrompt(prompt);
  for (const [key, value] of Object.entries(overrides as Record<string, unknown>)) {
    const dot = key.lastIndexOf('.');
    if (isPlainObject(value) && (findNodeOrUndefined(result, key) !== undefined || dot <= 0)) {
      const nodeId = findNode(result, key);
      for (const [input, inputValue] of Object.entries(value)) setInput(result, nodeId, input, inputValue);
      continue;
    }
    if (dot <= 0 || dot === key.length - 1) {
      throw new ComfyError(
        'UNKNOWN_OVERRIDE',
        `Override "${key}" needs an input name: use {"${key}": {"<input>": value}} or "${key}.<input>"`,
      );
    }
    setInput(result, findNode(result, key.slice(0, dot)), key.slice(dot + 1), value);
  }
  return result;
}

/** Gives every literal `seed` / `noise_seed` input a fresh random value (links are left alone). */
export function randomizeSeeds(prompt: ApiPrompt): ApiPrompt {
  const result = clonePrompt(prompt);
  for (const node of Object.values(result)) {
    for (const name of ['seed', 'noise_seed']) {
      if (typeof node.inputs[name] === 'number') node.inputs[name] = randomInt(0, 2 ** 48 - 1);
    }
  }
  return result;
}

function setInput(prompt: ApiPrompt, nodeId: NodeId, input: string, value: unknown): void {
  const node = prompt[nodeId];
  if (!(input in node.inputs)) {
    const known = Object.keys(node.inputs);
    throw new ComfyError(
      'UNKNOWN_OVERRIDE',
      `Node ${label(nodeId, node)} has no input "${input}"; its inputs are: ${known.length ? known.join(', ') : '(none)'}`,
    );
  }
  node.inputs[input] = value;
}

function findNodeOrUndefined(prompt: ApiPrompt, key: string): NodeId | undefined {
  try {
    return findNode(prompt, key);
  } catch {
    return undefined;
  }
}

/** By id first, then by exact `_meta.title`, then by class_type; a title or class must be unique. */
function findNode(prompt: ApiPrompt, key: string): NodeId {
  if (Object.prototype.hasOwnProperty.call(prompt, key)) return key;
  for (const match of [(node: PromptNode) => node._meta?.title === key, (node: PromptNode) => node.class_type === key]) {
    const ids = Object.keys(prompt).filter((id) => match(prompt[id]));
    if (ids.length === 1) return ids[0];
    if (ids.length > 1) {
      throw new ComfyError(
        'UNKNOWN_OVERRIDE',
        `"${key}" matches several nodes (${ids.map((id) => `#${id}`).join(', ')}): use the node id instead`,
      );
    }
  }
  throw new ComfyError('UNKNOWN_OVERRIDE', `No node "${key}" in the workflow; the nodes are: ${listNodes(prompt)}`);
}

function listNodes(prompt: ApiPrompt): string {
  return Object.entries(prompt)
    .map(([id, node]) => label(id, node))
    .join(', ');
}

function label(id: NodeId, node: PromptNode): string {
  return node._meta?.title ? `#${id} "${node._meta.title}" (${node.class_type})` : `#${id} (${node.class_type})`;
}

function clonePrompt(prompt: ApiPrompt): ApiPrompt {
  return structuredClone(prompt);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the text "${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  return `a ${typeof value}`;
}
