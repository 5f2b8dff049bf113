/**
 * The frontend's file-name replacements (saveImageExtraOutput.ts, applyTextReplacements in
 * searchAndReplace.ts): the `filename_prefix` of a save node is sent with `%date:yyyy-MM-dd%` replaced
 * by the date of queueing and `%Node.widget%` by that widget's value, the node found by its
 * "Node name for S&R" property, else by its title. Anything else between percent signs is kept
 * (the server itself fills in %width%, %year% and the like).
 */
import type { Json } from '../shape';

/** The node types whose `filename_prefix` the frontend runs through the replacements. */
export const SAVE_NODE_TYPES: ReadonlySet<string> = new Set([
  'SaveImage',
  'SaveImageAdvanced',
  'SaveSVGNode',
  'SaveVideo',
  'SaveAnimatedWEBP',
  'SaveWEBM',
  'SaveAudio',
  'SaveAudioMP3',
  'SaveAudioOpus',
  'SaveAudioAdvanced',
  'SaveGLB',
  'SaveAnimatedPNG',
  'CLIPSave',
  'VAESave',
  'ModelSave',
  'LoraSave',
  'SaveLatent',
]);

/** A widget's value by node name and widget name, or undefined when no node or widget matches. */
export type WidgetLookup = (nodeName: string, widgetName: string) => Json | undefined;

export function applyTextReplacements(value: string, lookup: WidgetLookup, now: Date): string {
  return value.replace(/%([^%]+)%/g, (match, text: string) => {
    const parts = text.split('.');
    if (parts.length !== 2) return parts[0].startsWith('date:') ? formatDate(parts[0].slice('date:'.length), now) : match;
    const found = lookup(parts[0], parts[1]);
    if (found === undefined) return match;
    // A value becomes part of a file name: path separators would make folders.
    return asText(found).replace(/\/|\\/g, '_');
  });
}

/** `(value ?? '') + ''` of the frontend, spelled out. */
function asText(value: Json): string {
  if (value === null) return '';
  // eslint-disable-next-line @typescript-eslint/no-base-to-string -- exactly the frontend's text of a list, "[object Object]" included
  if (Array.isArray(value)) return value.join(',');
  return typeof value === 'object' ? '[object Object]' : String(value);
}

const DATE_PARTS: Readonly<Record<string, (date: Date) => number>> = {
  d: (date) => date.getDate(),
  M: (date) => date.getMonth() + 1,
  h: (date) => date.getHours(),
  m: (date) => date.getMinutes(),
  s: (date) => date.getSeconds(),
};

/** yyyy, yy, MM, M, dd, d, hh, h, mm, m, ss, s in local time (formatDate of the frontend); other text stays. */
export function formatDate(format: string, date: Date): string {
  return format.replace(/dd?|MM?|hh?|mm?|ss?|yyy?y?/g, (token) => {
    if (token === 'yy') return String(date.getFullYear()).substring(2);
    if (token === 'yyyy') return String(date.getFullYear());
    const part = DATE_PARTS[token[0]];
    return part ? String(part(date)).padStart(token.length, '0') : token;
  });
}
