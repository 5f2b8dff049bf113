/**
 * What each simulated node class does when it runs: real pixels, real files, real progress ticks.
 * The executor (executor.ts) owns the event protocol; a node only computes, sleeps for its
 * configured time, calls `ctx.progress()` like ComfyUI's ProgressBar, and returns
 * `{ outputs, ui }` like a node's FUNCTION.
 */
import { createHash, randomInt } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Folders, isInside, saveImagePath } from './files';
import { Mask, RgbImage, blurImage, colorFromInt, invertImage, mixImages, scaleImage, seededGradient, solidImage } from './image';
import { decodePng, encodePng, isPng } from './png';
import { PyDict, PyValue, dumpPyJson, isDict } from './pyjson';
import { PyError, pyStr, toNumber } from './python';
import { MEDIA_NODES } from './media-nodes';
import type { MediaValue } from './media-nodes';

export interface ImageBatch {
  kind: 'IMAGE';
  images: RgbImage[];
}
export interface MaskBatch {
  kind: 'MASK';
  masks: Mask[];
}
/** A latent remembers the picture VAEDecode would give back (at 8× its size). */
export interface LatentValue {
  kind: 'LATENT';
  width: number;
  height: number;
  images: RgbImage[];
}
export interface ModelValue {
  kind: 'MODEL' | 'CLIP' | 'VAE';
  ckpt: string;
}
export interface ConditioningValue {
  kind: 'CONDITIONING';
  text: string;
  ckpt: string;
}
export type NodeValue = ImageBatch | MaskBatch | LatentValue | ModelValue | ConditioningValue | MediaValue;

/** A preview as the ProgressBar hook receives it: ("JPEG"|"PNG", image, max size or None). */
export interface Preview {
  format: 'JPEG' | 'PNG';
  image: RgbImage;
  maxSize: number | null;
}

export type PreviewMethod = 'none' | 'auto' | 'latent2rgb' | 'taesd';

export interface RunContext {
  nodeId: string;
  promptId: string;
  /** the queued (coerced) prompt, written into saved PNGs like ComfyUI's metadata */
  prompt: PyDict;
  extraData: PyDict;
  folders: Folders;
  previewMethod: PreviewMethod;
  stepMs: number;
  nodeMs: number;
  /** per-node object state that survives between runs, like ComfyUI's object cache */
  state: Record<string, unknown>;
  sleep(ms: number): Promise<void>;
  /** ComfyUI's ProgressBar hook: checks for an interrupt first, then reports */
  progress(value: number, max: number, preview: Preview | null): Promise<void>;
}

export interface NodeRun {
  outputs: NodeValue[];
  /** the node's UI output (becomes `executed.output` and history `outputs`) */
  ui?: Record<string, PyValue[]>;
}

export interface NodeImpl {
  run(ctx: RunContext, inputs: Record<string, unknown>): Promise<NodeRun>;
  /** IS_CHANGED: part of the cache key; `undefined` means "never changes" */
  isChanged?(folders: Folders, inputs: PyDict): string;
}

