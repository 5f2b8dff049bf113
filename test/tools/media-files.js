'use strict';
// Small writers of the files ComfyUI's save nodes make, each shaped the way its writer lays it
// out (Pillow for PNG and WebP, ffmpeg through PyAV for audio and video), with the metadata where
// ComfyUI puts it. Media data is a few placeholder bytes: the readers under test never decode it.
// `entries` is a list of [key, text] in the order the save node writes them.
const { deflateSync } = require('node:zlib');
const { crc32 } = require('../../dist/simulator/png');

const u32be = (n) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const u32le = (n) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const u16le = (n) => {
  const b = Buffer.alloc(2);
  b.writeUInt16LE(n);
  return b;
};
const latin1 = (s) => Buffer.from(s, 'latin1');
const utf8 = (s) => Buffer.from(s, 'utf8');

/* ---------------------------------------------------------------- PNG (Pillow) */

function pngChunk(type, data) {
  return Buffer.concat([u32be(data.length), latin1(type), data, u32be(crc32(latin1(type), data))]);
}

const IHDR_1x1_RGB = Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]);
const IDAT_1x1 = deflateSync(Buffer.from([0, 200, 40, 10]));

/**
 * SaveImage: PngInfo.add_text → tEXt "key\0text" before the image data (iTXt when not latin-1).
 * `chunk: 'zTXt' | 'iTXt-z'` makes the compressed variants other programs write.
 */
