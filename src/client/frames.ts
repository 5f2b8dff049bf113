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
 * json.dumps writes it (its separators and key order, as recorded in the transcripts), it is checked
 * by one anchored pattern and read in place (readProgress) instead of JSON.parse and its reader.
 * Only text that JSON.parse reads to the same values matches (integers without leading zeros that
 * stay exact, strings without escapes or control characters); any other frame takes the general path.
 * No capture groups: test() builds no match array, and the fields are read from where the pattern
 * says they are, so a frame allocates nothing but its event.
 */
const PROGRESS_FRAME =
  // eslint-disable-next-line no-control-regex -- JSON forbids raw control characters in strings: such a frame must not match
  /^\{"type": "progress", "data": \{"value": (?:0|[1-9]\d{0,14}), "max": (?:0|[1-9]\d{0,14}), "prompt_id": "[^"\\\x00-\x1f]*", "node": (?:"[^"\\\x00-\x1f]*"|null)\}\}$/;
const VALUE_AT = '{"type": "progress", "data": {"value": '.length;
const BEFORE_MAX = ', "max": '.length;
const BEFORE_PROMPT_ID = ', "prompt_id": "'.length;
const BEFORE_NODE = '", "node": '.length;
const COMMA = 0x2c;
const QUOTE = 0x22;

/**
 * The ids of the last progress frame and the text they were read from. A burst of frames names the
 * same prompt and node, so the text from the prompt id to the end (`<id>", "node": "<node>"}}`) is the
 * same in each: one comparison with the frame before's finds both ids, and handing on its strings
 * makes no new string per frame, and every Map keyed by prompt id downstream (tracker, event feed,
 * coalescer) finds one V8 has already hashed. (Comparing each id in place, startsWith at an offset,
 * cost more than the pattern test.)
 */
let lastTail = '';
let lastPromptId = '';
let lastNode: string | null = null;
/** A kept tail (a slice) holds on to the text of its frame: only tails of frames of a usual length are kept. */
const MAX_KEPT_FRAME = 1024;

export function decodeTextFrame(text: string): MessageEvent | CustomEvent | InvalidFrame {
  if (PROGRESS_FRAME.test(text)) return readProgress(text);
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
 * The fields of a frame PROGRESS_FRAME matched, each where the pattern put it: 1 to 15 digits (exact
 * below 2^53) up to a comma, strings without a quote inside up to their closing quote.
 */
function readProgress(text: string): MessageEvent {
  let at = VALUE_AT;
  let value = 0;
  for (let c = text.charCodeAt(at); c !== COMMA; c = text.charCodeAt(++at)) value = value * 10 + (c - 48);
  at += BEFORE_MAX;
  let max = 0;
  for (let c = text.charCodeAt(at); c !== COMMA; c = text.charCodeAt(++at)) max = max * 10 + (c - 48);
  at += BEFORE_PROMPT_ID;
  // The same length and the same ending: the same text from here on, so the same ids (the pattern matched it).
  if (text.length - at === lastTail.length && text.endsWith(lastTail)) return progressMessage(value, max, lastPromptId, lastNode);
  const idEnd = text.indexOf('"', at);
  let promptId = text.slice(at, idEnd);
  // Another node of the same prompt: hand on the string the Maps downstream have hashed.
  if (promptId === lastPromptId) promptId = lastPromptId;
  const nodeAt = idEnd + BEFORE_NODE;
  const node = text.charCodeAt(nodeAt) === QUOTE ? text.slice(nodeAt + 1, text.indexOf('"', nodeAt + 1)) : null;
  if (text.length <= MAX_KEPT_FRAME) {
    lastTail = text.slice(at);
    lastPromptId = promptId;
    lastNode = node;
  }
  return progressMessage(value, max, promptId, node);
}

function progressMessage(value: number, max: number, promptId: string, node: string | null): MessageEvent {
  return { kind: 'message', message: { type: 'progress', data: { value, max, prompt_id: promptId, node } } };
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