/** Frames every node error shares (execution.py), copied from o_runtime_error.json. */
const EXEC_FRAMES = [
  '  File "/opt/ComfyUI/execution.py", line 518, in execute\n    output_data, output_ui, has_subgraph, has_pending_tasks = await get_output_data(prompt_id, unique_id, obj, input_data_all, execution_block_cb=execution_block_cb, pre_execute_cb=pre_execute_cb, v3_data=v3_data)\n                                                              ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n',
  '  File "/opt/ComfyUI/execution.py", line 329, in get_output_data\n    return_values = await _async_map_node_over_list(prompt_id, unique_id, obj, input_data_all, obj.FUNCTION, allow_interrupt=True, execution_block_cb=execution_block_cb, pre_execute_cb=pre_execute_cb, v3_data=v3_data)\n                    ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n',
  '  File "/opt/ComfyUI/execution.py", line 303, in _async_map_node_over_list\n    await process_inputs(input_dict, i)\n',
  '  File "/opt/ComfyUI/execution.py", line 291, in process_inputs\n    result = f(**inputs)\n             ^^^^^^^^^^^\n',
];
const LOAD_IMAGE_FRAMES = [
  '  File "/opt/ComfyUI/nodes.py", line 1664, in load_image\n    img = node_helpers.pillow(Image.open, image_path)\n          ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n',
  '  File "/opt/ComfyUI/node_helpers.py", line 31, in pillow\n    x = fn(arg)\n        ^^^^^^^\n',
];
const PIL_OPEN_FRAME = '  File "/opt/python/site-packages/PIL/Image.py", line 3283, in open\n    raise UnidentifiedImageError(msg)\n';
const SAVE_FRAME =
  '  File "/opt/ComfyUI/nodes.py", line 1591, in save_images\n    full_output_folder, filename, counter, subfolder, filename_prefix = folder_paths.get_save_image_path(filename_prefix, self.output_dir, images[0].shape[1], images[0].shape[0])\n                                                                        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n';

function nodeError(type: string, message: string, frames: string[]): PyError {
  return new PyError(type, message, [...EXEC_FRAMES, ...frames]);
}

const images = (v: unknown): RgbImage[] => (v as ImageBatch).images;

/* ------------------------------------------------------------ file helpers */

/** Width/height from the headers of image formats LoadImage accepts but the simulator cannot decode. */
function otherImageSize(buf: Buffer): { width: number; height: number } | undefined {
  if (buf.length > 10 && buf[0] === 0xff && buf[1] === 0xd8) {
    let p = 2;
    while (p + 9 < buf.length) {
      if (buf[p] !== 0xff) return undefined;
      const marker = buf[p + 1];
      const len = buf.readUInt16BE(p + 2);
      if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
        return { height: buf.readUInt16BE(p + 5), width: buf.readUInt16BE(p + 7) };
      }
      p += 2 + len;
    }
    return { width: 64, height: 64 };
  }
  if (buf.length > 10 && buf.toString('latin1', 0, 3) === 'GIF') return { width: buf.readUInt16LE(6), height: buf.readUInt16LE(8) };
  if (buf.length > 30 && buf.toString('latin1', 0, 4) === 'RIFF' && buf.toString('latin1', 8, 12) === 'WEBP') {
    const kind = buf.toString('latin1', 12, 16);
    if (kind === 'VP8L') {
      const b = buf.readUInt32LE(21);
      return { width: (b & 0x3fff) + 1, height: ((b >> 14) & 0x3fff) + 1 };
    }
    if (kind === 'VP8X') return { width: buf.readUIntLE(24, 3) + 1, height: buf.readUIntLE(27, 3) + 1 };
    return { width: buf.readUInt16LE(26) & 0x3fff, height: buf.readUInt16LE(28) & 0x3fff };
  }
  if (buf.length > 26 && buf.toString('latin1', 0, 2) === 'BM')
    return { width: Math.abs(buf.readInt32LE(18)), height: Math.abs(buf.readInt32LE(22)) };
  return undefined;
}

/**
 * LoadImage's body. PNG is decoded for real; JPEG/GIF/WebP/BMP become a mid-grey picture of the
 * right size (the simulator has no decoder for them); anything else fails at run time exactly like
 * PIL in o_runtime_error.json.
 */
