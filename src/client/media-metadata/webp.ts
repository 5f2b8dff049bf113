/**
 * WebP (RIFF) chunks. SaveAnimatedWEBP (comfy_extras/nodes_images.py) puts its metadata into the
 * EXIF of the first frame, which Pillow's WebP writer stores as the "EXIF" chunk (exif.ts reads it).
 */
import { readExifTexts } from './exif';
import { TextCollector } from './texts';
import type { MetadataTexts } from './texts';

export function readWebpTexts(b: Buffer): MetadataTexts {
  const found = new TextCollector('WebP');
  let pos = 12; // "RIFF" size "WEBP"
  while (pos + 8 <= b.length && !found.complete) {
    const type = b.toString('latin1', pos, pos + 4);
    const size = b.readUInt32LE(pos + 4);
    const start = pos + 8;
    if (size > b.length - start) break; // a cut file
    if (type === 'EXIF') readExifTexts(b.subarray(start, start + size), found);
    pos = start + size + (size & 1); // chunks are padded to an even size
  }
  return found.texts;
}
