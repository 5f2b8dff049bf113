/**
 * The rule for file names and subfolders that travel between ComfyUI and a flow: a name is one
 * path segment, a subfolder stays inside its folder. ComfyUI checks the same on its side, but a
 * name also ends up in msg.filename, where a flow may join it to a directory and write there, so a
 * name from anywhere (a msg, a history entry) is checked before it is used.
 */

/** Longest file name most file systems take, in UTF-8 bytes. */
export const MAX_FILE_NAME_BYTES = 255;

/** Why a file name is unusable, or undefined when it is fine. */
export function fileNameProblem(name: string): string | undefined {
  if (name === '') return 'is empty';
  if (name.includes('\0')) return 'contains a NUL character';
  if (name.includes('/') || name.includes('\\')) return 'contains a path separator (/ or \\): give the folder as the subfolder';
  if (name.includes('..')) return 'contains ".."';
  if (Buffer.byteLength(name, 'utf8') > MAX_FILE_NAME_BYTES) return `is longer than ${MAX_FILE_NAME_BYTES} bytes`;
  return undefined;
}

/** Why a subfolder is unusable ("" is the folder itself), or undefined when it is fine. */
export function subfolderProblem(subfolder: string): string | undefined {
  if (subfolder.includes('\0')) return 'contains a NUL character';
  if (/^[\\/]/.test(subfolder) || /^[A-Za-z]:/.test(subfolder)) return 'is an absolute path';
  if (subfolder.split(/[\\/]/).some((segment) => segment === '..')) return 'leaves its folder ("..")';
  if (Buffer.byteLength(subfolder, 'utf8') > 4 * MAX_FILE_NAME_BYTES) return `is longer than ${4 * MAX_FILE_NAME_BYTES} bytes`;
  return undefined;
}
