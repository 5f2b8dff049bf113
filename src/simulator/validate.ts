/**
 * POST /prompt validation: a port of validate_prompt/validate_inputs of ComfyUI v0.8.0
 * (execution.py), producing the exact 400 bodies recorded in e_invalid_prompts.json.
 *
 * Faithful quirks kept on purpose:
 * - coercion mutates the prompt (the queued prompt shows `3` for an INT sent as 3.7, `__value__`
 *   unwrapped), also for outputs that end up rejected;
 * - `dependent_outputs` grows for *every* earlier-failed node each time another output fails
 *   (recording e#18: node 1 lists outputs ["2","3"] although only 2 depends on it);
 * - the top-level `details` lists only the output nodes' own errors;
 * - Python exceptions (KeyError '99', IndexError) become exception_during_(inner_)validation with
 *   the recorded traceback text.
 * Outputs are a Python set in the real server (hash order); here validation walks them in prompt
 * order and the accepted list is reversed, which reproduces both recordings (e#18 and o's ["4","2"]).
 */
import { Catalog } from './catalog';
import { Folders, isInside } from './files';
import { existsSync } from 'node:fs';
import { PyDict, PyValue, hasKey, isDict } from './pyjson';
import {
  PyError,
  compareNum,
  isPyNumber,
  numOf,
  pyEquals,
  pyFloat,
  pyGetItem,
  pyIn,
  pyInt,
  pyIter,
  pyRepr,
  pyStr,
  truthy,
  typeName,
} from './python';

export interface ValidationError {
  type: string;
  message: string;
  details: string;
  extra_info: PyDict;
}

export interface NodeErrorEntry {
  errors: ValidationError[];
  dependent_outputs: string[];
  class_type: PyValue;
}

export type ValidationResult =
  | { ok: true; outputs: string[]; nodeErrors: Record<string, NodeErrorEntry> }
  | { ok: false; error: ValidationError; nodeErrors: Record<string, NodeErrorEntry> };

const FRAME_VALIDATE_PROMPT =
  '  File "/opt/ComfyUI/execution.py", line 1043, in validate_prompt\n    m = await validate_inputs(prompt_id, prompt, o, validated)\n        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n';
const FRAME_LINK_NODE =
  '  File "/opt/ComfyUI/execution.py", line 818, in validate_inputs\n    o_class_type = prompt[o_id][\'class_type\']\n                   ~~~~~~^^^^^^\n';
const FRAME_LINK_SLOT =
  '  File "/opt/ComfyUI/execution.py", line 820, in validate_inputs\n    received_type = r[val[1]]\n                    ~^^^^^^^^\n';
/** Line number not in the recordings; estimated from the surrounding recorded lines. */
const FRAME_INNER_CALL =
  '  File "/opt/ComfyUI/execution.py", line 840, in validate_inputs\n    r = await validate_inputs(prompt_id, prompt, o_id, validated)\n        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n';
const FRAME_INPUTS =
  '  File "/opt/ComfyUI/execution.py", line 782, in validate_inputs\n    inputs = prompt[unique_id][\'inputs\']\n             ~~~~~~~~~~~~~~~~~^^^^^^^^^^\n';

function err(type: string, message: string, details: string, extra: PyDict): ValidationError {
  return { type, message, details, extra_info: extra };
}

/** `prompt[key]` where key came from a link (any JSON value). */
function promptLookup(prompt: PyDict, key: PyValue): PyDict {
  if (Array.isArray(key) || isDict(key)) throw new PyError('TypeError', `unhashable type: '${typeName(key)}'`, [FRAME_LINK_NODE]);
  if (typeof key !== 'string' || !hasKey(prompt, key)) throw new PyError('KeyError', pyRepr(key), [FRAME_LINK_NODE]);
  return prompt[key] as PyDict;
}

/** `RETURN_TYPES[idx]` with Python tuple indexing rules. */
function tupleIndex(r: PyValue[], idx: PyValue): PyValue {
  if (typeof idx === 'boolean') idx = idx ? 1 : 0;
  if (typeof idx === 'bigint') idx = Number(idx);
  if (typeof idx !== 'number' || !Number.isInteger(idx)) {
    throw new PyError('TypeError', `tuple indices must be integers or slices, not ${typeName(idx)}`, [FRAME_LINK_SLOT]);
  }
  const i = idx < 0 ? r.length + idx : idx;
  if (i < 0 || i >= r.length) throw new PyError('IndexError', 'tuple index out of range', [FRAME_LINK_SLOT]);
  return r[i]!;
}

