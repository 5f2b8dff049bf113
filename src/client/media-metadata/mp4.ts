/**
 * ISO media (MP4, MOV). SaveVideo (comfy_api/latest/_input_impl/video_types.py, save_to) opens
 * its output with movflags=use_metadata_tags, so ffmpeg's mov muxer writes every metadata key as a
 * QuickTime "mdta" item: a meta box (moov/udta/meta; moov/meta in QuickTime layout) holding
 * hdlr "mdta", "keys" (the names, numbered from 1) and "ilst" (one box per key number, holding a
 * "data" box with the value). Only the few fixed levels on the way there are walked.
 */
import { TextCollector } from './texts';
import type { MetadataTexts } from './texts';

interface Box {
  type: string;
  /** the type as a number: an ilst item's key number */
  typeNumber: number;
  /** where the body starts and ends */
  start: number;
  end: number;
}

export function readMp4Texts(b: Buffer): MetadataTexts {
  const found = new TextCollector('MP4');
  const moov = child(b, 0, b.length, 'moov');
  if (moov === undefined) return found.texts;
  const udta = child(b, moov.start, moov.end, 'udta');
  for (const meta of [child(b, moov.start, moov.end, 'meta'), udta && child(b, udta.start, udta.end, 'meta')]) {
    if (meta !== undefined && !found.complete) readMeta(b, meta, found);
  }
  return found.texts;
}

/** The boxes between `start` and `end`, in order; stops at one that does not fit. */
function* boxes(b: Buffer, start: number, end: number): Generator<Box> {
  let pos = start;
  while (pos + 8 <= end) {
    let size = b.readUInt32BE(pos);
    const type = b.toString('latin1', pos + 4, pos + 8);
    let header = 8;
    if (size === 1) {
      // a 64-bit size (mdat of a long video); beyond 2^53 it cannot fit in any Buffer anyway
      if (pos + 16 > end) return;
      size = Number(b.readBigUInt64BE(pos + 8));
      header = 16;
    } else if (size === 0) {
      size = end - pos; // to the end of the file
    }
    if (size < header || size > end - pos) return;
    yield { type, typeNumber: b.readUInt32BE(pos + 4), start: pos + header, end: pos + size };
    pos += size;
  }
}

function child(b: Buffer, start: number, end: number, type: string): Box | undefined {
  for (const box of boxes(b, start, end)) if (box.type === type) return box;
  return undefined;
}

function readMeta(b: Buffer, meta: Box, found: TextCollector): void {
  // ffmpeg's meta is a full box (4 bytes of version and flags); QuickTime's is not.
  const start = meta.start + 8 <= meta.end && b.toString('latin1', meta.start + 4, meta.start + 8) === 'hdlr' ? meta.start : meta.start + 4;
  const keys = child(b, start, meta.end, 'keys');
  const ilst = child(b, start, meta.end, 'ilst');
  if (keys === undefined || ilst === undefined) return;
  const names = keyNames(b, keys);
  for (const item of boxes(b, ilst.start, ilst.end)) {
    if (found.complete) return;
    const name = names.get(item.typeNumber);
    if (name === undefined || found.wants(name) === undefined) continue;
    const data = child(b, item.start, item.end, 'data');
    // data: type indicator (1 = UTF-8) and locale, 4 bytes each, then the value
    if (data === undefined || data.start + 8 > data.end) continue;
    found.offer(name, data.end - data.start - 8, () => b.toString('utf8', data.start + 8, data.end));
  }
}

/** keys: version and flags, entry count, then entries of size, namespace ("mdta") and name. */
function keyNames(b: Buffer, keys: Box): Map<number, string> {
  const names = new Map<number, string>();
  if (keys.start + 8 > keys.end) return names;
  let number = 1;
  // The entries are boxes in all but name: boxes() walks them, the namespace standing as their type.
  for (const entry of boxes(b, keys.start + 8, keys.end)) {
    if (entry.type === 'mdta' && entry.end - entry.start <= 64) names.set(number, b.toString('utf8', entry.start, entry.end));
    number += 1;
  }
  return names;
}
