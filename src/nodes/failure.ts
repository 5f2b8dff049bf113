/**
 * The one way an input handler ends, shaped like Home Assistant's inputErrorHandler: on failure a
 * red ring with the node's catalog key and done(err) with a ComfyError, so a Catch node always
 * finds msg.error.code. Whatever a flow put into its msg, nothing thrown here reaches the runtime.
 */
import type { Node, NodeMessage, NodeMessageInFlow } from 'node-red';
import { ComfyError, reasonOf } from '../client/errors';
import type { ComfyErrorCode } from '../client/errors';

/** `err` itself when it is a ComfyError, else a ComfyError of `code` saying what was thrown. */
export function asComfyError(err: unknown, code: ComfyErrorCode, context?: string): ComfyError {
  let cause: Error | undefined;
  try {
    if (err instanceof ComfyError) return err;
    if (err instanceof Error) cause = err;
  } catch {
    // a thrown Proxy whose getPrototypeOf trap throws: described below
  }
  const reason = reasonOf(err);
  return new ComfyError(code, context ? `${context}: ${reason}` : reason, cause ? { cause } : {});
}

/**
 * Reads what a handler needs from its msg. Anything but a ComfyError thrown while reading (a
 * getter or a Proxy trap of the msg, say) is BAD_INPUT: the msg is what could not be used.
 * Errors after this step that are not ComfyErrors are faults of ours: failInput makes them INTERNAL.
 */
export async function readInput<T>(read: () => Promise<T> | T): Promise<T> {
  try {
    return await read();
  } catch (err) {
    throw asComfyError(err, 'BAD_INPUT', 'The msg could not be read');
  }
}

/**
 * The properties a node sets on the msg it sends on (payload, …) must be settable: a getter
 * without a setter, a read-only property or a msg that takes no new properties is found while
 * reading, before ComfyUI is asked anything, not after a prompt ran and its result had nowhere to go.
 */
export function checkSettable(msg: object, keys: readonly string[]): void {
  for (const key of keys) {
    const property = Object.getOwnPropertyDescriptor(msg, key);
    const settable = property
      ? property.get === undefined && property.set === undefined
        ? property.writable === true
        : property.set !== undefined
      : Object.isExtensible(msg);
    if (!settable) throw new ComfyError('BAD_INPUT', `msg.${key} cannot be set (read-only, or a getter without a setter), so no result could be sent`);
  }
}

/**
 * Fails the msg: red ring `statusKey` on `target` and done(err). `target` is the node deployed
 * under this id now (submit: the node may have been redeployed while it waited); when it is
 * another instance, its error() reaches the Catch nodes of the flow as deployed now.
 */
export function failInput(node: Node, err: unknown, done: (err?: Error) => void, statusKey: string, target: Node = node, msg?: NodeMessage): void {
  const error = asComfyError(err, 'INTERNAL');
  if (target === node) {
    node.status({ fill: 'red', shape: 'ring', text: statusKey });
    // done(err) hands a copy of the msg to Catch nodes; a msg that cannot be copied (a getter
    // that throws) makes the runtime throw there, so the error is then logged without the msg.
    attempt(
      () => done(error),
      () => node.error(error),
    );
    return;
  }
  reportFailure(target, error, statusKey, msg);
  attempt(
    () => done(),
    () => undefined,
  );
}

/**
 * A failure with no handler's done() to end (a prompt recovered after a restart, say): red ring
 * `statusKey` on `target` and target.error(err, msg), which reaches the Catch nodes of its flow.
 */
export function reportFailure(target: Node, err: unknown, statusKey: string, msg?: NodeMessage): void {
  const error = asComfyError(err, 'INTERNAL');
  target.status({ fill: 'red', shape: 'ring', text: statusKey });
  attempt(
    () => target.error(error, msg),
    () => target.error(error),
  );
}

/**
 * The input handler of a palette node: `handle` does the work for one msg, which then ends in
 * finishInput, or in failInput with the red ring `statusKey`. One way for every adapter.
 */
export function onInput<M extends NodeMessageInFlow>(
  node: Node,
  statusKey: string,
  handle: (msg: M, send: (msg: M) => void) => Promise<void>,
): void {
  node.on('input', (msg: NodeMessageInFlow, send: (msg: NodeMessageInFlow) => void, done: (err?: Error) => void) => {
    // M is what the node reads of its msg: a description of the same object, not a conversion.
    handle(msg as M, send as (msg: M) => void).then(
      () => finishInput(node, done),
      (err: unknown) => failInput(node, err, done, statusKey),
    );
  });
}

/** done() for a msg that went well; a Complete node copying an uncopyable msg must not throw into the handler's promise. */
export function finishInput(node: Node, done: () => void): void {
  attempt(done, () => node.error(new ComfyError('BAD_INPUT', 'The msg was handled but could not be passed to Complete nodes (it cannot be copied)')));
}

function attempt(report: () => void, fallback: () => void): void {
  try {
    report();
  } catch {
    try {
      fallback();
    } catch {
      // nothing is left to tell the runtime with
    }
  }
}
