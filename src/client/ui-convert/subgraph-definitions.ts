/**
 * Subgraphs (ComfyUI frontend 1.24 and later): `definitions.subgraphs[]` holds each subgraph's nodes
 * and links; a node whose type is a subgraph's id is an instance of it. Inside a definition the
 * subgraph's own input node has id -10 and its output node id -20, so a link from -10 slot i carries
 * whatever reaches the instance's input i, and the link into -20 slot o is what the instance's output
 * o gives. This reads the definitions and what an instance's promoted widgets hold.
 */
import { isRecord } from '../shape';
import type { Json } from '../shape';
import { readUiGraph } from './ui-graph';
import type { UiGraph, UiInputSlot, UiLink, UiNode } from './ui-graph';

/** litegraph's SUBGRAPH_INPUT_ID / SUBGRAPH_OUTPUT_ID as ids are read (text). */
export const SUBGRAPH_INPUT_NODE = '-10';
export const SUBGRAPH_OUTPUT_NODE = '-20';

/** Definitions read at most: a file listing more is not one a person made. */
const MAX_DEFINITIONS = 10_000;

export interface SubgraphDefinition {
  id: string;
  graph: UiGraph;
  /** Nodes by id. */
  byId: Map<string, UiNode>;
  /** For each output slot, the link inside that feeds it (the frontend takes the output's first link). */
  outputLinks: Map<number, UiLink>;
  /** The declared inputs (name and type, in slot order); undefined when the definition lists none. */
  inputs?: { name: string; type: string }[];
  /** Input slots that feed a widget inside: the instance shows them as (promoted) widgets. */
  widgetSlots: Set<number>;
}

/**
 * Every subgraph definition by id: those of the root's `definitions.subgraphs`, and any listed in a
 * definition's own `definitions` (some files nest them). The first definition of an id wins.
 */
export function readSubgraphDefinitions(root: Record<string, unknown>): Map<string, SubgraphDefinition> {
  const found = new Map<string, SubgraphDefinition>();
  const pending: unknown[] = [...listedIn(root)];
  for (let seen = 0; pending.length > 0 && seen < MAX_DEFINITIONS; seen++) {
    const value = pending.shift();
    if (!isRecord(value) || typeof value.id !== 'string' || found.has(value.id)) continue;
    const graph = readUiGraph(value);
    if (!graph) continue;
    const byId = new Map(graph.nodes.map((node) => [node.id, node]));
    found.set(value.id, {
      id: value.id,
      graph,
      byId,
      outputLinks: outputLinks(value, graph),
      ...(Array.isArray(value.inputs) ? { inputs: value.inputs.map(declaredSlot) } : {}),
      widgetSlots: widgetSlots(graph, byId),
    });
    pending.push(...listedIn(value));
  }
  return found;
}

function listedIn(value: Record<string, unknown>): unknown[] {
  const definitions = value.definitions;
  return isRecord(definitions) && Array.isArray(definitions.subgraphs) ? definitions.subgraphs : [];
}

function declaredSlot(value: unknown): { name: string; type: string } {
  const slot = isRecord(value) ? value : {};
  return { name: typeof slot.name === 'string' ? slot.name : '', type: typeof slot.type === 'string' ? slot.type : '*' };
}

/** The input slots linked (inside) to an input that is a widget: SubgraphNode._resolveInputWidget promotes those. */
function widgetSlots(graph: UiGraph, byId: Map<string, UiNode>): Set<number> {
  const found = new Set<number>();
  for (const link of graph.links.values()) {
    if (link.originId !== SUBGRAPH_INPUT_NODE) continue;
    const target = byId.get(link.targetId)?.inputs.find((input) => input.link === link.id);
    if (target?.widgetName !== undefined) found.add(link.originSlot);
  }
  return found;
}

/**
 * An instance's inputs in the subgraph's slot order, as the frontend rebuilds them on load
 * (SubgraphNode.configure, then matched by name): files may list fewer (unconnected widget inputs
 * are left out when saved) or in another order. An input the file lacks is unconnected.
 */
export function instanceInputs(definition: SubgraphDefinition, instance: UiNode): UiInputSlot[] {
  if (!definition.inputs) return instance.inputs;
  const unused = [...instance.inputs];
  return definition.inputs.map((declared) => {
    const index = unused.findIndex((input) => input.name === declared.name);
    return index === -1 ? { name: declared.name, type: declared.type, link: null } : unused.splice(index, 1)[0];
  });
}

function outputLinks(definition: Record<string, unknown>, graph: UiGraph): Map<number, UiLink> {
  const found = new Map<number, UiLink>();
  // The declared outputs name their links (linkIds); files without them are read from the links into -20.
  if (Array.isArray(definition.outputs)) {
    definition.outputs.forEach((output, slot) => {
      const first: unknown = isRecord(output) && Array.isArray(output.linkIds) ? output.linkIds[0] : undefined;
      const link = typeof first === 'number' ? graph.links.get(first) : undefined;
      if (link && link.targetId === SUBGRAPH_OUTPUT_NODE) found.set(slot, link);
    });
  }
  for (const link of graph.links.values()) {
    if (link.targetId === SUBGRAPH_OUTPUT_NODE && !found.has(link.targetSlot)) found.set(link.targetSlot, link);
  }
  return found;
}

