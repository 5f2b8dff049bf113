/**
 * Decodes WebSocket frames from ComfyUI into typed events, and nothing else. Malformed frames
 * and unknown kinds come back as values, never as exceptions: custom nodes broadcast their own
 * message types, and a bad frame must not take the connection (or Node-RED) down.
 */
import { BinaryEventType, PreviewImageFormat } from './types';
import type { NodeId, PreviewMetadata, ServerMessage } from './types';

export interface MessageEvent {
  kind: 'message';
  /** Known types are typed through `message`; unknown ones still arrive with their raw data. */
  message: ServerMessage | { type: string; data: unknown };
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
  reason: string;
}

export interface IgnoredFrame {
  kind: 'ignored';
  reason: string;
}

export type FrameEvent = MessageEvent | PreviewEvent | TextEvent | InvalidFrame | IgnoredFrame;

export function decodeTextFrame(text: string): MessageEvent | InvalidFrame {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { kind: 'invalid', reason: `text frame is not JSON: ${text.slice(0, 80)}` };
  }
  if (!isObject(parsed) || typeof parsed.type !== 'string') {
    return { kind: 'invalid', reason: 'text frame has no "type"' };
  }
  return { kind: 'message', message: { type: parsed.type, data: parsed.data } };
}

export function decodeBinaryFrame(frame: Buffer): FrameEvent {
  if (frame.length < 4) return { kind: 'invalid', reason: `binary frame of ${frame.length} bytes has no event type` };
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
  if (frame.length < 8) return { kind: 'invalid', reason: 'preview frame is truncated' };
  const format = frame.readUInt32BE(4);
  return { kind: 'preview', image: frame.subarray(8), contentType: format === PreviewImageFormat.PNG ? 'image/png' : 'image/jpeg' };
}

function decodeText(frame: Buffer): TextEvent | InvalidFrame {
  if (frame.length < 8) return { kind: 'invalid', reason: 'text frame is truncated' };
  const idLength = frame.readUInt32BE(4);
  if (8 + idLength > frame.length) return { kind: 'invalid', reason: 'text frame node id runs past the frame' };
  return {
    kind: 'text',
    nodeId: frame.toString('utf8', 8, 8 + idLength),
    text: frame.toString('utf8', 8 + idLength),
  };
}

function decodeMetadataPreview(frame: Buffer): PreviewEvent | InvalidFrame {
  if (frame.length < 8) return { kind: 'invalid', reason: 'preview frame is truncated' };
  const metadataLength = frame.readUInt32BE(4);
  if (8 + metadataLength > frame.length) return { kind: 'invalid', reason: 'preview metadata runs past the frame' };
  let metadata: unknown;
  try {
    metadata = JSON.parse(frame.toString('utf8', 8, 8 + metadataLength));
  } catch {
    return { kind: 'invalid', reason: 'preview metadata is not JSON' };
  }
  if (!isObject(metadata)) return { kind: 'invalid', reason: 'preview metadata is not an object' };
  const image = frame.subarray(8 + metadataLength);
  const declared = typeof metadata.image_type === 'string' ? metadata.image_type : '';
  return { kind: 'preview', image, contentType: declared || sniffImageType(image), metadata: metadata as unknown as PreviewMetadata };
}

function sniffImageType(image: Buffer): string {
  if (image[0] === 0x89 && image[1] === 0x50) return 'image/png';
  if (image[0] === 0xff && image[1] === 0xd8) return 'image/jpeg';
  return 'application/octet-stream';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
