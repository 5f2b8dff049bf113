/**
 * Bypass and mute for one submission, done on the API prompt before it is sent, the way ComfyUI's
 * frontend does it when it builds a prompt from a workflow with bypassed (mode 4) or muted (mode 2) nodes:
 * - a muted node is left out, and so is every input linked to it;
 * - a bypassed node is left out, and each input linked to its output slot i takes instead what the
 *   bypassed node's input chosen by bypassInputIndex (bypass-rule.ts) takes, through chains of bypassed
 *   nodes; when that input is a literal or absent, the consumer's input is left out.
 * Pure: the prompt given is not changed. Input and output types come from the server's definitions.
 */
import { bypassInputIndex } from './bypass-rule';
import { ComfyError } from './errors';
import { nodeLabel } from './node-address';
import type { NodeDefinition } from './node-definitions';
import { plainJson } from './plain-json';
import { linkOf } from './prompt-graph';
import type { ApiPrompt, Link, NodeId } from './types';

export interface LeftOut {
  /** Nodes whose outputs are replaced by one of their inputs. */
  bypass: readonly NodeId[];
  /** Nodes removed with every link from them. */
  mute: readonly NodeId[];
}

/** The prompt without the bypassed and muted nodes, rewired as described above. `definitions` are only read for bypass. */
export function leaveOut(prompt: ApiPrompt, nodes: LeftOut, definitions: ReadonlyMap<string, NodeDefinition>): ApiPrompt {
  const bypass = new Set(nodes.bypass.filter((id) => Object.prototype.hasOwnProperty.call(prompt, id)));
  const mute = new Set(nodes.mute.filter((id) => Object.prototype.hasOwnProperty.call(prompt, id)));
  if (bypass.size === 0 && mute.size === 0) return prompt;
  const both = [...bypass].filter((id) => mute.has(id));
  if (both.length > 0) {
    throw new ComfyError('BAD_INPUT', `Nodes cannot be both bypassed and muted: ${both.map((id) => nodeLabel(id, prompt[id])).join(', ')}`);
  }
  checkKnown(prompt, bypass, definitions);
  const result = plainJson(prompt, 'INTERNAL', 'The prompt') as unknown as ApiPrompt;
  for (const id of [...bypass, ...mute]) delete result[id];
  for (const id of Object.keys(result)) {
    const node = result[id];
    const inputTypes = new Map(definitions.get(node.class_type)?.inputs.map((input) => [input.name, input.type]));
    for (const name of Object.keys(node.inputs)) {
      const link = linkOf(node.inputs[name]);
      if (!link || (!bypass.has(link[0]) && !mute.has(link[0]))) continue;
      const source = resolve(prompt, link, inputTypes.get(name), bypass, mute, definitions);
      if (source) node.inputs[name] = source;
      else delete node.inputs[name];
    }
  }
  return result;
}

/**
 * Where a link from a left-out node really comes from: through bypassed nodes to the first node that
 * runs, or undefined when the chain ends at a muted node, a literal, an absent input, no fitting
 * input, or goes round in a circle of bypassed nodes. `targetType` is the consumer's input type.
 */
function resolve(
  prompt: ApiPrompt,
  link: Link,
  targetType: string | undefined,
  bypass: ReadonlySet<NodeId>,
  mute: ReadonlySet<NodeId>,
  definitions: ReadonlyMap<string, NodeDefinition>,
): Link | undefined {
  const seen = new Set<NodeId>();
  for (let current: Link | undefined = link; current !== undefined;) {
    const [from, slot]: Link = current;
    if (mute.has(from)) return undefined;
    if (!bypass.has(from)) return [from, slot];
    if (seen.has(from)) return undefined;
    seen.add(from);
    const definition = definitions.get(prompt[from].class_type) as NodeDefinition; // checkKnown made sure
    const index = bypassInputIndex(
      definition.inputs.map((input) => input.type),
      slot,
      definition.outputs[slot]?.type,
      targetType,
    );
    const input = definition.inputs[index];
    current = input === undefined ? undefined : linkOf(prompt[from].inputs[input.name]);
  }
  return undefined;
}

/**
 * Which input stands in for a bypassed node's output depends on the types of the bypassed node and of
 * each node that takes its output: a class the server lacks is BAD_INPUT naming the nodes.
 */
function checkKnown(prompt: ApiPrompt, bypass: ReadonlySet<NodeId>, definitions: ReadonlyMap<string, NodeDefinition>): void {
  const takesFromBypassed = (id: NodeId): boolean =>
    !bypass.has(id) &&
    Object.values(prompt[id].inputs).some((value) => {
      const link = linkOf(value);
      return link !== undefined && bypass.has(link[0]);
    });
  const involved = [...bypass, ...Object.keys(prompt).filter(takesFromBypassed)];
  const unknown = involved.filter((id) => !definitions.has(prompt[id].class_type));
  if (unknown.length === 0) return;
  const classes = [...new Set(unknown.map((id) => prompt[id].class_type))];
  throw new ComfyError(
    'BAD_INPUT',
    `Cannot bypass ${[...bypass].map((id) => nodeLabel(id, prompt[id])).join(', ')}: ComfyUI has no node class ` +
      `${classes.map((name) => `"${name}"`).join(', ')} (${unknown.map((id) => `#${id}`).join(', ')}), ` +
      'so which input stands in for an output cannot be told',
  );
}
