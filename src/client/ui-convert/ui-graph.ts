/**
 * The UI-format workflow (what ComfyUI's "Save" writes, and what it embeds in the files it saves) read
 * into typed values: nodes with their slots, and links normalized to objects whose node ids are text.
 * Files differ by era: links are `[id, origin, originSlot, target, targetSlot, type]` tuples in the root
 * graph of older files and objects in newer ones and in subgraph definitions; widget values are a list or,
 * from some custom nodes, an object. Reading is lenient (a slot or link with an odd shape is skipped, not
 * thrown on) because the frontend itself loads such files; only a graph without a node list is refused.
 */
import { isRecord } from '../shape';
import type { Json } from '../shape';

export interface UiInputSlot {
  name: string;
  type: string;
  /** The id of the link feeding this input, or null. */
  link: number | null;
  /** Set when the input is a widget converted to (or shown as) a socket: `{name}` of that widget. */
  widgetName?: string;
}

export interface UiOutputSlot {
  name: string;
  type: string;
  links: number[];
}

export interface UiNode {
  /** The node id as text ("12"; expansion of group nodes and subgraphs makes ids such as "5:3"). */
  id: string;
  /** The node type: a server class, a frontend-only node (PrimitiveNode, Reroute, Note, …), a group node "workflow>…" / "workflow/…", or a subgraph's id. */
  type: string;
  /** 0 always, 2 never (muted), 4 bypass; others as the frontend treats them. */
  mode: number;
  title?: string;
  inputs: UiInputSlot[];
  outputs: UiOutputSlot[];
  /** A list in most files; an object keyed by widget name in some (custom nodes); absent on socket-only nodes. */
  widgetsValues?: Json[] | Record<string, Json>;
  properties: Record<string, Json>;
  /**
   * Values that win over `widgets_values`, by input name: what a subgraph instance's promoted widgets
   * give its inner nodes (see expand.ts). Only expansion sets it; a node read from a file has none.
   */
  widgetOverrides?: Map<string, Json>;
}

export interface UiLink {
  id: number;
  originId: string;
  originSlot: number;
  targetId: string;
  targetSlot: number;
  type: string;
}

export interface UiGraph {
  nodes: UiNode[];
  /** By link id. */
  links: Map<number, UiLink>;
}

/** Reads a root graph or a subgraph definition's nodes and links. Returns undefined when `value` has no node list. */
export function readUiGraph(value: unknown): UiGraph | undefined {
  if (!isRecord(value) || !Array.isArray(value.nodes)) return undefined;
  const nodes: UiNode[] = [];
  for (const entry of value.nodes) {
    const node = readNode(entry);
    if (node) nodes.push(node);
  }
  const links = new Map<number, UiLink>();
  if (Array.isArray(value.links)) {
    for (const entry of value.links) {
      const link = readLink(entry);
      if (link) links.set(link.id, link);
    }
  }
  return { nodes, links };
}

function readNode(value: unknown): UiNode | undefined {
  if (!isRecord(value)) return undefined;
  const id = idText(value.id);
  if (id === undefined || typeof value.type !== 'string') return undefined;
  const widgets = value.widgets_values;
  return {
    id,
    type: value.type,
    mode: typeof value.mode === 'number' ? value.mode : 0,
    ...(typeof value.title === 'string' ? { title: value.title } : {}),
    inputs: Array.isArray(value.inputs) ? value.inputs.map(readInputSlot) : [],
    outputs: Array.isArray(value.outputs) ? value.outputs.map(readOutputSlot) : [],
    ...(Array.isArray(widgets) || isRecord(widgets) ? { widgetsValues: widgets as Json[] | Record<string, Json> } : {}),
    properties: isRecord(value.properties) ? (value.properties as Record<string, Json>) : {},
  };
}

function readInputSlot(value: unknown): UiInputSlot {
  const slot = isRecord(value) ? value : {};
  const widget = isRecord(slot.widget) && typeof slot.widget.name === 'string' ? slot.widget.name : undefined;
  return {
    name: typeof slot.name === 'string' ? slot.name : '',
    type: slotType(slot.type),
    link: typeof slot.link === 'number' && Number.isInteger(slot.link) ? slot.link : null,
    ...(widget !== undefined ? { widgetName: widget } : {}),
  };
}

function readOutputSlot(value: unknown): UiOutputSlot {
  const slot = isRecord(value) ? value : {};
  const links = Array.isArray(slot.links) ? slot.links.filter((link): link is number => typeof link === 'number') : [];
  return { name: typeof slot.name === 'string' ? slot.name : '', type: slotType(slot.type), links };
}

/** A slot type is text ("MODEL", "*", "IMAGE,MASK"); a combo output stores its list of choices, and connects as COMBO. */
function slotType(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) return 'COMBO';
  return '*';
}

function readLink(value: unknown): UiLink | undefined {
  if (Array.isArray(value)) {
    const [id, originId, originSlot, targetId, targetSlot, type] = value as unknown[];
    return makeLink(id, originId, originSlot, targetId, targetSlot, type);
  }
  if (isRecord(value)) return makeLink(value.id, value.origin_id, value.origin_slot, value.target_id, value.target_slot, value.type);
  return undefined;
}

function makeLink(
  id: unknown,
  originId: unknown,
  originSlot: unknown,
  targetId: unknown,
  targetSlot: unknown,
  type: unknown,
): UiLink | undefined {
  const origin = idText(originId);
  const target = idText(targetId);
  if (typeof id !== 'number' || origin === undefined || target === undefined) return undefined;
  if (!isSlot(originSlot) || !isSlot(targetSlot)) return undefined;
  return { id, originId: origin, originSlot, targetId: target, targetSlot, type: slotType(type) };
}

function isSlot(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

/** Node ids are numbers in files (negative ones name a subgraph's input/output node); text ids are kept as they are. */
function idText(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string' && value !== '') return value;
  return undefined;
}
