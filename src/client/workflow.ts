/**
 * Workflow input: reads what a flow gives (an object, a `{prompt}` wrapper, JSON text, a Buffer
 * of JSON as a File In node makes it, or the bytes of a file ComfyUI saved) into an API prompt, tells the API format from the UI
 * format, applies overrides addressed by node id or `_meta.title`, and randomizes seeds. Never
 * mutates its input: what it returns is a plain-JSON copy of null-prototype objects (plain-json.ts),
 * so nothing a flow hands in can reach a prototype, and nothing but JSON goes to ComfyUI.
 * An override may also name a class, meaning every node of it (node-address.ts finds the nodes).
 */
import { randomInt } from 'node:crypto';
import { readEmbeddedWorkflow } from './embedded-workflow';
import { ComfyError } from './errors';
import { describeBytes } from './image-bytes';
import { checkName, findNodes, findNodesOrNone, nodeLabel } from './node-address';
import { describeObject, isPlainObject, isReservedName, plainJson } from './plain-json';
import type { JsonObject, JsonValue } from './plain-json';
import type { ApiPrompt, NodeId, PromptNode } from './types';

export const UI_FORMAT_HINT =
  'This is a UI-format workflow (what ComfyUI\'s "Save" writes). Export it in API format instead: ' +
  'in ComfyUI use Workflow → Export (API) (on older versions enable "Dev mode" in the settings first), ' +
  'then paste that JSON into the node or send it in msg.payload.';

/** A workflow as the user holds it: ready to queue (API format), or the editor's graph to convert with the server's definitions. */
export type WorkflowSource = { format: 'api'; prompt: ApiPrompt } | { format: 'ui'; workflow: JsonObject };

/**
 * Reads whatever the user gave (object, `{prompt}` wrapper, JSON text, JSON bytes, or a file ComfyUI
 * saved) into an API prompt or a UI-format workflow; anything else is BAD_WORKFLOW saying what it is.
 */
export function readWorkflow(input: unknown): WorkflowSource {
  let value = isBytes(input) ? workflowOfBytes(input) : input;
  if (typeof value === 'string') {
    const text = value.trim(); // also drops a byte order mark
    if (text === '') throw new ComfyError('BAD_WORKFLOW', 'The workflow is empty: paste a workflow or send one in msg.payload');
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new ComfyError('BAD_WORKFLOW', `The workflow is not valid JSON: ${(err as Error).message}`);
    }
  }
  if (typeof value !== 'object' || value === null) {
    throw new ComfyError('BAD_WORKFLOW', `The workflow must be an object keyed by node id, not ${describeType(value)}`);
  }
  if (isUiWorkflow(value)) return { format: 'ui', workflow: value as JsonObject };
  const copy = plainJson(value, 'BAD_WORKFLOW', 'The workflow');
  if (Array.isArray(copy)) {
    throw new ComfyError('BAD_WORKFLOW', 'The workflow is a JSON array; an API-format workflow is an object keyed by node id');
  }
  const record = copy as JsonObject;
  if ('prompt' in record && !looksLikeNode(record.prompt)) {
    const inner = record.prompt;
    if (!isPlainObject(inner)) {
      throw new ComfyError('BAD_WORKFLOW', `"prompt" must be an API-format workflow object, not ${describeType(inner)}`);
    }
    if (isUiWorkflow(inner)) return { format: 'ui', workflow: inner };
    return { format: 'api', prompt: checkApiPrompt(inner) };
  }
  return { format: 'api', prompt: checkApiPrompt(record) };
}

/** An API prompt from what the user gave, where no server's definitions are at hand to convert a UI-format workflow. */
export function normalizeWorkflow(input: unknown): ApiPrompt {
  const source = readWorkflow(input);
  if (source.format === 'ui') throw new ComfyError('UI_WORKFLOW', UI_FORMAT_HINT);
  return source.prompt;
}

/**
 * Whether msg.payload is meant as a workflow, so that it wins over the node's own: JSON text or
 * bytes of an object, a `{prompt}` wrapper, a UI workflow, or an object holding a node. The bytes
 * of an image, audio or video file are not: a picture flowing into a node that has a workflow is
 * its data far more often than a workflow (a node without a workflow of its own reads the file's).
 * Never throws: a value that cannot even be read counts as meant, so its error gets reported.
 */
