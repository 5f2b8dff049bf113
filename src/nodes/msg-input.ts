/**
 * Reading values out of an incoming msg, with one way of saying what was wrong: the error
 * names the property, what it must be, and what it got.
 */
import { ComfyError } from '../client/errors';

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

/** msg.action (or another choice) when set, else the node's setting. */
export function choiceOf<T extends string>(value: unknown, allowed: readonly T[], configured: T, name = 'msg.action'): T {
  if (value === undefined || value === null || value === '') return configured;
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw new ComfyError('BAD_INPUT', `${name} must be one of ${allowed.join(', ')}; got ${describeValue(value)}`);
}

/** msg.prompt_id when set; it must be a string. */
export function promptIdOf(value: unknown): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') return value;
  throw new ComfyError('BAD_INPUT', `msg.prompt_id must be a prompt id (a string); got ${describeValue(value)}`);
}

/** Prompt ids from msg.payload: one string or an array of strings, duplicates dropped. */
export function promptIdsOf(payload: unknown, purpose: string): string[] {
  if (typeof payload === 'string' && payload !== '') return [payload];
  if (Array.isArray(payload) && payload.every((id) => typeof id === 'string')) return [...new Set(payload as string[])];
  throw new ComfyError('BAD_INPUT', `${purpose}, msg.payload must be a prompt id or an array of prompt ids; got ${describeValue(payload)}`);
}