function png(entries, { chunk = 'tEXt' } = {}) {
  const texts = entries.map(([key, text]) => {
    if (chunk === 'zTXt') return pngChunk('zTXt', Buffer.concat([latin1(key), Buffer.from([0, 0]), deflateSync(latin1(text))]));
    if (chunk === 'iTXt-z') return pngChunk('iTXt', Buffer.concat([latin1(key), Buffer.from([0, 1, 0, 0, 0]), deflateSync(utf8(text))]));
    if (chunk === 'iTXt') return pngChunk('iTXt', Buffer.concat([latin1(key), Buffer.from([0, 0, 0, 0, 0]), utf8(text)]));
    return pngChunk('tEXt', Buffer.concat([latin1(key), Buffer.from([0]), latin1(text)]));
  });
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', IHDR_1x1_RGB),
    ...texts,
    pngChunk('IDAT', IDAT_1x1),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/** SaveAnimatedPNG: PngInfo.add(b"comf", key + b"\0" + json, after_idat=True), an APNG. */
function apng(entries) {
  const actl = Buffer.concat([u32be(1), u32be(0)]);
  const fctl = Buffer.concat([u32be(0), u32be(1), u32be(1), u32be(0), u32be(0), Buffer.from([0, 100, 3, 232, 0, 0])]);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', IHDR_1x1_RGB),
    pngChunk('acTL', actl),
    pngChunk('fcTL', fctl),
    pngChunk('IDAT', IDAT_1x1),
    ...entries.map(([key, text]) => pngChunk('comf', Buffer.concat([latin1(key), Buffer.from([0]), latin1(text)]))),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

/* ---------------------------------------------------------------- WebP (Pillow) */

/**
 * The EXIF Pillow's Exif.tobytes() makes for a new Exif: "Exif\0\0", a big-endian TIFF header
 * ("MM"), IFD0 entries sorted by tag, ASCII values ("key:json\0") after the directory, each at an
 * even offset. `littleEndian` writes the "II" order other writers use.
 */
function exif(entries, { littleEndian = false } = {}) {
  const u16 = (n) => (littleEndian ? u16le(n) : Buffer.from([n >> 8, n & 0xff]));
  const u32 = (n) => (littleEndian ? u32le(n) : u32be(n));
  // metadata[0x0110] = "prompt:…"; each extra_pnginfo key from 0x010F downwards
  let next = 0x010f;
  const tagged = entries.map(([key, text]) => [key === 'prompt' ? 0x0110 : next--, latin1(`${key}:${text}\0`)]);
  tagged.sort((a, b) => a[0] - b[0]);
  const directorySize = 2 + tagged.length * 12 + 4;
  let dataOffset = 8 + directorySize;
  const directory = [u16(tagged.length)];
  const data = [];
  for (const [tag, value] of tagged) {
    directory.push(u16(tag), u16(2), u32(value.length), u32(dataOffset));
    const padded = value.length & 1 ? Buffer.concat([value, Buffer.from([0])]) : value;
    data.push(padded);
    dataOffset += padded.length;
  }
  directory.push(u32(0)); // no next IFD
  return Buffer.concat([latin1(littleEndian ? 'II*\0' : 'MM\0*'), u32(8), ...directory, ...data]);
}

function riffChunk(type, data) {
  const pad = data.length & 1 ? Buffer.from([0]) : Buffer.alloc(0);
  return Buffer.concat([latin1(type), u32le(data.length), data, pad]);
}

/**
 * SaveAnimatedWEBP: save_all with exif=metadata → VP8X (animation, EXIF), ANIM, ANMF frames, EXIF
 * (as Pillow 12 writes it). `legacy` writes the EXIF as older Pillow did: without "Exif\0\0", and
 * little-endian here to cover that byte order too.
 */
function webp(entries, { legacy = false } = {}) {
  const vp8x = Buffer.concat([Buffer.from([0x0a, 0, 0, 0]), Buffer.from([0, 0, 0, 0, 0, 0])]); // flags: animation | EXIF; 1x1
  const anim = Buffer.concat([u32le(0), u16le(0)]);
  const frame = Buffer.concat([
    Buffer.alloc(16),
    riffChunk('VP8L', Buffer.from([0x2f, 0, 0, 0, 0x10, 0x07, 0x10, 0x11, 0x11, 0x88, 0x88, 0xfe, 0x07])),
  ]);
  const exifData = entries.length
    ? [riffChunk('EXIF', Buffer.concat([legacy ? Buffer.alloc(0) : latin1('Exif\0\0'), exif(entries, { littleEndian: legacy })]))]
    : [];
  const body = Buffer.concat([latin1('WEBP'), riffChunk('VP8X', vp8x), riffChunk('ANIM', anim), riffChunk('ANMF', frame), ...exifData]);
  return Buffer.concat([latin1('RIFF'), u32le(body.length), body]);
}

/* ---------------------------------------------------------------- Vorbis comments (ffmpeg) */

/** The comment list: the container metadata in order, then the "encoder" ffmpeg adds. */
function vorbisComments(entries) {
  const vendor = latin1('Lavf61.7.100');
  const comments = [...entries, ['encoder', 'Lavf61.7.100']].map(([key, text]) => {
    const comment = utf8(`${key}=${text}`);
    return Buffer.concat([u32le(comment.length), comment]);
  });
  return Buffer.concat([u32le(vendor.length), vendor, u32le(comments.length), ...comments]);
}

/** SaveAudio "flac": fLaC, STREAMINFO, VORBIS_COMMENT, PADDING (last), then audio frames. */
function flac(entries) {
  const block = (type, data, last) => Buffer.concat([Buffer.from([(last ? 0x80 : 0) | type]), u32be(data.length).subarray(1), data]);
  return Buffer.concat([
    latin1('fLaC'),
    block(0, Buffer.alloc(34, 1), false),
    block(4, vorbisComments(entries), false),
    block(1, Buffer.alloc(8192), true),
    Buffer.from([0xff, 0xf8, 0x69, 0x08, 0x00, 0x00]),
  ]);
}

/* ---------------------------------------------------------------- Ogg Opus (ffmpeg) */

const OGG_CRC = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    table[n] = c >>> 0;
  }
  return table;
})();

function oggCrc(page) {
  let crc = 0;
  for (const byte of page) crc = ((crc << 8) ^ OGG_CRC[((crc >>> 24) ^ byte) & 0xff]) >>> 0;
  return crc;
}

