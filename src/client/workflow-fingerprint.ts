/**
 * A workflow's fingerprint: what stays the same when the same workflow is queued again with other
 * values (a new seed, another text). Prompts with one fingerprint take about as long as each
 * other, which is what the queue ETA (run-times.ts) needs. It covers each node's id and class and
 * each input's name and, for links, where it comes from; values are left out on purpose.
 */
import { hash } from 'node:crypto';
import { linkOf } from './prompt-graph';
import { isRecord } from './shape';

/**
 * The fingerprint of a prompt, or undefined when `prompt` is not an object of nodes. It also reads
 * prompts of other clients straight from GET /queue, so it takes any value and never throws.
 */
export function workflowFingerprint(prompt: unknown): string | undefined {
  if (!isRecord(prompt)) return undefined;
  // Three parts a node, JSON-encoded as one text: no choice of ids, class names or input names can make
  // two workflows read the same. One call into native code, not a hash update a part.
  const parts: unknown[] = [];
  for (const id of Object.keys(prompt).sort()) {
    const node = prompt[id];
    if (!isRecord(node)) continue;
    const inputs = isRecord(node.inputs) ? node.inputs : {};
    const shape = Object.keys(inputs)
      .sort()
      .map((name) => {
        const link = linkOf(inputs[name]);
        return link ? [name, link[0], link[1]] : name;
      });
    parts.push(id, typeof node.class_type === 'string' ? node.class_type : null, shape);
  }
  return hash('sha256', JSON.stringify(parts), 'base64url').slice(0, 22);
}
