/**
 * PrimitiveNode (a frontend-only node) holds one widget value and, on queueing, writes it into the
 * widget of every input it feeds, through Reroutes too (widgetInputs.ts applyToGraph; the frontend
 * does this for every PrimitiveNode, whatever its mode). Its own link then resolves to nothing, so the
 * consumer sends that widget value.
 */
import type { Json } from '../shape';
import { PRIMITIVE, REROUTE } from './frontend-nodes';
import type { GraphIndex } from './links';
import type { UiNode } from './ui-graph';

/** Widget values set by PrimitiveNodes: node id → widget name → value. */
export type PrimitiveValues = Map<string, Map<string, Json>>;

export function primitiveValues(graph: GraphIndex): PrimitiveValues {
  const applied: PrimitiveValues = new Map();
  for (const node of graph.nodes.values()) {
    if (node.type !== PRIMITIVE) continue;
    const value = valueOf(node);
    if (value === undefined) continue;
    for (const { target, slot } of fedInputs(graph, node)) {
      const widgetName = target.inputs[slot]?.widgetName;
      if (widgetName === undefined) continue;
      let widgets = applied.get(target.id);
      if (!widgets) applied.set(target.id, (widgets = new Map<string, Json>()));
      widgets.set(widgetName, value);
    }
  }
  return applied;
}

/** The primitive's widget value: the first saved value (the rest are its control and filter widgets). */
function valueOf(node: UiNode): Json | undefined {
  const saved = node.widgetsValues;
  if (Array.isArray(saved)) return saved.length > 0 ? saved[0] : undefined;
  if (saved && Object.prototype.hasOwnProperty.call(saved, 'value')) return saved.value;
  return undefined;
}

/** Every (node, input) the primitive's output reaches, Reroutes followed (each visited once: a circle ends). */
function fedInputs(graph: GraphIndex, primitive: UiNode): Array<{ target: UiNode; slot: number }> {
  const found: Array<{ target: UiNode; slot: number }> = [];
  const visited = new Set<string>([primitive.id]);
  const pending: UiNode[] = [primitive];
  while (pending.length > 0) {
    const source = pending.pop() as UiNode;
    for (const linkId of source.outputs[0]?.links ?? []) {
      const link = graph.links.get(linkId);
      const target = link ? graph.nodes.get(link.targetId) : undefined;
      if (!link || !target || link.originId !== source.id) continue;
      if (target.type === REROUTE) {
        if (!visited.has(target.id)) pending.push(target);
        visited.add(target.id);
      } else {
        found.push({ target, slot: link.targetSlot });
      }
    }
  }
  return found;
}
