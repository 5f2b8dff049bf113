/**
 * What the container readers in this folder share: the two keys ComfyUI writes a run under and
 * the bounds on reading them. ComfyUI stores `prompt` (the API prompt) and every key of
 * extra_pnginfo, of which `workflow` (the UI workflow) is the one we want, as json.dumps text.
 */
import { inflateSync } from 'node:zlib';
import { ComfyError } from '../errors';

export type MetadataKey = 'prompt' | 'workflow';

/** The JSON texts a reader found, as written. */
export type MetadataTexts = Partial<Record<MetadataKey, string>>;

/** Text kept at most per key: real workflows are a few hundred kB; a hostile file costs no more than this. */
export const MAX_METADATA_TEXT = 4 * 1024 * 1024;

/** A name longer than this is no key of ours, and is not decoded. */
const MAX_NAME = 64;

/**
 * Collects the texts of `prompt` and `workflow` while a reader walks its container. Names match
 * without regard to case: ffmpeg upper-cases Matroska tag names, and Vorbis comment names are
 * case-insensitive. The first entry of a name wins; sizes are checked before anything is decoded.
 */
export class TextCollector {
  readonly texts: MetadataTexts = {};

  constructor(readonly format: string) {}

  /** Whether both keys were found, so the reader can stop. */
  get complete(): boolean {
    return this.texts.prompt !== undefined && this.texts.workflow !== undefined;
  }

  /** The key `name` stands for when it is one we still want. */
  wants(name: string): MetadataKey | undefined {
    if (name.length > MAX_NAME) return undefined;
    const key = name.toLowerCase();
    return (key === 'prompt' || key === 'workflow') && this.texts[key] === undefined ? key : undefined;
  }

  /** Keeps the text of entry `name` (`size` bytes) when it is wanted; `decode` runs only then. */
  offer(name: string, size: number, decode: () => string): void {
    const key = this.wants(name);
    if (key === undefined) return;
    this.checkSize(key, size);
    this.texts[key] = decode();
  }

  /** Inflates zlib data (PNG zTXt / compressed iTXt) into at most MAX_METADATA_TEXT bytes. */
  inflate(key: MetadataKey, data: Uint8Array): Buffer {
    try {
      return inflateSync(data, { maxOutputLength: MAX_METADATA_TEXT });
    } catch (err) {
      if (err instanceof RangeError || (err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') this.checkSize(key, Infinity);
      throw new ComfyError('BAD_WORKFLOW', `The compressed "${key}" text in this ${this.format} file is damaged`);
    }
  }

  checkSize(key: MetadataKey, size: number): void {
    if (size > MAX_METADATA_TEXT) this.tooLarge(`The "${key}" text`);
  }

  /** `what` ("The "prompt" text") is larger than any workflow needs. */
  tooLarge(what: string): never {
    throw new ComfyError(
      'BAD_WORKFLOW',
      `${what} in this ${this.format} file is larger than ${MAX_METADATA_TEXT / 1024 / 1024} MB, more than any workflow needs; it was not read`,
    );
  }
}

/** Text up to the first NUL: C strings and padded values (ID3, EXIF) end there. */
export function beforeNul(bytes: Buffer): Buffer {
  const end = bytes.indexOf(0);
  return end < 0 ? bytes : bytes.subarray(0, end);
}

/**
 * A `name<separator>value` entry (Vorbis comments "prompt=…", WebP EXIF "prompt:…"): the name, and
 * where the value starts, or undefined when no separator comes within the first bytes.
 */
export function splitEntry(bytes: Buffer, separator: string): { name: string; valueStart: number } | undefined {
  const at = bytes.subarray(0, MAX_NAME + 1).indexOf(separator.charCodeAt(0));
  return at <= 0 ? undefined : { name: bytes.toString('latin1', 0, at), valueStart: at + 1 };
}
