/**
 * Node classes that write every other kind of output ComfyUI v0.8.0 knows, each with the UI
 * output its real counterpart returns:
 * - SaveAnimatedWEBP / SaveAnimatedPNG (comfy_api ImageSaveHelper): one file, `{images, animated: [true]}`
 *   when there is more than one frame, `{images}` otherwise.
 * - SaveWEBM, SaveVideo (with CreateVideo): ui.PreviewVideo, `{images: [mp4/webm], animated: [true]}`.
 * - SaveAudio (FLAC) / SaveAudioMP3 / SaveAudioOpus (with EmptyAudio): AudioSaveHelper, `{audio}`.
 * - PreviewAny (with PrimitiveString): `{text: [value]}`, the string itself.
 * - SaveGLB (with EmptyLatentHunyuan3Dv2 → VAEDecodeHunyuan3D → VoxelToMeshBasic): `{"3d": [...]}`.
 * - SaveLatent: a safetensors `.latent` file, `{latents: [...]}`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { saveImagePath } from './files';
import type { RgbImage } from './image';
import { animatedPng, animatedWebp, flacFile, glbFile, latentFile, mp3File, mp4File, opusFile, webmFile } from './media-files';
import type { ImageBatch, LatentValue, NodeImpl, RunContext } from './nodes';
import { dumpPyJson, isDict } from './pyjson';
import type { PyDict, PyValue } from './pyjson';
import { PyError, pyStr, toNumber } from './python';

export interface VideoValue {
  kind: 'VIDEO';
  images: RgbImage[];
  fps: number;
}
export interface AudioValue {
  kind: 'AUDIO';
  sampleRate: number;
  channels: number;
  seconds: number;
}
export interface StringValue {
  kind: 'STRING';
  value: string;
}
export interface MeshValue {
  kind: 'VOXEL' | 'MESH';
  count: number;
}
export type MediaValue = VideoValue | AudioValue | StringValue | MeshValue;

/** A node's UI output: key → list. */
type UiOutput = Record<string, PyValue[]>;

/** folder_paths.get_save_image_path in the output folder, with ComfyUI's error for a prefix that leaves it. */
function target(
  ctx: RunContext,
  prefix: string,
  width = 0,
  height = 0,
): { folder: string; filename: string; counter: number; subfolder: string } {
  try {
    return saveImagePath(prefix, ctx.folders.output, width, height);
  } catch (e) {
    if (e instanceof PyError) throw new PyError(e.type, `${e.message}\n`, e.frames);
    throw e;
  }
}

function write(folder: string, file: string, bytes: Buffer): void {
  writeFileSync(join(folder, file), bytes);
}

/** The prompt and extra_pnginfo as SaveAudio and SaveGLB put them into their files' metadata. */
function metadataOf(ctx: RunContext): Record<string, string> {
  const meta: Record<string, string> = { prompt: dumpPyJson(ctx.prompt) };
  const extra = ctx.extraData.extra_pnginfo;
  if (isDict(extra)) for (const [k, v] of Object.entries(extra)) meta[k] = dumpPyJson(v);
  return meta;
}

const counterText = (n: number): string => String(n).padStart(5, '0');

function saveAnimated(ctx: RunContext, inputs: Record<string, unknown>, format: 'webp' | 'png'): UiOutput {
  const frames = (inputs.images as ImageBatch).images;
  const first = frames[0] ?? { width: 0, height: 0 };
  const t = target(ctx, pyStr(inputs.filename_prefix), first.width, first.height);
  const file = `${t.filename}_${counterText(t.counter)}_.${format}`;
  const duration = Math.trunc(1000 / toNumber(inputs.fps));
  write(
    t.folder,
    file,
    format === 'webp' ? animatedWebp(frames, duration) : animatedPng(frames, duration, toNumber(inputs.compress_level)),
  );
  const ui: UiOutput = { images: [{ filename: file, subfolder: t.subfolder, type: 'output' }] };
  if (frames.length > 1) ui.animated = [true];
  return ui;
}

function saveAudio(ctx: RunContext, inputs: Record<string, unknown>, format: 'flac' | 'mp3' | 'opus'): UiOutput {
  const audio = inputs.audio as AudioValue;
  const t = target(ctx, pyStr(inputs.filename_prefix));
  const file = `${t.filename.replace(/%batch_num%/g, '0')}_${counterText(t.counter)}_.${format}`;
  const meta = metadataOf(ctx);
  const samples = Math.round(audio.seconds * audio.sampleRate);
  const bytes =
    format === 'flac'
      ? flacFile(audio.sampleRate, audio.channels, samples, Object.entries(meta))
      : format === 'mp3'
        ? mp3File()
        : opusFile(Math.min(48000, audio.sampleRate), audio.channels);
  write(t.folder, file, bytes);
  return { audio: [{ filename: file, subfolder: t.subfolder, type: 'output' }] };
}

/** PreviewAny: a string as it is, a number or boolean as str(), anything else as JSON when it can be. */
function previewText(source: unknown): string {
  if (source === null || source === undefined) return 'None';
  if (typeof source === 'string') return source;
  if (typeof source === 'number' || typeof source === 'boolean' || typeof source === 'bigint') return pyStr(source);
  if (typeof source === 'object' && (source as { kind?: unknown }).kind === 'STRING') return (source as StringValue).value;
  return 'source exists, but could not be serialized.';
}