/** What an instance's promoted widgets hold: by the instance's input slot, and by inner node id and widget name. */
export interface PromotedValues {
  byInput: Map<number, Json>;
  byInner: Map<string, Map<string, Json>>;
  /**
   * For a value shown from a nested instance's own promoted widget: the inner node of that instance
   * it comes from (the third item of a proxyWidgets entry), by nested instance id and widget name.
   */
  sources: Map<string, Map<string, string>>;
}

/** One entry of properties.proxyWidgets: inner node id, widget name, and the nested source id some entries add. */
type ProxyWidget = [string, string, string?];

/**
 * The instance's `widgets_values` are its promoted widgets' values. Files from frontends with
 * `properties.proxyWidgets` ([innerNodeId, widgetName] pairs, "-1" naming one of the instance's own
 * inputs) list them in that order, null where the value lives on the inner node; otherwise there is
 * one value per input shown as a widget, in slot order, where older files also kept a
 * control_after_generate value after a seed (skipped). An empty list (the usual case with
 * proxyWidgets) promotes nothing: the inner nodes keep their saved values.
 */
export function promotedValues(definition: SubgraphDefinition, instance: UiNode, inputs: readonly UiInputSlot[]): PromotedValues {
  const found: PromotedValues = { byInput: new Map(), byInner: new Map(), sources: new Map() };
  const values = instance.widgetsValues;
  if (!Array.isArray(values) || values.length === 0) return found;
  const proxies = proxyWidgets(instance.properties.proxyWidgets);
  if (proxies) {
    proxies.forEach(([innerId, name, source], k) => {
      // control_after_generate is the frontend's companion of a seed widget, not an input of the node.
      if (k >= values.length || values[k] === null || name === 'control_after_generate') return;
      if (innerId === '-1') {
        const slot = inputs.findIndex((input) => input.name === name);
        if (slot !== -1) found.byInput.set(slot, values[k]);
        return;
      }
      setIn(found.byInner, innerId, name, values[k]);
      if (source !== undefined) setIn(found.sources, innerId, name, source);
    });
    return found;
  }
  const promoted = inputs.flatMap((input, slot) => (input.widgetName !== undefined || definition.widgetSlots.has(slot) ? [slot] : []));
  const withControls = values.length > promoted.length;
  let next = 0;
  for (const slot of promoted) {
    if (next >= values.length) break;
    const value = values[next++];
    if (value !== null) found.byInput.set(slot, value);
    if (withControls && typeof values[next - 1] === 'number' && isControlValue(values[next])) next++;
  }
  return found;
}

function isControlValue(value: Json | undefined): boolean {
  return value === 'fixed' || value === 'increment' || value === 'decrement' || value === 'randomize';
}

function setIn<T>(map: Map<string, Map<string, T>>, key: string, name: string, value: T): void {
  let inner = map.get(key);
  if (!inner) map.set(key, (inner = new Map<string, T>()));
  inner.set(name, value);
}

/** Frontends before 1.4x named a widget promoted from a nested instance "<node id>: <name>", once per level. */
const LEGACY_PREFIX = /^\s*\d+\s*:\s*/;

/**
 * Hands on the values the enclosing instance shows from this nested instance's widgets (`outer`, by
 * widget name; `sources`, the inner node each comes from when the file says): to the instance's input
 * of that name, else to the inner node whose widget this instance shows under that name, as the
 * frontend resolves a promoted widget view (normalizeLegacyProxyWidgetEntry, resolveConcretePromotedWidget).
 */
export function passOnPromoted(
  promoted: PromotedValues,
  instance: UiNode,
  inputs: readonly UiInputSlot[],
  outer: ReadonlyMap<string, Json>,
  sources: ReadonlyMap<string, string> | undefined,
): void {
  const proxies = proxyWidgets(instance.properties.proxyWidgets) ?? [];
  for (const [savedName, value] of outer) {
    const source = sources?.get(savedName);
    // The saved name first, then without each legacy "<id>: " prefix in turn.
    for (let name = savedName, previous = ''; name !== previous; previous = name, name = name.replace(LEGACY_PREFIX, '')) {
      const slot = source === undefined ? inputs.findIndex((input) => input.name === name) : -1;
      if (slot !== -1) {
        promoted.byInput.set(slot, value);
        break;
      }
      const shown = proxies.find(([id, widget]) => widget === name && id !== '-1' && (source === undefined || id === source));
      if (shown) {
        setIn(promoted.byInner, shown[0], name, value);
        if (shown[2] !== undefined) setIn(promoted.sources, shown[0], name, shown[2]);
        break;
      }
    }
  }
}

/** properties.proxyWidgets: a list of [innerNodeId, widgetName, sourceNodeId?] entries, stored as a list or as its JSON text. */
function proxyWidgets(value: Json | undefined): ProxyWidget[] | undefined {
  let list: unknown = value;
  if (typeof value === 'string') {
    try {
      list = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  if (!Array.isArray(list) || list.length === 0) return undefined;
  return list.map((entry): ProxyWidget => {
    const [id, name, source] = Array.isArray(entry) ? (entry as unknown[]) : [];
    const text = (item: unknown): string => (typeof item === 'number' || typeof item === 'string' ? String(item) : '');
    const widget = typeof name === 'string' ? name : '';
    return source === undefined ? [text(id), widget] : [text(id), widget, text(source)];
  });
}
