/**
 * `comfyui-upload`: uploads image bytes (Buffer, base64 or data URL) to ComfyUI's input, temp or
 * output folder, as an image or as a mask, and prepares msg.inputs so that a following submit
 * node loads the file in its LoadImage node.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { ComfyError } from '../client/errors';
import { describeBytes, IMAGE_FORMAT_NAMES, imageFormatOf } from '../client/image-bytes';
import type { UploadRequest } from '../client/http';
import { loadImageValue } from '../client/outputs';
import { isPlainObject, isReservedName } from '../client/plain-json';
import type { ResultItem, ResultType } from '../client/types';
import { attachTarget, memberOf, targetOf } from './server-api';
import type { TargetNode } from './server-api';
import { checkSettable, failInput, finishInput, readInput } from './failure';
import { checkFileRef, choiceOf, describeValue, fileNameOf, flagOf, subfolderOf } from './msg-input';
import type { Given } from './msg-input';
import { readSetting, settingOf } from './typed-setting';
import type { TypedSetting } from './typed-setting';
import type { UploadPayload } from './messages';

type UploadKind = 'image' | 'mask';

/** filename … original are literals or msg/flow/global/env/JSONata sources named by `<setting>Type`. */
interface UploadConfig extends NodeDef {
  server: string;
  kind: UploadKind;
  filename: string;
  subfolder: string;
  overwrite: boolean | string;
  /** The folder: input, temp or output (`type` is a reserved property name). */
  folder: string;
  /** Masks: the original image, `name.png` or `subfolder/name.png` in input, or a `{filename, subfolder, type}` from a source. */
  original: string;
  /** The LoadImage node (title or id) msg.inputs addresses; empty for no msg.inputs. */
  target: string;
  targetInput: string;
}


type UploadMsg = NodeMessageInFlow & { inputs?: unknown };

const FOLDERS: readonly ResultType[] = ['input', 'temp', 'output'];

