/**
 * Reads a file that a msg names by its path, for the upload node: only from inside the directory
 * of the node's "Files from" setting. A msg is untrusted, so the path is judged after everything
 * that could lead it elsewhere is resolved: `..` folders are refused outright, symbolic links are
 * followed to their real target (a link inside pointing outside is refused), and the file opened
 * is checked again through its descriptor (Linux: /proc/self/fd) so a folder swapped for a link
 * between the check and the open does not lead outside either. Only regular files are read (a
 * FIFO or /dev/zero would never end), and never more than `limit` bytes.
 */
import { constants, promises as fs } from 'node:fs';
import { basename, isAbsolute, relative, resolve, sep } from 'node:path';
import { ComfyError } from '../client/errors';
import { clip } from '../client/shape';

export interface SizeLimit {
  bytes: number;
  /** Why, for TOO_LARGE: "this ComfyUI accepts at most N bytes (--max-upload-size)". */
  text: string;
}

export interface FileSource {
  bytes: Buffer;
  /** The file's own name, a candidate for the stored name. */
  name: string;
}

/** Read in slices: a file that grows while it is read still stops at the limit. */
const SLICE = 1024 * 1024;

/** O_NOFOLLOW refuses a final link that appeared after the check; O_NONBLOCK keeps a FIFO from blocking the open. */
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0);

export async function readFileInside(directory: string, given: string, limit: SizeLimit): Promise<FileSource> {
  const shown = JSON.stringify(clip(given, 200));
  if (given.includes('\0')) throw new ComfyError('BAD_INPUT', `The file path ${shown} contains a NUL character. Nothing was uploaded.`);
  if (given.split(/[\\/]/).includes('..')) {
    throw new ComfyError('NOT_ALLOWED', `The file path ${shown} contains a ".." folder; give a path inside ${directory}. Nothing was uploaded.`);
  }
  const outside = (): ComfyError =>
    new ComfyError('NOT_ALLOWED', `The file path ${shown} leads outside ${directory} (the "Files from" setting). Nothing was uploaded.`);
  const realDirectory = await fs.realpath(directory).catch((err: NodeJS.ErrnoException) => {
    throw new ComfyError('NOT_FOUND', `The "Files from" directory ${directory} cannot be used (${err.code ?? err.message}). Nothing was uploaded.`);
  });
  const target = resolve(directory, given);
  // Judged by its words first, so nothing outside is even looked at (not even whether it exists).
  if (!isInside(resolve(directory), target) && !isInside(realDirectory, target)) throw outside();
  const realTarget = await fs.realpath(target).catch((err: NodeJS.ErrnoException) => {
    throw fileError(err, shown, directory);
  });
  if (!isInside(realDirectory, realTarget)) throw outside();
  const handle = await fs.open(realTarget, OPEN_FLAGS).catch((err: NodeJS.ErrnoException) => {
    throw fileError(err, shown, directory);
  });
  try {
    const opened = await fs.readlink(`/proc/self/fd/${handle.fd}`).catch(() => undefined);
    if (opened !== undefined && !isInside(realDirectory, opened)) throw outside();
    const stat = await handle.stat();
    if (!stat.isFile()) {
      throw new ComfyError('BAD_INPUT', `${shown} is ${stat.isDirectory() ? 'a directory' : 'not a regular file'}, not a file to upload. Nothing was uploaded.`);
    }
    if (stat.size > limit.bytes) throw tooLarge(shown, `${stat.size} bytes`, limit);
    const bytes = await readAtMost(handle, limit, shown);
    if (bytes.length === 0) throw new ComfyError('BAD_INPUT', `The file ${shown} is empty. Nothing was uploaded.`);
    return { bytes, name: basename(target) };
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/** The directory a "Files from" setting names: relative to Node-RED's user directory; undefined when empty. */
export function filesDirectoryOf(setting: unknown, base: string): string | undefined {
  if (typeof setting !== 'string' || setting.trim() === '') return undefined;
  return resolve(base, setting.trim());
}

function isInside(directory: string, path: string): boolean {
  const rel = relative(directory, path);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
}

async function readAtMost(handle: fs.FileHandle, limit: SizeLimit, shown: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for (;;) {
    const slice = Buffer.allocUnsafe(SLICE);
    const { bytesRead } = await handle.read(slice, 0, SLICE, null);
    if (bytesRead === 0) return Buffer.concat(chunks, size);
    size += bytesRead;
    if (size > limit.bytes) throw tooLarge(shown, `more than ${limit.bytes} bytes (it grew while it was read)`, limit);
    chunks.push(slice.subarray(0, bytesRead));
  }
}

function tooLarge(shown: string, size: string, limit: SizeLimit): ComfyError {
  return new ComfyError('TOO_LARGE', `The file ${shown} is ${size}; ${limit.text}. Nothing was uploaded.`);
}

function fileError(err: NodeJS.ErrnoException, shown: string, directory: string): ComfyError {
  if (err.code === 'ENOENT' || err.code === 'ENOTDIR') {
    return new ComfyError('NOT_FOUND', `There is no file ${shown} in ${directory}. Nothing was uploaded.`);
  }
  if (err.code === 'ELOOP') return new ComfyError('NOT_ALLOWED', `${shown} is a loop of symbolic links, or a link that changed while it was checked. Nothing was uploaded.`);
  return new ComfyError('BAD_INPUT', `The file ${shown} cannot be read (${err.code ?? err.message}). Nothing was uploaded.`);
}