/** One packet as pages of at most 255 segments (a long packet continues on the next page: header type 1). */
function oggPages(packet, { serial, sequence, bos, granule }) {
  const lacing = [];
  for (let left = packet.length; ; left -= 255) {
    lacing.push(Math.min(left, 255));
    if (left < 255) break;
  }
  const pages = [];
  let offset = 0;
  for (let first = 0; first < lacing.length; first += 255) {
    const segments = lacing.slice(first, first + 255);
    const size = segments.reduce((a, b) => a + b, 0);
    const header = Buffer.alloc(27);
    header.write('OggS', 0, 'latin1');
    header[5] = (first > 0 ? 1 : 0) | (bos && first === 0 ? 2 : 0);
    header.writeBigUInt64LE(first + 255 >= lacing.length ? BigInt(granule) : 0xffffffffffffffffn, 6);
    header.writeUInt32LE(serial, 14);
    header.writeUInt32LE(sequence + pages.length, 18);
    header[26] = segments.length;
    const page = Buffer.concat([header, Buffer.from(segments), packet.subarray(offset, offset + size)]);
    page.writeUInt32LE(oggCrc(page), 22);
    pages.push(page);
    offset += size;
  }
  return pages;
}

/** SaveAudio "opus": OpusHead page, OpusTags (the comments) on the next page(s), audio after. */
function opus(entries) {
  const serial = 0x1234abcd;
  const head = Buffer.concat([latin1('OpusHead'), Buffer.from([1, 2]), u16le(312), u32le(48000), u16le(0), Buffer.from([0])]);
  const tags = Buffer.concat([latin1('OpusTags'), vorbisComments(entries)]);
  const first = oggPages(head, { serial, sequence: 0, bos: true, granule: 0 });
  const second = oggPages(tags, { serial, sequence: 1, bos: false, granule: 0 });
  const audio = oggPages(Buffer.from([0xfc, 0xff, 0xfe]), { serial, sequence: 1 + second.length, bos: false, granule: 960 });
  return Buffer.concat([...first, ...second, ...audio]);
}

/* ---------------------------------------------------------------- MP3 ID3v2 (ffmpeg) */

function synchsafe(n) {
  return Buffer.from([(n >> 21) & 0x7f, (n >> 14) & 0x7f, (n >> 7) & 0x7f, n & 0x7f]);
}

/**
 * SaveAudio "mp3": ID3v2.4 (ffmpeg's default), a TXXX per key in UTF-8 (encoding 3) with both
 * strings NUL-terminated, TSSE for the encoder, 10 bytes of padding, then MPEG audio. version 3 writes
 * ID3v2.3: plain sizes, ISO-8859-1 (encoding 0) for ASCII text as ffmpeg does.
 */
function mp3(entries, { version = 4 } = {}) {
  const size = (n) => (version === 4 ? synchsafe(n) : u32be(n));
  const encoding = version === 4 ? 3 : 0;
  const encode = (s) => (encoding === 3 ? utf8(s) : latin1(s));
  const frame = (id, body) => Buffer.concat([latin1(id), size(body.length), Buffer.from([0, 0]), body]);
  const frames = [
    ...entries.map(([key, text]) =>
      frame('TXXX', Buffer.concat([Buffer.from([encoding]), encode(key), Buffer.from([0]), encode(text), Buffer.from([0])])),
    ),
    frame('TSSE', Buffer.concat([Buffer.from([encoding]), encode('Lavf61.7.100'), Buffer.from([0])])),
  ];
  const body = Buffer.concat([...frames, Buffer.alloc(10)]); // ffmpeg pads the tag
  return Buffer.concat([
    latin1('ID3'),
    Buffer.from([version, 0, 0]),
    synchsafe(body.length),
    body,
    Buffer.from([0xff, 0xfb, 0x90, 0x64]),
    Buffer.alloc(413),
  ]);
}

/* ---------------------------------------------------------------- MP4 (ffmpeg, movflags=use_metadata_tags) */

function box(type, ...parts) {
  const body = Buffer.concat(parts);
  return Buffer.concat([u32be(body.length + 8), latin1(type), body]);
}

/**
 * SaveVideo: ftyp, free, mdat, then moov (ffmpeg writes it last) whose udta holds
 * meta (full box) → hdlr "mdta", keys, ilst with one item per key number.
 * `layout: 'quicktime'` puts a meta without version/flags directly in moov.
 */
