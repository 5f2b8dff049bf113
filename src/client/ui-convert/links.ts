/**
 * Where the value of a node's input really comes from, the way the frontend resolves it on queueing
 * (litegraph's ExecutableNodeDTO.resolveInput / resolveOutput): bypassed nodes (mode 4) are passed
 * through by the bypass rule, frontend-only nodes (Reroute) by the input at the output's index, and
 * the first other node found is the origin. Followed in a loop with a visited set, never by recursion:
 * the file decides how long a chain is, and a circle of Reroutes or bypassed nodes must end.
 */
import { bypassInputIndex } from '../bypass-rule';
import { ComfyError } from '../errors';
import { clip } from '../shape';
import { isFrontendOnly } from './frontend-nodes';
import type { UiLink, UiNode } from './ui-graph';

/** Mode 4 in a UI workflow: the node is skipped and its inputs stand in for its outputs. */
export const MODE_BYPASS = 4;
/** Mode 2 ("never", muted): the node is left out, and so is every link from it. */
export const MODE_MUTED = 2;

export interface GraphIndex {
  nodes: ReadonlyMap<string, UiNode>;
  links: ReadonlyMap<number, UiLink>;
}

export interface Origin {
  nodeId: string;
  slot: number;
}

/**
 * The origin of input `slot` of `node`, or undefined when nothing real feeds it (no link, a link or
 * node the file does not have, a bypassed node without a fitting input, a Reroute fed by nothing,
 * a PrimitiveNode, whose value reached the widget already). A circle fails with BAD_WORKFLOW, as the
 * frontend refuses to queue it.
 */
export function resolveInput(graph: GraphIndex, node: UiNode, slot: number): Origin | undefined {
  const visited = new Set<string>();
  let current = node;
  let inputIndex = slot;
  // The type a bypassed node must match: the requesting input's, kept through Reroutes, and
  // replaced by the bypassed node's own input type after a bypass (as resolveInput(index) does).
  let wantedType: string | undefined;
  for (;;) {
    const input = current.inputs[inputIndex];
    if (input === undefined || input.link === null) return undefined;
    const wanted = wantedType ?? input.type;
    const link = graph.links.get(input.link);
    const origin = link ? graph.nodes.get(link.originId) : undefined;
    if (!link || !origin) return undefined;
    const step = `${origin.id}[O]${link.originSlot}`;
    if (visited.has(step)) throw circle(node, slot);
    visited.add(step);
    if (origin.mode === MODE_BYPASS) {
      const inputTypes = origin.inputs.map((entry) => entry.type);
      const index = bypassInputIndex(inputTypes, link.originSlot, origin.outputs[link.originSlot]?.type, wanted);
      if (index === -1) return undefined;
      current = origin;
      inputIndex = index;
      wantedType = undefined;
      continue;
    }
    if (isFrontendOnly(origin.type)) {
      current = origin;
      inputIndex = link.originSlot;
      wantedType = wanted;
      continue;
    }
    return { nodeId: origin.id, slot: link.originSlot };
  }
}

function circle(node: UiNode, slot: number): ComfyError {
  const name = node.inputs[slot]?.name ?? String(slot);
  return new ComfyError(
    'BAD_WORKFLOW',
    `Input "${clip(name, 80)}" of node #${clip(node.id, 80)} is linked in a circle through Reroute or bypassed nodes, so it has no source; ComfyUI's frontend refuses to queue such a workflow as well`,
  );
}
