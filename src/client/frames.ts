/**
 * Decodes WebSocket frames from ComfyUI into typed events, once per frame. Every text message of
 * a known type goes through its reader in event-shapes.ts; custom nodes' own types pass as bounded
 * JSON. Malformed frames come back as values, never as exceptions: a bad frame must not take the
 * connection (or Node-RED) down. An `invalid` frame names its problem kind (type and field) so it
 * can be reported once per kind rather than once per frame.
 */
import { isKnownType, readMessage, readPreviewMetadata } from './event-shapes';
import { sniffImageType } from './media';
import { isRecord, json, ShapeError } from './shape';
import type { Json } from './shape';
import { BinaryEventType, PreviewImageFormat } from './types';
import type { NodeId, PreviewMetadata, ServerMessage } from './types';

export interface MessageEvent {
  kind: 'message';
  message: ServerMessage;
}

/** A message type ComfyUI itself does not send (custom nodes broadcast their own). */
export interface CustomEvent {
  kind: 'custom';
  type: string;
  data: Json;
}

export interface PreviewEvent {
  kind: 'preview';
  image: Buffer;
  contentType: string;
  /** Present only for type-4 frames (the socket negotiated supports_preview_metadata). */
  metadata?: PreviewMetadata;
}

export interface TextEvent {
  kind: 'text';
  nodeId: NodeId;
  text: string;
}

export interface InvalidFrame {
  kind: 'invalid';
  /** What is wrong, for a person (no frame content beyond a short excerpt). */
  reason: string;
  /** The kind of problem (event type and field), so each is reported once. */
  problem: string;
}

export interface IgnoredFrame {
  kind: 'ignored';
  reason: string;
}

export type FrameEvent = MessageEvent | CustomEvent | PreviewEvent | TextEvent | InvalidFrame | IgnoredFrame;

/**
 * `progress` is most of what a socket carries (one per sampler step). Framed exactly as ComfyUI's
 * json.dumps writes it (its separators and key order, as recorded in the transcripts), it is read
 * by one anchored pattern instead of JSON.parse and its reader: ~0.4 µs instead of ~1.1 µs a frame.
 * Only text that JSON.parse reads to the same values matches (integers without leading zeros that
 * stay exact, strings without escapes or control characters); any other frame takes the general path.
 */
const PROGRESS_FRAME =
  // eslint-disable-next-line no-control-regex -- JSON forbids raw control characters in strings: such a frame must not match
  /^\{"type": "progress", "data": \{"value": (0|[1-9]\d{0,14}), "max": (0|[1-9]\d{0,14}), "prompt_id": "([^"\\\x00-\x1f]*)", "node": (?:"([^"\\\x00-\x1f]*)"|null)\}\}$/;

/**
 * The ids of the last progress frame. A burst of frames names the same prompt and node: handing on the
 * string of the frame before (equal text, so the same value) means every Map keyed by prompt id
 * downstream (tracker, event feed, coalescer) finds a string whose hash V8 already computed, instead of
 * hashing a fresh substring of each frame several times (~0.1 µs a frame).
 */
let lastPromptId = '';
let lastNode = '';
/** A kept id holds on to the text of its frame: only ids of a usual length are kept. */
const MAX_KEPT_ID = 128;

export function decodeTextFrame(text: string): MessageEvent | CustomEvent | InvalidFrame {
  const progress = PROGRESS_FRAME.exec(text);
  if (progress) {
    // By index: destructuring the match goes through the array iterator.
    let promptId = progress[3];
    if (promptId === lastPromptId) promptId = lastPromptId;
    else if (promptId.length <= MAX_KEPT_ID) lastPromptId = promptId;
    let node: string | null = progress[4] ?? null;
    if (node !== null) {
      if (node === lastNode) node = lastNode;
      else if (node.length <= MAX_KEPT_ID) lastNode = node;
    }
    return {
      kind: 'message',
      message: { type: 'progress', data: { value: digitsValue(progress[1]), max: digitsValue(progress[2]), prompt_id: promptId, node } },
    };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return invalid('text frame', `a text frame is not JSON (${JSON.stringify(text.slice(0, 40))}…)`);
  }
  if (!isRecord(parsed) || typeof parsed.type !== 'string') return invalid('text frame', 'a text frame is not {"type": …, "data": …}');
  const { type, data } = parsed;
  try {
    if (isKnownType(type)) return { kind: 'message', message: readMessage(type, data) };
    return { kind: 'custom', type, data: data === undefined ? null : json(data, 'data') };
  } catch (err) {
    if (!(err instanceof ShapeError)) throw err;
    const shown = type.length > 60 ? `${type.slice(0, 60)}…` : type;
    return invalid(`${shown}: ${err.field}`, `dropped a "${shown}" message: ${err.message}`);
  }
}

