/**
 * What bytes are, by their first bytes rather than by what a header or a file name claims:
 * previews are labelled by their content, and a download whose bytes are an HTML login page is
 * not passed on as an image.
 */
import { imageFormatOf } from './image-bytes';

/** The media type of an image ComfyUI reads or writes, from its magic number (image-bytes.ts); undefined for anything else. */
export function sniffImageType(bytes: Uint8Array): string | undefined {
  const format = imageFormatOf(bytes);
  return format === undefined ? undefined : `image/${format}`;
}

/** Whether text bytes start like an HTML page (a proxy's login or error page). */
export function looksLikeHtml(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.subarray(0, 512)).toString('latin1').trimStart().slice(0, 20).toLowerCase();
  return head.startsWith('<!doctype html') || head.startsWith('<html') || head.startsWith('<head') || head.startsWith('<body');
}

const IMAGE_EXTENSIONS: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  bmp: 'image/bmp',
  tif: 'image/tiff',
  tiff: 'image/tiff',
};

const OTHER_EXTENSIONS: Record<string, string> = {
  mp4: 'video/mp4',
  webm: 'video/webm',
  mov: 'video/quicktime',
  mkv: 'video/x-matroska',
  wav: 'audio/wav',
  mp3: 'audio/mpeg',
  flac: 'audio/flac',
  ogg: 'audio/ogg',
  // ComfyUI writes Opus in an Ogg container; its /view (Python's mimetypes) serves it as audio/ogg.
  opus: 'audio/ogg',
  m4a: 'audio/mp4',
  gltf: 'model/gltf+json',
  json: 'application/json',
  txt: 'text/plain',
  svg: 'image/svg+xml',
  glb: 'model/gltf-binary',
  latent: 'application/octet-stream',
};

function extensionOf(filename: string): string {
  const dot = filename.lastIndexOf('.');
  return dot < 0 ? '' : filename.slice(dot + 1).toLowerCase();
}

/** The media type a file name stands for (what ComfyUI's /view guesses from the extension). */
export function mediaTypeOfName(filename: string): string {
  const ext = extensionOf(filename);
  const own = (table: Record<string, string>): string | undefined =>
    Object.prototype.hasOwnProperty.call(table, ext) ? table[ext] : undefined;
  return own(IMAGE_EXTENSIONS) ?? own(OTHER_EXTENSIONS) ?? 'application/octet-stream';
}

/** Whether the name is one of the raster image formats whose bytes sniffImageType knows. */
export function isImageName(filename: string): boolean {
  return Object.prototype.hasOwnProperty.call(IMAGE_EXTENSIONS, extensionOf(filename));
}
