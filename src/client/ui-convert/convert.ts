/**
 * A flat UI graph (no group nodes, no subgraphs) turned into the API prompt ComfyUI's frontend makes
 * of it on Export (API) or queueing (graphToPrompt in executionUtil.ts): every node the server runs,
 * with its widget values first (in widget order) and then its links (in socket order), a linked
 * widget input sending the link; frontend-only, muted and bypassed nodes left out, and a link from a
 * node that was left out dropped. Widget values are sent as the frontend serializes them: dynamic
 * prompts resolved, file-name replacements of save nodes applied.
 */
import { ComfyError } from '../errors';
import type { NodeDefinition } from '../node-definitions';
import { isReservedName } from '../plain-json';
import { clip } from '../shape';
import type { ApiPrompt, PromptNode } from '../types';
import { UI_FORMAT_HINT } from '../workflow';
import { processDynamicPrompt } from './dynamic-prompts';
import { isFrontendOnly } from './frontend-nodes';
import { MODE_BYPASS, MODE_MUTED, resolveInput } from './links';
import type { GraphIndex } from './links';
import { primitiveValues } from './primitives';
import type { PrimitiveValues } from './primitives';
import { SAVE_NODE_TYPES, applyTextReplacements } from './text-replacements';
import type { WidgetLookup } from './text-replacements';
import type { UiGraph, UiNode } from './ui-graph';
import { widgetValues } from './widgets';
import type { WidgetValue } from './widgets';

/** What the frontend takes from the moment of queueing; tests fix them. */
export interface ConvertOptions {
  /** Picks among `{a|b}` options of dynamic prompts: a number in [0, 1), Math.random by default. */
  random?: () => number;
  /** The date of `%date:…%` in file names, the current one by default. */
  now?: () => Date;
}

/** Everything the conversion of one node needs about the whole graph. */
interface Context {
  index: GraphIndex;
  definitions: ReadonlyMap<string, NodeDefinition>;
  primitives: PrimitiveValues;
  /** Widget values by node id, computed once per node (file-name replacements read other nodes' values). */
  widgets: Map<string, Map<string, WidgetValue>>;
  random: () => number;
  now: () => Date;
}

export function convertGraph(graph: UiGraph, definitions: ReadonlyMap<string, NodeDefinition>, options: ConvertOptions = {}): ApiPrompt {
  const index = indexGraph(graph);
  const sent = [...index.nodes.values()].filter(
    (node) => !isFrontendOnly(node.type) && node.mode !== MODE_MUTED && node.mode !== MODE_BYPASS,
  );
  checkClasses(sent, definitions);
  const context: Context = {
    index,
    definitions,
    primitives: primitiveValues(index),
    widgets: new Map(),
    random: options.random ?? Math.random,
    now: options.now ?? (() => new Date()),
  };
  const prompt = Object.create(null) as ApiPrompt;
  for (const node of sent) prompt[node.id] = convertNode(context, node, definitions.get(node.type) as NodeDefinition);
  dropLinksToAbsentNodes(prompt);
  return prompt;
}

/**
 * The nodes by id, in file order. A second node with an id already taken gets the next free number,
 * as litegraph's LGraph.add renumbers it on loading (links then reach the first one).
 */
function indexGraph(graph: UiGraph): GraphIndex {
  const nodes = new Map<string, UiNode>();
  let highest = 0;
  for (const node of graph.nodes) if (/^\d+$/.test(node.id)) highest = Math.max(highest, Number(node.id));
  for (const node of graph.nodes) {
    if (isReservedName(node.id)) {
      throw new ComfyError(
        'BAD_WORKFLOW',
        `The workflow has a node with the id "${clip(node.id, 80)}", which is not allowed (it names a JavaScript prototype)`,
      );
    }
    if (nodes.has(node.id)) {
      highest += 1;
      nodes.set(String(highest), { ...node, id: String(highest) });
    } else {
      nodes.set(node.id, node);
    }
  }
  return { nodes, links: graph.links };
}

/** Every class the server lacks, named at once, so that one answer lists everything to install. */
function checkClasses(nodes: readonly UiNode[], definitions: ReadonlyMap<string, NodeDefinition>): void {
  const missing = new Map<string, string[]>();
  for (const node of nodes) {
    if (definitions.has(node.type)) continue;
    const ids = missing.get(node.type) ?? [];
    ids.push(`#${clip(node.id, 80)}`);
    missing.set(node.type, ids);
  }
  if (missing.size === 0) return;
  const list = [...missing].map(([type, ids]) => `${clip(type, 80)} (${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', …' : ''})`);
  throw new ComfyError(
    'UI_WORKFLOW',
    `This UI-format workflow uses ${missing.size === 1 ? 'a node type' : 'node types'} the server does not have: ${list.join('; ')}. ` +
      UI_FORMAT_HINT,
  );
}

