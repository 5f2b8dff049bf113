/**
 * Reading values out of an incoming msg or a node's setting, with one way of saying what was
 * wrong: the error names where the value came from, what it must be, and what it got.
 */
import { ComfyError } from '../client/errors';

/** A value for one msg, and words naming where it came from ("msg.action", "The Action setting", …). */
export interface Given {
  value: unknown;
  from: string;
}

/** undefined, null and '' all mean "not set": the node's default applies. */
export function isUnset(value: unknown): boolean {
  return value === undefined || value === null || value === '';
}

/** How a wrong value is shown in an error: "number 7", "the string \"x\"", "an object", … */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) {
    const index = value.findIndex((item) => typeof item !== 'string');
    return index < 0 ? 'an array' : `an array with ${describeValue(value[index])} at index ${index}`;
  }
  if (Buffer.isBuffer(value)) return 'a Buffer';
  if (typeof value === 'string') return value === '' ? 'an empty string' : `the string "${value.slice(0, 60)}"`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
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

/** A prompt id (a string); undefined when not set. */
export function promptIdOf(given: Given): string | undefined {
  if (isUnset(given.value)) return undefined;
  if (typeof given.value === 'string') return given.value.trim() || undefined;
  throw new ComfyError('BAD_INPUT', `${given.from} must be a prompt id (a string); got ${describeValue(given.value)}`);
}

/** Prompt ids from msg.payload: one string or an array of strings, duplicates dropped. */
export function promptIdsOf(payload: unknown, purpose: string): string[] {
  if (typeof payload === 'string' && payload !== '') return [payload];
  if (Array.isArray(payload) && payload.every((id) => typeof id === 'string')) return [...new Set(payload)];
  throw new ComfyError('BAD_INPUT', `${purpose}, msg.payload must be a prompt id or an array of prompt ids; got ${describeValue(payload)}`);
}
