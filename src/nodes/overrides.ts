/**
 * The submit node's "Overrides" rows: `{node, input, value, valueType}` set in the editor, each
 * value a TypedInput evaluated for every msg. The result has the shape of `msg.inputs`
 * (`{"<node id or title>": {"<input>": value}}`), so the workflow code applies both the same way.
 */
import type { Node, NodeAPI, NodeMessage } from 'node-red';
import { ComfyError, reasonOf } from '../client/errors';
import { isReservedName, plainJson } from '../client/plain-json';
import { evaluateProperty } from './typed-setting';

/** The TypedInput types the editor offers for a row's value. */
export const OVERRIDE_VALUE_TYPES = ['str', 'num', 'bool', 'json', 'jsonata', 'msg', 'flow', 'global', 'env'] as const;
export type OverrideValueType = (typeof OVERRIDE_VALUE_TYPES)[number];

/** One row as stored in the node's `overrides` property. */
export interface OverrideRow {
  /** A node id, `_meta.title` or class of the workflow (a class names every node of it). */
  node: string;
  /** An input name of that node. */
  input: string;
  value: string;
  valueType: OverrideValueType;
}

/** What the rows give for one msg: the `msg.inputs` shape. */
export type Overrides = Record<string, Record<string, unknown>>;

/**
 * The rows of a node's `overrides` property. Entries without a node or an input are dropped
 * (the editor does not save them); an unknown value type counts as text, the TypedInput default.
 */
export function overrideRows(config: unknown): OverrideRow[] {
  if (!Array.isArray(config)) return [];
  const rows: OverrideRow[] = [];
  for (const entry of config) {
    if (typeof entry !== 'object' || entry === null) continue;
    const record = entry as Record<string, unknown>;
    const node = typeof record.node === 'string' ? record.node.trim() : '';
    const input = typeof record.input === 'string' ? record.input.trim() : '';
    if (node === '' || input === '') continue;
    const valueType =
      typeof record.valueType === 'string' && (OVERRIDE_VALUE_TYPES as readonly string[]).includes(record.valueType)
        ? (record.valueType as OverrideValueType)
        : 'str';
    // The editor saves text; a number or boolean from a hand-edited flow is read as its text.
    const value = typeof record.value === 'string' ? record.value : typeof record.value === 'number' || typeof record.value === 'boolean' ? String(record.value) : '';
    rows.push({ node, input, value, valueType });
  }
  return rows;
}

/**
 * Evaluates every row for this msg. A row whose value is `undefined` (say `msg.seed` when the msg
 * has none) is left out, so the workflow keeps its own value. A row that cannot be evaluated
 * (JSON that does not parse, a JSONata error, text in a number row, …), gives a value JSON cannot
 * carry (NaN, a Map, a cycle, …) or names `__proto__`, `constructor` or `prototype` fails with
 * BAD_INPUT naming the row. Returns undefined when there is nothing to apply. The result is made
 * of null-prototype objects, so no row can write into a prototype whatever it names.
 */
export async function evaluateOverrides(RED: NodeAPI, node: Node, rows: OverrideRow[], msg: NodeMessage): Promise<Overrides | undefined> {
  if (rows.length === 0) return undefined;
  const result = Object.create(null) as Overrides;
  let count = 0;
  for (const [index, row] of rows.entries()) {
    const where = `Override row ${index + 1} (${describeRow(row)})`;
    const reserved = [row.node, row.input].find(isReservedName);
    if (reserved !== undefined) throw new ComfyError('BAD_INPUT', `${where} names "${reserved}", which is not allowed as a node or input name`);
    let value: unknown;
    try {
      value = await evaluate(RED, node, row, msg);
    } catch (err) {
      throw new ComfyError('BAD_INPUT', `${where} could not be evaluated: ${reasonOf(err)}`, { cause: err });
    }
    if (value === undefined) continue;
    const inputs = (result[row.node] ??= Object.create(null) as Record<string, unknown>);
    inputs[row.input] = plainJson(value, 'BAD_INPUT', `${where}: the value`);
    count += 1;
  }
  return count > 0 ? result : undefined;
}

/** A row's value for this msg; a `num` row must give a number (evaluateNodeProperty lets "abc" through as NaN). */
async function evaluate(RED: NodeAPI, node: Node, row: OverrideRow, msg: NodeMessage): Promise<unknown> {
  const result = await evaluateProperty(RED, node, row.value, row.valueType, msg);
  if (row.valueType === 'num' && (typeof result !== 'number' || !Number.isFinite(result) || row.value.trim() === '')) {
    throw new Error(`"${row.value}" is not a number`);
  }
  return result;
}

function describeRow(row: OverrideRow): string {
  const source = row.valueType === 'str' ? JSON.stringify(row.value) : `${row.valueType} ${row.value}`;
  return `${row.node} → ${row.input} = ${source.length > 60 ? `${source.slice(0, 60)}…` : source}`;
}

/**
 * One record of which nodes each override key set, from the rows' and msg.inputs' records: a key in
 * both lists the nodes of either. A plain object, as it goes out in msg.payload.overrides.
 */
export function mergeTouched(...records: ReadonlyArray<Record<string, string[]>>): Record<string, string[]> {
  const merged: Record<string, string[]> = {};
  for (const record of records) {
    for (const key of Object.keys(record)) {
      // Keys name nodes, and applyOverrides refused "__proto__" and its kin: plain assignment is safe.
      merged[key] = [...new Set([...(Object.prototype.hasOwnProperty.call(merged, key) ? merged[key] : []), ...record[key]])];
    }
  }
  return merged;
}
