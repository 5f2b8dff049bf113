/**
 * PNG encoding and decoding with node:zlib and a hand-written CRC-32, nothing else.
 * Encoding follows what PIL wrote in the recordings (sample-output.png): IHDR, tEXt "prompt"
 * (+ extra_pnginfo keys), one IDAT with row filter Sub for the first row and Up for the rest, IEND.
 * Decoding covers every standard PNG (all colour types, bit depths 1–16, Adam7) because
 * LoadImage and /view?channel=… must read whatever a client uploads.
 */
import { deflateSync, inflateSync } from 'node:zlib';

export const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

export function crc32(...parts: Uint8Array[]): number {
  let c = 0xffffffff;
  for (const buf of parts) for (let i = 0; i < buf.length; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(data.length, 0);
  head.write(type, 4, 'latin1');
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(head.subarray(4), data), 0);
  return Buffer.concat([head, data, crc]);
}

export interface PngPixels {
  width: number;
  height: number;
  /** 3 = RGB, 4 = RGBA, 8 bits each, row-major */
  channels: 3 | 4;
  data: Uint8Array;
}

export interface EncodeOptions {
  /** zlib level: SaveImage uses 4, previews 1 (PIL compress_level) */
  level?: number;
  /** text chunks in order; latin-1 text → tEXt, anything else → iTXt (as PIL does) */
  texts?: Array<[string, string]>;
}

