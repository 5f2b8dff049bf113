/**
 * `comfyui-images`: downloads the files a prompt produced, one msg per file, with msg.parts so
 * a Join node can rebuild the set. Accepts the submit node's output, any msg.payload.images
 * list of refs, or a msg.prompt_id whose history it reads.
 */
import type { Node, NodeAPI, NodeDef, NodeMessageInFlow } from 'node-red';
import type { ComfyClient } from '../client/client';
import type { Download } from '../client/http';
import type { ViewPreview } from '../client/types';
import { ComfyError, isComfyError } from '../client/errors';
import { clip } from '../client/shape';
import { collectOutputs, describeRef } from '../client/outputs';
import type { ImageRef, OutputItem } from '../client/outputs';
import type { OutputKind } from '../client/output-kinds';
import {asComfyError, onInput, readInput } from './failure';
import { deliverableItems, inMemoryDelivery, isInMemory } from './images-items';
import { FileSettings, writeInMemory } from './images-to-files';
import type { FilesConfig } from './images-to-files';
import { isUnset, promptIdOf } from './msg-input';
import type { ImageParts, ImageRefWithUrl, OutputDescription } from './messages';
import { attachTarget, memberOf, targetOf } from './server-api';
import type { TargetNode } from './server-api';
import type { ComfyTarget } from './comfy-target';
import { upgradeConfig } from './config-version';

interface ImagesConfig extends NodeDef, FilesConfig {
  server: string;
  output: 'buffer' | 'refs' | 'files';
  /** Show the last downloaded image under the node in the editor (image bytes mode only). */
  thumbnail?: boolean;
}

/** Images above this size reach the editor as a JPEG ComfyUI re-encodes, or not at all. */
const THUMBNAIL_MAX_BYTES = 256 * 1024;
/** How a large image is re-encoded for its thumbnail: JPEG works on every server (WebP needs PIL's WebP). */
const THUMBNAIL_PREVIEW: ViewPreview = { format: 'jpeg', quality: 60 };

/** What the editor receives on `comfyui-images/thumbnail/<node id>`. */
interface ThumbnailMessage {
  dataUrl: string;
}

type ImagesMsg = NodeMessageInFlow & {
  prompt_id?: string;
  filename?: string;
  contentType?: string;
  /** The kind of media: image, animated, video, audio, text, 3d, latent or file. */
  kind?: OutputKind;
  /** Bytes written, in the "to files" mode. */
  size?: number;
  image?: ImageRefWithUrl | OutputDescription;
};