function mp4(entries, { layout = 'ffmpeg' } = {}) {
  const all = [...entries, ['encoder', 'Lavf61.7.100']];
  const hdlr = box('hdlr', Buffer.alloc(8), latin1('mdta'), Buffer.alloc(13));
  const keys = box('keys', Buffer.alloc(4), u32be(all.length), ...all.map(([key]) => box('mdta', utf8(key))));
  const ilst = box(
    'ilst',
    ...all.map(([, text], index) => {
      const data = box('data', u32be(1), u32be(0), utf8(text));
      return Buffer.concat([u32be(8 + data.length), u32be(index + 1), data]);
    }),
  );
  const meta = layout === 'quicktime' ? box('meta', hdlr, keys, ilst) : box('meta', Buffer.alloc(4), hdlr, keys, ilst);
  const moovChildren = [box('mvhd', Buffer.alloc(100)), box('trak', box('tkhd', Buffer.alloc(84)))];
  const moov = layout === 'quicktime' ? box('moov', ...moovChildren, meta) : box('moov', ...moovChildren, box('udta', meta));
  return Buffer.concat([
    box('ftyp', latin1('isom'), u32be(512), latin1('isomiso2avc1mp41')),
    box('free'),
    box('mdat', Buffer.alloc(2048, 0x17)),
    moov,
  ]);
}

/* ---------------------------------------------------------------- WebM (ffmpeg matroska muxer) */

/** 1, 2 or 8 bytes: ffmpeg writes 8-byte sizes for the elements whose size it patches in later (Segment, Void). */
function ebmlSize(n, long = false) {
  if (n < 127 && !long) return Buffer.from([0x80 | n]);
  if (n < 16383 && !long) return Buffer.from([0x40 | (n >> 8), n & 0xff]);
  const b = Buffer.alloc(8);
  b[0] = 0x01;
  b.writeUIntBE(n, 2, 6);
  return b;
}

function element(id, ...parts) {
  const body = Buffer.concat(parts);
  const idBytes = Buffer.from(id.toString(16).padStart(id > 0xffffff ? 8 : id > 0xffff ? 6 : id > 0xff ? 4 : 2, '0'), 'hex');
  return Buffer.concat([idBytes, ebmlSize(body.length, id === 0x18538067 || id === 0xec), body]);
}

/**
 * SaveWEBM: EBML header (DocType webm), Segment: SeekHead, Void, Info, Tracks, Tags (a Tag with the
 * container metadata as SimpleTags, names upper-cased, then ENCODER; a Tag with the track's
 * DURATION), Cluster, Cues. `clusterFirst` moves the Tags after the Cluster.
 */
function webm(entries, { clusterFirst = false } = {}) {
  const header = element(0x1a45dfa3, element(0x4286, Buffer.from([1])), element(0x4282, latin1('webm')), element(0x4287, Buffer.from([4])));
  const simpleTag = (name, value) => element(0x67c8, element(0x45a3, utf8(name)), element(0x4487, utf8(value)));
  const global = [...entries.map(([k, v]) => [k.toUpperCase(), v]), ['ENCODER', 'Lavf61.7.100']];
  const tags = element(
    0x1254c367,
    element(0x7373, element(0x63c0), ...global.map(([k, v]) => simpleTag(k, v))),
    element(0x7373, element(0x63c0, element(0x63c5, Buffer.from([1]))), simpleTag('DURATION', '00:00:00.500000000')),
  );
  const cluster = element(0x1f43b675, element(0xe7, Buffer.from([0])), element(0xa3, Buffer.alloc(300, 0x42)));
  const head = [
    element(0x114d9b74, Buffer.alloc(20)),
    element(0xec, Buffer.alloc(80)),
    element(0x1549a966, element(0x2ad7b1, Buffer.from([0x0f, 0x42, 0x40]))),
    element(0x1654ae6b, Buffer.alloc(30)),
  ];
  const cues = element(0x1c53bb6b, element(0xbb, element(0xb3, Buffer.from([0]))));
  const segment = element(0x18538067, ...head, ...(clusterFirst ? [cluster, tags] : [tags, cluster]), cues);
  return Buffer.concat([header, segment]);
}

module.exports = { png, apng, webp, exif, flac, opus, mp3, mp4, webm };