export const MEDIA_NODES: Record<string, NodeImpl> = {
  SaveAnimatedWEBP: {
    async run(ctx, inputs) {
      await ctx.sleep(ctx.nodeMs);
      return { outputs: [], ui: saveAnimated(ctx, inputs, 'webp') };
    },
  },

  SaveAnimatedPNG: {
    async run(ctx, inputs) {
      await ctx.sleep(ctx.nodeMs);
      return { outputs: [], ui: saveAnimated(ctx, inputs, 'png') };
    },
  },

  SaveWEBM: {
    async run(ctx, inputs) {
      await ctx.sleep(ctx.nodeMs);
      const frames = (inputs.images as ImageBatch).images;
      const t = target(ctx, pyStr(inputs.filename_prefix), frames[0]?.width ?? 0, frames[0]?.height ?? 0);
      const file = `${t.filename}_${counterText(t.counter)}_.webm`;
      write(t.folder, file, webmFile());
      return { outputs: [], ui: { images: [{ filename: file, subfolder: t.subfolder, type: 'output' }], animated: [true] } };
    },
  },

  CreateVideo: {
    async run(ctx, inputs) {
      await ctx.sleep(ctx.nodeMs);
      return { outputs: [{ kind: 'VIDEO', images: (inputs.images as ImageBatch).images, fps: toNumber(inputs.fps) }] };
    },
  },

  SaveVideo: {
    async run(ctx, inputs) {
      await ctx.sleep(ctx.nodeMs);
      const video = inputs.video as VideoValue;
      const t = target(ctx, pyStr(inputs.filename_prefix), video.images[0]?.width ?? 0, video.images[0]?.height ?? 0);
      // format "auto" and "mp4" both write an .mp4 (VideoContainer.get_extension)
      const file = `${t.filename}_${counterText(t.counter)}_.mp4`;
      write(t.folder, file, mp4File());
      return { outputs: [], ui: { images: [{ filename: file, subfolder: t.subfolder, type: 'output' }], animated: [true] } };
    },
  },

  EmptyAudio: {
    async run(ctx, inputs) {
      await ctx.sleep(ctx.nodeMs);
      return {
        outputs: [
          {
            kind: 'AUDIO',
            seconds: toNumber(inputs.duration),
            sampleRate: toNumber(inputs.sample_rate),
            channels: toNumber(inputs.channels),
          },
        ],
      };
    },
  },

  SaveAudio: {
    async run(ctx, inputs) {
      await ctx.sleep(ctx.nodeMs);
      return { outputs: [], ui: saveAudio(ctx, inputs, 'flac') };
    },
  },

  SaveAudioMP3: {
    async run(ctx, inputs) {
      await ctx.sleep(ctx.nodeMs);
      return { outputs: [], ui: saveAudio(ctx, inputs, 'mp3') };
    },
  },

  SaveAudioOpus: {
    async run(ctx, inputs) {
      await ctx.sleep(ctx.nodeMs);
      return { outputs: [], ui: saveAudio(ctx, inputs, 'opus') };
    },
  },

  PrimitiveString: {
    async run(ctx, inputs) {
      await ctx.sleep(ctx.nodeMs);
      return { outputs: [{ kind: 'STRING', value: pyStr(inputs.value) }] };
    },
  },

  PreviewAny: {
    async run(ctx, inputs) {
      await ctx.sleep(ctx.nodeMs);
      return { outputs: [], ui: { text: [previewText(inputs.source)] } };
    },
  },

  SaveLatent: {
    async run(ctx, inputs) {
      await ctx.sleep(ctx.nodeMs);
      const latent = inputs.samples as LatentValue;
      const t = target(ctx, pyStr(inputs.filename_prefix));
      const file = `${t.filename}_${counterText(t.counter)}_.latent`;
      write(t.folder, file, latentFile(Math.max(1, latent.images.length), latent.width, latent.height, metadataOf(ctx)));
      return { outputs: [], ui: { latents: [{ filename: file, subfolder: t.subfolder, type: 'output' }] } };
    },
  },

  EmptyLatentHunyuan3Dv2: {
    async run(ctx, inputs) {
      await ctx.sleep(ctx.nodeMs);
      const batch = toNumber(inputs.batch_size);
      return {
        outputs: [
          {
            kind: 'LATENT',
            width: 0,
            height: 0,
            images: Array.from({ length: batch }, () => ({ width: 0, height: 0, data: new Uint8Array(0) })),
          },
        ],
      };
    },
  },

  VAEDecodeHunyuan3D: {
    async run(ctx, inputs) {
      await ctx.sleep(ctx.nodeMs);
      return { outputs: [{ kind: 'VOXEL', count: Math.max(1, (inputs.samples as LatentValue).images.length) }] };
    },
  },

  VoxelToMeshBasic: {
    async run(ctx, inputs) {
      await ctx.sleep(ctx.nodeMs);
      return { outputs: [{ kind: 'MESH', count: (inputs.voxel as MeshValue).count }] };
    },
  },

  SaveGLB: {
    async run(ctx, inputs) {
      await ctx.sleep(ctx.nodeMs);
      const mesh = inputs.mesh as MeshValue;
      const t = target(ctx, pyStr(inputs.filename_prefix));
      const results: PyDict[] = [];
      for (let i = 0; i < mesh.count; i++) {
        const file = `${t.filename}_${counterText(t.counter + i)}_.glb`;
        write(t.folder, file, glbFile(metadataOf(ctx)));
        results.push({ filename: file, subfolder: t.subfolder, type: 'output' });
      }
      return { outputs: [], ui: { '3d': results } };
    },
  },
};
