/**
 * The words a failed "Test connection" step shows. They are ours, plus facts such as a status
 * code or an error code, and never text from the answer: the tested URL may be any server
 * (a dialog can name one that was never deployed), and what it answers must not come back
 * through the editor, where it could pass for our advice or carry what the request sent.
 */
import { isComfyError } from './errors';
import { refusalOf } from './refusal';

/** A failure whose message is already our own words, shown as it is. */
export class StepFailure extends Error {}

/** What went wrong with `request` (e.g. "GET /system_stats"), from the error's code and status. */
export function verdict(err: unknown, request: string, timeoutMs: number): string {
  if (err instanceof StepFailure) return err.message;
  if (!isComfyError(err)) return `${request} failed unexpectedly (${err instanceof Error ? safeWord(err.name) : 'error'})`;
  const status = err.status;
  switch (err.code) {
    case 'AUTH':
    case 'WRONG_ENDPOINT':
      return refusalOf(status ?? 0, `for ${request}`)?.message ?? `${request} was refused (${err.code})`;
    case 'BAD_RESPONSE':
      return (
        `${request} answered${status ? ` ${status}` : ''} with ${looksLikeHtml(err.body) ? 'an HTML page' : 'something'} ` +
        "that is not ComfyUI's JSON: is the URL pointing at ComfyUI (and not at a proxy or login page)?"
      );
    case 'HTTP':
    case 'TOO_LARGE':
      return `${request} failed: the server answered HTTP ${status ?? '?'}`;
    case 'TIMEOUT':
      return `${request}: no answer within ${timeoutMs} ms`;
    case 'NETWORK': {
      const code = causeCode(err.cause);
      return `${request}: the connection failed${code ? ` (${code})` : ''}`;
    }
    default:
      return `${request} failed (${err.code})`;
  }
}

/** The error code of a cause: http.ts leaves causes as text ("TypeError ECONNRESET"); an error object still has its code. */
function causeCode(cause: unknown): string | undefined {
  const raw = typeof cause === 'string' ? cause.split(' ').pop() : (cause as { code?: unknown } | undefined)?.code;
  return typeof raw === 'string' && /^[A-Z][A-Z0-9_]{1,39}$/.test(raw) ? raw : undefined;
}

function looksLikeHtml(body: unknown): boolean {
  return typeof body === 'string' && /^\s*<(!doctype|html|head|body|title)/i.test(body);
}

/** An error name or code as a fact, not as free text: letters, digits and underscores only. */
function safeWord(text: string): string {
  return /^[A-Za-z0-9_]{1,40}$/.test(text) ? text : 'error';
}
