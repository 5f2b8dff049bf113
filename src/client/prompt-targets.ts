/**
 * Partial execution: the output nodes a flow asks ComfyUI to run (POST /prompt's
 * `partial_execution_targets`), resolved from ids, titles or classes. ComfyUI silently ignores an id
 * that is not an output node (and refuses the prompt when nothing is left); here that is an error
 * naming the node, so a typo never runs the wrong part of a workflow.
 */
import { ComfyError } from './errors';
import { findAllNodes, nodeLabel } from './node-address';
import type { NodeDefinition } from './node-definitions';
import type { ApiPrompt, NodeId } from './types';

/**
 * The ids of the output nodes `keys` name (see node-address.ts), or undefined when no key was given
 * (the whole prompt runs). A node whose class the server does not know or that is not an output
 * node is BAD_INPUT; a key that names no node is UNKNOWN_OVERRIDE.
 */
export function resolveTargets(
  prompt: ApiPrompt,
  keys: readonly string[],
  definitions: ReadonlyMap<string, NodeDefinition>,
  from: string,
): NodeId[] | undefined {
  if (keys.length === 0) return undefined;
  const ids = findAllNodes(prompt, keys, from);
  const unknown = ids.filter((id) => !definitions.has(prompt[id].class_type));
  if (unknown.length > 0) {
    throw new ComfyError(
      'BAD_INPUT',
      `${from} names nodes whose class ComfyUI does not have, so they cannot run: ${unknown.map((id) => nodeLabel(id, prompt[id])).join(', ')}`,
    );
  }
  const notOutputs = ids.filter((id) => definitions.get(prompt[id].class_type)?.outputNode !== true);
  if (notOutputs.length > 0) {
    throw new ComfyError(
      'BAD_INPUT',
      `${from} names nodes that are not output nodes (only output nodes such as Save Image or Preview Image can be run on their own): ` +
        notOutputs.map((id) => nodeLabel(id, prompt[id])).join(', '),
    );
  }
  return ids;
}
