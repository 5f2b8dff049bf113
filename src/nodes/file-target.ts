/**
 * The names of the files the images node writes: a template typed by a person (checked, refused
 * when it could leave the directory) filled with values from the wire (ComfyUI's file name, the
 * node id: made safe, never refused). The result is a list of path segments that, joined below
 * the directory, cannot leave it, and that every common file system (ext4, APFS, NTFS) can hold.
 * The file system itself (symbolic links) is checked where the files are written (images-to-files.ts).
 */
import { MAX_NAME_BYTES } from '../client/file-names';

/** What a template can name, as {field}. */
export const TEMPLATE_FIELDS = ['prompt_id', 'node', 'index', 'filename', 'ext'] as const;
export type TemplateField = (typeof TEMPLATE_FIELDS)[number];
export type NameFields = Record<TemplateField, string>;

export const DEFAULT_TEMPLATE = '{filename}';

/** Windows refuses these characters in names; control characters break logs and shells everywhere. */
// eslint-disable-next-line no-control-regex
const UNSAFE_CHARACTERS = /[\u0000-\u001f\u007f<>:"/\\|?*]/g;
/** Device names on Windows, with any extension ("NUL.png" is the device too), any case. */
const RESERVED_NAME = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;
/** Half of a UTF-16 pair alone: no file system can store it (it would be written as U+FFFD, another name than the msg says). */
const LONE_SURROGATE = /\p{Cs}/gu;
const FIELD = /\{([^{}]*)\}/g;

/**
 * Why `template` cannot name a file below the directory, or undefined when it can. Folders are
 * separated by `/`; fields are {prompt_id}, {node}, {index}, {filename} (ComfyUI's name, with its
 * extension) and {ext}.
 */
export function templateProblem(template: string): string | undefined {
  if (template.trim() === '') return 'is empty';
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(template)) return 'contains a control character (NUL, a line break, …)';
  if (/^[\\/]/.test(template) || /^[A-Za-z]:/.test(template)) return 'is an absolute path: it names a file below the directory';
  for (const match of template.matchAll(FIELD)) {
    if (!(TEMPLATE_FIELDS as readonly string[]).includes(match[1] ?? '')) {
      return `has an unknown field {${match[1] ?? ''}} (the fields are ${TEMPLATE_FIELDS.map((f) => `{${f}}`).join(', ')})`;
    }
  }
  const literal = template.replace(FIELD, '');
  if (/[{}]/.test(literal)) return 'has a { or } that opens or closes no field';
  if (/[<>:"|?*]/.test(literal)) return 'contains one of < > : " | ? * (not allowed in Windows file names)';
  const segments = template.split(/[\\/]/);
  for (const segment of segments) {
    if (segment === '') return 'has an empty folder name (// or a / at the end)';
    // Windows drops trailing dots and spaces, so "... " and ".. " are ".." there too.
    if (/^\.[. ]*$/.test(segment)) return `has "${segment}" as a folder or file name`;
    if (!/\{[^{}]*\}/.test(segment) && RESERVED_NAME.test(segment.trim())) return `has "${segment}", a device name on Windows`;
  }
  return undefined;
}

/**
 * The path segments `template` (checked with templateProblem first) makes for these values: every
 * value is made safe before it goes in (a `/` in ComfyUI's file name is no folder), and every
 * segment is made a valid name after.
 */
export function expandTemplate(template: string, fields: NameFields): string[] {
  return template.split(/[\\/]/).map((segment) =>
    safeName(segment.replace(FIELD, (_whole, name: string) => safeName(fields[name as TemplateField] ?? '', { empty: '' }))),
  );
}

/**
 * `value` as one file or folder name: the characters a common file system refuses become `_`,
 * trailing dots and spaces go (Windows drops them), a Windows device name gets a `_` in front,
 * "", "." and ".." become "_", and a name above 255 bytes is shortened, keeping its extension.
 * `empty` is what an empty value becomes (a field may be empty inside a longer segment).
 */
export function safeName(value: string, options: { empty?: string } = {}): string {
  let name = value.replace(UNSAFE_CHARACTERS, '_').replace(LONE_SURROGATE, '_').replace(/[. ]+$/, '');
  if (name === '' && value === '' && options.empty !== undefined) return options.empty;
  if (name === '' || name === '.' || name === '..') name = '_';
  if (RESERVED_NAME.test(name)) name = `_${name}`;
  return shortened(name, MAX_NAME_BYTES);
}

/** Whether `name` is one safeName would leave as it is: what every segment of a path must be. */
export function isSafeName(name: string): boolean {
  return name !== '' && safeName(name) === name;
}

/** `name` with " (n)" before its extension, as a free name for "keep both" (the way desktops do it). */
export function numberedName(name: string, n: number): string {
  const { stem, ext } = splitName(name);
  const suffix = ` (${n})${ext}`;
  return safeName(`${shortened(stem, MAX_NAME_BYTES - Buffer.byteLength(suffix, 'utf8'))}${suffix}`);
}

/** The extension of ComfyUI's file name, without the dot ('' when it has none). */
export function extensionOf(filename: string): string {
  return splitName(filename).ext.slice(1);
}

function splitName(name: string): { stem: string; ext: string } {
  const dot = name.lastIndexOf('.');
  // A leading dot is a hidden file, not an extension; an "extension" of 20 characters is part of the name.
  if (dot <= 0 || name.length - dot > 17) return { stem: name, ext: '' };
  return { stem: name.slice(0, dot), ext: name.slice(dot) };
}

/** At most `bytes` bytes of UTF-8, cut between characters, the extension kept when it fits. */
function shortened(name: string, bytes: number): string {
  if (Buffer.byteLength(name, 'utf8') <= bytes) return name;
  const { stem, ext } = splitName(name);
  const room = bytes - Buffer.byteLength(ext, 'utf8');
  const keep = room > 0 ? ext : '';
  let out = '';
  let used = 0;
  const limit = room > 0 ? room : bytes;
  for (const char of room > 0 ? stem : name) {
    const size = Buffer.byteLength(char, 'utf8');
    if (used + size > limit) break;
    out += char;
    used += size;
  }
  const result = `${out}${keep}`.replace(/[. ]+$/, '');
  return result === '' ? '_' : result;
}
