/**
 * The few Python semantics the real server's handlers rely on, so that odd request bodies get the
 * same answers as on ComfyUI: `in` on a list/str/dict, truthiness, str()/repr() in error texts,
 * int()/float() coercion in validation, and the exception types that become a 500 page.
 */
import { PyDict, PyFloat, PyValue, floatRepr, hasKey, isDict } from './pyjson';

/** A Python exception: `type` is the qualified name the server reports (e.g. "KeyError"). */
export class PyError extends Error {
  constructor(
    readonly type: string,
    message: string,
    /** formatted traceback frames (traceback.format_tb), when the server reports them */
    readonly frames: string[] = [],
  ) {
    super(message);
    this.name = type;
  }
}

export function typeName(v: unknown): string {
  if (v === null || v === undefined) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof PyFloat) return 'float';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float';
  if (typeof v === 'bigint') return 'int';
  if (typeof v === 'string') return 'str';
  if (Array.isArray(v)) return 'list';
  return 'dict';
}

export function isPyInt(v: unknown): v is number | bigint | boolean {
  return typeof v === 'bigint' || typeof v === 'boolean' || (typeof v === 'number' && Number.isInteger(v));
}

export function isPyNumber(v: unknown): boolean {
  return isPyInt(v) || v instanceof PyFloat || typeof v === 'number';
}

/** Numeric value of an int/float/bool (bigint kept). */
export function numOf(v: unknown): number | bigint {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof PyFloat) return v.value;
  if (typeof v === 'number' || typeof v === 'bigint') return v;
  throw new PyError('TypeError', `unsupported operand type: '${typeName(v)}'`);
}

/** Plain JS number of a numeric value (for pixel maths, where precision beyond 2^53 is irrelevant). */
export function toNumber(v: unknown): number {
  return Number(numOf(v));
}

/** Python truthiness. */
export function truthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false) return false;
  if (v instanceof PyFloat) return v.value !== 0; // NaN is truthy in Python too
  if (typeof v === 'number') return v !== 0;
  if (typeof v === 'bigint') return v !== 0n;
  if (typeof v === 'string') return v.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (isDict(v)) return Object.keys(v).length > 0;
  return true;
}

/** Python `==` for JSON-ish values (1 == 1.0 == True). */
export function pyEquals(a: unknown, b: unknown): boolean {
  if (isPyNumber(a) && isPyNumber(b)) return compareNum(numOf(a), numOf(b)) === 0;
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  if (a === null || b === null) return a === b;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, k) => pyEquals(x, b[k]));
  if (isDict(a) && isDict(b)) {
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => hasKey(b, k) && pyEquals(a[k], b[k]));
  }
  return false;
}

/** -1/0/1 comparison of two numbers that may be bigints (NaN compares as unordered → NaN). */
export function compareNum(a: number | bigint, b: number | bigint): number {
  if (typeof a === 'bigint' || typeof b === 'bigint') {
    const intA = typeof a === 'bigint' || Number.isInteger(a);
    const intB = typeof b === 'bigint' || Number.isInteger(b);
    if (intA && intB) {
      const x = BigInt(a);
      const y = BigInt(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
  }
  const x = Number(a);
  const y = Number(b);
  if (Number.isNaN(x) || Number.isNaN(y)) return NaN;
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Python `needle in container` for the container types JSON can produce. */
export function pyIn(needle: PyValue, container: unknown): boolean {
  if (isDict(container)) {
    if (typeof needle !== 'string') {
      if (Array.isArray(needle) || isDict(needle)) throw new PyError('TypeError', `unhashable type: '${typeName(needle)}'`);
      return false;
    }
    return hasKey(container, needle);
  }
  if (Array.isArray(container)) return container.some((x) => pyEquals(x, needle));
  if (typeof container === 'string') {
    if (typeof needle !== 'string') {
      throw new PyError('TypeError', `'in <string>' requires string as left operand, not ${typeName(needle)}`);
    }
    return container.includes(needle);
  }
  throw new PyError('TypeError', `argument of type '${typeName(container)}' is not iterable`);
}

/** Python `container[key]` for a string key. */
export function pyGetItem(container: unknown, key: string): PyValue {
  if (isDict(container)) {
    if (!hasKey(container, key)) throw new PyError('KeyError', pyRepr(key));
    return container[key]!;
  }
  if (typeof container === 'string') throw new PyError('TypeError', "string indices must be integers, not 'str'");
  if (Array.isArray(container)) throw new PyError('TypeError', 'list indices must be integers or slices, not str');
  throw new PyError('TypeError', `'${typeName(container)}' object is not subscriptable`);
}

/** dict.get(key, default) on something that must be a dict (AttributeError otherwise, like Python). */
export function pyDictGet(container: unknown, key: string, fallback: PyValue): PyValue {
  if (!isDict(container)) throw new PyError('AttributeError', `'${typeName(container)}' object has no attribute 'get'`);
  return hasKey(container, key) ? container[key]! : fallback;
}

/** `for x in value` over a JSON value: list items, str characters, dict keys. */
export function pyIter(v: unknown): PyValue[] {
  if (Array.isArray(v)) return v as PyValue[];
  if (typeof v === 'string') return Array.from(v);
  if (isDict(v)) return Object.keys(v);
  throw new PyError('TypeError', `'${typeName(v)}' object is not iterable`);
}

/** Python repr() of a str. */
export function reprStr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += '\\' + quote;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || (code >= 0x7f && code < 0xa0)) out += '\\x' + code.toString(16).padStart(2, '0');
    else out += ch;
  }
  return out + quote;
}

