/**
 * Answers that retrying cannot fix: credentials refused (401), refused by ComfyUI's Origin/Host
 * check or a proxy (403), or no ComfyUI at that path (404). They get an actionable message and
 * a slow retry schedule instead of fast backoff.
 */
import { ComfyError } from './errors';

export interface Refusal {
  status: number;
  /** AUTH for 401/403, WRONG_ENDPOINT for 404. */
  code: 'AUTH' | 'WRONG_ENDPOINT';
  message: string;
}

export function refusalOf(status: number, where: string): Refusal | undefined {
  if (status === 401) {
    return { status, code: 'AUTH', message: `server refused (401) ${where}: check credentials` };
  }
  if (status === 403) {
    return {
      status,
      code: 'AUTH',
      message:
        `server refused (403) ${where}: check credentials; with no proxy in between, ` +
        'ComfyUI answers 403 when an Origin header does not match the Host it was reached at',
    };
  }
  if (status === 404) {
    return { status, code: 'WRONG_ENDPOINT', message: `not a ComfyUI endpoint (404) ${where}: check the URL and base path` };
  }
  return undefined;
}

export function refusalError(refusal: Refusal, body?: unknown): ComfyError {
  return new ComfyError(refusal.code, refusal.message, { status: refusal.status, body });
}