function loadImageFile(folders: Folders, name: string): { image: RgbImage; mask: Mask } {
  const path = folders.annotatedPath(name);
  let buf: Buffer;
  try {
    if (!isInside(folders.root, path)) throw Object.assign(new Error('outside'), { code: 'ENOENT' });
    if (statSync(path).isDirectory()) throw nodeError('IsADirectoryError', `[Errno 21] Is a directory: '${path}'\n`, LOAD_IMAGE_FRAMES);
    buf = readFileSync(path);
  } catch (e) {
    if (e instanceof PyError) throw e;
    throw nodeError('FileNotFoundError', `[Errno 2] No such file or directory: '${path}'\n`, LOAD_IMAGE_FRAMES);
  }
  if (isPng(buf)) {
    let png;
    try {
      png = decodePng(buf);
    } catch (e) {
      throw nodeError('OSError', `${(e as Error).message}\n`, LOAD_IMAGE_FRAMES);
    }
    const n = png.width * png.height;
    const rgb = new Uint8Array(n * 3);
    const mask = new Float32Array(png.hasAlpha ? n : 64 * 64);
    for (let p = 0; p < n; p++) {
      rgb[p * 3] = png.rgba[p * 4]!;
      rgb[p * 3 + 1] = png.rgba[p * 4 + 1]!;
      rgb[p * 3 + 2] = png.rgba[p * 4 + 2]!;
      if (png.hasAlpha) mask[p] = 1 - png.rgba[p * 4 + 3] / 255;
    }
    return {
      image: { width: png.width, height: png.height, data: rgb },
      mask: png.hasAlpha ? { width: png.width, height: png.height, data: mask } : { width: 64, height: 64, data: mask },
    };
  }
  const size = otherImageSize(buf);
  if (!size || size.width <= 0 || size.height <= 0) {
    throw nodeError('PIL.UnidentifiedImageError', `cannot identify image file '${path}'\n`, [...LOAD_IMAGE_FRAMES, PIL_OPEN_FRAME]);
  }
  return { image: solidImage(size.width, size.height, 128, 128, 128), mask: { width: 64, height: 64, data: new Float32Array(64 * 64) } };
}

/** PNG text chunks SaveImage writes: "prompt" and each extra_pnginfo key, as JSON. */
function pngMetadata(ctx: RunContext): Array<[string, string]> {
  const texts: Array<[string, string]> = [['prompt', dumpPyJson(ctx.prompt)]];
  const extra = ctx.extraData.extra_pnginfo;
  if (isDict(extra)) for (const [k, v] of Object.entries(extra)) texts.push([k, dumpPyJson(v)]);
  return texts;
}

function saveImages(ctx: RunContext, batch: RgbImage[], prefix: string, type: 'output' | 'temp', level: number): PyDict[] {
  const dir = type === 'output' ? ctx.folders.output : ctx.folders.temp;
  const first = batch[0] ?? { width: 0, height: 0 };
  let target;
  try {
    target = saveImagePath(prefix, dir, first.width, first.height);
  } catch (e) {
    if (e instanceof PyError) throw nodeError(e.type, `${e.message}\n`, [SAVE_FRAME]);
    throw e;
  }
  const results: PyDict[] = [];
  let counter = target.counter;
  batch.forEach((img, index) => {
    const base = target.filename.replace(/%batch_num%/g, String(index));
    const file = `${base}_${String(counter).padStart(5, '0')}_.png`;
    writeFileSync(
      join(target.folder, file),
      encodePng({ width: img.width, height: img.height, channels: 3, data: img.data }, { level, texts: pngMetadata(ctx) }),
    );
    results.push({ filename: file, subfolder: target.subfolder, type });
    counter++;
  });
  return results;
}

/* ------------------------------------------------------------------ nodes */

function hash32(...parts: string[]): number {
  return createHash('sha256').update(parts.join('\u0000')).digest().readUInt32BE(0);
}

/** Seeds can exceed 2^53 (max 2^64-1); fold them into 32 bits for the picture generator. */
function seed32(v: unknown): number {
  const big = typeof v === 'bigint' ? v : BigInt(Math.trunc(toNumber(v)));
  return Number(BigInt.asUintN(32, big ^ (big >> 32n)));
}

const LATENT_GREY: [number, number, number] = [128, 128, 128];

const PREVIEW_CHARS = 'abcdefghijklmnopqrstupvxyz'; // sic: ComfyUI's PreviewImage alphabet

