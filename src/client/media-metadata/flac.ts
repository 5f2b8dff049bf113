/**
 * FLAC metadata blocks: SaveAudio's FLAC (ffmpeg's flac muxer, or before PyAV ComfyUI's own
 * insert_or_replace_vorbis_comment) keeps the metadata in the VORBIS_COMMENT block (type 4).
 */
import { readVorbisComments } from './vorbis-comment';
import { TextCollector } from './texts';
import type { MetadataTexts } from './texts';

const VORBIS_COMMENT = 4;

export function readFlacTexts(b: Buffer): MetadataTexts {
  const found = new TextCollector('FLAC');
  let pos = 4; // "fLaC"
  while (pos + 4 <= b.length && !found.complete) {
    const header = b[pos];
    const length = b.readUIntBE(pos + 1, 3);
    const start = pos + 4;
    if (length > b.length - start) break; // a cut file
    if ((header & 0x7f) === VORBIS_COMMENT) readVorbisComments(b.subarray(start, start + length), found);
    if (header & 0x80) break; // the last metadata block: audio frames follow
    pos = start + length;
  }
  return found.texts;
}
