/**
 * Reading values out of an incoming msg or a node's setting, with one way of saying what was
 * wrong: the error names where the value came from, what it must be, and what it got.
 */
import { ComfyError } from '../client/errors';
import { fileNameProblem, subfolderProblem } from '../client/file-names';
import { describeObject, isPlainObject } from '../client/plain-json';
import { isPromptId, PROMPT_ID_RULE } from '../client/prompt-id';

/** A value for one msg, and words naming where it came from ("msg.action", "The Action setting", …). */
export interface Given {
  value: unknown;
  from: string;
}

/** undefined, null and '' all mean "not set": the node's default applies. */
export function isUnset(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

/** How a wrong value is shown in an error: "number 7", "the string \"x\"", "a Map", …; never throws, never recurses. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return value === '' ? 'an empty string' : `the string ${JSON.stringify(value.slice(0, 60))}${value.length > 60 ? '…' : ''}`;
  if (typeof value === 'bigint') return `the BigInt ${value.toString()}n`;
  if (typeof value === 'symbol' || typeof value === 'function') return `a ${typeof value}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${String(value)}`;
  if (typeof value !== 'object') return `a ${typeof value}`;
  try {
    if (Array.isArray(value)) {
      const index = value.findIndex((item) => typeof item !== 'string');
      return index < 0 ? 'an array' : `an array with ${describeShallow(value[index])} at index ${index}`;
    }
  } catch {
    return 'an array that cannot be read';
  }
  return isPlainObject(value) ? 'an object' : describeObject(value);
}

/** One level only: an array nested 10 000 deep must not overflow the stack while being described. */
function describeShallow(value: unknown): string {
  try {
    return typeof value === 'object' && value !== null && Array.isArray(value) ? 'an array' : describeValue(value);
  } catch {
    return 'a value that cannot be read';
  }
}

/** One of `allowed`, or `fallback` when not set. */
export function choiceOf<T extends string>(given: Given, allowed: readonly T[], fallback: T): T {
  if (isUnset(given.value)) return fallback;
  if (typeof given.value === 'string' && (allowed as readonly string[]).includes(given.value)) return given.value as T;
  throw new ComfyError('BAD_INPUT', `${given.from} must be one of ${allowed.join(', ')}; got ${describeValue(given.value)}`);
}

/** Text, trimmed; '' when not set. */
export function textOf(given: Given): string {
  if (isUnset(given.value)) return '';
  if (typeof given.value !== 'string') throw new ComfyError('BAD_INPUT', `${given.from} must be a string; got ${describeValue(given.value)}`);
  return given.value.trim();
}

/** Text that goes into a URL path as one segment ('' when not set): URL parsing would resolve "." and ".." away. */
export function pathSegmentOf(given: Given): string {
  const text = textOf(given);
  if (text === '.' || text === '..') throw new ComfyError('BAD_INPUT', `${given.from} cannot be "${text}"`);
  return text;
}

/** true or false (also the words, as environment variables and typed-in values give them); `fallback` when not set. */
export function flagOf(given: Given, fallback: boolean): boolean {
  const { value } = given;
  if (isUnset(value)) return fallback;
  if (typeof value === 'boolean') return value;
  if (value === 'true' || value === 'false') return value === 'true';
  throw new ComfyError('BAD_INPUT', `${given.from} must be true or false; got ${describeValue(value)}`);
}

/** A whole number ≥ 0 (also as digits in a string); undefined when not set. */
export function countOf(given: Given): number | undefined {
  const { value } = given;
  if (isUnset(value)) return undefined;
  const number = typeof value === 'string' && /^\s*\d+\s*$/.test(value) ? Number(value) : value;
  if (typeof number === 'number' && Number.isSafeInteger(number) && number >= 0) return number;
  throw new ComfyError('BAD_INPUT', `${given.from} must be a whole number of 0 or more; got ${describeValue(value)}`);
}

/** A prompt id (a string of the id charset, trimmed); undefined when not set. Nothing is sent for a wrong one. */
export function promptIdOf(given: Given): string | undefined {
  if (isUnset(given.value)) return undefined;
  if (typeof given.value !== 'string') {
    throw new ComfyError('BAD_INPUT', `${given.from} must be a prompt id (a string); got ${describeValue(given.value)}`);
  }
  const id = given.value.trim();
  if (id === '') return undefined;
  if (!isPromptId(id)) throw new ComfyError('BAD_INPUT', `${given.from} is not a prompt id (${PROMPT_ID_RULE}); got ${describeValue(given.value)}`);
  return id;
}

/** Prompt ids from msg.payload: one string or an array of strings, each of the id charset, duplicates dropped. */
export function promptIdsOf(payload: unknown, purpose: string): string[] {
  const list = typeof payload === 'string' && payload !== '' ? [payload] : Array.isArray(payload) ? payload : undefined;
  if (list === undefined || !isDenseStrings(list)) {
    throw new ComfyError('BAD_INPUT', `${purpose}, msg.payload must be a prompt id or an array of prompt ids; got ${describeValue(payload)}`);
  }
  const index = list.findIndex((id) => !isPromptId(id));
  if (index >= 0) {
    const where = typeof payload === 'string' ? 'msg.payload' : `msg.payload[${index}]`;
    throw new ComfyError('BAD_INPUT', `${purpose}, ${where} is not a prompt id (${PROMPT_ID_RULE}); got ${describeValue(list[index])}`);
  }
  return [...new Set(list)];
}

/** Every index holds a string: `every` alone skips the holes of a sparse array. */
function isDenseStrings(list: unknown[]): list is string[] {
  for (let index = 0; index < list.length; index += 1) {
    if (!Object.prototype.hasOwnProperty.call(list, index) || typeof list[index] !== 'string') return false;
  }
  return true;
}

/** A file name for ComfyUI's folders, trimmed ('' when not set): a name, not a path (see client/file-names). */
export function fileNameOf(given: Given): string {
  const name = textOf(given);
  if (name !== '') failIf(fileNameProblem(name), given);
  return name;
}

/** A subfolder of ComfyUI's folders, trimmed ('' when not set): relative, without `..` (see client/file-names). */
export function subfolderOf(given: Given): string {
  const subfolder = textOf(given);
  failIf(subfolderProblem(subfolder), given);
  return subfolder;
}

/** A file ref as it is (not trimmed: it names an existing file), checked by the same rules; `where` is e.g. "msg.payload.images[2]". */
export function checkFileRef(ref: { filename: string; subfolder: string }, where: string): void {
  failIf(fileNameProblem(ref.filename), { value: ref.filename, from: `${where}.filename` });
  failIf(subfolderProblem(ref.subfolder), { value: ref.subfolder, from: `${where}.subfolder` });
}

function failIf(problem: string | undefined, given: Given): void {
  if (problem) throw new ComfyError('BAD_INPUT', `${given.from} ${problem}; got ${describeValue(given.value)}`);
}
