/**
 * Ogg Opus: SaveAudio's "opus" format (ffmpeg's ogg muxer) writes the metadata as the Vorbis
 * comment list of the stream's second packet, "OpusTags". A packet longer than 255 × 255 bytes
 * spans several pages, so the packets of the first stream are put together from the pages'
 * segment tables, up to that second packet and no further.
 */
import { readVorbisComments } from './vorbis-comment';
import { MAX_METADATA_TEXT, TextCollector } from './texts';
import type { MetadataTexts } from './texts';

/** Both texts at their largest, and room for the rest of the comment list. */
const MAX_PACKET = 2 * MAX_METADATA_TEXT + 65536;

export function readOggTexts(b: Buffer): MetadataTexts {
  const found = new TextCollector('Ogg');
  const tags = secondPacket(b, found);
  if (tags === undefined) return found.texts;
  if (tags.toString('latin1', 0, 8) === 'OpusTags') readVorbisComments(tags.subarray(8), found);
  else if (tags.toString('latin1', 0, 7) === '\x03vorbis') readVorbisComments(tags.subarray(7), found);
  return found.texts;
}

/** The second packet of the first logical stream, or undefined when the file ends before it does. */
function secondPacket(b: Buffer, found: TextCollector): Buffer | undefined {
  let serial: number | undefined;
  let packetIndex = 0;
  let parts: Buffer[] = [];
  let partsLength = 0;
  let pos = 0;
  while (pos + 27 <= b.length && b.toString('latin1', pos, pos + 4) === 'OggS') {
    const segments = b[pos + 26];
    const pageSerial = b.readUInt32LE(pos + 14);
    let body = pos + 27 + segments;
    if (body > b.length) return undefined;
    serial ??= pageSerial;
    for (let index = 0; index < segments; index += 1) {
      const lacing = b[pos + 27 + index];
      if (body + lacing > b.length) return undefined;
      if (pageSerial === serial) {
        parts.push(b.subarray(body, body + lacing));
        partsLength += lacing;
        if (partsLength > MAX_PACKET) found.tooLarge('The metadata packet');
        if (lacing < 255) {
          // a lacing value below 255 ends the packet
          if (packetIndex === 1) return Buffer.concat(parts);
          packetIndex += 1;
          parts = [];
          partsLength = 0;
        }
      }
      body += lacing;
    }
    pos = body;
  }
  return undefined;
}
