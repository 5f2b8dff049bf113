/**
 * Typed reading of one node class as GET /object_info describes it: its inputs in the server's
 * `input_order` (required, then optional; hidden inputs apart) and its outputs. The UI-format
 * converter, the live validation and the per-msg bypass read definitions through here only, so what
 * an input spec means (a list of choices, a widget or a link, min/max) is decided in one place.
 * ObjectInfo has been checked as JSON at the boundary (answer-shapes.ts); any part of a class that
 * does not have the usual shape is read leniently (a custom node may describe itself oddly), never thrown on.
 */
import { isRecord } from './shape';
import type { Json } from './shape';
import type { ObjectInfo } from './types';

export type InputGroup = 'required' | 'optional' | 'hidden';

export interface InputDefinition {
  name: string;
  group: InputGroup;
  /** "INT", "FLOAT", "STRING", "BOOLEAN", "COMBO" (a list of choices, old or new spelling), or a link type such as "MODEL", "*" or "IMAGE,MASK". */
  type: string;
  /** The allowed values of a COMBO input (`[["a","b"], {...}]` or `["COMBO", {options: [...]}]`). */
  choices?: readonly Json[];
  /** The spec's options object (default, min, max, step, forceInput, control_after_generate, image_upload, …); empty when absent. */
  config: Readonly<Record<string, Json>>;
  /** Whether the frontend shows it as a widget (a value kept in `widgets_values`) rather than a link-only socket. */
  widget: boolean;
  /**
   * A V3 dynamic combo (COMFY_DYNAMICCOMBO_V3): each choice brings inputs of its own, which the
   * frontend draws after the combo and sends as `<combo>.<input>`. `choices` holds the keys.
   */
  dynamicOptions?: DynamicOption[];
}

export interface DynamicOption {
  key: string;
  inputs: InputDefinition[];
}

export interface OutputDefinition {
  name: string;
  type: string;
  isList: boolean;
}

export interface NodeDefinition {
  name: string;
  displayName: string;
  /** Required then optional inputs, each group in the server's `input_order` when it sends one. */
  inputs: InputDefinition[];
  hidden: InputDefinition[];
  outputs: OutputDefinition[];
  outputNode: boolean;
}

/**
 * The value types the frontend draws as widgets, each keeping a value in `widgets_values`: ComfyWidgets
 * (INT, FLOAT, STRING, BOOLEAN, COMBO, MARKDOWN), the V3 dynamic combo, and the widgets core extensions
 * register for server types (webcam capture, 3D loader, audio recorder). Every other type is a link-only socket.
 */
export const WIDGET_TYPES: ReadonlySet<string> = new Set([
  'INT',
  'FLOAT',
  'STRING',
  'BOOLEAN',
  'COMBO',
  'MARKDOWN',
  'COMFY_DYNAMICCOMBO_V3',
  'WEBCAM',
  'LOAD_3D',
  'AUDIO_RECORD',
]);

/** How deep dynamic combos may nest inside one another's choices (a definition comes from the server, but stays bounded). */
const MAX_DYNAMIC_DEPTH = 8;

export function readNodeDefinition(name: string, info: ObjectInfo): NodeDefinition {
  const input = isRecord(info.input) ? info.input : {};
  const order = isRecord(info.input_order) ? info.input_order : {};
  const inputs: InputDefinition[] = [];
  const hidden: InputDefinition[] = [];
  for (const definition of readInputs(input, order, 0)) (definition.group === 'hidden' ? hidden : inputs).push(definition);
  return {
    name,
    displayName: typeof info.display_name === 'string' && info.display_name !== '' ? info.display_name : name,
    inputs,
    hidden,
    outputs: readOutputs(info),
    outputNode: info.output_node === true,
  };
}

/** Definitions of every class of a full /object_info answer, built once per answer. */
export function readNodeDefinitions(all: Record<string, ObjectInfo>): Map<string, NodeDefinition> {
  const definitions = new Map<string, NodeDefinition>();
  for (const name of Object.keys(all)) definitions.set(name, readNodeDefinition(name, all[name]));
  return definitions;
}

/** Required, optional and hidden inputs of an `input` object (a class's, or a dynamic combo choice's). */
function readInputs(input: Record<string, unknown>, order: Record<string, unknown>, depth: number): InputDefinition[] {
  const inputs: InputDefinition[] = [];
  for (const group of ['required', 'optional', 'hidden'] as const) {
    const specs = isRecord(input[group]) ? input[group] : {};
    for (const inputName of orderedNames(specs, order[group])) inputs.push(readInput(inputName, group, specs[inputName], depth));
  }
  return inputs;
}

/** The server's `input_order` when it lists exactly the spec's names (older servers send none), else the spec's own key order. */
function orderedNames(specs: Record<string, unknown>, order: unknown): string[] {
  const names = Object.keys(specs);
  if (!Array.isArray(order)) return names;
  const listed = order.filter((entry): entry is string => typeof entry === 'string' && Object.prototype.hasOwnProperty.call(specs, entry));
  const missing = names.filter((entry) => !listed.includes(entry));
  return [...listed, ...missing];
}

function readInput(name: string, group: InputGroup, spec: unknown, depth: number): InputDefinition {
  // ["TYPE", {options}], [["a","b"], {options}], or a bare "TYPE" (hidden inputs such as "PROMPT").
  const parts = Array.isArray(spec) ? spec : [spec];
  const head: unknown = parts[0];
  const config = isRecord(parts[1]) ? (parts[1] as Record<string, Json>) : {};
  if (Array.isArray(head)) return { name, group, type: 'COMBO', choices: head as Json[], config, widget: widgetOf('COMBO', config) };
  const type = typeof head === 'string' ? head : '*';
  const widget = group !== 'hidden' && widgetOf(type, config);
  if (type === 'COMFY_DYNAMICCOMBO_V3') {
    const dynamicOptions = readDynamicOptions(config.options, depth);
    return { name, group, type, choices: dynamicOptions.map((option) => option.key), config, widget, dynamicOptions };
  }
  const choices = type === 'COMBO' && Array.isArray(config.options) ? config.options : undefined;
  return { name, group, type, ...(choices ? { choices } : {}), config, widget };
}

/** `[{key, inputs: {required, optional}}, …]`; a choice without a text key is skipped. */
function readDynamicOptions(options: Json | undefined, depth: number): DynamicOption[] {
  if (!Array.isArray(options) || depth >= MAX_DYNAMIC_DEPTH) return [];
  const read: DynamicOption[] = [];
  for (const option of options) {
    if (!isRecord(option) || typeof option.key !== 'string') continue;
    read.push({ key: option.key, inputs: isRecord(option.inputs) ? readInputs(option.inputs, {}, depth + 1) : [] });
  }
  return read;
}

function widgetOf(type: string, config: Record<string, Json>): boolean {
  return WIDGET_TYPES.has(type) && config.forceInput !== true;
}

function readOutputs(info: ObjectInfo): OutputDefinition[] {
  const types = Array.isArray(info.output) ? info.output : [];
  const names = Array.isArray(info.output_name) ? info.output_name : [];
  const lists = Array.isArray(info.output_is_list) ? info.output_is_list : [];
  return types.map((type, index) => {
    // An output whose "type" is a list of choices (a COMBO output) connects as COMBO.
    const typeName = typeof type === 'string' ? type : 'COMBO';
    const name = names[index];
    return { name: typeof name === 'string' ? name : typeName, type: typeName, isList: lists[index] === true };
  });
}
