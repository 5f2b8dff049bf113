/**
 * The images node's side of output kinds: which items of a msg's list it delivers (files from
 * /view, images sent over the WebSocket, texts), and the msg fields of the ones already in memory.
 */
import { contentTypeOf, kindOfFile, OUTPUT_KINDS } from '../client/output-kinds';
import type { TextOutput } from '../client/output-kinds';
import { isFileRef } from '../client/outputs';
import type { ImageRef, OutputItem } from '../client/outputs';
import type { ResultItem } from '../client/types';
import { isWebsocketImage } from '../client/websocket-outputs';
import type { WebsocketImage } from '../client/websocket-outputs';
import type { OutputDescription } from './messages';
import { checkFileRef } from './msg-input';

/** What a msg carries for an output whose content is already here (no /view). */
export interface InMemoryDelivery {
  payload: Buffer | string;
  contentType: string;
  filename: string;
  description: OutputDescription;
}

/** The items of a list from a msg that the node delivers; anything else in the list is skipped. */
export function deliverableItems(list: unknown[], where: string): OutputItem[] {
  const items: OutputItem[] = [];
  for (const [index, item] of list.entries()) {
    if (isFileRef(item)) items.push(fileRefOf(item, `${where}[${index}]`));
    else if (isWebsocketImage(item)) items.push(websocketImageOf(item));
    else if (isTextOutput(item)) items.push({ node: nodeOf(item), key: 'text', kind: 'text', index: items.length, text: item.text });
  }
  return items;
}

/** Whether the item's content travels with it (a text, an image sent over the WebSocket). */
export function isInMemory(item: OutputItem): item is WebsocketImage | TextOutput {
  return item.kind === 'text' || 'source' in item;
}

export function inMemoryDelivery(item: WebsocketImage | TextOutput): InMemoryDelivery {
  if (item.kind === 'text') {
    const { node, key, kind, index } = item;
    const filename = `text_${node.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 40)}_${index}.txt`;
    return { payload: item.text, contentType: 'text/plain; charset=utf-8', filename, description: { node, key, kind, index, filename } };
  }
  const { node, key, kind, index, filename, source, contentType } = item;
  return { payload: item.data, contentType, filename, description: { node, key, kind, index, filename, source, contentType } };
}

/** A ref a msg gave, copied field by field; its name and subfolder may not leave ComfyUI's folder; its kind is read again from its name. */
function fileRefOf(item: ResultItem & Record<string, unknown>, where: string): ImageRef {
  const ref = { filename: item.filename, subfolder: item.subfolder ?? '' };
  checkFileRef(ref, where);
  const key = typeof item.key === 'string' ? item.key : typeof item.kind === 'string' && !isKindName(item.kind) ? item.kind : 'images';
  return {
    node: nodeOf(item),
    key,
    kind: kindOfFile(key, ref.filename, item.kind === 'animated'),
    contentType: contentTypeOf(ref),
    ...ref,
    type: item.type,
  };
}

/** A copy without anything a flow may have added; the bytes are the msg's own. */
function websocketImageOf(item: WebsocketImage): WebsocketImage {
  const { index, filename, contentType, data } = item;
  const safeName = filename.replace(/[^A-Za-z0-9_.-]/g, '-').slice(0, 120) || 'websocket.png';
  const safeType = /^image\/[a-z0-9.+-]{1,40}$/i.test(contentType) ? contentType : 'application/octet-stream';
  return {
    node: nodeOf(item),
    key: 'websocket',
    kind: 'image',
    source: 'websocket',
    index: Number.isInteger(index) ? index : 0,
    filename: safeName,
    contentType: safeType,
    data,
  };
}

function isTextOutput(value: unknown): value is TextOutput {
  if (typeof value !== 'object' || value === null) return false;
  const item = value as Record<string, unknown>;
  return item.kind === 'text' && typeof item.text === 'string';
}

/** Before output kinds, `kind` held the UI output key ("images"); a msg saved from then still works. */
function isKindName(value: string): boolean {
  return (OUTPUT_KINDS as readonly string[]).includes(value);
}

function nodeOf(item: object): string {
  const node = (item as { node?: unknown }).node;
  return typeof node === 'string' ? node : '';
}
