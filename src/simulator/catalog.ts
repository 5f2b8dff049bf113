/**
 * The node classes the simulator knows: their object_info (verbatim from the real server), which
 * of them are output nodes, what they return, and which inputs their own validator checks.
 * How each class *runs* lives in nodes.ts.
 */
import { CATALOG_JSON } from './catalog-data';
import { Folders } from './files';
import { PyDict, PyValue, deepCopy, hasKey, isDict, parsePyJson } from './pyjson';

/**
 * Checkpoint names offered by CheckpointLoaderSimple and GET /models/checkpoints. The recording
 * server had no models, so these are invented; they are the file names of the stock ComfyUI
 * workflows (and of this package's examples), so exported workflows validate unchanged.
 */
export const FAKE_CHECKPOINTS = ['sd_xl_base_1.0.safetensors', 'v1-5-pruned-emaonly-fp16.safetensors', 'v1-5-pruned-emaonly.safetensors'];

/** The model folder keys of GET /models, in the recorded order. */
export const MODEL_FOLDERS = [
  'checkpoints',
  'configs',
  'loras',
  'vae',
  'text_encoders',
  'diffusion_models',
  'clip_vision',
  'style_models',
  'embeddings',
  'diffusers',
  'vae_approx',
  'controlnet',
  'gligen',
  'upscale_models',
  'latent_upscale_models',
  'custom_nodes',
  'hypernetworks',
  'photomaker',
  'classifiers',
  'model_patches',
  'audio_encoders',
];

/** One input declaration: `[type_or_options, options?]`. */
export interface InputSpec {
  type: PyValue;
  extra: PyDict;
  category: 'required' | 'optional';
}

export class Catalog {
  private readonly defs: PyDict;

  /** `checkpoints`: the files this instance offers (a pool's servers may hold different models). */
  constructor(
    private readonly folders: Folders,
    readonly checkpoints: readonly string[] = FAKE_CHECKPOINTS,
  ) {
    const parsed = parsePyJson(CATALOG_JSON);
    if (!isDict(parsed)) throw new Error('catalog data is not an object');
    this.defs = parsed;
  }

  has(cls: string): boolean {
    return hasKey(this.defs, cls);
  }

  names(): string[] {
    return Object.keys(this.defs);
  }

  /** One class's object_info entry, with its file combos filled in right now. */
  info(cls: string): PyDict {
    const def = deepCopy(this.defs[cls] as PyDict);
    const required = (def.input as PyDict).required as PyDict;
    if (cls === 'LoadImage') (required.image as PyValue[])[0] = this.folders.inputImages();
    if (cls === 'CheckpointLoaderSimple') (required.ckpt_name as PyValue[])[0] = [...this.checkpoints];
    return def;
  }

  /** GET /object_info */
  all(): PyDict {
    const out: PyDict = {};
    for (const cls of this.names()) out[cls] = this.info(cls);
    return out;
  }

  isOutputNode(cls: string): boolean {
    return (this.defs[cls] as PyDict).output_node === true;
  }

  returnTypes(cls: string): PyValue[] {
    return (this.defs[cls] as PyDict).output as PyValue[];
  }

  /** INPUT_TYPES() required + optional, as the validator walks them (declaration order). */
  inputs(cls: string): Map<string, InputSpec> {
    const input = this.info(cls).input as PyDict;
    const out = new Map<string, InputSpec>();
    for (const category of ['required', 'optional'] as const) {
      const group = input[category];
      if (!isDict(group)) continue;
      for (const [name, spec] of Object.entries(group)) {
        if (out.has(name)) continue;
        const arr = spec as PyValue[];
        const extra = arr.length > 1 && isDict(arr[1]) ? arr[1] : {};
        out.set(name, { type: arr[0] ?? null, extra, category });
      }
    }
    return out;
  }

  /**
   * Argument names of the class's VALIDATE_INPUTS (inspect.getfullargspec keeps the `s` of the
   * classmethod). Inputs named here skip the min/max/list checks, which is why LoadImage reports
   * `custom_validation_failed` instead of `value_not_in_list`.
   */
  validateFunctionInputs(cls: string): string[] {
    return cls === 'LoadImage' ? ['s', 'image'] : [];
  }
}
