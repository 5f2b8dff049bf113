/**
 * One widget value (not a link) against its input definition, as ComfyUI v0.8.0's validate_inputs
 * judges it: converted like the server converts it (INT/FLOAT/STRING/BOOLEAN), then min/max, then
 * the list of a COMBO. The error is the server's own (type, message, details, extra_info), with a
 * "did you mean" for a name that is not in the list.
 */
import type { InputDefinition } from './node-definitions';
import { suggestNames } from './name-suggestions';
import { pyEquals, pyFloat, pyInt, pyRepr, pyStr } from './python-values';
import type { Converted } from './python-values';
import { isRecord } from './shape';
import type { Json } from './shape';
import type { NodeErrorDetail } from './types';

/** A COMBO longer than this is described by its length, and `input_config` is left out (the server's own rule for model lists). */
const LONG_LIST = 20;

/**
 * Combos whose list is not the whole truth: upload widgets (the server checks that the file exists,
 * in subfolders and "name [output]" too; the list is also older than a file just uploaded) and remote
 * lists (filled by the frontend from another route). The server's own validation judges those.
 */
const SERVER_JUDGED_COMBO = ['image_upload', 'audio_upload', 'video_upload', 'file_upload', 'remote'];

export function checkValue(definition: InputDefinition, given: Json): NodeErrorDetail | undefined {
  const name = definition.name;
  const inputConfig = configOf(definition);
  // A list widget value travels wrapped, because a bare list is a link.
  let value = isRecord(given) && Object.prototype.hasOwnProperty.call(given, '__value__') ? given.__value__ : given;
  const converted = convert(definition.type, value);
  if (!converted.ok) {
    return {
      type: 'invalid_input_type',
      message: `Failed to convert an input value to a ${definition.type} value`,
      details: `${name}, ${pyStr(value)}, ${converted.message}`,
      extra_info: { input_name: name, input_config: inputConfig, received_value: value, exception_message: converted.message },
    };
  }
  value = converted.value;
  const float = definition.type === 'FLOAT';
  const { min, max } = definition.config;
  if (typeof value === 'number' && typeof min === 'number' && value < min) {
    return {
      type: 'value_smaller_than_min',
      message: `Value ${pyStr(value, float)} smaller than min of ${pyStr(min, float)}`,
      details: name,
      extra_info: { input_name: name, input_config: inputConfig, received_value: value },
    };
  }
  if (typeof value === 'number' && typeof max === 'number' && value > max) {
    return {
      type: 'value_bigger_than_max',
      message: `Value ${pyStr(value, float)} bigger than max of ${pyStr(max, float)}`,
      details: name,
      extra_info: { input_name: name, input_config: inputConfig, received_value: value },
    };
  }
  return definition.type === 'COMBO' ? checkChoice(definition, value, inputConfig) : undefined;
}

function convert(type: string, value: Json): Converted {
  if (type === 'INT') return pyInt(value);
  if (type === 'FLOAT') return pyFloat(value);
  // str() and bool() take anything: "false" is a true BOOLEAN on the server too.
  if (type === 'BOOLEAN') return { ok: true, value: truthy(value) };
  return { ok: true, value };
}

function truthy(value: Json): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (isRecord(value)) return Object.keys(value).length > 0;
  return Boolean(value);
}

function checkChoice(definition: InputDefinition, value: Json, inputConfig: Json): NodeErrorDetail | undefined {
  const choices = definition.choices;
  if (!choices || SERVER_JUDGED_COMBO.some((key) => key in definition.config && definition.config[key] !== false)) return undefined;
  // A multiselect combo takes a list of choices, each of which must be offered.
  const wrong =
    definition.config.multiselect === true && Array.isArray(value)
      ? value.filter((item) => !offered(item, choices))
      : offered(value, choices)
        ? []
        : [value];
  if (wrong.length === 0) return undefined;
  const long = choices.length > LONG_LIST;
  const suggestions = [...new Set(wrong.flatMap((item) => (typeof item === 'string' ? suggestNames(item, choices) : [])))];
  const hint = suggestions.length ? `; did you mean ${suggestions.map((s) => pyRepr(s)).join(' or ')}?` : '';
  return {
    type: 'value_not_in_list',
    message: `Value not in list${hint}`,
    details: `${definition.name}: '${pyStr(value)}' not in ${long ? `(list of length ${choices.length})` : pyStr(choices as Json[])}`,
    extra_info: { input_name: definition.name, input_config: long ? null : inputConfig, received_value: value, suggestions },
  };
}

function offered(value: Json, choices: readonly Json[]): boolean {
  return choices.some((choice) => pyEquals(value, choice));
}

/** The spec as the server shows it in `input_config`: `["INT", {...}]`, or the list itself for an old-style combo. */
export function configOf(definition: InputDefinition): Json {
  const config = { ...definition.config } as Json;
  if (definition.type === 'COMBO' && definition.choices && !('options' in definition.config)) return [definition.choices as Json[], config];
  return [definition.type, config];
}