export = function (RED: NodeAPI): void {
  function ComfyImagesNode(this: Node, config: ImagesConfig): void {
    RED.nodes.createNode(this, config);
    config = upgradeConfig(config);
    const node = this;
    const server: TargetNode | undefined = attachTarget(RED, node, config);
    // "to files": each file streams to a directory; msg.payload is its path.
    const files = config.output === 'files' ? new FileSettings(config) : undefined;
    const bytes = config.output !== 'refs' && !files;
    const thumbnail = bytes && config.thumbnail === true;
    // Closing the node stops its downloads (CLOSED) instead of leaving them to trickle on.
    const closing = new AbortController();

    async function handle(msg: ImagesMsg, send: (msg: ImagesMsg) => void): Promise<void> {
      const comfy = targetOf(server);
      const { request, incomingParts, partsId, member } = await readInput(() => ({
        request: requestOf(msg),
        member: memberOf(comfy, msg),
        incomingParts: msg.parts,
        // The runtime sets _msgid only where a msg has none: a flow's own may be anything.
        partsId: `${String(msg._msgid)}-images`,
      }));
      const { refs, server: ran }: { refs: OutputItem[]; server?: string } = 'refs' in request ? request : await refsOfPrompt(comfy, request.promptId);
      // In a pool, the files are on the member that ran the prompt: msg.server (set by submit), else found by prompt id.
      const { server: holder, client } = comfy.filesOf(typeof msg.prompt_id === 'string' ? msg.prompt_id : undefined, ran ?? member);
      if (holder !== undefined) (msg as { server?: string }).server = holder;
      if (refs.length === 0) {
        // A prompt that delivered nothing (only a SaveImageWebsocket asked by msg.prompt_id, say) is not an error.
        node.status({ fill: 'grey', shape: 'ring', text: 'comfyui-images.status.none' });
        return;
      }
      const target = files ? await files.targetFor(RED, node, msg) : undefined;
      const promptId = 'promptId' in request ? request.promptId : typeof msg.prompt_id === 'string' ? msg.prompt_id : '';
      node.status({ fill: 'blue', shape: 'dot', text: 'comfyui-images.status.downloading' });
      const missing: Array<{ what: string; error: unknown }> = [];
      let last: (Download & { ref: ImageRef }) | undefined;
      for (const [index, item] of refs.entries()) {
        if (closing.signal.aborted) break;
        const out = copyOf(msg);
        out.kind = item.kind;
        const parts: ImageParts = { id: partsId, index, count: refs.length, type: 'array' };
        // Nest an incoming sequence (from a Split, say) the way core nodes do.
        if (incomingParts) parts.parts = incomingParts;
        if (isInMemory(item)) {
          // A text or an image sent over the WebSocket: its content is in the msg already, there is no /view.
          const delivery = inMemoryDelivery(item);
          out.payload = delivery.payload;
          out.contentType = delivery.contentType;
          out.filename = delivery.filename;
          out.image = delivery.description;
          if (target) {
            try {
              const segments = target.segmentsFor({ promptId, node: item.node, index, filename: delivery.filename });
              const saved = await target.save(segments, (open) => writeInMemory(delivery.payload, delivery.contentType, open));
              out.payload = saved.path;
              out.filename = saved.path;
              out.size = saved.size;
            } catch (err) {
              missing.push({ what: delivery.filename, error: err });
              continue;
            }
          }
          (out as { parts?: ImageParts }).parts = parts;
          send(out);
          continue;
        }
        const ref = item;
        const image: ImageRefWithUrl = { ...ref, url: client.viewUrl(ref) };
        out.filename = ref.filename;
        if (target) {
          try {
            const segments = target.segmentsFor({ promptId, node: ref.node, index, filename: ref.filename });
            const saved = await target.save(segments, (open) => client.viewTo(ref, open, { signal: closing.signal }));
            out.payload = saved.path;
            out.filename = saved.path;
            out.size = saved.size;
            out.contentType = saved.contentType;
          } catch (err) {
            missing.push({ what: describeRef(ref), error: err });
            continue;
          }
        } else if (bytes) {
          try {
            const file = await client.view(ref, { signal: closing.signal });
            out.payload = file.body;
            out.contentType = file.contentType;
            if (thumbnail && thumbnailType(file.contentType)) last = { ...file, ref };
          } catch (err) {
            // One missing file must not cost the others: report it after the rest went out.
            missing.push({ what: describeRef(ref), error: err });
            continue;
          }
        } else {
          out.payload = image;
          out.contentType = ref.contentType;
        }
        out.image = image;
        (out as { parts?: ImageParts }).parts = parts;
        send(out);
      }
      if (closing.signal.aborted && missing.length === 0) throw new ComfyError('CLOSED', 'The images node was closed before all files were downloaded');
      if (thumbnail && last) await publishThumbnail(client, node, last, closing.signal);
      if (missing.length > 0) throw downloadFailure(missing, refs.length, client.textLimit);
      node.status({ fill: 'green', shape: 'dot', text: 'comfyui-images.status.done' });
    }

    onInput<ImagesMsg>(node, 'comfyui-images.status.error', handle);

    node.on('close', (removed: boolean, done: () => void) => {
      closing.abort();
      if (server) server.deregister(node, removed, done);
      else done();
    });
  }

  /**
   * The editor draws the last image under the node. Kept light: images only, at most
   * THUMBNAIL_MAX_BYTES (a larger one is fetched again as a JPEG ComfyUI re-encodes; when that
   * fails or is still too large, nothing is shown), not retained for editors that connect later.
   * A thumbnail never fails the msg.
   */
  async function publishThumbnail(client: ComfyClient, node: Node, file: Download & { ref: ImageRef }, signal: AbortSignal): Promise<void> {
    let picture: Download = file;
    if (file.body.length > THUMBNAIL_MAX_BYTES) {
      try {
        picture = await client.view(file.ref, { preview: THUMBNAIL_PREVIEW, signal });
      } catch (err) {
        node.debug(`No thumbnail for ${describeRef(file.ref)}: ${(err as Error).message}`);
        return;
      }
    }
    const type = thumbnailType(picture.contentType);
    if (!type || picture.body.length === 0 || picture.body.length > THUMBNAIL_MAX_BYTES) return;
    const message: ThumbnailMessage = { dataUrl: `data:${type};base64,${picture.body.toString('base64')}` };
    RED.comms.publish(`comfyui-images/thumbnail/${node.id}`, message, false);
  }

  /** The msg for one file; a msg the runtime cannot copy (a getter that throws, say) is BAD_INPUT, found before anything is sent. */
  function copyOf(msg: ImagesMsg): ImagesMsg {
    try {
      return RED.util.cloneMessage<ImagesMsg>(msg);
    } catch (err) {
      throw asComfyError(err, 'BAD_INPUT', 'The msg cannot be copied for each file');
    }
  }

  /** The files a prompt produced, from its history entry. */
  async function refsOfPrompt(comfy: ComfyTarget, promptId: string): Promise<{ refs: OutputItem[]; server?: string }> {
    const found = await comfy.historyEntry(promptId);
    if (!found) {
      throw new ComfyError('BAD_INPUT', `ComfyUI has no history for prompt ${promptId}: it is unknown, still queued or running, or was cleared`);
    }
    return { refs: collectOutputs(found.entry.outputs ?? {}), ...(found.server === undefined ? {} : { server: found.server }) };
  }

  RED.nodes.registerType('comfyui-images', ComfyImagesNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};

/**
 * What a msg asks for, checked before anything is fetched: the refs in msg.payload.images (or a
 * bare list), each with a file name and subfolder that stay inside ComfyUI's folder, else the
 * prompt named by msg.prompt_id (or msg.payload.prompt_id) whose history lists them.
 */
function requestOf(msg: ImagesMsg): { refs: OutputItem[] } | { promptId: string } {
  const payload = msg.payload;
  const list: unknown[] | undefined = Array.isArray(payload) ? payload : isRecord(payload) && Array.isArray(payload.images) ? payload.images : undefined;
  if (list) {
    const refs = deliverableItems(list, Array.isArray(payload) ? 'msg.payload' : 'msg.payload.images');
    if (refs.length > 0 || list.length === 0) return { refs };
    if (isUnset(msg.prompt_id)) {
      throw new ComfyError('BAD_INPUT', 'msg.payload.images holds no usable file refs: each needs filename, subfolder and type (output, temp or input)');
    }
  }
  const promptId =
    promptIdOf({ value: msg.prompt_id, from: 'msg.prompt_id' }) ??
    (isRecord(payload) && typeof payload.prompt_id === 'string' ? promptIdOf({ value: payload.prompt_id, from: 'msg.payload.prompt_id' }) : undefined);
  if (!promptId) {
    throw new ComfyError(
      'BAD_INPUT',
      'No images to fetch: send the comfyui-submit output, a msg.payload.images list of {filename, subfolder, type}, or a msg.prompt_id',
    );
  }
  return { promptId };
}

/** The media type of a file a browser can draw as an image, else undefined. */
function thumbnailType(contentType: string): string | undefined {
  const type = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return /^image\/(png|jpeg|webp|gif)$/.test(type) ? type : undefined;
}

/**
 * One error for the files that did not arrive, after the others went out. Its code is the first
 * failure's (a TIMEOUT stays a TIMEOUT, a TOO_LARGE a TOO_LARGE), so a Catch node can branch on it.
 */
function downloadFailure(missing: Array<{ what: string; error: unknown }>, total: number, maxText: number): ComfyError {
  const first = missing[0]?.error;
  const code = isComfyError(first) ? first.code : 'HTTP';
  const list = missing.map(({ what, error }) => `${what}: ${error instanceof Error ? error.message : 'unknown error'}`).join('; ');
  const message = total === 1 ? list : `${missing.length} of ${total} files could not be downloaded: ${list}`;
  return new ComfyError(code, clip(message, maxText), isComfyError(first) && first.status !== undefined ? { status: first.status } : {});
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value);
}
