/**
 * Legacy group nodes (ComfyUI's frontend before subgraphs): an instance of type "workflow>NAME"
 * ("workflow/NAME" before frontend 1.2.63) stands for the nodes stored in `extra.groupNodes[NAME]`.
 * This reads such a definition the way the frontend's GroupNodeConfig does, without /object_info:
 * which inner input each slot of the instance feeds, which inner output each of its outputs is, and
 * which inner widget each of its widget values belongs to. Where the frontend consults a node's
 * server definition, the inner node's own saved slots and values stand in for it (the definition was
 * saved by the same frontend from the same nodes, so they agree for every file we have seen).
 */
import { isRecord } from '../shape';
import type { Json } from '../shape';
import { readUiGraph } from './ui-graph';
import type { UiNode } from './ui-graph';

/** The frontend's two spellings of a group node's type. */
const GROUP_PREFIXES = ['workflow>', 'workflow/'] as const;

/** Frontend-only nodes the frontend leaves out of a group node ("Skipping virtual node"): they add no slots or widgets. */
const SKIPPED_TYPES: ReadonlySet<string> = new Set(['Note', 'MarkdownNote']);

/** The values a control_after_generate widget stores after its number, in files whose widgets all have inputs (2025 and later). */
const CONTROL_VALUES: ReadonlySet<Json> = new Set<Json>(['fixed', 'increment', 'decrement', 'randomize']);

/** An inner node's slot: its index in the definition's node list and the slot index. */
export interface InnerSlot {
  index: number;
  slot: number;
}

export interface GroupDefinition {
  /** Inner nodes by index (the frontend's inner ids are "<instance>:<index>"); undefined where an entry is unreadable. */
  nodes: (UiNode | undefined)[];
  /** Links inside the group by target "index:slot" → origin. */
  internal: Map<string, InnerSlot & { type: string }>;
  /** What the instance's input slots feed, in slot order: the inner inputs that are not widgets, not fed inside and not hidden. */
  inputs: InnerSlot[];
  /** Inner widget inputs not fed inside: the instance has slots for them after the others when it has more slots (processConvertedWidgets). */
  widgetInputs: InnerSlot[];
  /** What the instance's outputs are, in slot order. */
  outputs: InnerSlot[];
  /** Inner node indexes that own widget values of the instance, in order. */
  widgetOwners: number[];
}

/** The group name of a node type, when it is a group node's type. */
export function groupNameOf(type: string): string | undefined {
  const prefix = GROUP_PREFIXES.find((p) => type.startsWith(p));
  return prefix === undefined ? undefined : type.slice(prefix.length);
}

/** Group definitions of a root graph by name (extra.groupNodes); unreadable ones are left out. */
export function readGroupDefinitions(root: Record<string, unknown>): Map<string, GroupDefinition> {
  const found = new Map<string, GroupDefinition>();
  const groups = isRecord(root.extra) ? root.extra.groupNodes : undefined;
  if (!isRecord(groups)) return found;
  for (const [name, value] of Object.entries(groups)) {
    const definition = readGroupDefinition(value);
    if (definition) found.set(name, definition);
  }
  return found;
}

function readGroupDefinition(value: unknown): GroupDefinition | undefined {
  if (!isRecord(value) || !Array.isArray(value.nodes)) return undefined;
  // Inner nodes have no ids of their own: their index is their id, so an unreadable entry keeps its place.
  const nodes = value.nodes.map((entry, index) =>
    isRecord(entry) ? readUiGraph({ nodes: [{ ...entry, id: index }] })?.nodes[0] : undefined,
  );
  const internal = new Map<string, InnerSlot & { type: string }>();
  const linkedFrom = new Set<string>();
  const linkedTo = new Set<number>();
  for (const link of Array.isArray(value.links) ? value.links : []) {
    // [originIndex, originSlot, targetIndex, targetSlot, originalOriginId, type]; originIndex null = from outside the group.
    if (!Array.isArray(link)) continue;
    const [origin, originSlot, target, targetSlot, , type] = link as unknown[];
    if (!isIndex(origin, nodes.length) || !isIndex(target, nodes.length) || !isSlot(originSlot) || !isSlot(targetSlot)) continue;
    internal.set(`${target}:${targetSlot}`, { index: origin, slot: originSlot, type: typeof type === 'string' ? type : '*' });
    linkedFrom.add(`${origin}:${originSlot}`);
    linkedFrom.add(`${origin}`);
    linkedTo.add(target);
  }
  const external = readExternal(value.external, nodes.length);
  const config = isRecord(value.config) ? value.config : {};
  const shape: Shape = { nodes, internal, linkedFrom, linkedTo, external, config };
  const inputs: InnerSlot[] = [];
  const widgetInputs: InnerSlot[] = [];
  const outputs: InnerSlot[] = [];
  const widgetOwners: number[] = [];
  nodes.forEach((node, index) => {
    if (!node || !hasDefinition(shape, node, index)) return;
    if (Array.isArray(node.widgetsValues) && node.widgetsValues.length > 0) widgetOwners.push(index);
    node.inputs.forEach((input, slot) => {
      if (internal.has(`${index}:${slot}`)) return; // fed inside the group: no slot on the instance
      if (input.widgetName !== undefined) widgetInputs.push({ index, slot });
      else if (!isHidden(config, index, node, input.name)) inputs.push({ index, slot });
    });
    node.outputs.forEach((_output, slot) => {
      const hasLink = linkedFrom.has(`${index}:${slot}`) && !external.has(`${index}:${slot}`);
      const custom = configEntry(config, index, 'output', String(slot));
      const visible = typeof custom?.visible === 'boolean' ? custom.visible : !hasLink;
      if (visible) outputs.push({ index, slot });
    });
  });
  return { nodes, internal, inputs, widgetInputs, outputs, widgetOwners };
}

