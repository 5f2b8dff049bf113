/**
 * The input/output/temp folders and the path rules the real server applies to them
 * (folder_paths.py): annotated names like "x.png [temp]", the commonpath escape checks, SaveImage's
 * `<prefix>_<00001>_.png` counter read back from the folder, and mimetypes for /view.
 */
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, normalize, relative, resolve, sep } from 'node:path';
import { PyError } from './python';

export type FolderType = 'input' | 'output' | 'temp';

export class Folders {
  readonly input: string;
  readonly output: string;
  readonly temp: string;
  readonly user: string;

  constructor(readonly root: string) {
    this.input = join(root, 'input');
    this.output = join(root, 'output');
    this.temp = join(root, 'temp');
    this.user = join(root, 'user');
    for (const d of [this.input, this.output, this.temp]) mkdirSync(d, { recursive: true });
  }

  byType(type: string): string | undefined {
    if (type === 'input') return this.input;
    if (type === 'output') return this.output;
    if (type === 'temp') return this.temp;
    return undefined;
  }

  /** ComfyUI empties temp/ when it starts (and exits). */
  clearTemp(): void {
    rmSync(this.temp, { recursive: true, force: true });
    mkdirSync(this.temp, { recursive: true });
  }

  /**
   * folder_paths.annotated_filepath: a trailing "[output]"/"[input]"/"[temp]" picks the folder and
   * strips one more character (the space), exactly like the Python slicing `name[:-9]`.
   */
  annotated(name: string): { name: string; dir: string | undefined } {
    if (name.endsWith('[output]')) return { name: name.slice(0, -9), dir: this.output };
    if (name.endsWith('[input]')) return { name: name.slice(0, -8), dir: this.input };
    if (name.endsWith('[temp]')) return { name: name.slice(0, -7), dir: this.temp };
    return { name, dir: undefined };
  }

  /** get_annotated_filepath: default folder is input (LoadImage's `image` value). */
  annotatedPath(name: string): string {
    const a = this.annotated(name);
    return join(a.dir ?? this.input, a.name);
  }

  /** LoadImage's combo: top-level files of input/ that look like images, sorted (Python sort order). */
  inputImages(): string[] {
    let names: string[];
    try {
      names = readdirSync(this.input).filter((f) => {
        try {
          return statSync(join(this.input, f)).isFile();
        } catch {
          return false;
        }
      });
    } catch {
      return [];
    }
    return names.filter((f) => guessMimeType(f)?.startsWith('image/')).sort(pyCompare);
  }
}

/** Python's str ordering (by code point), not localeCompare. */
export function pyCompare(a: string, b: string): number {
  const x = Array.from(a);
  const y = Array.from(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = x[i].codePointAt(0)! - y[i].codePointAt(0)!;
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/** os.path.commonpath((base, abspath(p))) == base */
export function isInside(base: string, p: string): boolean {
  const rel = relative(base, resolve(p));
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

/**
 * folder_paths.get_save_image_path: returns the folder, the base file name and the next counter,
 * found by scanning existing `<name>_NNNNN_...` files (so counters survive a restart, like ComfyUI).
 */
export function saveImagePath(
  prefix: string,
  outputDir: string,
  width: number,
  height: number,
): { folder: string; filename: string; counter: number; subfolder: string } {
  if (prefix.includes('%')) {
    const now = new Date();
    const two = (n: number): string => String(n).padStart(2, '0');
    prefix = prefix
      .replace(/%width%/g, String(width))
      .replace(/%height%/g, String(height))
      .replace(/%year%/g, String(now.getFullYear()))
      .replace(/%month%/g, two(now.getMonth() + 1))
      .replace(/%day%/g, two(now.getDate()))
      .replace(/%hour%/g, two(now.getHours()))
      .replace(/%minute%/g, two(now.getMinutes()))
      .replace(/%second%/g, two(now.getSeconds()));
  }
  const norm = normalize(prefix);
  let subfolder = dirname(norm);
  if (subfolder === '.') subfolder = '';
  const filename = basename(norm);
  const folder = join(outputDir, subfolder);
  if (!isInside(outputDir, folder)) {
    const abs = resolve(folder);
    throw new PyError(
      'Exception',
      '**** ERROR: Saving image outside the output folder is not allowed.' +
        `\n full_output_folder: ${abs}` +
        `\n         output_dir: ${outputDir}` +
        `\n         commonpath: ${commonPath(outputDir, abs)}`,
    );
  }
  let counter = 1;
  if (existsSync(folder)) {
    const prefixLen = filename.length;
    for (const f of readdirSync(folder)) {
      const head = f.slice(0, prefixLen + 1);
      if (head.slice(0, -1) !== filename || head.slice(-1) !== '_') continue;
      const digits = /^\d+$/.test(f.slice(prefixLen + 1).split('_')[0] ?? '') ? Number(f.slice(prefixLen + 1).split('_')[0]) : 0;
      counter = Math.max(counter, digits + 1);
    }
  } else {
    mkdirSync(folder, { recursive: true });
  }
  return { folder, filename, counter, subfolder: subfolder.split(sep).join('/') };
}

function commonPath(a: string, b: string): string {
  const x = resolve(a).split(sep);
  const y = resolve(b).split(sep);
  const out: string[] = [];
  for (let i = 0; i < Math.min(x.length, y.length) && x[i] === y[i]; i++) out.push(x[i]);
  return out.join(sep) || sep;
}

/** Python mimetypes.guess_type for the extensions a ComfyUI folder usually holds. */
const MIME: Record<string, string> = {
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.jpe': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.bmp': 'image/bmp',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.ico': 'image/vnd.microsoft.icon',
  '.svg': 'image/svg+xml',
  '.avif': 'image/avif',
  '.heic': 'image/heic',
  '.ppm': 'image/x-portable-pixmap',
  '.pgm': 'image/x-portable-graymap',
  '.mp4': 'video/mp4',
  '.webm': 'video/webm',
  '.mov': 'video/quicktime',
  '.gifv': 'video/mp4',
  '.mp3': 'audio/mpeg',
  '.wav': 'audio/x-wav',
  '.flac': 'audio/flac',
  '.ogg': 'audio/ogg',
  '.opus': 'audio/ogg',
  '.txt': 'text/plain',
  '.json': 'application/json',
  '.html': 'text/html',
  '.htm': 'text/html',
  '.xhtml': 'application/xhtml+xml',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.glb': 'model/gltf-binary',
  '.gltf': 'model/gltf+json',
  '.safetensors': 'application/octet-stream',
  '.latent': 'application/octet-stream',
};

export function guessMimeType(filename: string): string | undefined {
  return MIME[extname(filename).toLowerCase()];
}
