/**
 * One error class for everything the client reports. `code` is machine-readable so a flow can
 * branch on it in a Catch node; `message` is written for a person reading the debug sidebar.
 */
export type ComfyErrorCode =
  | 'VALIDATION' // ComfyUI answered POST /prompt with 400 (or dropped outputs on a 200)
  | 'EXECUTION' // a node raised while running
  | 'INTERRUPTED' // the prompt was interrupted
  | 'UI_WORKFLOW' // a UI-format workflow where the API format is needed
  | 'BAD_WORKFLOW' // not a workflow at all
  | 'UNKNOWN_OVERRIDE' // msg.inputs, msg.targets, msg.bypass or msg.mute names a node, title, class or input that does not exist
  | 'BAD_INPUT' // a msg the node cannot use (no image refs, …)
  | 'NOT_FOUND' // ComfyUI has no such node class, model folder, …
  | 'TOO_LARGE' // above the server's max_upload_size
  | 'NOT_ALLOWED' // a file path or URL the node's settings do not allow (outside "Files from", URLs off, a private address)
  | 'INVALID_URL' // the server URL in the config node is unusable
  | 'INVALID_CONFIG' // another unusable setting of the config node (custom headers, …)
  | 'HTTP' // a non-2xx answer
  | 'AUTH' // 401/403: credentials, a proxy or ComfyUI's Origin check refused us
  | 'WRONG_ENDPOINT' // 404 on a route every ComfyUI has: wrong URL or base path
  | 'BAD_RESPONSE' // a 2xx answer that is not what ComfyUI sends (an HTML proxy page, …)
  | 'NETWORK' // connection refused, reset, DNS, …
  | 'TIMEOUT' // a request or a wait took too long
  | 'CLOSED' // the client was closed while the operation was pending
  | 'LOST' // the server no longer knows the prompt
  | 'NO_SERVER' // no server of a pool can take the prompt (down, refusing, or lacking a node class or model file)
  | 'INTERNAL'; // a fault of this package, not of the input or the server: the message says what failed (please report it)

export interface ComfyErrorDetails {
  status?: number;
  /** ComfyUI's answer body, parsed when it was JSON, else the text (truncated). */
  body?: unknown;
  promptId?: string;
  /** The failing nodes, for VALIDATION and EXECUTION. */
  nodes?: unknown;
  cause?: unknown;
}

export class ComfyError extends Error {
  readonly code: ComfyErrorCode;
  readonly status?: number;
  readonly body?: unknown;
  readonly promptId?: string;
  readonly nodes?: unknown;

  constructor(code: ComfyErrorCode, message: string, details: ComfyErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: readableCause(details.cause) });
    this.name = 'ComfyError';
    this.code = code;
    if (details.status !== undefined) this.status = details.status;
    if (details.body !== undefined) this.body = details.body;
    if (details.promptId !== undefined) this.promptId = details.promptId;
    if (details.nodes !== undefined) this.nodes = details.nodes;
  }
}

export function isComfyError(value: unknown, code?: ComfyErrorCode): value is ComfyError {
  return value instanceof ComfyError && (code === undefined || value.code === code);
}

/**
 * Words for anything that was thrown, without trusting it: a flow can throw any value (a getter,
 * a Proxy trap, JSONata), and String() of an object with a non-callable toString throws again.
 */
export function reasonOf(err: unknown): string {
  try {
    if (err instanceof Error) return typeof err.message === 'string' ? err.message : 'an error without a message';
    if (typeof err === 'string') return err;
    if (typeof err === 'object' && err !== null) {
      const message: unknown = (err as { message?: unknown }).message;
      if (typeof message === 'string') return message;
      return 'a thrown object';
    }
    return String(err);
  } catch {
    return 'a thrown value that cannot be described';
  }
}

/**
 * A cause as Node-RED can show it: its debug sidebar and Catch nodes print `cause + ""`, which is
 * "[object Object]" for the plain objects JSONata throws. Errors and texts stay as they are.
 */
function readableCause(cause: unknown): unknown {
  return cause instanceof Error || typeof cause === 'string' ? cause : reasonOf(cause);
}
