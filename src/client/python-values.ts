/**
 * What ComfyUI's validate_inputs does to a widget value, in Python terms: `int(val)`, `float(val)`,
 * `val in options`, and how `str(val)` reads in its messages. The local prompt check uses these so
 * that it refuses exactly what the server refuses (a numeric string is fine for an INT, 3.7 becomes
 * 3, "false" is a true BOOLEAN) and words the refusal the way the server does.
 */
import type { Json } from './shape';

export type Converted = { ok: true; value: Json } | { ok: false; message: string };

/** Python's `int(x)`: whole-number text (surrounding spaces, a sign, `_` between digits), any number, a bool. */
export function pyInt(value: Json): Converted {
  if (typeof value === 'boolean') return { ok: true, value: value ? 1 : 0 };
  if (typeof value === 'number') return { ok: true, value: Math.trunc(value) };
  if (typeof value === 'string') {
    const text = value.trim();
    if (!INT_TEXT.test(text)) return { ok: false, message: `invalid literal for int() with base 10: ${pyRepr(value)}` };
    // Digits outside ASCII (Python takes any Unicode decimal digit) have no JS parse: keep the text, the range check then passes it.
    const parsed = Number(text.replace(/_/g, ''));
    return { ok: true, value: Number.isFinite(parsed) ? parsed : value };
  }
  return { ok: false, message: `int() argument must be a string, a bytes-like object or a real number, not '${pyTypeName(value)}'` };
}

/** Python's `float(x)`: decimal or exponent text, inf/infinity/nan in any case, any number, a bool. */
export function pyFloat(value: Json): Converted {
  if (typeof value === 'boolean') return { ok: true, value: value ? 1 : 0 };
  if (typeof value === 'number') return { ok: true, value };
  if (typeof value === 'string') {
    const text = value.trim();
    const special = SPECIAL_FLOAT.exec(text);
    if (special) return { ok: true, value: special[2].toLowerCase() === 'nan' ? NaN : special[1] === '-' ? -Infinity : Infinity };
    if (!FLOAT_TEXT.test(text)) return { ok: false, message: `could not convert string to float: ${pyRepr(value)}` };
    const parsed = Number(text.replace(/_/g, ''));
    return { ok: true, value: Number.isNaN(parsed) ? value : parsed };
  }
  return { ok: false, message: `float() argument must be a string or a real number, not '${pyTypeName(value)}'` };
}

const INT_TEXT = /^[+-]?\p{Nd}+(?:_\p{Nd}+)*$/u;
const DIGITS = '\\d+(?:_\\d+)*';
const FLOAT_TEXT = new RegExp(`^[+-]?(?:${DIGITS}(?:\\.(?:${DIGITS})?)?|\\.${DIGITS})(?:[eE][+-]?${DIGITS})?$`);
const SPECIAL_FLOAT = /^([+-]?)(inf|infinity|nan)$/i;

/** Python's `==` between JSON values as `val in options` uses it: 1 == 1.0 == True, "1" != 1, lists and dicts by content. */
export function pyEquals(a: Json, b: Json): boolean {
  if ((typeof a === 'number' || typeof a === 'boolean') && (typeof b === 'number' || typeof b === 'boolean'))
    return Number(a) === Number(b);
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, index) => pyEquals(item, b[index]));
  if (isObject(a) && isObject(b)) {
    const keys = Object.keys(a);
    return (
      keys.length === Object.keys(b).length && keys.every((key) => Object.prototype.hasOwnProperty.call(b, key) && pyEquals(a[key], b[key]))
    );
  }
  return a === b;
}

/** `str(x)` as the server's messages print a value; `float` prints FLOAT inputs' whole numbers as Python does (`1.0`). */
export function pyStr(value: Json, float = false): string {
  if (typeof value === 'string') return value;
  return pyRepr(value, float);
}

export function pyRepr(value: Json, float = false): string {
  if (value === null) return 'None';
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (typeof value === 'number') return pyNumber(value, float);
  if (typeof value === 'string') return value.includes("'") && !value.includes('"') ? `"${value}"` : `'${value.replace(/'/g, "\\'")}'`;
  if (Array.isArray(value)) return `[${value.map((item) => pyRepr(item)).join(', ')}]`;
  return `{${Object.entries(value)
    .map(([key, item]) => `${pyRepr(key)}: ${pyRepr(item)}`)
    .join(', ')}}`;
}

function pyNumber(value: number, float: boolean): string {
  if (Number.isNaN(value)) return 'nan';
  if (!Number.isFinite(value)) return value < 0 ? '-inf' : 'inf';
  // Python switches to exponent notation at 1e16, JS at 1e21; JSON hides whether 1 was 1.0.
  if (float && Number.isInteger(value) && Math.abs(value) < 1e16) return `${value}.0`;
  return String(value);
}

function pyTypeName(value: Json): string {
  if (value === null) return 'NoneType';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'object') return 'dict';
  return typeof value === 'string' ? 'str' : typeof value === 'boolean' ? 'bool' : 'float';
}

function isObject(value: Json): value is { [key: string]: Json } {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
