/**
 * Every msg shape our nodes emit, in one place. Each node's help documents the same shapes.
 */
import type { JobResult } from '../client/jobs';
import type { ImageRef } from '../client/outputs';

/** The property every msg of one submission carries. */
export const PROMPT_ID = 'prompt_id';

/** `comfyui-submit`, mode "wait for result": msg.payload. */
export interface SubmitResultPayload extends JobResult {
  number: number;
  /** Output nodes ComfyUI dropped at validation (a 200 answer with node_errors). */
  node_errors: Record<string, unknown>;
}

/** `comfyui-submit`, mode "queued only": msg.payload. */
export interface SubmitQueuedPayload {
  prompt_id: string;
  number: number;
  node_errors: Record<string, unknown>;
}

/** `comfyui-images`: one file reference with the URL it is served at. */
export interface ImageRefWithUrl extends ImageRef {
  url: string;
}

/** `comfyui-images`: msg.parts, so a Join node in automatic mode rebuilds the set. */
export interface ImageParts {
  id: string;
  index: number;
  count: number;
  type: 'array';
  parts?: unknown;
}
