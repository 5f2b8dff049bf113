/**
 * What the submit node writes down about a prompt in flight so that a later process can pick it
 * up: plain JSON only, bounded in size. The msg is kept without its payload (the result replaces
 * it anyway) and without what JSON cannot carry (Buffers, an HTTP request, cycles): those
 * properties are dropped, and the caller says once in the log which ones.
 */
import type { ApiPrompt } from '../client/types';
import { isPlainObject } from '../client/plain-json';
import { isPromptId } from '../client/prompt-id';

export interface JobRecord {
  promptId: string;
  /** The submit node that reports the result. */
  node: string;
  /** The config node (a server's or a pool's id) the prompt was submitted to. */
  server: string;
  /** With a pool: the member server that holds it (updated when the pool moves it). */
  member?: string;
  /** The part of the prompt that runs (titles, progress and the cached flag are computed from it). */
  prompt: ApiPrompt;
  /** The msg as it arrived, without payload and without what could not be stored. */
  msg: Record<string, unknown>;
  number: number;
  nodeErrors: Record<string, unknown>;
  overrides: unknown;
  /** Epoch ms: when the msg was handed to ComfyUI, and when ComfyUI accepted it. */
  submittedAt: number;
  acceptedAt: number;
}

/** Whole record, in characters of JSON: a prompt with an embedded image must not fill a file store. */
export const MAX_RECORD_CHARS = 1_000_000;
/** The msg's share of it. */
export const MAX_MSG_CHARS = 256_000;

export interface StorableMsg {
  msg: Record<string, unknown>;
  /** `msg.<name>`: why it was left out. */
  dropped: string[];
}

/** A copy of `msg` that JSON can carry, within MAX_MSG_CHARS; the largest properties go first when it is too big. */
export function storableMsg(msg: object): StorableMsg {
  const kept: Record<string, string> = {};
  const dropped: string[] = [];
  for (const key of Object.keys(msg)) {
    if (key === 'payload') continue;
    let buffers = false;
    let json: string | undefined;
    try {
      json = JSON.stringify((msg as Record<string, unknown>)[key], function (this: unknown, name: string, value: unknown) {
        const raw = (this as Record<string, unknown>)[name];
        if (Buffer.isBuffer(raw) || raw instanceof Uint8Array) {
          buffers = true;
          return undefined;
        }
        return value;
      });
    } catch {
      json = undefined;
    }
    if (json === undefined) dropped.push(`msg.${key} (not JSON)`);
    else {
      kept[key] = json;
      if (buffers) dropped.push(`Buffers in msg.${key}`);
    }
  }
  let size = Object.values(kept).reduce((sum, json) => sum + json.length, 0);
  for (const [key, json] of Object.entries(kept).sort((a, b) => b[1].length - a[1].length)) {
    if (size <= MAX_MSG_CHARS) break;
    delete kept[key];
    size -= json.length;
    dropped.push(`msg.${key} (too large)`);
  }
  const copy: Record<string, unknown> = {};
  for (const [key, json] of Object.entries(kept)) copy[key] = JSON.parse(json) as unknown;
  return { msg: copy, dropped };
}

/** A record read back from a context store: anything else there (another version, an edited file) is skipped. */
export function readRecord(value: unknown): JobRecord | undefined {
  if (!isPlainObject(value)) return undefined;
  const { promptId, node, server, prompt, msg, submittedAt, acceptedAt, number } = value;
  if (!isPromptId(promptId) || typeof node !== 'string' || typeof server !== 'string' || !isPlainObject(prompt) || !isPlainObject(msg)) return undefined;
  if (typeof submittedAt !== 'number' || typeof acceptedAt !== 'number' || typeof number !== 'number') return undefined;
  return {
    promptId,
    node,
    server,
    ...(typeof value.member === 'string' ? { member: value.member } : {}),
    prompt: prompt as ApiPrompt,
    msg,
    number,
    nodeErrors: isPlainObject(value.nodeErrors) ? value.nodeErrors : {},
    overrides: value.overrides,
    submittedAt,
    acceptedAt,
  };
}