function convertNode(context: Context, node: UiNode, definition: NodeDefinition): PromptNode {
  const inputs = Object.create(null) as Record<string, unknown>;
  for (const [name, widget] of widgetsOf(context, node, definition)) {
    let value = widget.value;
    // What widgets do when they are serialized for queueing (serializeValue), the value shown staying as it is.
    if (typeof value === 'string' && widget.input.config.dynamicPrompts === true) value = processDynamicPrompt(value, context.random);
    if (typeof value === 'string' && name === 'filename_prefix' && SAVE_NODE_TYPES.has(node.type)) {
      value = applyTextReplacements(value, lookupIn(context), context.now());
    }
    // A list would read as a link ([node, slot]); the server unwraps {__value__} (as the frontend sends it).
    setInput(inputs, node, name, Array.isArray(value) ? { __value__: value } : value);
  }
  node.inputs.forEach((input, slot) => {
    const origin = resolveInput(context.index, node, slot);
    if (origin) setInput(inputs, node, input.name, [origin.nodeId, origin.slot]);
  });
  return { inputs, class_type: node.type, _meta: { title: titleOf(node, definition) } };
}

/** The node's widget values as they are on queueing: saved or default, then promoted values, then set by the PrimitiveNodes feeding them. */
function widgetsOf(context: Context, node: UiNode, definition: NodeDefinition): Map<string, WidgetValue> {
  let values = context.widgets.get(node.id);
  if (values) return values;
  values = widgetValues(definition, node.widgetsValues);
  // A subgraph instance's promoted widgets (expand.ts) win over the inner node's own saved values.
  for (const [name, value] of node.widgetOverrides ?? []) {
    const widget = values.get(name);
    if (widget) values.set(name, { value, input: widget.input });
  }
  for (const [name, value] of context.primitives.get(node.id) ?? []) {
    const widget = values.get(name);
    if (widget) values.set(name, { value, input: widget.input });
  }
  context.widgets.set(node.id, values);
  return values;
}

/** The frontend's title: the saved one, else the class's display name. */
function titleOf(node: UiNode, definition: NodeDefinition | undefined): string {
  return node.title ?? definition?.displayName ?? node.type;
}

/**
 * `%Node.widget%` of file names: the first node whose "Node name for S&R" is Node (every node but a
 * save node has one, its type unless the file says otherwise), else the first whose title is Node.
 */
function lookupIn(context: Context): WidgetLookup {
  return (nodeName, widgetName) => {
    const nodes = [...context.index.nodes.values()];
    const byName = (node: UiNode): boolean => {
      const saved = node.properties['Node name for S&R'];
      return (typeof saved === 'string' ? saved : SAVE_NODE_TYPES.has(node.type) ? undefined : node.type) === nodeName;
    };
    const node = nodes.find(byName) ?? nodes.find((entry) => titleOf(entry, context.definitions.get(entry.type)) === nodeName);
    const definition = node ? context.definitions.get(node.type) : undefined;
    if (!node || !definition) return undefined;
    return widgetsOf(context, node, definition).get(widgetName)?.value;
  };
}

function setInput(inputs: Record<string, unknown>, node: UiNode, name: string, value: unknown): void {
  if (isReservedName(name)) {
    throw new ComfyError(
      'BAD_WORKFLOW',
      `Node #${clip(node.id, 80)} has an input named "${clip(name, 80)}", which is not allowed (it names a JavaScript prototype)`,
    );
  }
  inputs[name] = value;
}

/** A link to a node that is not sent (muted, or resolved to one that is absent) is left out, as the frontend does. */
function dropLinksToAbsentNodes(prompt: ApiPrompt): void {
  for (const id of Object.keys(prompt)) {
    const inputs = prompt[id].inputs;
    for (const name of Object.keys(inputs)) {
      const value = inputs[name];
      if (Array.isArray(value) && value.length === 2 && !Object.prototype.hasOwnProperty.call(prompt, value[0] as string))
        delete inputs[name];
    }
  }
}