export function encodePng(px: PngPixels, opts: EncodeOptions = {}): Buffer {
  const { width, height, channels, data } = px;
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = channels === 4 ? 6 : 2;
  const stride = width * channels;
  const raw = Buffer.alloc((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const row = y * (stride + 1);
    const src = y * stride;
    if (y === 0) {
      raw[row] = 1; // Sub
      for (let x = 0; x < stride; x++) raw[row + 1 + x] = (data[src + x] - (x >= channels ? data[src + x - channels] : 0)) & 0xff;
    } else {
      raw[row] = 2; // Up
      for (let x = 0; x < stride; x++) raw[row + 1 + x] = (data[src + x] - data[src - stride + x]) & 0xff;
    }
  }
  const parts: Buffer[] = [PNG_SIGNATURE, chunk('IHDR', ihdr)];
  for (const [key, text] of opts.texts ?? []) {
    // eslint-disable-next-line no-control-regex
    if (/^[\x00-\xff]*$/.test(text)) {
      parts.push(chunk('tEXt', Buffer.concat([Buffer.from(key, 'latin1'), Buffer.from([0]), Buffer.from(text, 'latin1')])));
    } else {
      const head = Buffer.concat([Buffer.from(key, 'latin1'), Buffer.from([0, 0, 0, 0, 0])]);
      parts.push(chunk('iTXt', Buffer.concat([head, Buffer.from(text, 'utf8')])));
    }
  }
  parts.push(chunk('IDAT', deflateSync(raw, { level: opts.level ?? 4 })));
  parts.push(chunk('IEND', Buffer.alloc(0)));
  return Buffer.concat(parts);
}

/* ------------------------------------------------------------------ decode */

export interface DecodedPng {
  width: number;
  height: number;
  /** always expanded to 8-bit RGBA */
  rgba: Uint8Array;
  /** true when the file carries alpha (colour types 4/6, or tRNS) – LoadImage then builds a mask */
  hasAlpha: boolean;
  /** text chunks, kept so /upload/mask can copy them like PIL does */
  texts: Array<[string, string]>;
}

export class PngError extends Error {}

const ADAM7: Array<[number, number, number, number]> = [
  [0, 0, 8, 8],
  [4, 0, 8, 8],
  [0, 4, 4, 8],
  [2, 0, 4, 4],
  [0, 2, 2, 4],
  [1, 0, 2, 2],
  [0, 1, 1, 2],
];

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

export function isPng(buf: Uint8Array): boolean {
  return buf.length >= 8 && PNG_SIGNATURE.equals(Buffer.from(buf.subarray(0, 8)));
}

export function decodePng(input: Uint8Array): DecodedPng {
  const buf = Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (!isPng(buf)) throw new PngError('not a PNG file');
  let pos = 8;
  let width = 0;
  let height = 0;
  let depth = 0;
  let colorType = 0;
  let interlace = 0;
  let palette: Uint8Array | undefined;
  let trns: Uint8Array | undefined;
  const idat: Buffer[] = [];
  const texts: Array<[string, string]> = [];
  let sawEnd = false;
  while (pos + 12 <= buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    if (pos + 12 + len > buf.length) throw new PngError(`truncated ${type} chunk`);
    const body = buf.subarray(pos + 8, pos + 8 + len);
    if (crc32(buf.subarray(pos + 4, pos + 8), body) !== buf.readUInt32BE(pos + 8 + len))
      throw new PngError(`broken PNG file (bad CRC in ${type})`);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      depth = body[8]!;
      colorType = body[9]!;
      interlace = body[12]!;
    } else if (type === 'PLTE') palette = body;
    else if (type === 'tRNS') trns = body;
    else if (type === 'IDAT') idat.push(body);
    else if (type === 'tEXt') {
      const z = body.indexOf(0);
      if (z > 0) texts.push([body.toString('latin1', 0, z), body.toString('latin1', z + 1)]);
    } else if (type === 'iTXt') {
      const z = body.indexOf(0);
      if (z > 0 && body[z + 1] === 0) {
        const lang = body.indexOf(0, z + 3);
        const tk = lang >= 0 ? body.indexOf(0, lang + 1) : -1;
        if (tk >= 0) texts.push([body.toString('latin1', 0, z), body.toString('utf8', tk + 1)]);
      }
    } else if (type === 'IEND') {
      sawEnd = true;
      break;
    }
    pos += 12 + len;
  }
  if (!width || !height) throw new PngError('missing IHDR');
  if (!sawEnd && idat.length === 0) throw new PngError('image file is truncated');
  const channelsByType: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };
  const channels = channelsByType[colorType];
  if (!channels || ![1, 2, 4, 8, 16].includes(depth)) throw new PngError('unsupported PNG format');
  const raw = inflateSync(Buffer.concat(idat));
  const bitsPerPixel = channels * depth;
  const bpp = Math.max(1, bitsPerPixel >> 3);
  const rgba = new Uint8Array(width * height * 4);
  let rp = 0;

  const readPass = (x0: number, y0: number, dx: number, dy: number): void => {
    const pw = Math.ceil((width - x0) / dx);
    const ph = Math.ceil((height - y0) / dy);
    if (pw <= 0 || ph <= 0) return;
    const stride = Math.ceil((pw * bitsPerPixel) / 8);
    let prev = new Uint8Array(stride);
    for (let r = 0; r < ph; r++) {
      if (rp + 1 + stride > raw.length) throw new PngError('image file is truncated');
      const filter = raw[rp];
      const line = new Uint8Array(raw.subarray(rp + 1, rp + 1 + stride));
      rp += 1 + stride;
      for (let i = 0; i < stride; i++) {
        const a = i >= bpp ? line[i - bpp] : 0;
        const b = prev[i];
        const c = i >= bpp ? prev[i - bpp] : 0;
        if (filter === 1) line[i] = (line[i] + a) & 0xff;
        else if (filter === 2) line[i] = (line[i] + b) & 0xff;
        else if (filter === 3) line[i] = (line[i] + ((a + b) >> 1)) & 0xff;
        else if (filter === 4) line[i] = (line[i] + paeth(a, b, c)) & 0xff;
        else if (filter !== 0) throw new PngError('bad filter type');
      }
      prev = line;
      const sample = (idx: number): number => {
        // sample number idx within this line, scaled to 8 bits (palette indexes left raw)
        if (depth === 8) return line[idx];
        if (depth === 16) return line[idx * 2];
        const bit = idx * depth;
        const v = (line[bit >> 3] >> (8 - depth - (bit & 7))) & ((1 << depth) - 1);
        return colorType === 3 ? v : Math.round((v * 255) / ((1 << depth) - 1));
      };
      const rawSample16 = (idx: number): number => (depth === 16 ? (line[idx * 2] << 8) | line[idx * 2 + 1] : -1);
      for (let k = 0; k < pw; k++) {
        const o = ((y0 + r * dy) * width + x0 + k * dx) * 4;
        const s = k * channels;
        let R: number,
          G: number,
          B: number,
          A = 255;
        if (colorType === 0) {
          R = G = B = sample(s);
          if (trns && trns.length >= 2) {
            const key = (trns[0] << 8) | trns[1];
            const val =
              depth === 16
                ? rawSample16(s)
                : depth === 8
                  ? line[s]
                  : (line[(s * depth) >> 3] >> (8 - depth - ((s * depth) & 7))) & ((1 << depth) - 1);
            if (val === key) A = 0;
          }
        } else if (colorType === 2) {
          R = sample(s);
          G = sample(s + 1);
          B = sample(s + 2);
          if (trns && trns.length >= 6) {
            const key = [(trns[0] << 8) | trns[1], (trns[2] << 8) | trns[3], (trns[4] << 8) | trns[5]];
            const val = depth === 16 ? [rawSample16(s), rawSample16(s + 1), rawSample16(s + 2)] : [line[s], line[s + 1], line[s + 2]];
            if (val[0] === key[0] && val[1] === key[1] && val[2] === key[2]) A = 0;
          }
        } else if (colorType === 3) {
          const idx = sample(s);
          if (!palette || idx * 3 + 2 >= palette.length) throw new PngError('palette index out of range');
          R = palette[idx * 3]!;
          G = palette[idx * 3 + 1]!;
          B = palette[idx * 3 + 2]!;
          if (trns && idx < trns.length) A = trns[idx]!;
        } else if (colorType === 4) {
          R = G = B = sample(s);
          A = sample(s + 1);
        } else {
          R = sample(s);
          G = sample(s + 1);
          B = sample(s + 2);
          A = sample(s + 3);
        }
        rgba[o] = R;
        rgba[o + 1] = G;
        rgba[o + 2] = B;
        rgba[o + 3] = A;
      }
    }
  };

  if (interlace === 1) for (const [x0, y0, dx, dy] of ADAM7) readPass(x0, y0, dx, dy);
  else readPass(0, 0, 1, 1);
  const hasAlpha = colorType === 4 || colorType === 6 || trns !== undefined;
  return { width, height, rgba, hasAlpha, texts };
}
