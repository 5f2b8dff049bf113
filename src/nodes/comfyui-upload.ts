/**
 * `comfyui-upload`: uploads an image (Buffer, base64, data URL, a file path inside "Files from" or
 * an http(s) URL: comfyui-upload-source.ts) to ComfyUI's input, temp or output folder, as an image
 * or as a mask, and prepares msg.inputs so that a following submit node loads the file in its
 * LoadImage node.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import { ComfyError } from '../client/errors';
import type { UploadRequest } from '../client/http';
import { loadImageValue } from '../client/outputs';
import { isPlainObject, isReservedName } from '../client/plain-json';
import type { ResultItem, ResultType } from '../client/types';
import { attachTarget, memberOf, targetOf } from './server-api';
import type { TargetNode } from './server-api';
import {checkSettable, onInput, readInput } from './failure';
import { checkFileRef, choiceOf, describeValue, fileNameOf, flagOf, subfolderOf } from './msg-input';
import type { Given } from './msg-input';
import { readSetting, settingOf } from './typed-setting';
import type { TypedSetting } from './typed-setting';
import type { UploadPayload } from './messages';
import { sizeLimitOf, sourceSettingsOf, uploadSourceOf } from './comfyui-upload-source';
import type { SourceConfig } from './comfyui-upload-source';
import { upgradeConfig } from './config-version';

type UploadKind = 'image' | 'mask';

/** filename … original are literals or msg/flow/global/env/JSONata sources named by `<setting>Type`. */
interface UploadConfig extends NodeDef, SourceConfig {
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

export = function (RED: NodeAPI): void {
  function ComfyUploadNode(this: Node, config: UploadConfig): void {
    RED.nodes.createNode(this, config);
    config = upgradeConfig(config);
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
    const sources = sourceSettingsOf(config, userDirOf(RED));
    /** Stops a URL being fetched when the node closes. */
    const closing = new AbortController();

    async function handle(msg: UploadMsg, send: (msg: UploadMsg) => void): Promise<void> {
      const comfy = targetOf(server);
      // Everything is checked before anything is sent.
      const { upload, inputs, member } = await readInput(async () => {
        const member = memberOf(comfy, msg);
        const read = (setting: TypedSetting) => readSetting(RED, node, setting, msg);
        const givenName = fileNameOf(await read(settings.filename));
        const subfolder = subfolderOf(await read(settings.subfolder));
        const type = choiceOf(await read(settings.folder), FOLDERS, 'input');
        const overwrite = flagOf(await read(settings.overwrite), false);
        const originalRef = kind === 'mask' ? originalOf(await read(settings.original)) : undefined;
        const { bytes, extension, name } = await uploadSourceOf(msg.payload, sources, {
          // A pool: the limit of the member asked first (members of one pool are alike).
          limit: async () => sizeLimitOf((await comfy.onMembers(member, 'first', (client) => client.uploadLimit()))[0].value),
          signal: closing.signal,
          onFetch: () => node.status({ fill: 'blue', shape: 'ring', text: 'comfyui-upload.status.fetching' }),
        });
        const filename = givenName || name || `node-red-${Date.now()}.${extension}`;
        const anyName = filename !== givenName && filename !== name;
        const request: UploadRequest = { bytes, filename, subfolder, type, overwrite, anyName, ...(originalRef ? { originalRef } : {}) };
        const reserved = target ? [target, targetInput].find(isReservedName) : undefined;
        if (reserved !== undefined) throw new ComfyError('BAD_INPUT', `The Load Image setting names "${reserved}", which is not allowed as a node or input name`);
        checkSettable(msg, target ? ['payload', 'inputs'] : ['payload']);
        return { upload: request, inputs: target ? inputsOf(msg.inputs, target) : undefined, member };
      });

      node.status({ fill: 'blue', shape: 'dot', text: 'comfyui-upload.status.uploading' });
      const [first] = await comfy.onMembers(member, 'first', (client) => client.upload(kind, upload));
      const result = first.value;
      if (comfy.pool) {
        // Whichever member runs the prompt needs the file: unless msg.server names one, it goes to every member in
        // routing, under the name the first one gave it (a member could otherwise rename it differently).
        const same: UploadRequest = { ...upload, filename: result.name, subfolder: result.subfolder, overwrite: true, anyName: false };
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
      node.status({ fill: 'green', shape: 'dot', text: result.reused ? 'comfyui-upload.status.reused' : 'comfyui-upload.status.done' });
      send(msg);
    }

    onInput<UploadMsg>(node, 'comfyui-upload.status.error', handle);

    node.on('close', (removed: boolean, done: () => void) => {
      closing.abort();
      if (server) server.deregister(node, removed, done);
      else done();
    });
  }

  RED.nodes.registerType('comfyui-upload', ComfyUploadNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};

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

/** Node-RED's user directory: a relative "Files from" is inside it. */
function userDirOf(RED: NodeAPI): string {
  const userDir = (RED.settings as { userDir?: unknown }).userDir;
  return typeof userDir === 'string' && userDir !== '' ? userDir : process.cwd();
}
