/**
 * The image bytes an upload's msg.payload stands for: a Buffer, base64 text or a data URL as they
 * are; a file path inside the node's "Files from" directory (comfyui-upload-file.ts); an http(s)
 * URL when the node's "Fetch URLs" setting allows it (client/remote-file.ts). Whatever the source,
 * the bytes must be an image ComfyUI reads, and a file or URL is never read past the size the
 * server accepts.
 *
 * A string is taken, in this order, as a data URL (`data:`), a URL (`http://`, `https://`,
 * `file://`), base64 text, and, when it is not base64 of an image and "Files from" is set, a path.
 * A path cannot be mistaken for base64 of an image: that needs the image's first bytes encoded.
 */
import { fileURLToPath } from 'node:url';
import { ComfyError } from '../client/errors';
import { fileNameProblem } from '../client/file-names';
import { describeBytes, IMAGE_FORMAT_NAMES, imageFormatOf } from '../client/image-bytes';
import { addressRefusal } from '../client/address-policy';
import { describeUrl, fetchRemoteFile } from '../client/remote-file';
import { filesDirectoryOf, readFileInside } from './comfyui-upload-file';
import type { SizeLimit } from './comfyui-upload-file';
import { describeValue } from './msg-input';

export interface SourceSettings {
  /** The "Files from" directory, absolute; undefined: paths are refused. */
  filesFrom: string | undefined;
  fetchUrls: boolean;
  /** Fetch from loopback, private and link-local addresses too. */
  privateAddresses: boolean;
  urlTimeoutMs: number;
}

export interface SourceConfig {
  filesFrom?: unknown;
  fetchUrls?: unknown;
  privateAddresses?: unknown;
  urlTimeout?: unknown;
}

export interface UploadSource {
  bytes: Buffer;
  /** The extension a generated name gets: a data URL's media type, else the bytes' format. */
  extension: string;
  /** The file's or the URL's own name, when it is a usable file name. */
  name?: string;
}

export interface SourceContext {
  /** The most bytes to read from a file or URL, asked only when the payload is one. */
  limit: () => Promise<SizeLimit>;
  /** Stops a fetch when the node closes. */
  signal: AbortSignal;
  /** Told before a URL is fetched (for the status). */
  onFetch: () => void;
}

export const DEFAULT_URL_TIMEOUT_S = 60;

/** A file or URL is never read past this, whatever the server advertises: it is held in memory. */
export const LARGEST_SOURCE = 1024 * 1024 * 1024;

/** File extensions for the media types of data URLs; without one, a generated name gets the extension of the bytes' format. */
const EXTENSIONS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/jpg': 'jpg',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'image/bmp': 'bmp',
  'image/tiff': 'tiff',
};

const EXPECTED =
  `msg.payload must be image bytes: a Buffer, a base64 string or a data URL (data:image/png;base64,…) of a ${IMAGE_FORMAT_NAMES} image, ` +
  'or a file path (with the "Files from" setting) or an http(s) URL (with "Fetch URLs")';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const DATA_URL = /^data:([^,;]*)((?:;[^,;]*)*),([\s\S]*)$/;
const WEB_URL = /^https?:\/\//i;
const FILE_URL = /^file:\/\//i;

export function sourceSettingsOf(config: SourceConfig, base: string): SourceSettings {
  const seconds = Number(config.urlTimeout);
  return {
    filesFrom: filesDirectoryOf(config.filesFrom, base),
    fetchUrls: config.fetchUrls === true || config.fetchUrls === 'true',
    privateAddresses: config.privateAddresses === true || config.privateAddresses === 'true',
    urlTimeoutMs: (config.urlTimeout !== '' && Number.isFinite(seconds) && seconds > 0 ? seconds : DEFAULT_URL_TIMEOUT_S) * 1000,
  };
}

/** How much of a file or URL may be read: what the server accepts (/features), within LARGEST_SOURCE. */
export function sizeLimitOf(advertised: number | undefined): SizeLimit {
  if (advertised !== undefined && advertised <= LARGEST_SOURCE) {
    return { bytes: advertised, text: `this ComfyUI accepts at most ${advertised} bytes (--max-upload-size)` };
  }
  return { bytes: LARGEST_SOURCE, text: `this node reads at most ${LARGEST_SOURCE} bytes from a file or URL` };
}

export async function uploadSourceOf(payload: unknown, settings: SourceSettings, context: SourceContext): Promise<UploadSource> {
  if (typeof payload === 'string') {
    const text = payload.trim();
    if (WEB_URL.test(text)) return fromUrl(text, settings, context);
    if (FILE_URL.test(text) && settings.filesFrom !== undefined) return fromPath(pathOfFileUrl(text), settings.filesFrom, context);
    if (settings.filesFrom !== undefined && text !== '' && !DATA_URL.test(text)) {
      const bytes = decodeBase64(text);
      if (!bytes || !imageFormatOf(bytes)) return fromPath(text, settings.filesFrom, context);
    }
  }
  return imageOf(rawBytesOf(payload));
}

