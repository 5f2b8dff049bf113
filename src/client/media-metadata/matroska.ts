/**
 * Matroska / WebM. SaveWEBM (comfy_extras/nodes_video.py) sets PyAV container metadata, which
 * ffmpeg's matroska muxer writes as Segment → Tags → Tag → SimpleTag (TagName upper-cased:
 * "PROMPT", "WORKFLOW"; TagString the value). The walk goes through the Segment's top-level
 * elements by their sizes (clusters of video are skipped, not read) and one fixed level at a time.
 */
import { TextCollector } from './texts';
import type { MetadataTexts } from './texts';

const SEGMENT = 0x18538067;
const TAGS = 0x1254c367;
const TAG = 0x7373;
const SIMPLE_TAG = 0x67c8;
const TAG_NAME = 0x45a3;
const TAG_STRING = 0x4487;

interface Element {
  id: number;
  start: number;
  /** the body's end; an element of unknown size ends where its parent does */
  end: number;
  unknownSize: boolean;
}

export function readMatroskaTexts(b: Buffer): MetadataTexts {
  const found = new TextCollector('WebM');
  const segment = [...elements(b, 0, b.length)].find((element) => element.id === SEGMENT);
  if (segment === undefined) return found.texts;
  for (const top of elements(b, segment.start, segment.end)) {
    if (top.id === TAGS) readTags(b, top, found);
    // An element of unknown size (a live-streamed cluster) cannot be skipped: nothing after it is reachable.
    if (found.complete || top.unknownSize) break;
  }
  return found.texts;
}

function readTags(b: Buffer, tags: Element, found: TextCollector): void {
  for (const tag of elements(b, tags.start, tags.end)) {
    if (tag.id !== TAG) continue;
    for (const simple of elements(b, tag.start, tag.end)) {
      if (simple.id !== SIMPLE_TAG) continue;
      let name: string | undefined;
      let value: Element | undefined;
      for (const field of elements(b, simple.start, simple.end)) {
        if (field.id === TAG_NAME && field.end - field.start <= 64) name = b.toString('utf8', field.start, field.end);
        else if (field.id === TAG_STRING) value = field;
      }
      if (name !== undefined && value !== undefined) {
        const text = value;
        found.offer(name, text.end - text.start, () => b.toString('utf8', text.start, text.end).replace(/\0+$/, ''));
      }
      if (found.complete) return;
    }
  }
}

/** The elements between `start` and `end`; stops at one that does not fit. */
function* elements(b: Buffer, start: number, end: number): Generator<Element> {
  let pos = start;
  while (pos < end) {
    const id = vint(b, pos, end, 4, true);
    if (id === undefined) return;
    const size = vint(b, id.next, end, 8, false);
    if (size === undefined) return;
    const bodyStart = size.next;
    const unknownSize = size.value === undefined;
    // A cut file: the element ends with the data there is (a Segment whose clusters were cut still has its Tags).
    const bodyEnd = unknownSize ? end : Math.min(end, bodyStart + (size.value as number));
    yield { id: id.value as number, start: bodyStart, end: bodyEnd, unknownSize };
    if (unknownSize || bodyEnd >= end) return;
    pos = bodyEnd;
  }
}

/**
 * An EBML variable-length integer of at most `maxLength` bytes: an id keeps its length marker, a
 * size does not, and a size of all ones means "unknown" (value undefined).
 */
function vint(
  b: Buffer,
  pos: number,
  end: number,
  maxLength: number,
  keepMarker: boolean,
): { value: number | undefined; next: number } | undefined {
  if (pos >= end) return undefined;
  const first = b[pos];
  let length = 1;
  while (length <= maxLength && !(first & (0x80 >> (length - 1)))) length += 1;
  if (length > maxLength || pos + length > end) return undefined;
  let value = keepMarker ? first : first & (0xff >> length);
  let allOnes = value === 0xff >> length;
  for (let index = 1; index < length; index += 1) {
    value = value * 256 + b[pos + index];
    allOnes &&= b[pos + index] === 0xff;
  }
  return { value: !keepMarker && allOnes ? undefined : value, next: pos + length };
}