/** Python repr(). */
export function pyRepr(v: unknown): string {
  if (typeof v === 'string') return reprStr(v);
  if (Array.isArray(v)) return '[' + v.map(pyRepr).join(', ') + ']';
  if (isDict(v))
    return (
      '{' +
      Object.entries(v)
        .map(([k, x]) => `${reprStr(k)}: ${pyRepr(x)}`)
        .join(', ') +
      '}'
    );
  return pyStr(v);
}

/** Python str(). */
export function pyStr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  if (v instanceof PyFloat) return floatRepr(v.value).replace('Infinity', 'inf').replace('NaN', 'nan');
  if (typeof v === 'number') {
    if (Number.isInteger(v)) return Object.is(v, -0) ? '0' : Math.abs(v) < 1e21 ? String(v) : BigInt(v).toString();
    return floatRepr(v).replace('Infinity', 'inf').replace('NaN', 'nan');
  }
  if (typeof v === 'bigint') return v.toString();
  if (typeof v === 'string') return v;
  return pyRepr(v);
}

/* -------------------------------------------------- validation coercions */

const PY_WS = /^[\s]+|[\s]+$/g;

function intFromNumber(n: number): number | bigint {
  const t = Math.trunc(n);
  return Number.isSafeInteger(t) ? (Object.is(t, -0) ? 0 : t) : BigInt(t);
}

/** Python int(v) as the validator applies it to INT inputs. */
export function pyInt(v: PyValue): number | bigint {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'bigint') return v;
  if (v instanceof PyFloat || typeof v === 'number') {
    const n = Number(v);
    if (Number.isNaN(n)) throw new PyError('ValueError', 'cannot convert float NaN to integer');
    if (!Number.isFinite(n)) throw new PyError('OverflowError', 'cannot convert float infinity to integer');
    return intFromNumber(n);
  }
  if (typeof v === 'string') {
    const s = v.replace(PY_WS, '');
    if (/^[+-]?\d+(_\d+)*$/.test(s)) {
      const digits = s.replace(/_/g, '');
      const n = Number(digits);
      return Number.isSafeInteger(n) ? (Object.is(n, -0) ? 0 : n) : BigInt(digits);
    }
    throw new PyError('ValueError', `invalid literal for int() with base 10: ${reprStr(v)}`);
  }
  throw new PyError('TypeError', `int() argument must be a string, a bytes-like object or a real number, not '${typeName(v)}'`);
}

/** Python float(v) as the validator applies it to FLOAT inputs. */
export function pyFloat(v: PyValue): PyFloat {
  if (typeof v === 'boolean') return new PyFloat(v ? 1 : 0);
  if (v instanceof PyFloat) return v;
  if (typeof v === 'number' || typeof v === 'bigint') return new PyFloat(Number(v));
  if (typeof v === 'string') {
    const s = v.replace(PY_WS, '');
    const lower = s.toLowerCase();
    const m = /^([+-]?)(inf|infinity|nan)$/.exec(lower);
    if (m) return new PyFloat(m[2] === 'nan' ? NaN : m[1] === '-' ? -Infinity : Infinity);
    if (/^[+-]?(\d+(_\d+)*(\.(\d+(_\d+)*)?)?|\.\d+(_\d+)*)([eE][+-]?\d+(_\d+)*)?$/.test(s)) {
      return new PyFloat(Number(s.replace(/_/g, '')));
    }
    throw new PyError('ValueError', `could not convert string to float: ${reprStr(v)}`);
  }
  throw new PyError('TypeError', `float() argument must be a string or a real number, not '${typeName(v)}'`);
}

export function asDict(v: unknown): PyDict | undefined {
  return isDict(v) ? v : undefined;
}