/** validate_node_input: exact match, '*', or a shared member of comma-separated unions. */
function typesMatch(received: PyValue, input: PyValue): boolean {
  if (pyEquals(received, input)) return true;
  if (received === '*' || input === '*') return true;
  if (typeof received !== 'string' || typeof input !== 'string') return false;
  const got = new Set(received.split(',').map((t) => t.trim()));
  return input.split(',').some((t) => got.has(t.trim()));
}

function pyLess(a: PyValue, b: PyValue): boolean {
  if (isPyNumber(a) && isPyNumber(b)) return compareNum(numOf(a), numOf(b)) === -1;
  if (typeof a === 'string' && typeof b === 'string') return a < b;
  throw new PyError('TypeError', `'<' not supported between instances of '${typeName(a)}' and '${typeName(b)}'`);
}

export function validatePrompt(catalog: Catalog, folders: Folders, prompt: PyValue, partial: PyValue): ValidationResult {
  const outputs: string[] = [];
  for (const x of pyIter(prompt)) {
    if (typeof x !== 'string' || !isDict(prompt)) {
      // prompt is a list or str: `prompt[x]` fails with a TypeError → 500
      throw new PyError('TypeError', `${typeName(prompt)} indices must be integers or slices, not ${typeName(x)}`);
    }
    const node = prompt[x]!;
    if (!pyIn('class_type', node)) {
      return {
        ok: false,
        error: err('invalid_prompt', 'Cannot execute because a node is missing the class_type property.', `Node ID '#${x}'`, {}),
        nodeErrors: {},
      };
    }
    const classType = pyGetItem(node, 'class_type');
    if (Array.isArray(classType) || isDict(classType)) throw new PyError('TypeError', `unhashable type: '${typeName(classType)}'`);
    if (typeof classType !== 'string' || !catalog.has(classType)) {
      return {
        ok: false,
        error: err('invalid_prompt', `Cannot execute because node ${pyStr(classType)} does not exist.`, `Node ID '#${x}'`, {}),
        nodeErrors: {},
      };
    }
    if (catalog.isOutputNode(classType) && (partial === null || pyIn(x, partial)) && !outputs.includes(x)) outputs.push(x);
  }
  if (outputs.length === 0) {
    return { ok: false, error: err('prompt_no_outputs', 'Prompt has no outputs', '', {}), nodeErrors: {} };
  }
  const p = prompt as PyDict;

  type Result = [boolean, ValidationError[]];
  const validated = new Map<string, Result>();
  const inProgress = new Set<string>();

  const validateInputs = (id: string): Result => {
    const done = validated.get(id);
    if (done) return done;
    if (inProgress.has(id)) throw new PyError('RecursionError', 'maximum recursion depth exceeded', [FRAME_INNER_CALL]);
    inProgress.add(id);
    try {
      const node = p[id] as PyDict;
      if (!isDict(node) || !hasKey(node, 'inputs')) throw new PyError('KeyError', "'inputs'", [FRAME_INPUTS]);
      const inputs = node.inputs!;
      const classType = node.class_type as string;
      const specs = catalog.inputs(classType);
      const validateArgs = catalog.validateFunctionInputs(classType);
      const errors: ValidationError[] = [];
      let valid = true;

      for (const [x, spec] of specs) {
        const info: PyValue[] = [spec.type, spec.extra];
        if (!pyIn(x, inputs)) {
          if (spec.category === 'required') errors.push(err('required_input_missing', 'Required input is missing', x, { input_name: x }));
          continue;
        }
        let val = pyGetItem(inputs, x);
        if (Array.isArray(val)) {
          if (val.length !== 2) {
            errors.push(
              err('bad_linked_input', 'Bad linked input, must be a length-2 list of [node_id, slot_index]', x, {
                input_name: x,
                input_config: info,
                received_value: val,
              }),
            );
            continue;
          }
          const oNode = promptLookup(p, val[0]);
          const oClass = pyGetItem(oNode, 'class_type') as string;
          const receivedType = tupleIndex(catalog.returnTypes(oClass), val[1]);
          if (!validateArgs.includes('input_types') && !typesMatch(receivedType, spec.type)) {
            errors.push(
              err(
                'return_type_mismatch',
                'Return type mismatch between linked nodes',
                `${x}, received_type(${pyStr(receivedType)}) mismatch input_type(${pyStr(spec.type)})`,
                { input_name: x, input_config: info, received_type: receivedType, linked_node: val },
              ),
            );
            continue;
          }
          const oId = val[0] as string;
          try {
            if (!validateInputs(oId)[0]) valid = false;
          } catch (e) {
            if (!(e instanceof PyError)) throw e;
            valid = false;
            validated.set(oId, [
              false,
              [
                err('exception_during_inner_validation', 'Exception when validating inner node', e.message, {
                  input_name: x,
                  input_config: info,
                  exception_message: e.message,
                  exception_type: e.type,
                  traceback: [FRAME_INNER_CALL, ...e.frames],
                  linked_node: val,
                }),
              ],
            ]);
          }
          continue;
        }
        try {
          if (isDict(val) && hasKey(val, '__value__')) {
            val = val.__value__!;
            (inputs as PyDict)[x] = val;
          }
          if (spec.type === 'INT') val = pyInt(val);
          else if (spec.type === 'FLOAT') val = pyFloat(val);
          else if (spec.type === 'STRING') val = pyStr(val);
          else if (spec.type === 'BOOLEAN') val = truthy(val);
          if (['INT', 'FLOAT', 'STRING', 'BOOLEAN'].includes(spec.type as string)) (inputs as PyDict)[x] = val;
        } catch (e) {
          if (!(e instanceof PyError)) throw e;
          errors.push(
            err(
              'invalid_input_type',
              `Failed to convert an input value to a ${pyStr(spec.type)} value`,
              `${x}, ${pyStr(val)}, ${e.message}`,
              {
                input_name: x,
                input_config: info,
                received_value: val,
                exception_message: e.message,
              },
            ),
          );
          continue;
        }
        if (validateArgs.includes(x)) continue;
        if (hasKey(spec.extra, 'min') && pyLess(val, spec.extra.min)) {
          errors.push(
            err('value_smaller_than_min', `Value ${pyStr(val)} smaller than min of ${pyStr(spec.extra.min)}`, x, {
              input_name: x,
              input_config: info,
              received_value: val,
            }),
          );
          continue;
        }
        if (hasKey(spec.extra, 'max') && pyLess(spec.extra.max, val)) {
          errors.push(
            err('value_bigger_than_max', `Value ${pyStr(val)} bigger than max of ${pyStr(spec.extra.max)}`, x, {
              input_name: x,
              input_config: info,
              received_value: val,
            }),
          );
          continue;
        }
        if (Array.isArray(spec.type) || spec.type === 'COMBO') {
          const options = Array.isArray(spec.type) ? spec.type : ((spec.extra.options as PyValue[] | undefined) ?? []);
          if (!pyIn(val, options)) {
            const long = options.length > 20;
            errors.push(
              err(
                'value_not_in_list',
                'Value not in list',
                `${x}: '${pyStr(val)}' not in ${long ? `(list of length ${options.length})` : pyStr(options)}`,
                {
                  input_name: x,
                  input_config: long ? null : info,
                  received_value: val,
                },
              ),
            );
            continue;
          }
        }
      }

      // VALIDATE_INPUTS (LoadImage): the file must exist where the annotated name points.
      if (validateArgs.includes('image') && pyIn('image', inputs)) {
        const image = pyGetItem(inputs, 'image');
        if (!Array.isArray(image)) {
          const name = pyStr(image);
          const path = folders.annotatedPath(name);
          const exists = isInside(folders.root, path) && existsSync(path);
          if (!exists) {
            errors.push(
              err('custom_validation_failed', 'Custom validation failed for node', `image - Invalid image file: ${name}`, {
                input_name: 'image',
              }),
            );
          }
        }
      }

      const result: Result = errors.length > 0 || !valid ? [false, errors] : [true, []];
      validated.set(id, result);
      return result;
    } finally {
      inProgress.delete(id);
    }
  };

  const good: string[] = [];
  const failed: Array<[string, ValidationError[]]> = [];
  const nodeErrors: Record<string, NodeErrorEntry> = {};
  for (const o of outputs) {
    let result: Result;
    try {
      result = validateInputs(o);
    } catch (e) {
      if (!(e instanceof PyError)) throw e;
      result = [
        false,
        [
          err('exception_during_validation', 'Exception when validating node', e.message, {
            exception_type: e.type,
            traceback: [FRAME_VALIDATE_PROMPT, ...e.frames],
          }),
        ],
      ];
      validated.set(o, result);
    }
    if (result[0]) {
      good.push(o);
      continue;
    }
    failed.push([o, result[1]]);
    for (const [id, [ok, reasons]] of validated) {
      if (ok || reasons.length === 0) continue;
      if (!nodeErrors[id]) nodeErrors[id] = { errors: reasons, dependent_outputs: [], class_type: (p[id] as PyDict).class_type! };
      nodeErrors[id].dependent_outputs.push(o);
    }
  }
  if (good.length === 0) {
    const lines = failed.flatMap(([, reasons]) => reasons.map((r) => `${r.message}: ${r.details}`));
    return {
      ok: false,
      error: err('prompt_outputs_failed_validation', 'Prompt outputs failed validation', lines.join('\n'), {}),
      nodeErrors,
    };
  }
  return { ok: true, outputs: good.reverse(), nodeErrors };
}
