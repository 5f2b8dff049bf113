/**
 * Telling image bytes from other bytes by their first bytes (magic numbers), and saying what
 * other bytes look like. The image formats are those ComfyUI's LoadImage opens through Pillow in
 * every installation: PNG, JPEG, WebP, GIF, BMP and TIFF; the media containers those ComfyUI's
 * SaveAudio, SaveWEBM and SaveVideo write through PyAV (ffmpeg).
 */

export type ImageFormat = 'png' | 'jpeg' | 'webp' | 'gif' | 'bmp' | 'tiff';

/** For messages and help. */
export const IMAGE_FORMAT_NAMES = 'PNG, JPEG, WebP, GIF, BMP or TIFF';

/** Header sizes a BMP's DIB header has (core, info, v2–v5): "BM" alone starts too many texts. */
const BMP_HEADER_SIZES = new Set([12, 40, 52, 56, 64, 108, 124]);

export function imageFormatOf(bytes: Uint8Array): ImageFormat | undefined {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (startsWith(b, [0xff, 0xd8, 0xff])) return 'jpeg';
  if (ascii(b, 0, 4) === 'RIFF' && ascii(b, 8, 4) === 'WEBP') return 'webp';
  if (ascii(b, 0, 6) === 'GIF87a' || ascii(b, 0, 6) === 'GIF89a') return 'gif';
  if (ascii(b, 0, 2) === 'BM' && b.length >= 18 && BMP_HEADER_SIZES.has(b.readUInt32LE(14))) return 'bmp';
  // Classic TIFF (42) and BigTIFF (43), little- and big-endian.
  if (['II*\0', 'MM\0*', 'II+\0', 'MM\0+'].includes(ascii(b, 0, 4))) return 'tiff';
  return undefined;
}

/** Audio and video containers: FLAC, MP3 (with its ID3v2 tag), Ogg, ISO media (MP4, MOV, …) and Matroska/WebM. */
export type MediaContainer = 'flac' | 'mp3' | 'ogg' | 'mp4' | 'matroska';

export function mediaContainerOf(bytes: Uint8Array): MediaContainer | undefined {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (ascii(b, 0, 4) === 'fLaC') return 'flac';
  // ffmpeg's mp3 muxer always starts the file with an ID3v2 tag (id3v2_version 4 unless told otherwise).
  if (ascii(b, 0, 3) === 'ID3') return 'mp3';
  if (ascii(b, 0, 4) === 'OggS') return 'ogg';
  if (ascii(b, 4, 4) === 'ftyp') return 'mp4';
  if (startsWith(b, [0x1a, 0x45, 0xdf, 0xa3])) return 'matroska';
  return undefined;
}

const CONTAINER_NAMES: Record<MediaContainer, (b: Buffer) => string> = {
  flac: () => 'the FLAC signature (fLaC)',
  mp3: () => 'an MP3 (ID3) header',
  ogg: () => 'the Ogg signature',
  mp4: (b) => `an ISO media header of brand "${printable(ascii(b, 8, 4))}" (MP4, MOV, HEIC, AVIF, …)`,
  matroska: () => 'the Matroska/WebM signature',
};

/** Other signatures worth naming when bytes are not what was expected: each gives its name, or undefined. */
const SIGNATURES: ReadonlyArray<(b: Buffer) => string | undefined> = [
  (b) => (ascii(b, 0, 5) === '%PDF-' ? 'the PDF signature (%PDF-)' : undefined),
  (b) => (startsWith(b, [0x50, 0x4b, 0x03, 0x04]) ? 'the ZIP signature (PK)' : undefined),
  (b) => (startsWith(b, [0x1f, 0x8b]) ? 'the gzip signature' : undefined),
  (b) => {
    const container = mediaContainerOf(b);
    return container === undefined ? undefined : CONTAINER_NAMES[container](b);
  },
  (b) => (ascii(b, 0, 4) === 'RIFF' ? `a RIFF header of type "${printable(ascii(b, 8, 4))}"` : undefined),
  (b) =>
    startsWith(b, [0xff, 0xfe]) || startsWith(b, [0xfe, 0xff]) ? 'a UTF-16 byte order mark (text saved as UTF-16, not UTF-8)' : undefined,
];

/**
 * What bytes look like, as the end of a sentence: "starts with the PNG signature", "is text:
 * "hello…"", "starts with the bytes 00 01 02 …". Never echoes more than a few dozen characters.
 */
export function describeBytes(bytes: Uint8Array): string {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const image = imageFormatOf(b);
  if (image) return `starts with the ${image.toUpperCase()} signature`;
  for (const signature of SIGNATURES) {
    const name = signature(b);
    if (name !== undefined) return `starts with ${name}`;
  }
  const text = utf8(b.subarray(0, 4096));
  // eslint-disable-next-line no-control-regex
  if (text !== undefined && !/[\u0000-\u0008\u000e-\u001f]/.test(text)) {
    const shown = text.replace(/^\uFEFF/, '').trimStart();
    return `is text: ${JSON.stringify(shown.slice(0, 40))}${shown.length > 40 || b.length > 4096 ? '…' : ''}`;
  }
  return `starts with the bytes ${[...b.subarray(0, 8)].map((x) => x.toString(16).padStart(2, '0')).join(' ')}`;
}

function startsWith(b: Buffer, prefix: number[]): boolean {
  return b.length >= prefix.length && prefix.every((byte, i) => b[i] === byte);
}

function ascii(b: Buffer, start: number, length: number): string {
  return b.length >= start + length ? b.toString('latin1', start, start + length) : '';
}

function printable(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?');
}

/** The bytes as UTF-8 text, or undefined when they are not UTF-8 (a cut multi-byte character at the end is allowed). */
function utf8(b: Buffer): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(b);
  } catch {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(b.subarray(0, Math.max(0, b.length - 3)));
    } catch {
      return undefined;
    }
  }
}
