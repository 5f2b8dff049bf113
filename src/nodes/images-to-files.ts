/**
 * The images node's "to files" mode: each file streams from ComfyUI into a directory the flow
 * configures, under a name made from a template (file-target.ts), and never anywhere else: the
 * directory is resolved to its real path, every folder below it is created one by one and checked
 * to still be inside it (a symbolic link cannot lead out), and the file is written under a
 * temporary name in its final folder and renamed only once complete, so a failed or stopped
 * download leaves nothing behind.
 */
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import type { WriteStream } from 'node:fs';
import { link, lstat, mkdir, realpath, rename, rm, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, sep } from 'node:path';
import type { Node, NodeAPI, NodeMessage } from 'node-red';
import type { OpenSink, StreamedDownload } from '../client/http';
import { ComfyError, reasonOf } from '../client/errors';
import { DEFAULT_TEMPLATE, expandTemplate, extensionOf, isSafeName, numberedName, templateProblem } from './file-target';
import type { NameFields } from './file-target';
import { choiceOf, textOf } from './msg-input';
import { readSetting, settingOf } from './typed-setting';
import type { TypedSetting } from './typed-setting';

export const EXISTING_CHOICES = ['unique', 'overwrite', 'fail'] as const;
/** What to do when a file of that name is there: keep both (a numbered name), replace it, or fail (FILE_EXISTS). */
export type ExistingFile = (typeof EXISTING_CHOICES)[number];

export interface FilesConfig {
  directory?: unknown;
  directoryType?: unknown;
  template?: unknown;
  existing?: unknown;
}

/** A file written: where, how many bytes, what it is. */
export interface SavedFile {
  path: string;
  size: number;
  contentType: string;
}

/** Free names tried for "keep both" before giving up with FILE_EXISTS. */
const MAX_NUMBERED = 10_000;
/** link() is how a name is claimed without replacing a file; file systems without hard links (FAT, some shares) refuse it so. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV', 'EMLINK']);

/** The node's settings for this mode, read once; the directory is read again for every msg. */
export class FileSettings {
  private readonly directory: TypedSetting;
  private readonly template: string;
  private readonly existing: unknown;

  constructor(config: FilesConfig) {
    this.directory = settingOf(config, 'directory', { label: 'Directory' });
    this.template = typeof config.template === 'string' && config.template.trim() !== '' ? config.template.trim() : DEFAULT_TEMPLATE;
    this.existing = config.existing;
  }

  /** Where this msg's files go: the directory (created if missing) as a real path; BAD_INPUT before anything is fetched. */
  async targetFor(RED: NodeAPI, node: Node, msg: NodeMessage): Promise<FileTarget> {
    const problem = templateProblem(this.template);
    if (problem) throw new ComfyError('BAD_INPUT', `The File name setting ${problem}; got ${JSON.stringify(this.template)}`);
    const existing = choiceOf({ value: this.existing, from: 'The "If the file exists" setting' }, EXISTING_CHOICES, 'unique');
    const given = await readSetting(RED, node, this.directory, msg);
    const directory = textOf(given);
    if (directory === '') throw new ComfyError('BAD_INPUT', `${given.from} is not set: the "to files" output needs a directory to write to`);
    if (directory.includes('\0')) throw new ComfyError('BAD_INPUT', `${given.from} contains a NUL character`);
    if (!isAbsolute(directory)) {
      throw new ComfyError('BAD_INPUT', `${given.from} must be an absolute path (Node-RED's working directory is no place to guess); got "${directory}"`);
    }
    try {
      await mkdir(directory, { recursive: true });
      return new FileTarget(await realpath(directory), this.template, existing);
    } catch (err) {
      throw fileError(err, `The directory ${directory} (from ${given.from}) cannot be used`);
    }
  }
}

/** One msg's directory and naming rules. */
export class FileTarget {
  constructor(
    readonly root: string,
    private readonly template: string,
    private readonly existing: ExistingFile,
  ) {}

  /** The segments below the root for one file: ComfyUI's name and the node id are made safe, never trusted. */
  segmentsFor(values: { promptId: string; node: string; index: number; filename: string }): string[] {
    const fields: NameFields = {
      prompt_id: values.promptId,
      node: values.node,
      index: String(values.index),
      filename: values.filename,
      ext: extensionOf(values.filename),
    };
    return expandTemplate(this.template, fields);
  }

