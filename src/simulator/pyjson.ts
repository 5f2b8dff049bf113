/**
 * JSON exactly as the real server (Python's `json` module behind aiohttp) reads and writes it.
 *
 * Why not JSON.parse/JSON.stringify: the recordings show Python's formatting (`", "` and `": "`
 * separators, `\uXXXX` escapes for non-ASCII, floats printed as `1.0`, a client `number` echoed as
 * `-1000.0`), and Python keeps the difference between the int `1` and the float `1.0` that the
 * protocol exposes (progress_state sends `1.0` normally but `1` for cached nodes). A client that
 * only uses JSON.parse sees no difference, but byte counts (Content-Length) and anyone reading the
 * raw text do, so the simulator keeps Python's distinction with the PyFloat wrapper below.
 */

/** A Python float. Plain JS numbers are Python ints (when integral); bigint holds ints beyond 2^53. */
export class PyFloat {
  constructor(readonly value: number) {}
  valueOf(): number {
    return this.value;
  }
}

export type PyValue = null | boolean | number | bigint | PyFloat | string | PyValue[] | PyDict;
export interface PyDict {
  [key: string]: PyValue;
}

export function isDict(v: unknown): v is PyDict {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof PyFloat);
}

/** Own-key lookup: Python's `key in dict` never sees JS prototype members like "constructor". */
export function hasKey(d: PyDict, key: string): boolean {
  return Object.hasOwn(d, key);
}