/**
 * The value of 1 to 15 ASCII digits (what the pattern lets through: exact, below 2^53). Number() of a
 * fresh substring goes through V8's general string-to-number conversion, twice a frame.
 */
function digitsValue(digits: string): number {
  let value = 0;
  for (let i = 0; i < digits.length; i += 1) value = value * 10 + (digits.charCodeAt(i) - 48);
  return value;
}

export function decodeBinaryFrame(frame: Buffer): FrameEvent {
  if (frame.length < 4) return invalid('binary frame', `a binary frame of ${frame.length} bytes has no event type`);
  const eventType = frame.readUInt32BE(0);
  switch (eventType) {
    case BinaryEventType.PREVIEW_IMAGE:
      return decodeLegacyPreview(frame);
    case BinaryEventType.TEXT:
      return decodeText(frame);
    case BinaryEventType.PREVIEW_IMAGE_WITH_METADATA:
      return decodeMetadataPreview(frame);
    default:
      return { kind: 'ignored', reason: `unknown binary event type ${eventType}` };
  }
}

function decodeLegacyPreview(frame: Buffer): PreviewEvent | InvalidFrame {
  if (frame.length <= 8) return invalid('preview', 'a preview frame has no image bytes');
  const image = frame.subarray(8);
  const declared = frame.readUInt32BE(4) === PreviewImageFormat.PNG ? 'image/png' : 'image/jpeg';
  return { kind: 'preview', image, contentType: sniffImageType(image) ?? declared };
}

function decodeText(frame: Buffer): TextEvent | InvalidFrame {
  if (frame.length < 8) return invalid('text', 'a binary text frame is truncated');
  const idLength = frame.readUInt32BE(4);
  if (8 + idLength > frame.length) return invalid('text', 'the node id of a binary text frame runs past the frame');
  return { kind: 'text', nodeId: frame.toString('utf8', 8, 8 + idLength), text: frame.toString('utf8', 8 + idLength) };
}

function decodeMetadataPreview(frame: Buffer): PreviewEvent | InvalidFrame {
  if (frame.length < 8) return invalid('preview', 'a preview frame is truncated');
  const metadataLength = frame.readUInt32BE(4);
  if (8 + metadataLength > frame.length) return invalid('preview', 'the metadata of a preview frame runs past the frame');
  const image = frame.subarray(8 + metadataLength);
  if (image.length === 0) return invalid('preview', 'a preview frame has no image bytes');
  let metadata: PreviewMetadata;
  try {
    metadata = readPreviewMetadata(JSON.parse(frame.toString('utf8', 8, 8 + metadataLength)));
  } catch (err) {
    if (err instanceof ShapeError) return invalid(`preview: ${err.field}`, `dropped a preview: ${err.message}`);
    return invalid('preview', 'the metadata of a preview frame is not JSON');
  }
  // The bytes say what the image is; the declared type only where they say nothing we know.
  const declared =
    metadata.image_type !== undefined && /^image\/[a-z0-9.+-]{1,40}$/i.test(metadata.image_type) ? metadata.image_type : undefined;
  return { kind: 'preview', image, contentType: sniffImageType(image) ?? declared ?? 'application/octet-stream', metadata };
}

function invalid(problem: string, reason: string): InvalidFrame {
  return { kind: 'invalid', reason, problem };
}
