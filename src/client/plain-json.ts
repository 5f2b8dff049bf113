/**
 * Everything we send to ComfyUI is JSON, and everything a flow hands us is any JavaScript value.
 * This copies a value into plain JSON or says, with the path, why it cannot. JSON.stringify alone
 * would send NaN and Infinity as null, drop undefined, throw a TypeError without a code on a BigInt
 * or a cycle, and overflow the stack on deep nesting; reading keys into ordinary objects would let
 * a "__proto__" key change a prototype instead of setting a property.
 */
import { ComfyError, reasonOf } from './errors';
import type { ComfyErrorCode } from './errors';

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

/** Deeper than any workflow needs, and far below the recursion limits of JSON parsers (Python's is about 1000). */
export const MAX_JSON_DEPTH = 100;
/** Values copied at most: a few shared arrays nested a few dozen times would otherwise expand into billions. */
export const MAX_JSON_VALUES = 1_000_000;

/** Names that plain property access resolves on a prototype: never a node id, title or input name. */
const RESERVED_NAMES: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

export function isReservedName(name: string): boolean {
  return RESERVED_NAMES.has(name);
}

/**
 * An object literal or JSON.parse result, from this realm or another: Node-RED's function nodes
 * run in a vm context whose Object.prototype is not ours, so the test is the shape of the
 * prototype chain (one plain prototype, or none), not identity. Never throws.
 */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  try {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
    const proto: unknown = Object.getPrototypeOf(value);
    return proto === null || Object.getPrototypeOf(proto) === null;
  } catch {
    return false; // a Proxy whose traps throw is nothing we can read
  }
}

/**
 * A copy of `value` as plain JSON: null-prototype objects (own enumerable string keys only),
 * dense arrays, finite numbers (-0 as 0), strings, booleans and null. Anything else fails with a
 * ComfyError of `code` whose message starts with `where` and the path, e.g.
 * `msg.inputs.KSampler.seed is NaN, which JSON cannot carry`. Never throws anything else.
 */
export function plainJson(value: unknown, code: ComfyErrorCode, where: string): JsonValue {
  const ancestors = new Set<object>();
  let budget = MAX_JSON_VALUES;
  // The path to the value being copied, as keys and indexes: made into text only for a message,
  // since building it for every value was most of the cost of copying a workflow.
  const steps: Array<string | number> = [];
  /** The error fail() threw, told apart from what a flow's getter or Proxy trap throws (even a ComfyError). */
  let failure: ComfyError | undefined;

  const fail = (reason: string): never => {
    const path = steps.map((step) => (typeof step === 'number' ? `[${step}]` : pathStep(step))).join('');
    // A path 100 levels deep is shown by its ends.
    const shown = path.length > 100 ? `${path.slice(0, 40)}…${path.slice(-40)}` : path;
    failure = new ComfyError(code, `${where}${shown} ${reason}`);
    throw failure;
  };

  const copy = (item: unknown, depth: number): JsonValue => {
    if ((budget -= 1) < 0) {
      steps.length = 0;
      fail(`holds more than ${MAX_JSON_VALUES} values`);
    }
    switch (typeof item) {
      case 'string':
      case 'boolean':
        return item;
      case 'number':
        if (!Number.isFinite(item)) return fail(`is ${String(item)}, which JSON cannot carry (it would arrive as null)`);
        return item === 0 ? 0 : item;
      case 'bigint':
        return fail(`is the BigInt ${item.toString()}n, which JSON cannot carry; use a number or a string`);
      case 'object':
        if (item === null) return null;
        break;
      default:
        return fail(`is ${typeof item === 'undefined' ? 'undefined' : `a ${typeof item}`}, which JSON cannot carry`);
    }
    if (depth >= MAX_JSON_DEPTH) return fail(`is nested more than ${MAX_JSON_DEPTH} levels deep`);
    if (ancestors.has(item)) return fail('contains itself (a circular structure)');
    ancestors.add(item);
    try {
      return Array.isArray(item) ? copyArray(item as unknown[], depth) : copyObject(item, depth);
    } finally {
      // Only a cycle fails: the same array used twice (a link, say) is two equal JSON values.
      ancestors.delete(item);
    }
  };

  const copyArray = (array: unknown[], depth: number): JsonValue[] => {
    const length = array.length;
    const out: JsonValue[] = [];
    for (let index = 0; index < length; index += 1) {
      steps.push(index);
      if (!Object.prototype.hasOwnProperty.call(array, index)) fail('is missing (a sparse array), which JSON cannot carry');
      out.push(copy(array[index], depth + 1));
      steps.pop();
    }
    return out;
  };

  const copyObject = (object: object, depth: number): JsonObject => {
    if (!isPlainObject(object)) fail(`is ${describeObject(object)}, not a plain object`);
    const keys = Object.keys(object);
    const out = Object.create(null) as JsonObject;
    for (const key of keys) {
      steps.push(key);
      // A null-prototype object has no __proto__ setter: this defines an own property, whatever the key.
      out[key] = copy((object as Record<string, unknown>)[key], depth + 1);
      steps.pop();
    }
    return out;
  };

  try {
    return copy(value, 0);
  } catch (err) {
    if (err === failure) throw err;
    // A getter or a Proxy trap of the flow's value threw (or the stack ran out): where is what the steps say.
    return fail(`could not be read: ${reasonOf(err)}`);
  }
}

/** `.name` or `["odd name"]`, shortened so a huge key cannot make a huge message. */
function pathStep(key: string): string {
  if (/^[A-Za-z_$][\w$]*$/.test(key) && key.length <= 60) return `.${key}`;
  return `[${JSON.stringify(key.length > 60 ? `${key.slice(0, 60)}…` : key)}]`;
}

/** "a Map", "a Buffer of 12 bytes", "an object of another kind", without trusting the object. */
export function describeObject(value: object): string {
  try {
    if (Buffer.isBuffer(value)) return `a Buffer of ${value.length} bytes`;
    const proto: unknown = Object.getPrototypeOf(value);
    const name: unknown =
      typeof proto === 'object' && proto !== null ? (proto as { constructor?: { name?: unknown } }).constructor?.name : undefined;
    if (name === 'Object') return 'an object that inherits from another object';
    if (typeof name === 'string' && /^[A-Za-z_$][\w$]{0,59}$/.test(name)) return `${/^[AEIOU]/.test(name) ? 'an' : 'a'} ${name}`;
  } catch {
    // fall through: a Proxy or a getter that throws
  }
  return 'an object of another kind';
}
