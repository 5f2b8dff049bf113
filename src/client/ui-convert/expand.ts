/**
 * A UI workflow with legacy group nodes and subgraphs made flat, as ComfyUI's frontend flattens it
 * when it builds a prompt (graphToPrompt with litegraph's ExecutableNodeDTO, and GroupNodeHandler for
 * group nodes): every instance is replaced by its inner nodes, whose ids are the path of instance ids
 * ("12:5", nested "12:7:3"; a group node's inner nodes "<instance>:<index>"), links across each
 * boundary are rewired to the node that really produces the value, and a promoted widget's value on
 * an instance becomes a widget override of the inner node it came from. The result is a flat UiGraph
 * for convertGraph; link ids are renumbered.
 *
 * Modes, as the frontend treats them: an instance at mode 2 (muted) or 4 (bypass) is not expanded,
 * at any depth; it stays one node, so consumers of a bypassed one are rewired through the instance's
 * own inputs by the bypass rule and those of a muted one lose the link (ExecutableNodeDTO.resolveOutput
 * of the instance). Frontends up to 1.48 expanded a muted or bypassed instance nested in a subgraph
 * all the same, so its nodes ran; the frontend's own tests now expect them left out (subgraphBypass
 * test "nested: inner host in muted mode"), which is also what the person who muted it meant.
 * Group nodes keep their own older rules (ExecutableGroupNodeDTO, GroupNodeHandler.updateLink): a
 * bypassed one gives a typed consumer its first input of exactly that type, resolved here; a group
 * output is the inner node behind its Reroutes taken as it is, so a muted or bypassed one gives nothing.
 *
 * The file is untrusted: nesting depth, the number of nodes expansion makes and every walk along links
 * are bounded, and a subgraph that contains itself is refused with BAD_WORKFLOW, never a stack overflow.
 */
import { ComfyError } from '../errors';
import { clip, isRecord } from '../shape';
import type { Json } from '../shape';
import { groupNameOf, innerWidgetValues, readGroupDefinitions } from './group-node';
import type { GroupDefinition, InnerSlot } from './group-node';
import { SUBGRAPH_INPUT_NODE, instanceInputs, passOnPromoted, promotedValues, readSubgraphDefinitions } from './subgraph-definitions';
import type { PromotedValues, SubgraphDefinition } from './subgraph-definitions';
import { readUiGraph } from './ui-graph';
import type { UiGraph, UiInputSlot, UiLink, UiNode } from './ui-graph';

/** Subgraph instances nested deeper than this are refused (real files nest a few levels). */
export const MAX_NESTING = 32;
/** Nodes expansion may make at most: a few nested instances of instances multiply quickly. */
export const MAX_EXPANDED_NODES = 100_000;

/** Boundaries one link may cross, in and out: each step visits a new (scope, node, slot), so only a malformed file comes near. */
const MAX_WALK = MAX_NESTING * 64;

const MUTED = 2;
const BYPASSED = 4;

/** One graph being flattened: the root, or one instance's copy of a subgraph. */
interface Scope {
  /** Prefix of the flat ids of its nodes: "" for the root, "12:" for instance 12, "12:7:" nested. */
  prefix: string;
  depth: number;
  graph: UiGraph;
  byId: Map<string, UiNode>;
  /** The subgraph ids from the root down to this scope, to refuse a subgraph that contains itself. */
  lineage: string[];
  parent?: Scope;
  /** This scope's instance node, in the parent scope. */
  instance?: UiNode;
  /** The instance's inputs in the subgraph's slot order (what a link from -10 slot i refers to). */
  instanceInputs?: UiInputSlot[];
  promoted?: PromotedValues;
  /** For each output slot of this scope's instance, the link inside that feeds it. */
  outputLinks?: Map<number, UiLink>;
  /** Instances in this scope that are expanded (none muted or bypassed), by node id: their consumers resolve into them. */
  expanded: Map<string, Scope>;
  /** Group node instances expanded in this scope (the root only). */
  groups: Map<string, GroupDefinition>;
  /** Bypassed group node instances (the root only): their consumers follow the group's own bypass rule. */
  bypassedGroups: Set<string>;
}

