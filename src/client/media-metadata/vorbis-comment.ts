/**
 * A Vorbis comment list ("vendor", then "NAME=value" entries, lengths little-endian), the metadata
 * of FLAC and of Ogg Opus. ffmpeg's flac and ogg muxers write each container metadata entry
 * PyAV was given as one comment; SaveAudio (comfy_extras/nodes_audio.py) gives "prompt" and each
 * extra_pnginfo key.
 */
import { splitEntry } from './texts';
import type { TextCollector } from './texts';

export function readVorbisComments(data: Buffer, found: TextCollector): void {
  if (data.length < 8) return;
  let pos = 4 + data.readUInt32LE(0); // past the vendor string
  if (pos > data.length - 4) return;
  const count = data.readUInt32LE(pos);
  pos += 4;
  for (let index = 0; index < count && pos + 4 <= data.length && !found.complete; index += 1) {
    const length = data.readUInt32LE(pos);
    const start = pos + 4;
    if (length > data.length - start) return;
    const comment = data.subarray(start, start + length);
    const split = splitEntry(comment, '=');
    if (split !== undefined) found.offer(split.name, length - split.valueStart, () => comment.toString('utf8', split.valueStart));
    pos = start + length;
  }
}