async function fromUrl(text: string, settings: SourceSettings, context: SourceContext): Promise<UploadSource> {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ComfyError('BAD_INPUT', `msg.payload looks like a URL but is not a valid one (${preview(text)}). Nothing was uploaded.`);
  }
  if (!settings.fetchUrls) {
    throw new ComfyError(
      'NOT_ALLOWED',
      `msg.payload is the URL ${describeUrl(url)}, and this upload node does not fetch URLs (its "Fetch URLs" setting is off). Nothing was uploaded.`,
    );
  }
  const limit = await context.limit();
  context.onFetch();
  const fetched = await fetchRemoteFile(url, {
    refuse: settings.privateAddresses ? () => undefined : addressRefusal,
    maxBytes: limit.bytes,
    limitText: limit.text,
    timeoutMs: settings.urlTimeoutMs,
    signal: context.signal,
  });
  const source = imageOf({ bytes: fetched.bytes, what: `the file at ${describeUrl(fetched.url)} (${fetched.bytes.length} bytes)` });
  return withName(source, lastSegment(fetched.url));
}

async function fromPath(path: string, directory: string, context: SourceContext): Promise<UploadSource> {
  const file = await readFileInside(directory, path, await context.limit());
  const source = imageOf({ bytes: file.bytes, what: `the file ${JSON.stringify(path)} (${file.bytes.length} bytes)` });
  return withName(source, file.name);
}

function pathOfFileUrl(text: string): string {
  try {
    return fileURLToPath(text);
  } catch {
    throw new ComfyError('BAD_INPUT', `msg.payload is a file: URL that names no local file (${preview(text)}). Nothing was uploaded.`);
  }
}

/** A source's own name, as a stored name if ComfyUI takes it (with the format's extension if it has none). */
function withName(source: UploadSource, name: string | undefined): UploadSource {
  if (!name || fileNameProblem(name) !== undefined) return source;
  const named = name.includes('.') ? name : `${name}.${source.extension}`;
  return fileNameProblem(named) === undefined ? { ...source, name: named } : source;
}

function lastSegment(url: URL): string | undefined {
  try {
    return decodeURIComponent(url.pathname.slice(url.pathname.lastIndexOf('/') + 1)) || undefined;
  } catch {
    return undefined;
  }
}

/** The bytes, checked to be an image, and the extension a generated name gets. */
function imageOf({ bytes, what, mediaType }: { bytes: Buffer; what: string; mediaType?: string }): UploadSource {
  const format = imageFormatOf(bytes);
  // Checked here, not by ComfyUI: it stores any bytes, and LoadImage fails only when a prompt runs.
  if (!format) throw badInput(`${what} that is not an image ComfyUI reads (it ${describeBytes(bytes)})`);
  return { bytes, extension: EXTENSIONS[mediaType ?? ''] ?? (format === 'jpeg' ? 'jpg' : format) };
}

/** The bytes of msg.payload, what they came as (for errors), and the media type a data URL named. */
function rawBytesOf(payload: unknown): { bytes: Buffer; what: string; mediaType?: string } {
  if (Buffer.isBuffer(payload)) {
    if (payload.length === 0) throw badInput('an empty Buffer');
    return { bytes: payload, what: `a Buffer of ${payload.length} bytes` };
  }
  if (payload instanceof Uint8Array) {
    if (payload.length === 0) throw badInput('an empty byte array');
    return { bytes: Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength), what: `a byte array of ${payload.length} bytes` };
  }
  if (typeof payload !== 'string') throw badInput(describeValue(payload));
  const text = payload.trim();
  if (text === '') throw badInput('an empty string');
  const dataUrl = DATA_URL.exec(text);
  if (dataUrl) {
    const mediaType = (dataUrl[1] ?? '').trim().toLowerCase();
    const params = (dataUrl[2] ?? '').toLowerCase().split(';').map((p) => p.trim());
    if (!params.includes('base64')) throw badInput(`a data URL that is not base64-encoded (${preview(text)})`);
    const bytes = decodeBase64(dataUrl[3] ?? '');
    if (!bytes) throw badInput(`a data URL whose data is not valid base64 (${preview(text)})`);
    return { bytes, what: `a data URL of ${bytes.length} bytes`, mediaType };
  }
  if (FILE_URL.test(text)) throw badInput(`a file: URL (${preview(text)}), and the "Files from" setting is empty, so no file is read`);
  const bytes = decodeBase64(text);
  if (!bytes) throw badInput(`a string that is neither base64 nor a data URL (${preview(text)})`);
  return { bytes, what: `base64 text of ${bytes.length} bytes` };
}

/** Standard base64 (line breaks allowed), or undefined when the text is not that. */
function decodeBase64(text: string): Buffer | undefined {
  const compact = text.replace(/[\r\n]/g, '');
  if (compact.length === 0 || compact.length % 4 !== 0 || !BASE64.test(compact)) return undefined;
  const bytes = Buffer.from(compact, 'base64');
  return bytes.length > 0 ? bytes : undefined;
}

function badInput(got: string): ComfyError {
  return new ComfyError('BAD_INPUT', `${EXPECTED}; got ${got}. Nothing was uploaded.`);
}

function preview(text: string): string {
  return JSON.stringify(text.length > 32 ? `${text.slice(0, 32)}…` : text);
}
