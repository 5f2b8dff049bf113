/**
 * The workflow inside a file ComfyUI saved: its save nodes embed the run's API prompt ("prompt")
 * and the editor's UI workflow ("workflow", from extra_pnginfo) in each image, animation, audio
 * and video file, each format in its own place (the readers in media-metadata/ say where). The
 * bytes are untrusted: every reader walks its container by checked sizes with bounded work, and
 * anything wrong with them ends in a ComfyError of code BAD_WORKFLOW, never another exception.
 */
import { ComfyError, reasonOf } from './errors';
import { imageFormatOf, mediaContainerOf } from './image-bytes';
import type { ImageFormat, MediaContainer } from './image-bytes';
import { readFlacTexts } from './media-metadata/flac';
import { readId3Texts } from './media-metadata/id3';
import { readMatroskaTexts } from './media-metadata/matroska';
import { readMp4Texts } from './media-metadata/mp4';
import { readOggTexts } from './media-metadata/ogg';
import { readPngTexts } from './media-metadata/png';
import type { MetadataKey, MetadataTexts } from './media-metadata/texts';
import { readWebpTexts } from './media-metadata/webp';
import { isPlainObject, plainJson } from './plain-json';
import type { JsonObject } from './plain-json';
import { parsePythonJson } from './python-json';

export interface EmbeddedWorkflow {
  /** The file's format, for messages: "PNG", "WebP", "MP4", … */
  format: string;
  /** The API prompt the file was made by. */
  prompt?: JsonObject;
  /** The UI workflow (what the editor shows). */
  workflow?: JsonObject;
}

interface FormatReader {
  name: string;
  /** undefined: ComfyUI saves no metadata in this format (JPEG, GIF, …), so nothing is read. */
  read?: (bytes: Buffer) => MetadataTexts;
}

const READERS: Record<ImageFormat | MediaContainer, FormatReader> = {
  png: { name: 'PNG', read: readPngTexts },
  webp: { name: 'WebP', read: readWebpTexts },
  jpeg: { name: 'JPEG' },
  gif: { name: 'GIF' },
  bmp: { name: 'BMP' },
  tiff: { name: 'TIFF' },
  flac: { name: 'FLAC', read: readFlacTexts },
  mp3: { name: 'MP3', read: readId3Texts },
  ogg: { name: 'Ogg', read: readOggTexts },
  mp4: { name: 'MP4', read: readMp4Texts },
  matroska: { name: 'WebM', read: readMatroskaTexts },
};

/**
 * The prompt and workflow embedded in `bytes`, each a plain null-prototype object (either may be
 * missing); undefined when the bytes are no image, audio or video file we know. Python's NaN and
 * Infinity in the JSON are read as null.
 */
export function readEmbeddedWorkflow(bytes: Uint8Array): EmbeddedWorkflow | undefined {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const kind = imageFormatOf(b) ?? mediaContainerOf(b);
  if (kind === undefined) return undefined;
  const { name, read } = READERS[kind];
  const result: EmbeddedWorkflow = { format: name };
  if (read === undefined) return result;
  const texts = readTexts(name, read, b);
  for (const key of ['prompt', 'workflow'] as const) {
    const text = texts[key];
    if (text !== undefined) result[key] = parseObject(text, name, key);
  }
  return result;
}

function readTexts(format: string, read: (bytes: Buffer) => MetadataTexts, b: Buffer): MetadataTexts {
  try {
    return read(b);
  } catch (err) {
    if (err instanceof ComfyError) throw err;
    // The readers check every size before they use it; this is the net under a case they missed.
    throw new ComfyError('BAD_WORKFLOW', `This ${format} file could not be read: ${reasonOf(err)}`);
  }
}

function parseObject(text: string, format: string, key: MetadataKey): JsonObject {
  let value: unknown;
  try {
    value = parsePythonJson(text);
  } catch (err) {
    throw new ComfyError('BAD_WORKFLOW', `The "${key}" text in this ${format} file is not valid JSON: ${reasonOf(err)}`);
  }
  if (!isPlainObject(value)) {
    throw new ComfyError('BAD_WORKFLOW', `The "${key}" text in this ${format} file is JSON, but not an object`);
  }
  return plainJson(value, 'BAD_WORKFLOW', `The ${format} file's "${key}"`) as JsonObject;
}
