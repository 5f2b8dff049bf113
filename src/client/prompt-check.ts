/**
 * An API prompt checked against the server's node definitions before it is sent, answering in the
 * shape of the server's own `node_errors` (ComfyUI v0.8.0 execution.py validate_prompt/validate_inputs):
 * the same error types, messages and extra_info, so a local and a server rejection read the same.
 *
 * Like the server, it checks every node's class, then walks back from the output nodes (or the
 * requested ones) and checks only what they reach: a broken node nothing uses is not an error.
 * Where the definitions cannot tell (V3 dynamic and template inputs, inputs a custom node takes
 * without listing them, combos fed by links, upload widgets), it says nothing and leaves the
 * judgement to the server: a false refusal here would block a workflow the server runs.
 */
import { typesConnect } from './bypass-rule';
import { checkValue, configOf } from './input-check';
import type { InputDefinition, NodeDefinition } from './node-definitions';
import { pyRepr } from './python-values';
import { isPlainObject, MAX_JSON_DEPTH } from './plain-json';
import { isRecord, setOwn } from './shape';
import type { Json } from './shape';
import type { ApiPrompt, NodeErrorDetail, NodeErrors, NodeId } from './types';

export interface CheckOptions {
  /** Only these output nodes are run (partial_execution_targets); default: every output node. */
  outputs?: readonly NodeId[];
}

export function checkPrompt(
  prompt: ApiPrompt,
  definitions: ReadonlyMap<string, NodeDefinition>,
  options: CheckOptions = {},
): Record<NodeId, NodeErrors> {
  const sent = asSent(prompt);
  const errors = new Map<NodeId, NodeErrorDetail[]>();
  const add = (id: NodeId, error: NodeErrorDetail): void => void errors.set(id, [...(errors.get(id) ?? []), error]);

  // The server refuses a prompt with any node of an unknown class, used or not.
  for (const [id, node] of Object.entries(sent)) {
    if (definitionOf(definitions, node.class_type)) continue;
    add(id, {
      type: UNKNOWN_CLASS,
      message: `Cannot execute because node ${String(node.class_type)} does not exist.`,
      details: `Node ID '#${id}'`,
      extra_info: {},
    });
  }
  const outputs = outputNodes(prompt, definitions, options).filter((id) => hasOwn(sent, id));

  const outputSet = new Set(outputs);
  // Each node is checked once, when the first output reaches it; dependent_outputs collects them all.
  const dependents = new Map<NodeId, Set<NodeId>>();
  for (const output of outputs) {
    for (const id of reachedFrom(sent, definitions, output)) {
      const reachedBy = dependents.get(id);
      if (reachedBy) {
        reachedBy.add(output);
        continue;
      }
      dependents.set(id, new Set([output]));
      checkNode(sent, definitions, id, outputSet.has(id), add);
    }
  }

  const result: Record<NodeId, NodeErrors> = {};
  for (const [id, list] of errors) {
    setOwn(result, id, { errors: list, dependent_outputs: [...(dependents.get(id) ?? [])], class_type: String(sent[id].class_type) });
  }
  return result;
}

/** The error type of a node whose class the server does not have: it refuses the whole prompt for it. */
export const UNKNOWN_CLASS = 'invalid_prompt';

/** The output nodes the server would run: of a class it knows, flagged OUTPUT_NODE, and requested when some are. */
export function outputNodes(prompt: ApiPrompt, definitions: ReadonlyMap<string, NodeDefinition>, options: CheckOptions = {}): NodeId[] {
  return (isRecord(prompt) ? Object.keys(prompt) : []).filter(
    (id) => definitionOf(definitions, prompt[id]?.class_type)?.outputNode === true && (!options.outputs || options.outputs.includes(id)),
  );
}

type Sent = Record<NodeId, { class_type: unknown; inputs: Record<string, Json> }>;

/** The prompt as the server will read it: through JSON (NaN becomes null, undefined inputs vanish). */
function asSent(prompt: ApiPrompt): Sent {
  let parsed: unknown = prompt;
  // A prompt read at the boundary (plain-json.ts) is JSON already: the copy through JSON text, a
  // good part of the check's time, is only needed for one that is not.
  if (!unchangedByJson(prompt)) {
    try {
      parsed = JSON.parse(JSON.stringify(prompt));
    } catch {
      return {}; // not JSON at all (a BigInt, a cycle): sending it fails on its own, with its own error
    }
  }
  // No prototype: a node id such as "__proto__" stays an id.
  const sent: Sent = Object.create(null) as Sent;
  if (!isRecord(parsed)) return sent;
  for (const [id, node] of Object.entries(parsed)) {
    if (isRecord(node) && isRecord(node.inputs)) sent[id] = { class_type: node.class_type, inputs: node.inputs as Record<string, Json> };
  }
  return sent;
}

/** Whether JSON text would carry `value` unchanged. Never throws: a getter that throws makes it false. */
function unchangedByJson(value: unknown): boolean {
  try {
    return sameThroughJson(value, 0);
  } catch {
    return false;
  }
}

function sameThroughJson(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0);
    case 'object':
      break;
    default:
      return false;
  }
  if (value === null) return true;
  // A cycle or deep nesting: the JSON copy decides (and fails on a cycle).
  if (depth > MAX_JSON_DEPTH || 'toJSON' in value) return false;
  if (Array.isArray(value)) {
    for (let index = 0; index < value.length; index += 1) {
      if (!Object.hasOwn(value, index) || !sameThroughJson(value[index], depth + 1)) return false;
    }
    return true;
  }
  if (!isPlainObject(value)) return false;
  for (const key of Object.keys(value)) {
    if (!sameThroughJson(value[key], depth + 1)) return false;
  }
  return true;
}

