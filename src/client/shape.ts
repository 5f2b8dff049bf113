/**
 * The checking kit of the boundary: everything ComfyUI sends (frames and answers) is turned into
 * typed values with these readers before any other code sees it. A reader returns the value in
 * its type or throws a ShapeError naming the field ("data.nodes[2]") and what was there instead;
 * the caller turns that into a dropped frame or a BAD_RESPONSE. The valid path throws nothing
 * and allocates little: it runs for every frame.
 */

/** A JSON value as JSON.parse makes it. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Deeper JSON than this is refused: JSON.parse accepts any depth, but JSON.stringify, structuredClone and Node-RED's msg cloning overflow the stack. */
export const MAX_JSON_DEPTH = 64;

export class ShapeError extends Error {
  constructor(
    readonly field: string,
    readonly expected: string,
    readonly got: unknown,
  ) {
    super(`${field} must be ${expected}, not ${kindOf(got)}`);
    this.name = 'ShapeError';
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function record(value: unknown, field: string): Record<string, unknown> {
  if (isRecord(value)) return value;
  throw new ShapeError(field, 'an object', value);
}

export function text(value: unknown, field: string): string {
  if (typeof value === 'string') return value;
  throw new ShapeError(field, 'a string', value);
}

export function optionalText(value: unknown, field: string): string | undefined {
  return value === undefined ? undefined : text(value, field);
}

export function finite(value: unknown, field: string): number {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  throw new ShapeError(field, 'a finite number', value);
}

export function optionalFinite(value: unknown, field: string): number | undefined {
  return value === undefined || value === null ? undefined : finite(value, field);
}

export function flag(value: unknown, field: string): boolean {
  if (typeof value === 'boolean') return value;
  throw new ShapeError(field, 'true or false', value);
}

/** Node ids are strings; a server that sends numbers gets them as the same digits. */
export function nodeId(value: unknown, field: string): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  throw new ShapeError(field, 'a node id', value);
}

export function nodeIdOrNull(value: unknown, field: string): string | null {
  return value === null || value === undefined ? null : nodeId(value, field);
}

export function optionalNodeId(value: unknown, field: string): string | undefined {
  return value === undefined || value === null ? undefined : nodeId(value, field);
}

export function list<T>(value: unknown, field: string, item: (value: unknown, field: string) => T): T[] {
  if (!Array.isArray(value)) throw new ShapeError(field, 'a list', value);
  const out = new Array<T>(value.length);
  for (let i = 0; i < value.length; i += 1) out[i] = item(value[i], `${field}[${i}]`);
  return out;
}

export function textList(value: unknown, field: string): string[] {
  return list(value, field, text);
}

export function nodeIdList(value: unknown, field: string): string[] {
  return list(value, field, nodeId);
}

/**
 * A map keyed by text (node ids, prompt ids) with each value read by `item`. The result is a plain
 * object (flows receive these, and call hasOwnProperty on them), so a key such as `__proto__` is
 * defined as an own property rather than assigned; look keys up with `own`.
 */
export function map<T>(value: unknown, field: string, item: (value: unknown, field: string) => T): Record<string, T> {
  const source = record(value, field);
  const out: Record<string, T> = {};
  for (const key of Object.keys(source)) setOwn(out, key, item(source[key], `${field}.${key}`));
  return out;
}

/** `table[key] = value`, except that `__proto__` becomes an ordinary own key instead of the prototype. */
export function setOwn<T>(table: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(table, key, { value, enumerable: true, writable: true, configurable: true });
  else table[key] = value;
}

/** Own keys only: `Object.hasOwn` rather than `in` or a plain lookup. */
export function own<T>(table: Record<string, T>, key: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(table, key) ? table[key] : undefined;
}

/** Open-ended JSON (a node's UI output, an error's inputs, a custom event): any shape, bounded depth. */
export function json(value: unknown, field: string): Json {
  if (!isBoundedJson(value, MAX_JSON_DEPTH)) throw new ShapeError(field, `JSON nested at most ${MAX_JSON_DEPTH} deep`, value);
  return value as Json;
}

/** Walks without recursion, so a hostile depth cannot overflow the stack here either. */
export function isBoundedJson(value: unknown, maxDepth: number): boolean {
  if (typeof value !== 'object' || value === null) return isJsonScalar(value);
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (typeof current !== 'object' || current === null) {
      if (!isJsonScalar(current)) return false;
      continue;
    }
    if (depth > maxDepth) return false;
    const children = Array.isArray(current) ? current : Object.values(current);
    for (const child of children) {
      if (typeof child === 'object' && child !== null) stack.push([child, depth + 1]);
      else if (!isJsonScalar(child)) return false;
    }
  }
  return true;
}

function isJsonScalar(value: unknown): boolean {
  return value === null || typeof value === 'string' || typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value));
}

/** How a wrong value is named in a message: its kind, never its (maybe huge, maybe secret) content. */
export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'missing';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'number') return Number.isFinite(value) ? 'a number' : String(value);
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return 'a string';
  return `a ${typeof value}`;
}

/** Cuts a text to `max` characters with an ellipsis: a 2 MB error message is a bug. */
export function clip(value: string, max: number): string {
  if (value.length <= max) return value;
  return `${value.slice(0, Math.max(0, max - 1))}…`;
}

/** A duration as a message shows it: whole seconds as "30 s", else milliseconds. */
export function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`;
}
