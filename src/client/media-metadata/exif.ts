/**
 * The first image directory (IFD0) of EXIF data, as SaveAnimatedWEBP writes it through Pillow:
 * `metadata[0x0110] = "prompt:" + json` (the Model tag) and each extra_pnginfo key at 0x010F
 * (Make) and downwards as "workflow:" + json, ASCII entries of a little-endian TIFF structure.
 * Like ComfyUI's frontend, every text entry of IFD0 is read as "key:value", whatever its tag.
 */
import { beforeNul, splitEntry } from './texts';
import type { TextCollector } from './texts';

/** TIFF field types whose value is bytes: BYTE, ASCII, UNDEFINED. */
const BYTE_TYPES = new Set([1, 2, 7]);

export function readExifTexts(data: Buffer, found: TextCollector): void {
  // Pillow drops the "Exif\0\0" prefix for WebP; other writers keep it.
  const tiff = data.toString('latin1', 0, 6) === 'Exif\0\0' ? data.subarray(6) : data;
  if (tiff.length < 8) return;
  const order = tiff.toString('latin1', 0, 2);
  if (order !== 'II' && order !== 'MM') return;
  const little = order === 'II';
  const u16 = (at: number): number => (little ? tiff.readUInt16LE(at) : tiff.readUInt16BE(at));
  const u32 = (at: number): number => (little ? tiff.readUInt32LE(at) : tiff.readUInt32BE(at));
  if (u16(2) !== 42) return;
  const ifd = u32(4);
  if (ifd > tiff.length - 2) return;
  const count = u16(ifd);
  for (let index = 0; index < count && !found.complete; index += 1) {
    const entry = ifd + 2 + index * 12;
    if (entry + 12 > tiff.length) return;
    const size = u32(entry + 4);
    if (!BYTE_TYPES.has(u16(entry + 2))) continue;
    const start = size <= 4 ? entry + 8 : u32(entry + 8);
    if (start > tiff.length || size > tiff.length - start) continue;
    const value = beforeNul(tiff.subarray(start, start + size));
    const split = splitEntry(value, ':');
    if (split !== undefined) found.offer(split.name, value.length - split.valueStart, () => value.toString('utf8', split.valueStart));
  }
}
