/**
 * Outputs that never touch disk. ComfyUI's SaveImageWebsocket (custom_nodes/websocket_image_save.py,
 * shipped with ComfyUI) sends each image of its batch as a full-size PNG through the progress bar's
 * preview path: a binary PREVIEW_IMAGE frame (type 1: no ids, it belongs to the node `executing`
 * named last), or PREVIEW_IMAGE_WITH_METADATA (type 4: node and prompt ids in the frame) when our
 * socket negotiated supports_preview_metadata. It sends no `executed`, leaves nothing in history and
 * is never cached (p_binary_preview_frames.json). Those frames are the result, so they are kept
 * for the prompt, in memory, until it finishes.
 *
 * Sampler previews travel the same way; only frames of the classes below count as results.
 */
import type { NodeId } from './types';

/** Node classes whose preview frames are their output (ComfyUI's own; custom nodes that do the same can be added here). */
export const WEBSOCKET_OUTPUT_CLASSES: ReadonlySet<string> = new Set(['SaveImageWebsocket']);

/** An image a node sent over the WebSocket: its bytes are here, there is nothing to fetch from /view. */
export interface WebsocketImage {
  node: NodeId;
  key: 'websocket';
  kind: 'image';
  source: 'websocket';
  /** Which frame of the node, from 0. */
  index: number;
  /** Made up here (the server names nothing): `websocket_<node>_<index>.<ext>`. */
  filename: string;
  contentType: string;
  data: Buffer;
}

const EXTENSIONS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'image/bmp': 'bmp',
};

/** The images a prompt's WebSocket outputs sent so far, within a byte budget (the server's "Largest file"). */
export class WebsocketCapture {
  private readonly images: WebsocketImage[] = [];
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  /** Keeps the image; false (and nothing kept) when it would take the prompt's images over the budget. */
  add(node: NodeId, data: Buffer, contentType: string): boolean {
    if (this.bytes + data.length > this.maxBytes) return false;
    this.bytes += data.length;
    const index = this.images.filter((image) => image.node === node).length;
    const ext = Object.prototype.hasOwnProperty.call(EXTENSIONS, contentType) ? EXTENSIONS[contentType] : 'bin';
    // A subgraph node id ("12:5") is no part of a good file name.
    const filename = `websocket_${node.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 40)}_${index}.${ext}`;
    this.images.push({ node, key: 'websocket', kind: 'image', source: 'websocket', index, filename, contentType, data });
    return true;
  }

  get size(): number {
    return this.bytes;
  }

  list(): WebsocketImage[] {
    return [...this.images];
  }
}

/** Whether a value (from a msg: anything) is a WebSocket image with its bytes. */
export function isWebsocketImage(value: unknown): value is WebsocketImage {
  if (typeof value !== 'object' || value === null) return false;
  const item = value as Record<string, unknown>;
  return (
    item.source === 'websocket' && Buffer.isBuffer(item.data) && typeof item.filename === 'string' && typeof item.contentType === 'string'
  );
}