/** Where an input's value comes from after expansion. */
type Source = { node: string; slot: number } | { value: Json };

/**
 * The flat graph of a UI workflow: undefined when `raw` has no node list (as readUiGraph); the graph
 * itself when nothing needs expanding. Throws ComfyError BAD_WORKFLOW when expansion is refused.
 */
export function expandWorkflow(raw: unknown): UiGraph | undefined {
  const graph = readUiGraph(raw);
  if (!graph || !isRecord(raw)) return undefined;
  const subgraphs = readSubgraphDefinitions(raw);
  const groups = readGroupDefinitions(raw);
  const root: Scope = { ...emptyScope('', 0, graph, []), byId: new Map(graph.nodes.map((node) => [node.id, node])) };
  const budget = { nodes: graph.nodes.length };
  if (!buildScope(root, subgraphs, groups, budget)) return graph;
  return new Flattener().flatten(root);
}

function emptyScope(prefix: string, depth: number, graph: UiGraph, lineage: string[]): Omit<Scope, 'byId'> {
  return { prefix, depth, graph, lineage, expanded: new Map(), groups: new Map(), bypassedGroups: new Set() };
}

/**
 * Finds the instances of a scope and builds their scopes, depth first. Returns whether anything is
 * expanded. `budget` counts every node the flat graph can hold, so it bounds the flattening too.
 */
function buildScope(
  scope: Scope,
  subgraphs: Map<string, SubgraphDefinition>,
  groups: Map<string, GroupDefinition>,
  budget: { nodes: number },
): boolean {
  let any = false;
  for (const node of scope.graph.nodes) {
    const atRoot = scope.depth === 0;
    const silenced = node.mode === MUTED || node.mode === BYPASSED;
    const group = atRoot ? groupOf(node, groups) : undefined;
    if (group && node.mode === BYPASSED) {
      scope.bypassedGroups.add(node.id);
      any = true;
    }
    if (group && !silenced) {
      scope.groups.set(node.id, group);
      countNodes(budget, group.nodes.length);
      any = true;
      continue;
    }
    const definition = subgraphs.get(node.type);
    if (!definition || silenced) continue;
    const flatId = scope.prefix + node.id;
    if (scope.depth + 1 > MAX_NESTING) {
      throw new ComfyError(
        'BAD_WORKFLOW',
        `Subgraphs nest more than ${MAX_NESTING} deep (at node ${clip(flatId, 200)}): the workflow cannot be expanded`,
      );
    }
    if (scope.lineage.includes(definition.id)) {
      throw new ComfyError(
        'BAD_WORKFLOW',
        `Subgraph "${clip(definition.id, 100)}" contains an instance of itself (node ${clip(flatId, 200)}): the workflow cannot be expanded`,
      );
    }
    countNodes(budget, definition.graph.nodes.length);
    const inputs = instanceInputs(definition, node);
    const promoted = promotedValues(definition, node, inputs);
    // A proxy widget of the enclosing instance may show one of this instance's own promoted widgets.
    const outer = scope.promoted?.byInner.get(node.id);
    if (outer) passOnPromoted(promoted, node, inputs, outer, scope.promoted?.sources.get(node.id));
    const child: Scope = {
      ...emptyScope(`${flatId}:`, scope.depth + 1, definition.graph, [...scope.lineage, definition.id]),
      byId: definition.byId,
      parent: scope,
      instance: node,
      instanceInputs: inputs,
      promoted,
      outputLinks: definition.outputLinks,
    };
    scope.expanded.set(node.id, child);
    buildScope(child, subgraphs, groups, budget);
    any = true;
  }
  return any;
}

function groupOf(node: UiNode, groups: Map<string, GroupDefinition>): GroupDefinition | undefined {
  const name = groupNameOf(node.type);
  return name === undefined ? undefined : groups.get(name);
}

function countNodes(budget: { nodes: number }, more: number): void {
  budget.nodes += more;
  if (budget.nodes > MAX_EXPANDED_NODES) {
    throw new ComfyError(
      'BAD_WORKFLOW',
      `Expanding the workflow's subgraphs and group nodes would make more than ${MAX_EXPANDED_NODES} nodes`,
    );
  }
}