function definitionOf(definitions: ReadonlyMap<string, NodeDefinition>, classType: unknown): NodeDefinition | undefined {
  return typeof classType === 'string' ? definitions.get(classType) : undefined;
}

/** V3 dynamic types (autogrow, dynamic combo, match-type templates): their inputs take shapes the definition does not spell out. */
function isDynamicType(type: string): boolean {
  return type.startsWith('COMFY_') && type.endsWith('_V3');
}

function checkNode(
  sent: Sent,
  definitions: ReadonlyMap<string, NodeDefinition>,
  id: NodeId,
  isOutput: boolean,
  add: (id: NodeId, error: NodeErrorDetail) => void,
): void {
  const definition = definitionOf(definitions, sent[id].class_type);
  if (!definition) return;
  const inputs = sent[id].inputs;
  for (const input of definition.inputs) {
    if (isDynamicType(input.type)) continue;
    if (!hasOwn(inputs, input.name)) {
      if (input.group === 'required') {
        add(id, {
          type: 'required_input_missing',
          message: 'Required input is missing',
          details: input.name,
          extra_info: { input_name: input.name },
        });
      }
      continue;
    }
    const value = inputs[input.name];
    const error = Array.isArray(value) ? checkLink(sent, definitions, input, value, isOutput) : checkValue(input, value);
    if (error) add(id, error);
  }
}

/** A link `[node id, output index]`: that node exists, has that output, and its type fits the input. */
function checkLink(
  sent: Sent,
  definitions: ReadonlyMap<string, NodeDefinition>,
  input: InputDefinition,
  link: Json[],
  isOutput: boolean,
): NodeErrorDetail | undefined {
  const name = input.name;
  if (link.length !== 2) {
    return {
      type: 'bad_linked_input',
      message: 'Bad linked input, must be a length-2 list of [node_id, slot_index]',
      details: name,
      extra_info: { input_name: name, input_config: configOf(input), received_value: link },
    };
  }
  const [source, slot] = link;
  if (typeof source !== 'string' || !hasOwn(sent, source)) {
    return linkException(
      input,
      link,
      isOutput,
      'KeyError',
      pyRepr(source),
      `links to node ${pyRepr(source)}, which is not in the workflow`,
    );
  }
  const from = definitionOf(definitions, sent[source].class_type);
  if (!from) return undefined; // already reported as an unknown class
  const outputs = from.outputs;
  const index = typeof slot === 'boolean' ? Number(slot) : slot;
  if (typeof index !== 'number' || !Number.isInteger(index)) {
    const message = `tuple indices must be integers or slices, not ${slot === null ? 'NoneType' : typeof slot === 'string' ? 'str' : 'float'}`;
    return linkException(
      input,
      link,
      isOutput,
      'TypeError',
      message,
      `links to output ${pyRepr(slot)} of node '${source}', which is not an output number`,
    );
  }
  // Python indexes from the end with a negative number.
  const type = outputs[index < 0 ? outputs.length + index : index]?.type;
  if (type === undefined) {
    const has = outputs.length === 1 ? '1 output' : `${outputs.length} outputs`;
    return linkException(
      input,
      link,
      isOutput,
      'IndexError',
      'tuple index out of range',
      `links to output ${index} of node '${source}' (${from.name}), which has ${has}`,
    );
  }
  // A combo fed by a link takes whatever list the source node makes; V3 templates match any type.
  if (input.type === 'COMBO' || isDynamicType(input.type) || isDynamicType(type) || typesConnect(type, input.type)) return undefined;
  return {
    type: 'return_type_mismatch',
    message: 'Return type mismatch between linked nodes',
    details: `${name}, received_type(${type}) mismatch input_type(${input.type})`,
    extra_info: { input_name: name, input_config: configOf(input), received_type: type, linked_node: link },
  };
}

/**
 * A link the server cannot follow makes it raise (KeyError, IndexError) while it validates; it reports
 * that as an exception on the node (an output node's own, or an "inner" one on a node it reached).
 * The details say in words what the exception only hints at.
 */
function linkException(
  input: InputDefinition,
  link: Json[],
  isOutput: boolean,
  exceptionType: string,
  exceptionMessage: string,
  what: string,
): NodeErrorDetail {
  const details = `${input.name}: ${what}`;
  if (isOutput) {
    return {
      type: 'exception_during_validation',
      message: 'Exception when validating node',
      details,
      extra_info: { input_name: input.name, exception_type: exceptionType, exception_message: exceptionMessage, linked_node: link },
    };
  }
  return {
    type: 'exception_during_inner_validation',
    message: 'Exception when validating inner node',
    details,
    extra_info: {
      input_name: input.name,
      input_config: configOf(input),
      exception_message: exceptionMessage,
      exception_type: exceptionType,
      linked_node: link,
    },
  };
}

/** The nodes an output uses, itself included, through the inputs their definitions list (unlisted inputs are the server's business). */
function reachedFrom(sent: Sent, definitions: ReadonlyMap<string, NodeDefinition>, output: NodeId): Set<NodeId> {
  const reached = new Set<NodeId>();
  const pending = [output];
  while (pending.length > 0) {
    const id = pending.pop() as NodeId;
    if (reached.has(id)) continue;
    reached.add(id);
    const inputs = sent[id].inputs;
    for (const input of definitionOf(definitions, sent[id].class_type)?.inputs ?? []) {
      const value = hasOwn(inputs, input.name) ? inputs[input.name] : undefined;
      if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && hasOwn(sent, value[0])) pending.push(value[0]);
    }
  }
  return reached;
}

function hasOwn(table: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(table, key);
}