interface Shape {
  nodes: (UiNode | undefined)[];
  internal: Map<string, InnerSlot>;
  linkedFrom: Set<string>;
  linkedTo: Set<number>;
  external: Set<string>;
  config: Record<string, unknown>;
}

/**
 * The frontend's GroupNodeConfig.getNodeDef: a PrimitiveNode counts only when it feeds something,
 * a Reroute only when it reaches outside the group, Notes never; server classes always.
 */
function hasDefinition(shape: Shape, node: UiNode, index: number): boolean {
  if (SKIPPED_TYPES.has(node.type)) return false;
  if (node.type === 'PrimitiveNode') return shape.linkedFrom.has(`${index}`);
  if (node.type === 'Reroute') return !(shape.linkedTo.has(index) && shape.linkedFrom.has(`${index}`) && !shape.external.has(`${index}:0`));
  return true;
}

/** `external` entries are [index, slot, type]; some frontends stored the node object instead of its index, which the frontend then never matches. */
function readExternal(value: unknown, count: number): Set<string> {
  const found = new Set<string>();
  for (const entry of Array.isArray(value) ? value : []) {
    if (!Array.isArray(entry)) continue;
    const [index, slot] = entry as unknown[];
    if (isIndex(index, count) && isSlot(slot)) found.add(`${index}:${slot}`);
  }
  return found;
}

/** An input the user hid in "Manage Group Node" (config[index].input[name].visible === false). A Reroute's input is keyed by its type, so any hidden entry of a Reroute hides it. */
function isHidden(config: Record<string, unknown>, index: number, node: UiNode, name: string): boolean {
  const inputs = configEntry(config, index, 'input');
  if (!inputs) return false;
  if (node.type === 'Reroute') return Object.values(inputs).some((entry) => isRecord(entry) && entry.visible === false);
  const entry = Object.hasOwn(inputs, name) ? inputs[name] : undefined;
  return isRecord(entry) && entry.visible === false;
}

function configEntry(
  config: Record<string, unknown>,
  index: number,
  kind: 'input' | 'output',
  key?: string,
): Record<string, unknown> | undefined {
  const forNode = Object.hasOwn(config, String(index)) ? config[String(index)] : undefined;
  const entries = isRecord(forNode) ? forNode[kind] : undefined;
  if (!isRecord(entries)) return undefined;
  if (key === undefined) return entries;
  const entry = Object.hasOwn(entries, key) ? entries[key] : undefined;
  return isRecord(entry) ? entry : undefined;
}

/**
 * The inner nodes' widget values for one instance: the instance's list is the inner nodes' widgets
 * one after another (index order, each node's widgets in its own order, a control_after_generate
 * value after its number), without the widgets fed by a link inside the group. Inner nodes the list
 * does not reach keep their saved values.
 *
 * Which saved value belongs to which widget input is known when the node has no widget inputs or
 * one per widget (frontends from 2025 save them so). An older node with only some widgets turned
 * into inputs shows those at the end of the group's list (GroupNodeConfig.processConvertedWidgets)
 * and the rest at positions that only /object_info could tell: such a node keeps its saved values,
 * and only its share of the list is skipped so that the nodes after it still get theirs.
 */
export function innerWidgetValues(definition: GroupDefinition, instanceValues: readonly Json[]): Map<number, Json[]> {
  const result = new Map<number, Json[]>();
  let next = 0;
  for (const index of definition.widgetOwners) {
    const node = definition.nodes[index];
    if (!node || !Array.isArray(node.widgetsValues)) continue;
    const values = [...node.widgetsValues];
    const layout = widgetLayout(definition, node, index, values);
    if (!layout) {
      next += values.length - node.inputs.filter((input) => input.widgetName !== undefined).length;
      continue;
    }
    for (let position = 0; position < values.length && next < instanceValues.length; position++) {
      if (layout.fed.has(position)) continue;
      values[position] = instanceValues[next++];
    }
    result.set(index, values);
  }
  return result;
}

/**
 * The positions in `values` of widgets fed by a link inside the group (the group shows no widget for
 * them), or undefined when they cannot be known. With one input per widget the n-th widget input is
 * the n-th widget, a control value after a number taking one more place.
 */
function widgetLayout(definition: GroupDefinition, node: UiNode, index: number, values: readonly Json[]): { fed: Set<number> } | undefined {
  const fed = new Set<number>();
  let position = 0;
  let widgetInputs = 0;
  node.inputs.forEach((input, slot) => {
    if (input.widgetName === undefined) return;
    widgetInputs++;
    if (definition.internal.has(`${index}:${slot}`)) fed.add(position);
    position += typeof values[position] === 'number' && CONTROL_VALUES.has(values[position + 1] ?? null) ? 2 : 1;
  });
  if (widgetInputs === 0) return { fed };
  return position === values.length ? { fed } : undefined;
}

function isIndex(value: unknown, count: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value < count;
}

function isSlot(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}
