/**
 * The ID3v2 tag at the start of an MP3. SaveAudio's "mp3" format goes through ffmpeg's mp3 muxer,
 * which writes ID3v2.4 and every metadata key it has no frame for ("prompt", "workflow") as a
 * TXXX frame: encoding byte, description (the key), value. ID3v2.3 (sizes not synchsafe, UTF-16
 * text) is read too; tags with unsynchronisation and compressed frames (no ffmpeg output has them) are not.
 */
import { TextCollector } from './texts';
import type { MetadataTexts } from './texts';

const HEADER = 10;

export function readId3Texts(b: Buffer): MetadataTexts {
  const found = new TextCollector('MP3');
  if (b.length < HEADER) return found.texts;
  const version = b[3];
  const flags = b[5];
  if ((version !== 3 && version !== 4) || flags & 0x80) return found.texts;
  const end = Math.min(b.length, HEADER + synchsafe(b, 6));
  let pos = HEADER;
  if (flags & 0x40) {
    // Extended header: its size counts itself in v2.4 (synchsafe), not in v2.3.
    if (pos + 4 > end) return found.texts;
    pos += version === 4 ? synchsafe(b, pos) : 4 + b.readUInt32BE(pos);
  }
  while (pos + HEADER <= end && b[pos] !== 0 && !found.complete) {
    const id = b.toString('latin1', pos, pos + 4);
    const size = version === 4 ? synchsafe(b, pos + 4) : b.readUInt32BE(pos + 4);
    const frameFlags = b[pos + 9];
    const start = pos + HEADER;
    if (size > end - start) break; // a cut tag
    // v2.4 frame format flags: compression 0x08, encryption 0x04, unsynchronisation 0x02, length indicator 0x01.
    const plain = version === 3 ? (frameFlags & 0xc0) === 0 : (frameFlags & 0x0e) === 0;
    if (id === 'TXXX' && plain) {
      const skip = version === 4 && frameFlags & 0x01 ? 4 : 0;
      readUserText(b.subarray(start + Math.min(skip, size), start + size), found);
    }
    pos = start + size;
  }
  return found.texts;
}

/** 28 bits in four bytes of seven. */
function synchsafe(b: Buffer, at: number): number {
  if (at + 4 > b.length) return 0;
  return ((b[at] & 0x7f) << 21) | ((b[at + 1] & 0x7f) << 14) | ((b[at + 2] & 0x7f) << 7) | (b[at + 3] & 0x7f);
}

/** TXXX: encoding(1), description, terminator, value (with a terminator from ffmpeg). */
function readUserText(body: Buffer, found: TextCollector): void {
  if (body.length < 1) return;
  const encoding = body[0];
  const wide = encoding === 1 || encoding === 2;
  const text = body.subarray(1);
  const end = terminatorAt(text, wide);
  if (end < 0) return;
  const name = decode(text.subarray(0, end), encoding);
  const value = text.subarray(end + (wide ? 2 : 1));
  found.offer(name, value.length, () => decode(value, encoding).replace(/\0+$/, ''));
}

/** Where the first terminator is: one zero byte, or two at an even offset for UTF-16. */
function terminatorAt(text: Buffer, wide: boolean): number {
  if (!wide) return text.indexOf(0);
  for (let at = 0; at + 1 < text.length; at += 2) if (text[at] === 0 && text[at + 1] === 0) return at;
  return -1;
}

/** ISO-8859-1 (0), UTF-16 with a byte order mark (1), UTF-16BE (2) or UTF-8 (3). */
function decode(bytes: Buffer, encoding: number): string {
  if (encoding === 0) return bytes.toString('latin1');
  if (encoding === 3) return bytes.toString('utf8');
  let bigEndian = encoding === 2;
  let body = bytes;
  if (encoding === 1 && bytes.length >= 2 && ((bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff))) {
    bigEndian = bytes[0] === 0xfe;
    body = bytes.subarray(2);
  }
  const even = body.subarray(0, body.length & ~1);
  return bigEndian ? Buffer.from(even).swap16().toString('utf16le') : even.toString('utf16le');
}
