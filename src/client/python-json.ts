/**
 * JSON as Python's json.dumps writes it. ComfyUI dumps prompts and workflows with the default
 * allow_nan=True, so a float widget holding nan or inf comes out as the bare words NaN, Infinity
 * or -Infinity, which JSON.parse refuses. Those words are read as null, the value JSON itself
 * would give them (JSON.stringify(NaN) is "null"); everything else is JSON.parse's.
 */

/** Parses `text`; throws JSON.parse's SyntaxError when it is not JSON even with Python's words. */
export function parsePythonJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    if (!/NaN|Infinity/.test(text)) throw err;
    return JSON.parse(withoutPythonNumbers(text));
  }
}

/** `text` with NaN, Infinity and -Infinity outside strings replaced by null (one pass, no recursion). */
function withoutPythonNumbers(text: string): string {
  const out: string[] = [];
  let copiedTo = 0;
  let inString = false;
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index];
    if (inString) {
      if (char === '\\') index += 1;
      else if (char === '"') inString = false;
      continue;
    }
    if (char === '"') {
      inString = true;
      continue;
    }
    const word = text.startsWith('NaN', index) ? 3 : text.startsWith('Infinity', index) ? 8 : text.startsWith('-Infinity', index) ? 9 : 0;
    if (word > 0) {
      out.push(text.slice(copiedTo, index), 'null');
      index += word - 1;
      copiedTo = index + 1;
    }
  }
  out.push(text.slice(copiedTo));
  return out.join('');
}
