/**
 * PNG text chunks. SaveImage (nodes.py) writes each key with PIL's PngInfo.add_text: a tEXt chunk
 * ("key\0text", latin-1), or an uncompressed iTXt when the text is not latin-1. SaveAnimatedPNG
 * (comfy_extras/nodes_images.py) writes private "comf" chunks of the same layout after the image
 * data. zTXt and compressed iTXt (other programs re-saving a file) are inflated with a cap.
 */
import { beforeNul, TextCollector } from './texts';
import type { MetadataTexts } from './texts';

export function readPngTexts(b: Buffer): MetadataTexts {
  const found = new TextCollector('PNG');
  let pos = 8; // after the signature
  while (pos + 12 <= b.length && !found.complete) {
    const length = b.readUInt32BE(pos);
    const type = b.toString('latin1', pos + 4, pos + 8);
    const start = pos + 8;
    if (length > b.length - start - 4) break; // a cut file: what came before it still counts
    const body = b.subarray(start, start + length);
    if (type === 'tEXt' || type === 'comf') readText(body, found);
    else if (type === 'zTXt') readCompressedText(body, found);
    else if (type === 'iTXt') readInternationalText(body, found);
    else if (type === 'IEND') break;
    pos = start + length + 4; // the CRC is not checked: a text that reads as JSON is what counts
  }
  return found.texts;
}

/** "keyword\0text" */
function readText(body: Buffer, found: TextCollector): void {
  const name = beforeNul(body);
  if (name.length === body.length) return;
  const text = body.subarray(name.length + 1);
  found.offer(name.toString('latin1'), text.length, () => text.toString('latin1'));
}

/** "keyword\0" method(1) zlib-data */
function readCompressedText(body: Buffer, found: TextCollector): void {
  const name = beforeNul(body);
  const key = found.wants(name.toString('latin1'));
  if (key === undefined || name.length + 2 > body.length) return;
  found.texts[key] = found.inflate(key, body.subarray(name.length + 2)).toString('latin1');
}

/** "keyword\0" compressed(1) method(1) "language\0" "translated keyword\0" UTF-8 text (zlib data when compressed) */
function readInternationalText(body: Buffer, found: TextCollector): void {
  const name = beforeNul(body);
  let pos = name.length + 3;
  if (pos > body.length) return;
  const compressed = body[name.length + 1] === 1;
  const language = beforeNul(body.subarray(pos));
  pos += language.length + 1;
  const translated = beforeNul(body.subarray(Math.min(pos, body.length)));
  pos += translated.length + 1;
  if (pos > body.length) return;
  const text = body.subarray(pos);
  const keyName = name.toString('latin1');
  if (!compressed) {
    found.offer(keyName, text.length, () => text.toString('utf8'));
    return;
  }
  const key = found.wants(keyName);
  if (key !== undefined) found.texts[key] = found.inflate(key, text).toString('utf8');
}
