/**
 * Names of files in ComfyUI's input, output and temp folders, as a flow gives them (an upload's
 * file name and subfolder, a mask's original, the refs the images node downloads). ComfyUI joins
 * them to a folder on its disk; a name that could leave that folder, or that a file system or a
 * multipart header cannot hold, is refused here, before anything is sent.
 */

/** File systems (ext4, NTFS, APFS) allow 255 bytes (or UTF-16 units) per name. */
export const MAX_NAME_BYTES = 255;

/** NUL ends a C string on the server; other control characters (line breaks) break multipart headers and logs. */
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * Why `name` cannot be a file name, or undefined when it can: a name, not a path, so no `/` or
 * `\` (reduce a path such as File In's msg.filename to its last part first), no `..`, not `.`,
 * no `:`, no control characters, at most 255 bytes in UTF-8.
 */
export function fileNameProblem(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (/[\\/]/.test(name))
    return 'contains / or \\: give a file name, not a path (reduce a path to its last part first; put folders in the subfolder)';
  if (name.includes('..')) return 'contains ".."';
  if (name === '.') return 'is "." (the folder itself)';
  // "C:x.png" is relative to drive C's current folder on Windows, "x.png:s" a stream of x.png.
  if (name.includes(':')) return 'contains ":" (a Windows drive or stream)';
  if (CONTROL.test(name)) return 'contains a control character (NUL, a line break, …)';
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) return `is longer than ${MAX_NAME_BYTES} bytes (UTF-8)`;
  return undefined;
}

/**
 * Why `subfolder` cannot be a subfolder, or undefined when it can ('' is the folder itself):
 * relative (no leading `/` or `\`, no drive letter), no `..` path segment, no control characters,
 * and no segment above 255 bytes. `a/b` is fine: ComfyUI creates nested subfolders.
 */
export function subfolderProblem(subfolder: string): string | undefined {
  if (/^[\\/]/.test(subfolder) || /^[A-Za-z]:/.test(subfolder)) return "is an absolute path; give a folder inside ComfyUI's folder";
  // Windows drops trailing dots and spaces from a name, so "... " and ".. " are ".." there too.
  if (subfolder.split(/[\\/]/).some((segment) => /^\.\.[. ]*$/.test(segment))) return 'contains ".." as a folder';
  if (CONTROL.test(subfolder)) return 'contains a control character (NUL, a line break, …)';
  if (subfolder.split(/[\\/]/).some((segment) => Buffer.byteLength(segment, 'utf8') > MAX_NAME_BYTES))
    return `has a folder name longer than ${MAX_NAME_BYTES} bytes (UTF-8)`;
  return undefined;
}
