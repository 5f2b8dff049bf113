/**
 * `comfyui-upload`: uploads image bytes (Buffer, base64 or data URL) to ComfyUI's input, temp or
 * output folder, as an image or as a mask, and prepares msg.inputs so that a following submit
 * node loads the file in its LoadImage node.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { ComfyError } from '../client/errors';
import { loadImageValue } from '../client/outputs';
import type { ResultItem, ResultType } from '../client/types';
import { attachServer, clientOf } from './server-api';
import type { ServerNode } from './server-api';
import type { UploadPayload } from './messages';

type UploadKind = 'image' | 'mask';

interface UploadConfig extends NodeDef {
  server: string;
  kind: UploadKind;
  filename: string;
  subfolder: string;
  overwrite: boolean;
  /** The folder: input, temp or output (`type` is a reserved property name). */
  folder: ResultType;
  /** Masks: the original image in the input folder, `name.png` or `subfolder/name.png`. */
  original: string;
  /** The LoadImage node (title or id) msg.inputs addresses; empty for no msg.inputs. */
  target: string;
  targetInput: string;
}


type UploadMsg = NodeMessageInFlow & {
  filename?: unknown;
  subfolder?: unknown;
  overwrite?: unknown;
  type?: unknown;
  original_ref?: unknown;
  inputs?: unknown;
};

const FOLDERS: readonly ResultType[] = ['input', 'temp', 'output'];

/** File extensions for the media types of data URLs; anything else is stored as .png. */
const EXTENSIONS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/jpg': 'jpg',
  'image/webp': 'webp',
  'image/gif': 'gif',
  'image/bmp': 'bmp',
  'image/tiff': 'tiff',
};

export = function (RED: NodeAPI): void {
  function ComfyUploadNode(this: Node, config: UploadConfig): void {
    RED.nodes.createNode(this, config);
    const node = this;
    const server: ServerNode | undefined = attachServer(RED, node, config.server);
    const kind: UploadKind = config.kind === 'mask' ? 'mask' : 'image';
    const target = typeof config.target === 'string' ? config.target.trim() : 'Load Image';
    const targetInput = (typeof config.targetInput === 'string' && config.targetInput.trim()) || 'image';

    async function handle(msg: UploadMsg, send: (msg: UploadMsg) => void): Promise<void> {
      const client = clientOf(server);
      // Everything is checked before anything is sent.
      const { bytes, mediaType } = bytesOf(msg.payload);
      const filename = baseName(textOr(msg.filename, 'msg.filename', config.filename)) || `node-red-${Date.now()}.${EXTENSIONS[mediaType ?? ''] ?? 'png'}`;
      const subfolder = textOr(msg.subfolder, 'msg.subfolder', config.subfolder);
      const type = folderOf(msg.type, config.folder);
      const overwrite = flagOr(msg.overwrite, 'msg.overwrite', config.overwrite === true);
      const originalRef = kind === 'mask' ? originalOf(msg.original_ref, config.original) : undefined;
      const inputs = inputsOf(msg.inputs);

      node.status({ fill: 'blue', shape: 'dot', text: 'comfyui-upload.status.uploading' });
      const result = await client.upload(kind, { bytes, filename, subfolder, type, overwrite, ...(originalRef ? { originalRef } : {}) });
      const payload: UploadPayload = { name: result.name, subfolder: result.subfolder, type: result.type };
      msg.payload = payload;
      if (target) {
        // A dotted key for the same input would fight the one set here: this upload wins.
        delete inputs[`${target}.${targetInput}`];
        const existing = inputs[target];
        const forTarget = isRecord(existing) ? existing : {};
        inputs[target] = { ...forTarget, [targetInput]: loadImageValue(payload) };
        msg.inputs = inputs;
      }
      node.status({ fill: 'green', shape: 'dot', text: 'comfyui-upload.status.done' });
      send(msg);
    }

    node.on('input', (msg: UploadMsg, send: (msg: UploadMsg) => void, done: (err?: Error) => void) => {
      handle(msg, send).then(
        () => done(),
        (err: unknown) => {
          node.status({ fill: 'red', shape: 'ring', text: 'comfyui-upload.status.error' });
          done(err instanceof Error ? err : new Error(String(err)));
        },
      );
    });

    node.on('close', (removed: boolean, done: () => void) => {
      if (server) server.deregister(node, removed, done);
      else done();
    });
  }

  RED.nodes.registerType('comfyui-upload', ComfyUploadNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};

const EXPECTED = 'msg.payload must be image bytes: a Buffer, a base64 string or a data URL (data:image/png;base64,…)';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const DATA_URL = /^data:([^,;]*)((?:;[^,;]*)*),([\s\S]*)$/;

/** The bytes of msg.payload, and the media type a data URL named. */
function bytesOf(payload: unknown): { bytes: Buffer; mediaType?: string } {
  if (Buffer.isBuffer(payload)) {
    if (payload.length === 0) throw badInput('an empty Buffer');
    return { bytes: payload };
  }
  if (payload instanceof Uint8Array) {
    if (payload.length === 0) throw badInput('an empty byte array');
    return { bytes: Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength) };
  }
  if (typeof payload !== 'string') throw badInput(describe(payload));
  const text = payload.trim();
  if (text === '') throw badInput('an empty string');
  const dataUrl = DATA_URL.exec(text);
  if (dataUrl) {
    const mediaType = (dataUrl[1] ?? '').trim().toLowerCase();
    const params = (dataUrl[2] ?? '').toLowerCase().split(';').map((p) => p.trim());
    if (!params.includes('base64')) throw badInput(`a data URL that is not base64-encoded (${preview(text)})`);
    const bytes = decodeBase64(dataUrl[3] ?? '');
    if (!bytes) throw badInput(`a data URL whose data is not valid base64 (${preview(text)})`);
    return { bytes, mediaType };
  }
  const bytes = decodeBase64(text);
  if (!bytes) throw badInput(`a string that is neither base64 nor a data URL (${preview(text)})`);
  return { bytes };
}