export const NODES: Record<string, NodeImpl> = {
  EmptyImage: {
    async run(ctx, inputs) {
      await ctx.sleep(ctx.nodeMs);
      const [r, g, b] = colorFromInt(toNumber(inputs.color));
      const w = toNumber(inputs.width);
      const h = toNumber(inputs.height);
      const out: RgbImage[] = [];
      for (let i = 0; i < toNumber(inputs.batch_size); i++) out.push(solidImage(w, h, r, g, b));
      return { outputs: [{ kind: 'IMAGE', images: out }] };
    },
  },

  LoadImage: {
    async run(ctx, inputs) {
      await ctx.sleep(ctx.nodeMs);
      const { image, mask } = loadImageFile(ctx.folders, pyStr(inputs.image));
      return {
        outputs: [
          { kind: 'IMAGE', images: [image] },
          { kind: 'MASK', masks: [mask] },
        ],
      };
    },
    isChanged(folders, inputs) {
      try {
        return createHash('sha256')
          .update(readFileSync(folders.annotatedPath(pyStr(inputs.image))))
          .digest('hex');
      } catch {
        return 'missing';
      }
    },
  },

  SaveImage: {
    async run(ctx, inputs) {
      await ctx.sleep(ctx.nodeMs);
      return { outputs: [], ui: { images: saveImages(ctx, images(inputs.images), pyStr(inputs.filename_prefix), 'output', 4) } };
    },
  },

  PreviewImage: {
    async run(ctx, inputs) {
      await ctx.sleep(ctx.nodeMs);
      // The random part is chosen once per node object, so a node that stays in the graph keeps
      // its name and counts up: ComfyUI_temp_abcde_00001_.png, then _00002_.
      if (typeof ctx.state.suffix !== 'string') {
        ctx.state.suffix = Array.from({ length: 5 }, () => PREVIEW_CHARS[randomInt(PREVIEW_CHARS.length)]).join('');
      }
      const prefix = `ComfyUI_temp_${ctx.state.suffix as string}`;
      return { outputs: [], ui: { images: saveImages(ctx, images(inputs.images), prefix, 'temp', 1) } };
    },
  },

  SaveImageWebsocket: {
    async run(ctx, inputs) {
      await ctx.sleep(ctx.nodeMs);
      const batch = images(inputs.images);
      for (let step = 0; step < batch.length; step++)
        await ctx.progress(step, batch.length, { format: 'PNG', image: batch[step], maxSize: null });
      return { outputs: [], ui: {} };
    },
    // IS_CHANGED returns time.time(): never cached
    isChanged: () => `${Date.now()}-${Math.random()}`,
  },

  ImageBlur: {
    async run(ctx, inputs) {
      await ctx.sleep(ctx.nodeMs);
      const radius = toNumber(inputs.blur_radius);
      const sigma = toNumber(inputs.sigma);
      return { outputs: [{ kind: 'IMAGE', images: images(inputs.image).map((img) => blurImage(img, radius, sigma)) }] };
    },
  },

  ImageScale: {
    async run(ctx, inputs) {
      await ctx.sleep(ctx.nodeMs);
      const w = toNumber(inputs.width);
      const h = toNumber(inputs.height);
      const out = images(inputs.image).map((img) => scaleImage(img, w, h, pyStr(inputs.upscale_method), pyStr(inputs.crop)));
      return { outputs: [{ kind: 'IMAGE', images: out }] };
    },
  },

  ImageInvert: {
    async run(ctx, inputs) {
      await ctx.sleep(ctx.nodeMs);
      return { outputs: [{ kind: 'IMAGE', images: images(inputs.image).map(invertImage) }] };
    },
  },

  CheckpointLoaderSimple: {
    async run(ctx, inputs) {
      await ctx.sleep(ctx.nodeMs);
      const ckpt = pyStr(inputs.ckpt_name);
      return {
        outputs: [
          { kind: 'MODEL', ckpt },
          { kind: 'CLIP', ckpt },
          { kind: 'VAE', ckpt },
        ],
      };
    },
  },

  CLIPTextEncode: {
    async run(ctx, inputs) {
      await ctx.sleep(ctx.nodeMs);
      return { outputs: [{ kind: 'CONDITIONING', text: pyStr(inputs.text), ckpt: (inputs.clip as ModelValue).ckpt }] };
    },
  },

  EmptyLatentImage: {
    async run(ctx, inputs) {
      await ctx.sleep(ctx.nodeMs);
      const w = Math.floor(toNumber(inputs.width) / 8);
      const h = Math.floor(toNumber(inputs.height) / 8);
      const batch = toNumber(inputs.batch_size);
      const grey = solidImage(w * 8, h * 8, ...LATENT_GREY);
      return { outputs: [{ kind: 'LATENT', width: w, height: h, images: Array.from({ length: batch }, () => grey) }] };
    },
  },

  VAEEncode: {
    async run(ctx, inputs) {
      await ctx.sleep(ctx.nodeMs);
      // ComfyUI crops the pixels to a multiple of 8 before encoding
      const src = images(inputs.pixels);
      const w = Math.floor((src[0]?.width ?? 8) / 8);
      const h = Math.floor((src[0]?.height ?? 8) / 8);
      const crop = src.map((img) => scaleImage(img, w * 8, h * 8, 'nearest-exact', 'center'));
      return { outputs: [{ kind: 'LATENT', width: w, height: h, images: crop }] };
    },
  },

  /**
   * The sampler: `steps` ticks of `stepMs`, each reported like ComfyUI's latent preview callback
   * (value 1..steps). The result is a deterministic gradient chosen by seed, prompts and settings,
   * blended over the input latent by `denoise`.
   */
  KSampler: {
    async run(ctx, inputs) {
      const latent = inputs.latent_image as LatentValue;
      const steps = toNumber(inputs.steps);
      const pos = inputs.positive as ConditioningValue;
      const neg = inputs.negative as ConditioningValue;
      const model = inputs.model as ModelValue;
      const recipe = hash32(pos.text, neg.text, model.ckpt, pyStr(inputs.cfg), pyStr(inputs.sampler_name), pyStr(inputs.scheduler));
      const base = seed32(inputs.seed);
      const denoise = Math.max(0, Math.min(1, toNumber(inputs.denoise)));
      const targets = latent.images.map((img, i) => seededGradient(img.width, img.height, (base + i) ^ recipe));
      for (let step = 0; step < steps; step++) {
        await ctx.sleep(ctx.stepMs);
        let preview: Preview | null = null;
        if (ctx.previewMethod !== 'none') {
          const t = (denoise * (step + 1)) / steps;
          const full = mixImages(latent.images[0], targets[0], t);
          // latent2rgb (and auto without TAESD models) previews at latent resolution; taesd at full size
          const img = ctx.previewMethod === 'taesd' ? full : scaleImage(full, latent.width, latent.height, 'bilinear', 'disabled');
          preview = { format: 'JPEG', image: img, maxSize: 512 };
        }
        await ctx.progress(step + 1, steps, preview);
      }
      const out = latent.images.map((img, i) => mixImages(img, targets[i], denoise));
      return { outputs: [{ kind: 'LATENT', width: latent.width, height: latent.height, images: out }] };
    },
  },

  VAEDecode: {
    async run(ctx, inputs) {
      await ctx.sleep(ctx.nodeMs);
      return { outputs: [{ kind: 'IMAGE', images: (inputs.samples as LatentValue).images }] };
    },
  },

  ...MEDIA_NODES,
};

/** Values for execution_error.current_inputs: primitives as-is, objects as their Python str(). */
export function formatInputValue(v: unknown): PyValue {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return v;
  if (typeof v === 'object' && 'kind' in v) {
    const k = (v as NodeValue).kind;
    if (k === 'IMAGE') {
      const imgs = (v as ImageBatch).images;
      return `tensor of shape [${imgs.length}, ${imgs[0]?.height ?? 0}, ${imgs[0]?.width ?? 0}, 3]`;
    }
    return `<${k}>`;
  }
  return pyStr(v);
}