/** Sets a key safely even when it is "__proto__" (a legal JSON key). */
export function setKey(d: PyDict, key: string, value: PyValue): void {
  if (key === '__proto__') {
    Object.defineProperty(d, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    d[key] = value;
  }
}

/** The error json.loads raises; the routes turn it into aiohttp's 500 page like the real server. */
export class PyJsonDecodeError extends Error {
  override name = 'JSONDecodeError';
}

/* ------------------------------------------------------------------ parsing */

const WS = new Set([' ', '\t', '\n', '\r']);

/**
 * json.loads: accepts NaN/Infinity/-Infinity, rejects raw control characters inside strings,
 * keeps floats as PyFloat and ints as numbers (bigint when they do not fit a double exactly).
 */
export function parsePyJson(text: string): PyValue {
  let i = 0;
  const fail = (what: string): never => {
    throw new PyJsonDecodeError(`${what}: char ${i}`);
  };
  const skip = (): void => {
    while (i < text.length && WS.has(text[i])) i++;
  };
  const value = (): PyValue => {
    skip();
    const c = text[i];
    if (c === '{') return object();
    if (c === '[') return array();
    if (c === '"') return string();
    if (text.startsWith('null', i)) {
      i += 4;
      return null;
    }
    if (text.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (text.startsWith('NaN', i)) {
      i += 3;
      return new PyFloat(NaN);
    }
    if (text.startsWith('Infinity', i)) {
      i += 8;
      return new PyFloat(Infinity);
    }
    if (text.startsWith('-Infinity', i)) {
      i += 9;
      return new PyFloat(-Infinity);
    }
    return number();
  };
  const number = (): PyValue => {
    const m = /^(-?(?:0|[1-9]\d*))(\.\d+)?([eE][-+]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m) return fail('Expecting value');
    i += m[0].length;
    if (m[2] === undefined && m[3] === undefined) {
      const n = Number(m[1]);
      return Number.isSafeInteger(n) ? n : BigInt(m[1]);
    }
    return new PyFloat(Number(m[0]));
  };
  const string = (): string => {
    i++; // opening quote
    let out = '';
    for (;;) {
      if (i >= text.length) fail('Unterminated string starting at');
      const c = text[i];
      if (c === '"') {
        i++;
        return out;
      }
      if (c === '\\') {
        const e = text[i + 1];
        const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
        if (e !== undefined && e in simple) {
          out += simple[e];
          i += 2;
        } else if (e === 'u') {
          const hex = text.slice(i + 2, i + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('Invalid \\uXXXX escape');
          out += String.fromCharCode(parseInt(hex, 16));
          i += 6;
        } else {
          fail('Invalid \\escape');
        }
        continue;
      }
      if (c.charCodeAt(0) < 0x20) fail('Invalid control character at');
      out += c;
      i++;
    }
  };
  const array = (): PyValue[] => {
    i++;
    const out: PyValue[] = [];
    skip();
    if (text[i] === ']') {
      i++;
      return out;
    }
    for (;;) {
      out.push(value());
      skip();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === ']') {
        i++;
        return out;
      }
      fail("Expecting ',' delimiter");
    }
  };
  const object = (): PyDict => {
    i++;
    const out: PyDict = {};
    skip();
    if (text[i] === '}') {
      i++;
      return out;
    }
    for (;;) {
      skip();
      if (text[i] !== '"') fail('Expecting property name enclosed in double quotes');
      const key = string();
      skip();
      if (text[i] !== ':') fail("Expecting ':' delimiter");
      i++;
      setKey(out, key, value());
      skip();
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '}') {
        i++;
        return out;
      }
      fail("Expecting ',' delimiter");
    }
  };
  const result = value();
  skip();
  if (i !== text.length) fail('Extra data');
  return result;
}

/* ---------------------------------------------------------------- printing */

/** Python's repr(float): shortest round-trip digits, `.0` for integral values, `1e+16` style above. */
export function floatRepr(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  const [mant, expStr] = Math.abs(x).toExponential().split('e') as [string, string];
  const digits = mant.replace('.', '');
  const exp = Number(expStr);
  if (exp >= -4 && exp < 16) {
    if (exp >= 0) {
      const intPart = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
      const frac = digits.slice(exp + 1) || '0';
      return `${sign}${intPart}.${frac}`;
    }
    return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  }
  const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

/** Python int printing for JS numbers that may be integral doubles beyond 2^53. */
function intRepr(n: number): string {
  if (Object.is(n, -0)) return '0';
  return Math.abs(n) < 1e21 ? String(n) : BigInt(n).toString();
}

function quoteJson(s: string): string {
  // ensure_ascii=True: everything outside ' '..'~' is escaped, with lowercase hex.
  let out = '"';
  for (let k = 0; k < s.length; k++) {
    const c = s[k];
    const code = c.charCodeAt(0);
    if (c === '"') out += '\\"';
    else if (c === '\\') out += '\\\\';
    else if (code >= 0x20 && code <= 0x7e) out += c;
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\t') out += '\\t';
    else if (c === '\b') out += '\\b';
    else if (c === '\f') out += '\\f';
    else out += '\\u' + code.toString(16).padStart(4, '0');
  }
  return out + '"';
}

/** json.dumps(value) with Python's default separators and escaping. */
export function dumpPyJson(value: unknown): string {
  if (value === null) return 'null';
  if (value === true) return 'true';
  if (value === false) return 'false';
  if (value instanceof PyFloat) return floatRepr(value.value);
  if (typeof value === 'number') return Number.isInteger(value) ? intRepr(value) : floatRepr(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'string') return quoteJson(value);
  if (Array.isArray(value)) return '[' + value.map(dumpPyJson).join(', ') + ']';
  if (typeof value === 'object') {
    const parts: string[] = [];
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (v === undefined) continue; // never produced on purpose; tolerated like JSON.stringify
      parts.push(`${quoteJson(k)}: ${dumpPyJson(v)}`);
    }
    return '{' + parts.join(', ') + '}';
  }
  throw new TypeError(`Object of type ${typeof value} is not JSON serializable`);
}

/** A deep copy that keeps PyFloat and bigint values (structuredClone would drop the class). */
export function deepCopy<T extends PyValue>(v: T): T {
  if (Array.isArray(v)) return v.map((x) => deepCopy(x)) as T;
  if (isDict(v)) {
    const out: PyDict = {};
    for (const [k, x] of Object.entries(v)) setKey(out, k, deepCopy(x));
    return out as T;
  }
  return v;
}