/** Emits the flat nodes and links of a scope tree. */
class Flattener {
  private readonly nodes: UiNode[] = [];
  private readonly ids = new Set<string>();
  private readonly links = new Map<number, UiLink>();
  private nextLinkId = 1;

  flatten(root: Scope): UiGraph {
    this.emitScope(root);
    const byId = new Map(this.nodes.map((node) => [node.id, node]));
    for (const link of this.links.values()) byId.get(link.originId)?.outputs[link.originSlot]?.links.push(link.id);
    return { nodes: this.nodes, links: this.links };
  }

  private emitScope(scope: Scope): void {
    for (const node of scope.graph.nodes) {
      const group = scope.groups.get(node.id);
      if (group) {
        this.emitGroup(scope, node, group);
        continue;
      }
      const child = scope.expanded.get(node.id);
      if (child) {
        this.emitScope(child);
        continue;
      }
      this.emitNode(scope, node);
    }
  }

  private emitNode(scope: Scope, node: UiNode): void {
    const overrides = new Map<string, Json>(scope.promoted?.byInner.get(node.id));
    const id = scope.prefix + node.id;
    const inputs = node.inputs.map((input, slot) => {
      const link = input.link === null ? undefined : scope.graph.links.get(input.link);
      const source = link ? resolve(scope, link.originId, link.originSlot, input.type) : undefined;
      if (source && 'value' in source) overrides.set(input.name, source.value);
      return { ...input, link: source && 'node' in source ? this.addLink(source, { id, slot, input }, link) : null };
    });
    this.push({ ...node, id, inputs }, overrides);
  }

  private emitGroup(scope: Scope, instance: UiNode, group: GroupDefinition): void {
    const instanceId = scope.prefix + instance.id;
    const fromInstance = new Map<string, number>();
    const slots = instance.inputs.length > group.inputs.length ? [...group.inputs, ...group.widgetInputs] : group.inputs;
    slots.forEach((slot, k) => fromInstance.set(`${slot.index}:${slot.slot}`, k));
    const values = Array.isArray(instance.widgetsValues) ? innerWidgetValues(group, instance.widgetsValues) : new Map<number, Json[]>();
    group.nodes.forEach((inner, index) => {
      if (!inner) return;
      const id = `${instanceId}:${index}`;
      const inputs = inner.inputs.map((input, slot) => {
        const target = { id, slot, input };
        const internal = group.internal.get(`${index}:${slot}`);
        if (internal) {
          const origin = group.nodes[internal.index] ? { node: `${instanceId}:${internal.index}`, slot: internal.slot } : undefined;
          return { ...input, link: origin ? this.addLink(origin, target, internal) : null };
        }
        const k = fromInstance.get(`${index}:${slot}`);
        const outerId = k === undefined ? null : (instance.inputs[k]?.link ?? null);
        const outer = outerId === null ? undefined : scope.graph.links.get(outerId);
        const source = outer ? resolve(scope, outer.originId, outer.originSlot, input.type) : undefined;
        return { ...input, link: source && 'node' in source ? this.addLink(source, target, outer) : null };
      });
      const widgetsValues = values.get(index) ?? inner.widgetsValues;
      this.push({ ...inner, id, inputs, ...(widgetsValues === undefined ? {} : { widgetsValues }) }, new Map());
    });
  }

  private push(node: UiNode, overrides: Map<string, Json>): void {
    // Text ids such as "12:5" in a file could collide with an expanded id; one of the two would be lost.
    if (this.ids.has(node.id)) throw new ComfyError('BAD_WORKFLOW', `Two nodes would both have id ${clip(node.id, 200)} after expansion`);
    this.ids.add(node.id);
    const outputs = node.outputs.map((output) => ({ ...output, links: [] }));
    const { widgetOverrides: _dropped, ...rest } = node;
    this.nodes.push({ ...rest, outputs, ...(overrides.size > 0 ? { widgetOverrides: overrides } : {}) });
  }