/** File extensions for the media types of data URLs; without one, a generated name gets the extension of the bytes' format. */
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
    const server: TargetNode | undefined = attachTarget(RED, node, config);
    const kind: UploadKind = config.kind === 'mask' ? 'mask' : 'image';
    const target = typeof config.target === 'string' ? config.target.trim() : 'Load Image';
    const targetInput = (typeof config.targetInput === 'string' && config.targetInput.trim()) || 'image';
    const settings = {
      filename: settingOf(config, 'filename', { label: 'File name', fixed: 'filename', emptyOverrides: true }),
      subfolder: settingOf(config, 'subfolder', { label: 'Subfolder', fixed: 'subfolder', emptyOverrides: true }),
      folder: settingOf(config, 'folder', { label: 'Folder', fixed: 'type' }),
      overwrite: settingOf(config, 'overwrite', { label: 'Overwrite', fixed: 'overwrite' }),
      original: settingOf(config, 'original', { label: 'Original', fixed: 'original_ref' }),
    };

    async function handle(msg: UploadMsg, send: (msg: UploadMsg) => void): Promise<void> {
      const comfy = targetOf(server);
      // Everything is checked before anything is sent.
      const { upload, inputs, member } = await readInput(async () => {
        const { bytes, extension } = bytesOf(msg.payload);
        const read = (setting: TypedSetting) => readSetting(RED, node, setting, msg);
        const filename = fileNameOf(await read(settings.filename)) || `node-red-${Date.now()}.${extension}`;
        const subfolder = subfolderOf(await read(settings.subfolder));
        const type = choiceOf(await read(settings.folder), FOLDERS, 'input');
        const overwrite = flagOf(await read(settings.overwrite), false);
        const originalRef = kind === 'mask' ? originalOf(await read(settings.original)) : undefined;
        const request: UploadRequest = { bytes, filename, subfolder, type, overwrite, ...(originalRef ? { originalRef } : {}) };
        const reserved = target ? [target, targetInput].find(isReservedName) : undefined;
        if (reserved !== undefined) throw new ComfyError('BAD_INPUT', `The Load Image setting names "${reserved}", which is not allowed as a node or input name`);
        checkSettable(msg, target ? ['payload', 'inputs'] : ['payload']);
        return { upload: request, inputs: target ? inputsOf(msg.inputs, target) : undefined, member: memberOf(comfy, msg) };
      });

      node.status({ fill: 'blue', shape: 'dot', text: 'comfyui-upload.status.uploading' });
      const [first] = await comfy.onMembers(member, 'first', (client) => client.upload(kind, upload));
      const result = first.value;
      if (comfy.pool) {
        // Whichever member runs the prompt needs the file: unless msg.server names one, it goes to every member in
        // routing, under the name the first one gave it (a member could otherwise rename it differently).
        const same: UploadRequest = { ...upload, filename: result.name, subfolder: result.subfolder, overwrite: true };
        const all =
          member === undefined
            ? await comfy.onMembers(undefined, 'routing', (client, name) => (name === first.server ? Promise.resolve(result) : client.upload(kind, same)))
            : [first];
        (msg as { servers?: string[] }).servers = all.map((one) => one.server!);
      }
      const payload: UploadPayload = { name: result.name, subfolder: result.subfolder, type: result.type };
      msg.payload = payload;
      if (inputs) {
        // A dotted key for the same input would fight the one set here: this upload wins.
        delete inputs[`${target}.${targetInput}`];
        (inputs[target] as Record<string, unknown>)[targetInput] = loadImageValue(payload);
        msg.inputs = inputs;
      }
      node.status({ fill: 'green', shape: 'dot', text: 'comfyui-upload.status.done' });
      send(msg);
    }

    node.on('input', (msg: UploadMsg, send: (msg: UploadMsg) => void, done: (err?: Error) => void) => {
      handle(msg, send).then(
        () => finishInput(node, done),
        (err: unknown) => failInput(node, err, done, 'comfyui-upload.status.error'),
      );
    });

    node.on('close', (removed: boolean, done: () => void) => {
      if (server) server.deregister(node, removed, done);
      else done();
    });
  }

  RED.nodes.registerType('comfyui-upload', ComfyUploadNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};

const EXPECTED = `msg.payload must be image bytes: a Buffer, a base64 string or a data URL (data:image/png;base64,…) of a ${IMAGE_FORMAT_NAMES} image`;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const DATA_URL = /^data:([^,;]*)((?:;[^,;]*)*),([\s\S]*)$/;

/** The image bytes of msg.payload, and the extension a generated name gets (a data URL's media type, else the bytes' format). */
function bytesOf(payload: unknown): { bytes: Buffer; extension: string } {
  const { bytes, what, mediaType } = rawBytesOf(payload);
  const format = imageFormatOf(bytes);
  // Checked here, not by ComfyUI: it stores any bytes, and LoadImage fails only when a prompt runs.
  if (!format) throw badInput(`${what} that is not an image ComfyUI reads (it ${describeBytes(bytes)})`);
  return { bytes, extension: EXTENSIONS[mediaType ?? ''] ?? (format === 'jpeg' ? 'jpg' : format) };
}

/** The bytes of msg.payload, what they came as (for errors), and the media type a data URL named. */
function rawBytesOf(payload: unknown): { bytes: Buffer; what: string; mediaType?: string } {
  if (Buffer.isBuffer(payload)) {
    if (payload.length === 0) throw badInput('an empty Buffer');
    return { bytes: payload, what: `a Buffer of ${payload.length} bytes` };
  }
  if (payload instanceof Uint8Array) {
    if (payload.length === 0) throw badInput('an empty byte array');
    return { bytes: Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength), what: `a byte array of ${payload.length} bytes` };
  }
  if (typeof payload !== 'string') throw badInput(describeValue(payload));
  const text = payload.trim();
  if (text === '') throw badInput('an empty string');
  const dataUrl = DATA_URL.exec(text);
  if (dataUrl) {
    const mediaType = (dataUrl[1] ?? '').trim().toLowerCase();
    const params = (dataUrl[2] ?? '').toLowerCase().split(';').map((p) => p.trim());
    if (!params.includes('base64')) throw badInput(`a data URL that is not base64-encoded (${preview(text)})`);
    const bytes = decodeBase64(dataUrl[3] ?? '');
    if (!bytes) throw badInput(`a data URL whose data is not valid base64 (${preview(text)})`);
    return { bytes, what: `a data URL of ${bytes.length} bytes`, mediaType };
  }
  const bytes = decodeBase64(text);
  if (!bytes) throw badInput(`a string that is neither base64 nor a data URL (${preview(text)})`);
  return { bytes, what: `base64 text of ${bytes.length} bytes` };
}