export function looksLikeWorkflow(payload: unknown): boolean {
  try {
    let value = payload;
    // Only bytes that start like an object are decoded: an image Buffer is no workflow, whatever its size.
    if (isBytes(value)) value = startsLikeObject(value) ? (utf8(value) ?? '') : '';
    if (typeof value === 'string') {
      if (!value.trim().startsWith('{')) return false;
      try {
        value = JSON.parse(value);
      } catch {
        return true; // meant as a workflow, so its JSON error is the useful answer
      }
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
    const record = value as Record<string, unknown>;
    if ('prompt' in record || isUiWorkflow(record)) return true;
    return Object.values(record).some((entry) => typeof entry === 'object' && entry !== null && 'class_type' in entry);
  } catch {
    return true;
  }
}

/** Never throws: a value whose getters throw is no UI workflow, and the JSON copy then says where it fails. */
function isUiWorkflow(value: unknown): boolean {
  try {
    if (typeof value !== 'object' || value === null) return false;
    const record = value as Record<string, unknown>;
    return Array.isArray(record.nodes) && (Array.isArray(record.links) || 'state' in record);
  } catch {
    return false;
  }
}

function checkApiPrompt(record: JsonObject): ApiPrompt {
  const ids = Object.keys(record);
  if (ids.length === 0) throw new ComfyError('BAD_WORKFLOW', 'The workflow has no nodes');
  for (const id of ids) {
    // BAD_WORKFLOW, not BAD_INPUT: the workflow itself (pasted or in msg.payload) has to be fixed,
    // and that is what this code tells a Catch node everywhere else. No ComfyUI node has such an id.
    if (isReservedName(id))
      throw new ComfyError('BAD_WORKFLOW', `Workflow node id "${id}" is not allowed (it names a JavaScript prototype)`);
    const node = record[id];
    if (!looksLikeNode(node)) {
      throw new ComfyError(
        'BAD_WORKFLOW',
        `Workflow entry "${id}" is not a node: every entry of an API-format workflow needs "class_type" (text) and "inputs" (object)`,
      );
    }
    const reserved = Object.keys(node.inputs).find(isReservedName);
    if (reserved !== undefined) {
      throw new ComfyError('BAD_WORKFLOW', `Workflow node ${nodeLabel(id, node)} has an input named "${reserved}", which is not allowed`);
    }
  }
  return record as unknown as ApiPrompt;
}

function looksLikeNode(value: JsonValue | undefined): value is JsonObject & PromptNode {
  return isPlainObject(value) && typeof value.class_type === 'string' && isPlainObject(value.inputs);
}

/** What applyOverrides did: the new prompt, and for each key as given, the ids of the nodes it changed. */
export interface Overridden {
  prompt: ApiPrompt;
  touched: Record<string, NodeId[]>;
}

/**
 * Applies `{"<id, title or class>": {"<input>": value}}` and `{"<id, title or class>.<input>": value}`;
 * a class sets the input on every node of that class (node-address.ts says how a key finds its nodes).
 * Input names never contain dots, so a dotted key splits at its last dot (titles and ids may have dots).
 * `from` names the overrides in errors: msg.inputs, or the node's Overrides rows.
 */
export function applyOverrides(prompt: ApiPrompt, overrides: unknown, from = 'msg.inputs'): Overridden {
  const touched = Object.create(null) as Record<string, NodeId[]>;
  if (overrides === undefined || overrides === null) return { prompt, touched };
  if (!isPlainObject(overrides)) {
    throw new ComfyError('BAD_INPUT', `${from} must be an object like {"KSampler": {"seed": 42}}, not ${describeType(overrides)}`);
  }
  const given = plainJson(overrides, 'BAD_INPUT', from) as JsonObject;
  const result = clonePrompt(prompt);
  for (const key of Object.keys(given)) {
    const value = given[key];
    const dot = key.lastIndexOf('.');
    if (isPlainObject(value) && (dot <= 0 || findNodesOrNone(result, key).length > 0)) {
      const ids = findNodes(result, key, from);
      for (const nodeId of ids) for (const input of Object.keys(value)) setInput(result, nodeId, input, value[input], from);
      touched[key] = ids;
      continue;
    }
    if (dot <= 0 || dot === key.length - 1) {
      checkName(key, 'node', from);
      throw new ComfyError(
        'UNKNOWN_OVERRIDE',
        `Override "${key}" needs an input name: use {"${key}": {"<input>": value}} or "${key}.<input>"`,
      );
    }
    // Both names are checked before either is looked up: a reserved name is wrong in any workflow.
    checkName(key.slice(0, dot), 'node', from);
    checkName(key.slice(dot + 1), 'input', from);
    const ids = findNodes(result, key.slice(0, dot), from);
    for (const nodeId of ids) setInput(result, nodeId, key.slice(dot + 1), value, from);
    touched[key] = ids;
  }
  return { prompt: result, touched };
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

function setInput(prompt: ApiPrompt, nodeId: NodeId, input: string, value: unknown, from: string): void {
  checkName(input, 'input', from);
  const node = prompt[nodeId];
  // Own inputs only: an inherited name such as "toString" is no input of the node.
  if (!Object.prototype.hasOwnProperty.call(node.inputs, input)) {
    const known = Object.keys(node.inputs);
    throw new ComfyError(
      'UNKNOWN_OVERRIDE',
      `Node ${nodeLabel(nodeId, node)} has no input "${input}"; its inputs are: ${known.length ? known.join(', ') : '(none)'}`,
    );
  }
  node.inputs[input] = value;
}

/** The prompt is plain JSON already, so this copy cannot fail. */
function clonePrompt(prompt: ApiPrompt): ApiPrompt {
  return plainJson(prompt, 'INTERNAL', 'The prompt') as unknown as ApiPrompt;
}

function isBytes(value: unknown): value is Uint8Array {
  try {
    return value instanceof Uint8Array;
  } catch {
    return false; // a Proxy whose getPrototypeOf trap throws
  }
}

/** Whether the first byte after a UTF-8 byte order mark and whitespace is "{". */
function startsLikeObject(bytes: Uint8Array): boolean {
  let index = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  while (index < bytes.length && [0x20, 0x09, 0x0a, 0x0d].includes(bytes[index])) index += 1;
  return bytes[index] === 0x7b;
}

/** UTF-8 text (a byte order mark dropped), or undefined when the bytes are not UTF-8. */
function utf8(bytes: Uint8Array): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * What bytes hold: the API prompt embedded in a file ComfyUI saved (PNG, WebP, FLAC, MP3, Ogg, MP4,
 * WebM), else its UI-format workflow (converted like any other), else their JSON text; a file with
 * neither says why that happens.
 */
function workflowOfBytes(bytes: Uint8Array): unknown {
  const embedded = readEmbeddedWorkflow(bytes);
  if (embedded === undefined) return textOfBytes(bytes);
  const { format, prompt, workflow } = embedded;
  if (prompt !== undefined) return prompt;
  if (workflow !== undefined) return workflow;
  throw new ComfyError(
    'BAD_WORKFLOW',
    `This ${format} file has no workflow in it (ComfyUI embeds one in the images, audio and video it saves, ` +
      'unless metadata was disabled with --disable-metadata or the file was re-saved by another program)',
  );
}

/** The JSON text in bytes (File In makes a Buffer of a file); other bytes get an error saying what they look like. */
function textOfBytes(bytes: Uint8Array): string {
  const what = `${Buffer.isBuffer(bytes) ? 'a Buffer' : 'a byte array'} of ${bytes.length} bytes`;
  if (bytes.length === 0)
    throw new ComfyError('BAD_WORKFLOW', `The workflow is ${what}: paste an API-format workflow or send one in msg.payload`);
  const text = utf8(bytes);
  if (text === undefined || !/^\s*[{[]/.test(text)) {
    throw new ComfyError('BAD_WORKFLOW', `The workflow is ${what} that is not JSON (it ${describeBytes(bytes)})`);
  }
  return text;
}

function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return `the text "${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  if (typeof value !== 'object') return `a ${typeof value}`;
  try {
    if (Array.isArray(value)) return 'an array';
  } catch {
    // a revoked Proxy: describeObject says so
  }
  return describeObject(value);
}
