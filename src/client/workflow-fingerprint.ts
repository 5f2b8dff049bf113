/**
 * A workflow's fingerprint: what stays the same when the same workflow is queued again with other
 * values (a new seed, another text). Prompts with one fingerprint take about as long as each
 * other, which is what the queue ETA (run-times.ts) needs. It covers each node's id and class and
 * each input's name and, for links, where it comes from; values are left out on purpose.
 */
import { createHash } from 'node:crypto';
import { linkOf } from './prompt-graph';
import { isRecord } from './shape';

/**
 * The fingerprint of a prompt, or undefined when `prompt` is not an object of nodes. It also reads
 * prompts of other clients straight from GET /queue, so it takes any value and never throws.
 */
export function workflowFingerprint(prompt: unknown): string | undefined {
  if (!isRecord(prompt)) return undefined;
  const hash = createHash('sha256');
  for (const id of Object.keys(prompt).sort()) {
    const node = prompt[id];
    if (!isRecord(node)) continue;
    // JSON-encoded parts: no choice of ids, class names or input names can make two workflows read the same.
    hash.update(JSON.stringify([id, typeof node.class_type === 'string' ? node.class_type : null]));
    const inputs = isRecord(node.inputs) ? node.inputs : {};
    for (const name of Object.keys(inputs).sort()) {
      const link = linkOf(inputs[name]);
      hash.update(JSON.stringify(link ? [name, link[0], link[1]] : [name]));
    }
  }
  return hash.digest('base64url').slice(0, 22);
}
