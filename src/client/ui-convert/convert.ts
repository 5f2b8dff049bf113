/**
 * A flat UI graph (no group nodes, no subgraphs) turned into the API prompt ComfyUI's frontend makes
 * of it on Export (API) or queueing (graphToPrompt in executionUtil.ts): every node the server runs,
 * with its widget values first (in widget order) and then its links (in socket order), a linked
 * widget input sending the link; frontend-only, muted and bypassed nodes left out, and a link from a
 * node that was left out dropped.
 */
import { ComfyError } from '../errors';
import type { NodeDefinition } from '../node-definitions';
import { isReservedName } from '../plain-json';
import type { Json } from '../shape';
import type { ApiPrompt, PromptNode } from '../types';
import { UI_FORMAT_HINT } from '../workflow';
import { isFrontendOnly } from './frontend-nodes';
import { MODE_BYPASS, MODE_MUTED, resolveInput } from './links';
import type { GraphIndex } from './links';
import { primitiveValues } from './primitives';
import type { PrimitiveValues } from './primitives';
import type { UiGraph, UiNode } from './ui-graph';
import { widgetValues } from './widgets';

export function convertGraph(graph: UiGraph, definitions: ReadonlyMap<string, NodeDefinition>): ApiPrompt {
  const index = indexGraph(graph);
  const sent = graph.nodes.filter((node) => !isFrontendOnly(node.type) && node.mode !== MODE_MUTED && node.mode !== MODE_BYPASS);
  checkClasses(sent, definitions);
  const primitives = primitiveValues(index);
  const prompt = Object.create(null) as ApiPrompt;
  for (const node of sent) {
    const definition = definitions.get(node.type) as NodeDefinition;
    prompt[node.id] = convertNode(index, node, definition, primitives);
  }
  dropLinksToAbsentNodes(prompt);
  return prompt;
}

function indexGraph(graph: UiGraph): GraphIndex {
  const nodes = new Map<string, UiNode>();
  for (const node of graph.nodes) {
    if (isReservedName(node.id)) {
      throw new ComfyError(
        'BAD_WORKFLOW',
        `The workflow has a node with the id "${node.id}", which is not allowed (it names a JavaScript prototype)`,
      );
    }
    // Two nodes with one id cannot both be sent: the frontend's graph keeps the last one loaded.
    nodes.set(node.id, node);
  }
  return { nodes, links: graph.links };
}

/** Every class the server lacks, named at once, so that one answer lists everything to install. */
function checkClasses(nodes: readonly UiNode[], definitions: ReadonlyMap<string, NodeDefinition>): void {
  const missing = new Map<string, string[]>();
  for (const node of nodes) {
    if (definitions.has(node.type)) continue;
    const ids = missing.get(node.type) ?? [];
    ids.push(`#${node.id}`);
    missing.set(node.type, ids);
  }
  if (missing.size === 0) return;
  const list = [...missing].map(([type, ids]) => `${shown(type)} (${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ', …' : ''})`);
  throw new ComfyError(
    'UI_WORKFLOW',
    `This UI-format workflow uses ${missing.size === 1 ? 'a node type' : 'node types'} the server does not have: ${list.join('; ')}. ` +
      UI_FORMAT_HINT,
  );
}

function convertNode(index: GraphIndex, node: UiNode, definition: NodeDefinition, primitives: PrimitiveValues): PromptNode {
  const inputs = Object.create(null) as Record<string, unknown>;
  const fromPrimitives = primitives.get(node.id);
  for (const [name, saved] of widgetValues(definition, node.widgetsValues)) {
    const value = fromPrimitives?.has(name) ? (fromPrimitives.get(name) as Json) : saved;
    // A list would read as a link ([node, slot]); the server unwraps {__value__} (as the frontend sends it).
    setInput(inputs, node, name, Array.isArray(value) ? { __value__: value } : value);
  }
  node.inputs.forEach((input, slot) => {
    const origin = resolveInput(index, node, slot);
    if (origin) setInput(inputs, node, input.name, [origin.nodeId, origin.slot]);
  });
  return { inputs, class_type: node.type, _meta: { title: node.title ?? definition.displayName } };
}

function setInput(inputs: Record<string, unknown>, node: UiNode, name: string, value: unknown): void {
  if (isReservedName(name)) {
    throw new ComfyError(
      'BAD_WORKFLOW',
      `Node #${node.id} has an input named "${name}", which is not allowed (it names a JavaScript prototype)`,
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

/** A class name from the file, shortened so that a huge one cannot make a huge message. */
function shown(text: string): string {
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}
