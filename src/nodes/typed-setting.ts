/**
 * Settings the editor shows as TypedInputs. A setting is either typed in (a literal: text, a
 * number, true/false or a choice from a list) or a source read again for every msg: a msg
 * property, flow or global context, an environment variable or a JSONata expression.
 *
 * Before these settings had types, a few fixed msg properties (`msg.action`, `msg.folder`, …)
 * overrode them, and the help still promises that: such a property wins over a typed-in value.
 * A source the user picked is explicit, so it wins over the fixed property.
 */
import type { Node, NodeAPI, NodeMessage } from 'node-red';
import { ComfyError, reasonOf } from '../client/errors';
import type { Given } from './msg-input';
import { isUnset } from './msg-input';

/** The TypedInput types that are read per msg; every other type is a literal. */
const SOURCES = ['msg', 'flow', 'global', 'env', 'jsonata'] as const;
type Source = (typeof SOURCES)[number];

/** One setting as a node holds it: where it comes from and how a msg may override it. */
export interface TypedSetting extends SettingSpec {
  value: unknown;
  /** The TypedInput type; undefined (a literal) when the config has none. */
  type: string | undefined;
}

/** How a node names and reads one of its settings. */
export interface SettingSpec {
  label: string;
  /** The msg property (or dotted path) that overrides a typed-in value. */
  fixed?: string;
  /** Whether '' in the fixed property is a value (msg.subfolder = '' picks the top folder); elsewhere it counts as absent. */
  emptyOverrides?: boolean;
}

/** The setting `key` of a node's config, with its type from `<key>Type`. */
export function settingOf(config: object, key: string, spec: SettingSpec): TypedSetting {
  const record = config as Record<string, unknown>;
  const { label, fixed, emptyOverrides } = spec;
  const override = fixed ? { fixed, emptyOverrides: emptyOverrides === true } : {};
  const type = record[`${key}Type`];
  return { label, value: record[key], type: typeof type === 'string' && type !== '' ? type : undefined, ...override };
}

/**
 * Whether the setting is typed in and left empty: then every msg without its fixed msg property
 * (when it has one) reads it as unset, with nothing to evaluate.
 */
export function isEmptyLiteral(setting: TypedSetting): boolean {
  const value = setting.value;
  return sourceOf(setting.type) === undefined && (isUnset(value) || (typeof value === 'string' && value.trim() === ''));
}

/** The setting's value for this msg, and words naming where it came from. */
export async function readSetting(RED: NodeAPI, node: Node, setting: TypedSetting, msg: NodeMessage): Promise<Given> {
  const source = sourceOf(setting.type);
  if (source === undefined) {
    const fixedValue = setting.fixed === undefined ? undefined : readFixed(msg, setting.fixed);
    const present = setting.emptyOverrides ? fixedValue !== undefined && fixedValue !== null : !isUnset(fixedValue);
    if (present) return { value: fixedValue, from: `msg.${setting.fixed}` };
    return { value: setting.value, from: `The ${setting.label} setting` };
  }
  const expression = typeof setting.value === 'string' ? setting.value : typeof setting.value === 'number' ? String(setting.value) : '';
  // A msg property names itself; other sources say which setting they feed.
  const from = source === 'msg' ? `msg.${expression}` : `${setting.label} (${describeSource(source, expression)})`;
  try {
    return { value: await evaluateProperty(RED, node, expression, source, msg), from };
  } catch (err) {
    throw new ComfyError('BAD_INPUT', `${from} could not be read: ${reasonOf(err)}`, { cause: err });
  }
}

/** RED.util.evaluateNodeProperty in its callback form, so JSONata and context stores may be asynchronous. */
export function evaluateProperty(RED: NodeAPI, node: Node, value: string, type: string, msg: NodeMessage): Promise<unknown> {
  // msg.job.id on a msg without job is "not set", where Node-RED would throw.
  if (type === 'msg') return Promise.resolve().then(() => pathIn(msg, RED.util.normalisePropertyExpression(value.replace(/^msg\./, ''))));
  return new Promise((resolve, reject) => {
    try {
      RED.util.evaluateNodeProperty(value, type, node, msg, (err: Error | null, result: unknown) => {
        if (err) reject(err);
        else resolve(result);
      });
    } catch (err) {
      reject(err instanceof Error ? err : new Error(reasonOf(err))); // json and msg paths, for two, throw instead of calling back
    }
  });
}

/** msg.a.b, undefined where a step is missing or not an object; a getter that throws is BAD_INPUT naming the property. */
function readFixed(msg: NodeMessage, path: string): unknown {
  try {
    return pathIn(msg, path.split('.'));
  } catch (err) {
    throw new ComfyError('BAD_INPUT', `msg.${path} could not be read: ${reasonOf(err)}`, { cause: err });
  }
}

/** The value at `keys` (property names, array indexes) inside `root`; undefined where a step is missing. */
function pathIn(root: unknown, keys: ReadonlyArray<string | number>): unknown {
  let value: unknown = root;
  for (const key of keys) {
    if (typeof value !== 'object' || value === null || Buffer.isBuffer(value)) return undefined;
    value = (value as Record<string | number, unknown>)[key];
  }
  return value;
}

function sourceOf(type: string | undefined): Source | undefined {
  return (SOURCES as readonly (string | undefined)[]).includes(type) ? (type as Source) : undefined;
}

function describeSource(source: Source, expression: string): string {
  const shown = expression.length > 60 ? `${expression.slice(0, 60)}…` : expression;
  switch (source) {
    case 'env':
      return `environment variable ${shown}`;
    case 'jsonata':
      return `JSONata ${shown}`;
    default:
      return `${source}.${shown}`;
  }
}
