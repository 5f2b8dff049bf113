/**
 * The files the simulator's media savers write. Animated WebP and APNG are real (every frame
 * decodes); video, audio, 3D and latent files carry the real container header and metadata but
 * no encoded stream worth playing: enough for a client to recognise, name and deliver them.
 */
import { deflateSync } from 'node:zlib';
import type { RgbImage } from './image';
import { crc32, encodePng, PNG_SIGNATURE } from './png';
import { encodeWebpLossless } from './webp';

function u32be(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0, 0);
  return b;
}

function u24le(n: number): Buffer {
  return Buffer.from([n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff]);
}

function riffChunk(tag: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.write(tag, 0, 'latin1');
  head.writeUInt32LE(data.length, 4);
  return Buffer.concat([head, data, data.length % 2 ? Buffer.alloc(1) : Buffer.alloc(0)]);
}

/** PIL's animated WebP: VP8X (animation flag) + ANIM + one ANMF per frame, each a lossless VP8L frame. */
export function animatedWebp(frames: RgbImage[], durationMs: number): Buffer {
  const first = frames[0] ?? { width: 1, height: 1, data: new Uint8Array(3) };
  if (frames.length <= 1) return encodeWebpLossless(first.width, first.height, first.data, 3);
  const vp8x = Buffer.concat([Buffer.from([0x02, 0, 0, 0]), u24le(first.width - 1), u24le(first.height - 1)]);
  const anim = Buffer.from([0, 0, 0, 0, 0, 0]); // background colour, loop forever
  const anmf = frames.map((frame) => {
    // The VP8L chunk of a one-frame file, after RIFF size WEBP.
    const vp8l = encodeWebpLossless(frame.width, frame.height, frame.data, 3).subarray(12);
    const header = Buffer.concat([
      u24le(0),
      u24le(0),
      u24le(frame.width - 1),
      u24le(frame.height - 1),
      u24le(durationMs),
      Buffer.from([0]),
    ]);
    return riffChunk('ANMF', Buffer.concat([header, vp8l]));
  });
  const body = Buffer.concat([Buffer.from('WEBP', 'latin1'), riffChunk('VP8X', vp8x), riffChunk('ANIM', anim), ...anmf]);
  const head = Buffer.alloc(8);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(body.length, 4);
  return Buffer.concat([head, body]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const name = Buffer.from(type, 'latin1');
  return Buffer.concat([u32be(data.length), name, data, u32be(crc32(name, data))]);
}

function rawRows(img: RgbImage): Buffer {
  const stride = img.width * 3;
  const raw = Buffer.alloc((stride + 1) * img.height);
  for (let y = 0; y < img.height; y++)
    Buffer.from(img.data.buffer, img.data.byteOffset + y * stride, stride).copy(raw, y * (stride + 1) + 1);
  return raw;
}

/** PIL's APNG: acTL after IHDR, an fcTL before each frame, the first frame in IDAT and the others in fdAT. */
export function animatedPng(frames: RgbImage[], durationMs: number, level: number): Buffer {
  const first = frames[0] ?? { width: 1, height: 1, data: new Uint8Array(3) };
  if (frames.length <= 1) return encodePng({ width: first.width, height: first.height, channels: 3, data: first.data }, { level });
  const still = encodePng({ width: first.width, height: first.height, channels: 3, data: first.data }, { level });
  const ihdr = still.subarray(8, 8 + 25);
  let sequence = 0;
  const fctl = (img: RgbImage): Buffer => {
    const data = Buffer.alloc(26);
    data.writeUInt32BE(sequence++, 0);
    data.writeUInt32BE(img.width, 4);
    data.writeUInt32BE(img.height, 8);
    data.writeUInt16BE(durationMs, 20);
    data.writeUInt16BE(1000, 22);
    return pngChunk('fcTL', data);
  };
  const parts = [PNG_SIGNATURE, ihdr, pngChunk('acTL', Buffer.concat([u32be(frames.length), u32be(0)]))];
  frames.forEach((frame, index) => {
    parts.push(fctl(frame));
    const compressed = deflateSync(rawRows(frame), { level });
    parts.push(index === 0 ? pngChunk('IDAT', compressed) : pngChunk('fdAT', Buffer.concat([u32be(sequence++), compressed])));
  });
  parts.push(pngChunk('IEND', Buffer.alloc(0)));
  return Buffer.concat(parts);
}

/** A WebM file's EBML header (DocType "webm") and an open-ended Segment. */
export function webmFile(): Buffer {
  const ebml = Buffer.from('4286810142f7810142f2810442f381084282847765626d4287810242858102', 'hex');
  return Buffer.concat([Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x80 | ebml.length]), ebml, Buffer.from('1853806701ffffffffffffff', 'hex')]);
}

