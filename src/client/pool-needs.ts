/**
 * What a prompt needs from a server of a pool, and what a server lacks of it, read from the
 * server's node definitions (GET /object_info, src/client/node-definitions.ts). Pure: no I/O.
 *
 * The rule for "model file": an input value that is a string, given to an input whose definition
 * is a list of choices (COMBO), and that either
 *   - ends in a model file extension (MODEL_EXTENSIONS: .safetensors, .ckpt, .pt, .pth, .bin,
 *     .gguf, .sft, .onnx), or
 *   - is given to an input named like ComfyUI's model loaders name theirs (`ckpt_name`,
 *     `lora_name`, `vae_name`, `unet_name`, `clip_name`, `control_net_name`, `model_name`, …:
 *     MODEL_INPUT), whatever its extension (a diffusers folder has none).
 * Other combos (sampler names, uploaded images, …) are not routing criteria: they are the same on
 * every server of one ComfyUI version, or (an input image) belong to whoever uploaded them, and
 * ComfyUI's own validation reports them.
 */
import type { NodeDefinition } from './node-definitions';
import type { ApiPrompt } from './types';

export const MODEL_EXTENSIONS = ['.safetensors', '.ckpt', '.pt', '.pth', '.bin', '.gguf', '.sft', '.onnx'];

/** The inputs of ComfyUI's loaders that name a file of a model folder (checkpoints, loras, vae, unet, clip, controlnet, upscale, …). */
const MODEL_INPUT =
  /^(ckpt|lora|vae|unet|clip\d?|control_net|controlnet|model|upscale_model|style_model|gligen|hypernetwork|clip_vision|config)_name$/;

export interface ModelFileNeed {
  /** The node of the prompt that names it, for the message. */
  node: string;
  classType: string;
  input: string;
  file: string;
}

export interface PromptNeeds {
  /** Every class_type of the prompt, once each, in prompt order. */
  classes: string[];
  /** Candidate model file values; whether each really is one is decided against a server's definitions. */
  values: ModelFileNeed[];
}

/** The classes and string input values of a prompt (links and non-strings are not files). */
export function needsOf(prompt: ApiPrompt): PromptNeeds {
  const classes = new Set<string>();
  const values: ModelFileNeed[] = [];
  for (const [node, entry] of Object.entries(prompt)) {
    classes.add(entry.class_type);
    for (const [input, value] of Object.entries(entry.inputs ?? {})) {
      if (typeof value === 'string') values.push({ node, classType: entry.class_type, input, file: value });
    }
  }
  return { classes: [...classes], values };
}

export function looksLikeModelFile(input: string, value: string): boolean {
  const lower = value.toLowerCase();
  return MODEL_INPUT.test(input) || MODEL_EXTENSIONS.some((extension) => lower.endsWith(extension));
}

/** What a server lacks to run the prompt: missing classes, then missing model files; empty when it has all. */
export function missingOn(needs: PromptNeeds, definitions: ReadonlyMap<string, NodeDefinition>): string[] {
  const missing: string[] = [];
  for (const name of needs.classes) if (!definitions.has(name)) missing.push(`node class ${name}`);
  const files = new Set<string>();
  for (const need of needs.values) {
    const choices = definitions.get(need.classType)?.inputs.find((input) => input.name === need.input && input.type === 'COMBO')?.choices;
    if (!choices || !looksLikeModelFile(need.input, need.file)) continue;
    if (!choices.includes(need.file)) files.add(need.file);
  }
  for (const file of files) missing.push(`model file ${file}`);
  return missing;
}
