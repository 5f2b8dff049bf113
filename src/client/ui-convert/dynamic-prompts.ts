/**
 * The frontend's dynamic prompts (dynamicPrompts.ts, processDynamicPrompt in formatUtil): a text widget
 * whose spec has `dynamicPrompts: true` is sent with C-style comments removed and each `{a|b|c}`
 * replaced by one of its options, chosen at random on every queueing (options nest; `\{`, `\|`, `\}`
 * are literal). The frontend recurses once per nesting level; this walks an explicit stack instead,
 * so the text cannot overflow the call stack, and refuses nesting deeper than anyone writes.
 */
import { ComfyError } from '../errors';

/** Deeper `{…{…}…}` nesting than this is refused: each level re-reads its option, so depth costs time. */
export const MAX_CHOICE_DEPTH = 64;

const COMMENTS = /\/\*[\s\S]*?\*\/|\/\/.*/g;
const ESCAPED = /\\([{}|])/g;

interface Level {
  text: string;
  next: number;
  out: string;
}

export function processDynamicPrompt(source: string, random: () => number): string {
  const levels: Level[] = [{ text: source.replace(COMMENTS, ''), next: 0, out: '' }];
  for (;;) {
    const level = levels[levels.length - 1];
    if (level.next >= level.text.length) {
      // Each level unescapes its own result, the outer one again over the inner's (as the recursion does).
      const done = level.out.replace(ESCAPED, '$1');
      levels.pop();
      if (levels.length === 0) return done;
      levels[levels.length - 1].out += done;
      continue;
    }
    const char = level.text[level.next++];
    if (char === '\\') {
      // String(undefined) after a trailing backslash, exactly as the frontend's `'\\' + input[i++]`.
      level.out += `\\${String(level.text[level.next++])}`;
    } else if (char === '{') {
      const options = readChoices(level);
      if (levels.length >= MAX_CHOICE_DEPTH) {
        throw new ComfyError('BAD_WORKFLOW', `A dynamic prompt nests {…|…} choices more than ${MAX_CHOICE_DEPTH} levels deep`);
      }
      levels.push({ text: options[Math.floor(random() * options.length)] ?? '', next: 0, out: '' });
    } else {
      level.out += char;
    }
  }
}

/** The options of the `{…}` block whose `{` was just read; leaves `next` after its `}` (or at the end). */
function readChoices(level: Level): string[] {
  const options: string[] = [];
  let choice = '';
  let depth = 0;
  while (level.next < level.text.length) {
    const char = level.text[level.next++];
    if (char === '\\') {
      choice += `\\${String(level.text[level.next++])}`;
      continue;
    }
    if (char === '{') depth += 1;
    else if (char === '}') {
      if (depth === 0) break;
      depth -= 1;
    } else if (char === '|' && depth === 0) {
      options.push(choice);
      choice = '';
      continue;
    }
    choice += char;
  }
  options.push(choice);
  return options;
}