/** An MP4 file: `ftyp` (isom) and an empty `mdat`. */
export function mp4File(): Buffer {
  const ftyp = Buffer.concat([u32be(32), Buffer.from('ftypisom', 'latin1'), u32be(0x200), Buffer.from('isomiso2avc1mp41', 'latin1')]);
  return Buffer.concat([ftyp, u32be(8), Buffer.from('mdat', 'latin1')]);
}

/** A FLAC file: `fLaC`, STREAMINFO, and a Vorbis comment with the prompt (as SaveAudio's metadata). */
export function flacFile(sampleRate: number, channels: number, samples: number, comments: Array<[string, string]>): Buffer {
  const info = Buffer.alloc(34);
  info.writeUInt16BE(4096, 0);
  info.writeUInt16BE(4096, 2);
  // sample rate (20 bits) | channels - 1 (3) | bits per sample - 1 (5) | total samples (36)
  const packed = (BigInt(sampleRate) << 44n) | (BigInt(channels - 1) << 41n) | (15n << 36n) | BigInt(samples);
  info.writeBigUInt64BE(packed, 10);
  const vendor = Buffer.from('Lavf', 'utf8');
  const entries = comments.map(([key, value]) => Buffer.from(`${key}=${value}`, 'utf8'));
  const comment = Buffer.concat([le32(vendor.length), vendor, le32(entries.length), ...entries.flatMap((e) => [le32(e.length), e])]);
  const block = (type: number, last: boolean, data: Buffer): Buffer =>
    Buffer.concat([Buffer.from([(last ? 0x80 : 0) | type]), u32be(data.length).subarray(1), data]);
  return Buffer.concat([Buffer.from('fLaC', 'latin1'), block(0, false, info), block(4, true, comment)]);
}

function le32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n, 0);
  return b;
}

/** An MP3 file: one silent MPEG-1 Layer III frame (128 kbit/s, 44.1 kHz). */
export function mp3File(): Buffer {
  const frame = Buffer.alloc(417);
  frame.set([0xff, 0xfb, 0x90, 0x64]);
  return frame;
}

/** Ogg's CRC-32 (polynomial 0x04c11db7, not reflected). */
function oggCrc(data: Buffer): number {
  let crc = 0;
  for (const byte of data) {
    crc ^= byte << 24;
    for (let bit = 0; bit < 8; bit++) crc = crc & 0x80000000 ? (crc << 1) ^ 0x04c11db7 : crc << 1;
  }
  return crc >>> 0;
}

/** An Ogg Opus file: the first page, holding OpusHead. */
export function opusFile(sampleRate: number, channels: number): Buffer {
  const head = Buffer.alloc(19);
  head.write('OpusHead', 0, 'latin1');
  head[8] = 1;
  head[9] = channels;
  head.writeUInt16LE(312, 10);
  head.writeUInt32LE(sampleRate, 12);
  const page = Buffer.alloc(27 + 1);
  page.write('OggS', 0, 'latin1');
  page[5] = 0x02; // beginning of stream
  page.writeUInt32LE(1, 14); // serial
  page[26] = 1;
  page[27] = head.length;
  const whole = Buffer.concat([page, head]);
  whole.writeUInt32LE(oggCrc(whole), 22);
  return whole;
}

/** A binary glTF (.glb) with an empty scene; `extras` carries the metadata SaveGLB writes. */
export function glbFile(extras: Record<string, string>): Buffer {
  let json = Buffer.from(
    JSON.stringify({ asset: { version: '2.0', generator: 'ComfyUI simulator', extras }, scenes: [{ nodes: [] }], scene: 0 }),
  );
  if (json.length % 4) json = Buffer.concat([json, Buffer.alloc(4 - (json.length % 4), 0x20)]);
  const header = Buffer.alloc(12);
  header.write('glTF', 0, 'latin1');
  header.writeUInt32LE(2, 4);
  header.writeUInt32LE(12 + 8 + json.length, 8);
  return Buffer.concat([header, le32(json.length), Buffer.from('JSON', 'latin1'), json]);
}

/** SaveLatent's safetensors file: `latent_tensor` [batch, 4, h, w] (zeros here), `latent_format_version_0`, and the metadata. */
export function latentFile(batch: number, width: number, height: number, metadata: Record<string, string>): Buffer {
  const bytes = batch * 4 * width * height * 4;
  const header = Buffer.from(
    JSON.stringify({
      latent_tensor: { dtype: 'F32', shape: [batch, 4, height, width], data_offsets: [0, bytes] },
      latent_format_version_0: { dtype: 'F32', shape: [0], data_offsets: [bytes, bytes] },
      __metadata__: metadata,
    }),
  );
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(header.length), 0);
  return Buffer.concat([size, header, Buffer.alloc(bytes)]);
}
