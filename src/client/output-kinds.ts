/**
 * What kind of media each output of a prompt is, read from the node UI outputs ComfyUI records
 * (history `outputs`, `executed.output`). The shapes, from ComfyUI v0.8.0 and the custom nodes
 * people use most:
 * - `images`: SaveImage/PreviewImage (PNG), SaveAnimatedWEBP/PNG (one file, `animated: [true]`
 *   when it has more than one frame), SaveVideo/SaveWEBM/PreviewVideo (mp4/webm under `images`
 *   with `animated: [true]`); PreviewImage of V3 nodes writes `animated: [false]`.
 * - `audio`: SaveAudio (flac), SaveAudioMP3, SaveAudioOpus, PreviewAudio.
 * - `text`: PreviewAny and V3 text previews: a list of strings, not file refs.
 * - `3d`: SaveGLB and other mesh savers: file refs (.glb).
 * - `latents`: SaveLatent: file refs (.latent, a safetensors file).
 * - `gifs`: VideoHelperSuite's Video Combine: file refs with `format` ("video/h264-mp4",
 *   "image/gif"), `frame_rate`, `workflow` and `fullpath` (a path on the server: never passed on).
 * Other keys stay open: any list item with a filename and a type is a file of a kind its name says.
 */
import type { Json, NodeId, ResultItem } from './types';
import { mediaTypeOfName } from './media';

/** The media kinds a result lists; `file` is anything else a node saved. */
export const OUTPUT_KINDS = ['image', 'animated', 'video', 'audio', 'text', '3d', 'latent', 'file'] as const;
export type OutputKind = (typeof OUTPUT_KINDS)[number];
/** The kinds a file can be (text outputs are strings). */
export type FileKind = Exclude<OutputKind, 'text'>;

/** Keys whose files are of one kind whatever their names say. */
const KIND_OF_KEY: Record<string, FileKind> = { audio: 'audio', '3d': '3d', latents: 'latent' };

/** Image formats that hold more than one frame when a node says so (`animated: [true]`, or VideoHelperSuite's `gifs`). */
const ANIMATABLE = new Set(['image/gif', 'image/webp', 'image/png', 'image/apng']);

/** The kind of a file listed under `key` of a node's UI output; `animated` is that output's `animated: [true]`. */
export function kindOfFile(key: string, filename: string, animated: boolean): FileKind {
  if (Object.prototype.hasOwnProperty.call(KIND_OF_KEY, key)) return KIND_OF_KEY[key];
  const type = mediaTypeOfName(filename);
  if (type.startsWith('video/')) return 'video';
  if (type.startsWith('audio/')) return 'audio';
  if (type.startsWith('model/')) return '3d';
  if (filename.toLowerCase().endsWith('.latent')) return 'latent';
  if (type.startsWith('image/')) {
    // VideoHelperSuite lists its animated GIF/WebP under `gifs`; a one-frame PNG there is a still image.
    const moving = animated || (key === 'gifs' && type !== 'image/png');
    return moving && ANIMATABLE.has(type) ? 'animated' : 'image';
  }
  return 'file';
}

/** Whether a node's UI output says its images move: `animated: [true]` (a Python tuple on the wire as a list). */
export function isAnimatedOutput(output: Record<string, Json>): boolean {
  const animated = Object.prototype.hasOwnProperty.call(output, 'animated') ? output.animated : undefined;
  return Array.isArray(animated) && animated.some((value) => value === true);
}

/** The media type a file of that kind is delivered with: by its name, as ComfyUI's /view serves it. */
export function contentTypeOf(ref: Pick<ResultItem, 'filename'>): string {
  return mediaTypeOfName(ref.filename);
}

/** A text output (`text: ["…"]`): the string is the output, there is no file. */
export interface TextOutput {
  node: NodeId;
  key: string;
  kind: 'text';
  /** Which string of the node's list, from 0. */
  index: number;
  text: string;
}

/** The text outputs of a node's UI output: every string listed under `text` (other keys hold files or flags). */
export function textsOf(node: NodeId, output: Record<string, Json>): TextOutput[] {
  const list = Object.prototype.hasOwnProperty.call(output, 'text') ? output.text : undefined;
  if (!Array.isArray(list)) return [];
  const texts: TextOutput[] = [];
  for (const value of list)
    if (typeof value === 'string') texts.push({ node, key: 'text', kind: 'text', index: texts.length, text: value });
  return texts;
}