/** Standard base64 (line breaks allowed), or undefined when the text is not that. */
function decodeBase64(text: string): Buffer | undefined {
  const compact = text.replace(/[\r\n]/g, '');
  if (compact.length === 0 || compact.length % 4 !== 0 || !BASE64.test(compact)) return undefined;
  const bytes = Buffer.from(compact, 'base64');
  return bytes.length > 0 ? bytes : undefined;
}

/**
 * A mask's original image: `{filename (or name), subfolder, type}`, or `name.png` / `sub/name.png`
 * in input. The name and subfolder follow the rules of every file name (client/file-names).
 */
function originalOf(given: Given): ResultItem {
  const { value, from } = given;
  if (typeof value === 'string' && value.trim() !== '') {
    const path = value.trim();
    const cut = path.lastIndexOf('/');
    // A leading "/" is an absolute path, not the top folder: the subfolder rule refuses it.
    const ref = { filename: path.slice(cut + 1), subfolder: cut > 0 ? path.slice(0, cut) : cut === 0 ? '/' : '' };
    checkFileRef(ref, from);
    return { ...ref, type: 'input' };
  }
  if (value === undefined || value === null || value === '') {
    throw new ComfyError('BAD_INPUT', 'A mask needs its original image: set msg.original_ref {filename, subfolder, type} or the node\'s Original setting');
  }
  if (!isPlainObject(value)) throw new ComfyError('BAD_INPUT', `${from} must be an object {filename, subfolder, type} or a file name; got ${describeValue(value)}`);
  const filename = value.filename ?? value.name;
  if (typeof filename !== 'string' || filename.trim() === '') {
    throw new ComfyError('BAD_INPUT', `${from} needs a filename (the original image of the mask, e.g. an earlier upload)`);
  }
  const subfolder = value.subfolder ?? '';
  if (typeof subfolder !== 'string') throw new ComfyError('BAD_INPUT', `${from}.subfolder must be a string; got ${describeValue(subfolder)}`);
  const type = value.type ?? 'input';
  if (typeof type !== 'string' || !(FOLDERS as readonly string[]).includes(type)) {
    throw new ComfyError('BAD_INPUT', `${from}.type must be input, temp or output; got ${describeValue(type)}`);
  }
  const ref = { filename: filename.trim(), subfolder };
  checkFileRef(ref, from);
  return { ...ref, type: type as ResultType };
}

/**
 * A copy of msg.inputs with a copy of the target's entry (an object, or a new one), to add the
 * upload to; read before anything is sent, so a getter that throws fails as BAD_INPUT.
 */
function inputsOf(value: unknown, target: string): Record<string, unknown> {
  if (value !== undefined && value !== null && !isPlainObject(value)) {
    throw new ComfyError('BAD_INPUT', `msg.inputs must be an object to add the uploaded image to; got ${describeValue(value)}`);
  }
  const inputs: Record<string, unknown> = { ...value };
  const existing = inputs[target];
  inputs[target] = { ...(isPlainObject(existing) ? existing : {}) };
  return inputs;
}

function badInput(got: string): ComfyError {
  return new ComfyError('BAD_INPUT', `${EXPECTED}; got ${got}. Nothing was uploaded.`);
}

function preview(text: string): string {
  return JSON.stringify(text.length > 32 ? `${text.slice(0, 32)}…` : text);
}