  /** A new flat link; its type is the one of the link that entered the target (the input's own when that link was untyped). */
  private addLink(
    source: { node: string; slot: number },
    target: { id: string; slot: number; input: { type: string } },
    entering?: { type: string },
  ): number {
    const id = this.nextLinkId++;
    const type = entering && entering.type !== '*' ? entering.type : target.input.type;
    this.links.set(id, { id, originId: source.node, originSlot: source.slot, targetId: target.id, targetSlot: target.slot, type });
    return id;
  }
}

/**
 * The node and output that really feed a link from (originId, originSlot) in `scope`: into an
 * expanded instance through the link that feeds its output, out of a subgraph through the
 * instance's input, or a promoted widget's value when that input has no link. Walks iteratively;
 * a loop (an output fed straight from an input that the same instance's output feeds) is refused.
 */
function resolve(scope: Scope, originId: string, originSlot: number, consumerType: string): Source | undefined {
  const seen = new Set<string>();
  let current = scope;
  let id = originId;
  let slot = originSlot;
  // The type a bypassed group node matches against: the consumer's, then (out of a subgraph) the instance input's, as ExecutableNodeDTO passes it.
  let type = consumerType;
  for (;;) {
    const key = `${current.prefix}\u0000${id}\u0000${slot}`;
    if (seen.has(key) || seen.size > MAX_WALK) {
      throw new ComfyError(
        'BAD_WORKFLOW',
        `Links across subgraph boundaries form a loop (or a chain of more than ${MAX_WALK}) at node ${clip(current.prefix + id, 200)}: the workflow cannot be expanded`,
      );
    }
    seen.add(key);
    if (id === SUBGRAPH_INPUT_NODE && current.parent && current.instanceInputs) {
      const input = current.instanceInputs[slot];
      if (!input) return undefined;
      if (input.link === null) {
        const value = current.promoted?.byInput.get(slot);
        return value === undefined ? undefined : { value };
      }
      const outer = current.parent.graph.links.get(input.link);
      if (!outer) return undefined;
      type = input.type;
      current = current.parent;
      id = outer.originId;
      slot = outer.originSlot;
      continue;
    }
    const child = current.expanded.get(id);
    if (child) {
      // An output fed straight from the subgraph's input leads back out through the same walk (the
      // frontend of 2025 throws "No output node found" there; the value is plainly the input's).
      const inner = child.outputLinks?.get(slot);
      if (!inner) return undefined;
      current = child;
      id = inner.originId;
      slot = inner.originSlot;
      continue;
    }
    const group = current.groups.get(id);
    if (group) {
      const output = groupOutput(group, slot);
      return output ? { node: `${current.prefix}${id}:${output.index}`, slot: output.slot } : undefined;
    }
    // An untyped consumer (a Reroute) passes its own consumer's type on: the converter resolves that one, with the node's bypass rule.
    const instance = current.bypassedGroups.has(id) && type !== '*' && type !== '' ? current.byId.get(id) : undefined;
    if (instance) {
      // ExecutableGroupNodeDTO.resolveOutput: the first input of exactly the consumer's type, the same slot first.
      const input = [slot, ...instance.inputs.keys()].map((i) => instance.inputs[i]).find((candidate) => candidate?.type === type);
      const outer = input?.link == null ? undefined : current.graph.links.get(input.link);
      if (!outer) return undefined;
      id = outer.originId;
      slot = outer.originSlot;
      continue;
    }
    return current.byId.has(id) ? { node: current.prefix + id, slot } : undefined;
  }
}

/**
 * The inner node and slot behind a group node's output, as GroupNodeHandler.updateLink finds it:
 * through the group's Reroutes to the node that makes the value, taken as it is. A muted or bypassed
 * inner node, a PrimitiveNode, or a Reroute fed from outside the group gives nothing (the frontend
 * then leaves the consumer's input out, or fails).
 */
function groupOutput(group: GroupDefinition, slot: number): InnerSlot | undefined {
  let output: InnerSlot | undefined = group.outputs[slot];
  for (let steps = 0; output && steps <= group.nodes.length; steps++) {
    const node = group.nodes[output.index];
    if (!node || node.mode === MUTED || node.mode === BYPASSED || node.type === 'PrimitiveNode') return undefined;
    if (node.type !== 'Reroute') return output;
    output = group.internal.get(`${output.index}:0`);
  }
  return undefined;
}