/** Standard base64 (line breaks allowed), or undefined when the text is not that. */
function decodeBase64(text: string): Buffer | undefined {
  const compact = text.replace(/[\r\n]/g, '');
  if (compact.length === 0 || compact.length % 4 !== 0 || !BASE64.test(compact)) return undefined;
  const bytes = Buffer.from(compact, 'base64');
  return bytes.length > 0 ? bytes : undefined;
}

/** ComfyUI stores the part's name inside the chosen folder: drop any directory (File In sets a full path). */
function baseName(name: string): string {
  const parts = name.split(/[\\/]/);
  return (parts[parts.length - 1] ?? '').trim();
}

function textOr(value: unknown, name: string, fallback: unknown): string {
  if (value === undefined || value === null) return typeof fallback === 'string' ? fallback.trim() : '';
  if (typeof value !== 'string') throw new ComfyError('BAD_INPUT', `${name} must be a string; got ${describe(value)}`);
  return value.trim();
}

function flagOr(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'boolean') throw new ComfyError('BAD_INPUT', `${name} must be true or false; got ${describe(value)}`);
  return value;
}

function folderOf(fromMsg: unknown, fromConfig: unknown): ResultType {
  const fromMessage = fromMsg !== undefined && fromMsg !== null && fromMsg !== '';
  const value = fromMessage ? fromMsg : fromConfig || 'input';
  if (typeof value === 'string' && (FOLDERS as readonly string[]).includes(value)) return value as ResultType;
  throw new ComfyError('BAD_INPUT', `${fromMessage ? 'msg.type' : 'The folder setting'} must be input, temp or output; got ${describe(value)}`);
}

/** msg.original_ref `{filename (or name), subfolder, type}` or the node's `name.png` / `sub/name.png` in input. */
function originalOf(fromMsg: unknown, fromConfig: unknown): ResultItem {
  if (fromMsg !== undefined && fromMsg !== null) {
    if (!isRecord(fromMsg)) throw new ComfyError('BAD_INPUT', `msg.original_ref must be an object {filename, subfolder, type}; got ${describe(fromMsg)}`);
    const filename = fromMsg.filename ?? fromMsg.name;
    if (typeof filename !== 'string' || filename.trim() === '') {
      throw new ComfyError('BAD_INPUT', 'msg.original_ref needs a filename (the original image of the mask, e.g. an earlier upload)');
    }
    const subfolder = fromMsg.subfolder ?? '';
    if (typeof subfolder !== 'string') throw new ComfyError('BAD_INPUT', `msg.original_ref.subfolder must be a string; got ${describe(subfolder)}`);
    const type = fromMsg.type ?? 'input';
    if (typeof type !== 'string' || !(FOLDERS as readonly string[]).includes(type)) {
      throw new ComfyError('BAD_INPUT', `msg.original_ref.type must be input, temp or output; got ${describe(type)}`);
    }
    return { filename: filename.trim(), subfolder, type: type as ResultType };
  }
  const path = typeof fromConfig === 'string' ? fromConfig.trim() : '';
  if (path === '') {
    throw new ComfyError('BAD_INPUT', 'A mask needs its original image: set msg.original_ref {filename, subfolder, type} or the node\'s Original image');
  }
  const cut = path.lastIndexOf('/');
  return { filename: path.slice(cut + 1), subfolder: cut > 0 ? path.slice(0, cut) : '', type: 'input' };
}

function inputsOf(value: unknown): Record<string, unknown> {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) throw new ComfyError('BAD_INPUT', `msg.inputs must be an object to add the uploaded image to; got ${describe(value)}`);
  return value;
}

function badInput(got: string): ComfyError {
  return new ComfyError('BAD_INPUT', `${EXPECTED}; got ${got}. Nothing was uploaded.`);
}

function preview(text: string): string {
  return JSON.stringify(text.length > 32 ? `${text.slice(0, 32)}…` : text);
}

function describe(value: unknown): string {
  if (value === undefined) return 'nothing (undefined)';
  if (value === null) return 'null';
  if (typeof value === 'string') return `the string ${preview(value)}`;
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value} (${String(value)})`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}