  /**
   * Writes one file: `download` streams into the sink it is given. The file appears under its name
   * only when complete; on any failure the temporary file is removed before the error goes on.
   */
  async save(segments: string[], download: (open: OpenSink) => Promise<StreamedDownload>): Promise<SavedFile> {
    const name = segments[segments.length - 1] ?? '';
    if (!segments.every(isSafeName)) throw new ComfyError('INTERNAL', `The file name ${JSON.stringify(segments.join('/'))} was not made safe`);
    const folder = await this.folderFor(segments.slice(0, -1));
    const temporary = join(folder, `.comfyui-${randomBytes(8).toString('hex')}.part`);
    let stream: WriteStream | undefined;
    const open: OpenSink = () => {
      // 'wx': never through a file (or link) someone put there under the temporary name.
      stream = createWriteStream(temporary, { flags: 'wx' });
      return Promise.resolve(stream);
    };
    try {
      const { size, contentType } = await download(open);
      if (!stream) throw new ComfyError('INTERNAL', 'The download ended without writing the file');
      const path = await this.place(temporary, folder, name);
      return { path, size, contentType };
    } catch (err) {
      if (stream) await discard(stream, temporary);
      throw err;
    }
  }

  /** The folder for a file, created one level at a time, each level checked to be inside the root (a link may not lead out). */
  private async folderFor(folders: string[]): Promise<string> {
    let current = this.root;
    for (const folder of folders) {
      const next = join(current, folder);
      try {
        await mkdir(next);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw fileError(err, `The folder ${next} cannot be created`);
      }
      const real = await realpath(next).catch((err: unknown) => {
        throw fileError(err, `The folder ${next} cannot be used`);
      });
      if (!isInside(this.root, real)) {
        throw new ComfyError('BAD_INPUT', `The folder ${next} leads outside the directory ${this.root} (through a symbolic link), so nothing is written there`);
      }
      // mkdir says EEXIST for a file too: find that here, before anything is downloaded.
      if (!(await stat(real)).isDirectory()) throw new ComfyError('FILE_WRITE', `The folder ${next} cannot be created: a file has that name`);
      current = real;
    }
    return current;
  }

  /** The complete file under its final name, by the "If the file exists" rule; the path it got. */
  private async place(temporary: string, folder: string, name: string): Promise<string> {
    if (this.existing === 'overwrite') {
      const target = join(folder, name);
      // rename replaces a file (or a link: the link itself, never what it points to) in one step.
      await rename(temporary, target).catch((err: unknown) => {
        throw fileError(err, `The file ${target} cannot be written`);
      });
      return target;
    }
    const tries = this.existing === 'unique' ? MAX_NUMBERED : 1;
    for (let n = 0; n < tries; n += 1) {
      const target = join(folder, n === 0 ? name : numberedName(name, n));
      if (await claim(temporary, target)) return target;
    }
    const what = join(folder, name);
    throw new ComfyError(
      'FILE_EXISTS',
      this.existing === 'fail'
        ? `The file ${what} exists (the "If the file exists" setting is "fail")`
        : `The file ${what} and ${MAX_NUMBERED - 1} numbered names next to it exist`,
    );
  }
}

/** Gives the temporary file the name `target` unless something has that name; false when it has. Atomic where hard links exist. */
async function claim(temporary: string, target: string): Promise<boolean> {
  try {
    await link(temporary, target);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? '';
    if (code === 'EEXIST') return false;
    if (!NO_HARD_LINKS.has(code)) throw fileError(err, `The file ${target} cannot be written`);
    // Without hard links: look, then rename (another writer could slip in between; nothing better is portable).
    if (await lstat(target).then(() => true, () => false)) return false;
    await rename(temporary, target).catch((renameErr: unknown) => {
      throw fileError(renameErr, `The file ${target} cannot be written`);
    });
    return true;
  }
  await rm(temporary, { force: true });
  return true;
}

/** A temporary file after a failure: closed, then removed (Windows cannot remove an open file). */
async function discard(stream: WriteStream, temporary: string): Promise<void> {
  if (!stream.closed) {
    await new Promise<void>((resolve) => {
      stream.once('close', resolve);
      stream.destroy();
    });
  }
  await rm(temporary, { force: true }).catch(() => undefined);
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/** A file-system failure as FILE_WRITE, saying what could not be done and why (the errno text). */
function fileError(err: unknown, what: string): ComfyError {
  if (err instanceof ComfyError) return err;
  return new ComfyError('FILE_WRITE', `${what}: ${reasonOf(err)}`, { cause: err });
}

/** Writes an output the client already holds (a WebSocket image, a text) through the same sink as a download. */
export async function writeInMemory(content: Buffer | string, contentType: string, open: OpenSink): Promise<StreamedDownload> {
  const bytes = typeof content === 'string' ? Buffer.from(content, 'utf8') : content;
  const sink = await open(contentType);
  try {
    if (!sink.write(bytes)) await once(sink, 'drain');
    sink.end();
    await once(sink, 'finish');
  } catch (err) {
    throw fileError(err, 'The file cannot be written');
  }
  return { size: bytes.length, contentType };
}
