/**
 * Every msg shape our nodes emit, in one place. Each node's help documents the same shapes.
 */
import type { NodeMessage } from 'node-red';
import type { CancelOutcome, QueueSummary } from '../client/client';
import type { JobResult } from '../client/jobs';
import type { ImageRef, PromptSummary } from '../client/outputs';
import type { QueuePosition } from '../client/queue-positions';
import type { OutputKind } from '../client/output-kinds';
import type { ApiPrompt, UploadResult } from '../client/types';
import type { NodeProblem } from '../client/validation';

/** The property every msg of one submission carries. */
export const PROMPT_ID = 'prompt_id';

/** `comfyui-submit`, mode "wait for result": msg.payload. */
export interface SubmitResultPayload extends JobResult {
  number: number;
  /** Output nodes ComfyUI dropped at validation (a 200 answer with node_errors). */
  node_errors: Record<string, unknown>;
  /** Each override key as given (Overrides rows and msg.inputs) → the ids of the nodes it set: a class names all its nodes. */
  overrides: Record<string, string[]>;
}

/** `comfyui-submit`, mode "queued only": msg.payload. */
export interface SubmitQueuedPayload {
  prompt_id: string;
  number: number;
  node_errors: Record<string, unknown>;
  /** As in SubmitResultPayload. */
  overrides: Record<string, string[]>;
}

/** `comfyui-submit`, dry run (nothing queued): msg.payload. */
export interface SubmitDryRunPayload {
  /** The API prompt exactly as it would have been queued (seeds, override rows and msg.inputs applied). */
  prompt: ApiPrompt;
  /** What ComfyUI would refuse it for, checked against its node definitions; empty when clean. */
  problems: NodeProblem[];
}

/** `comfyui-images`: one file reference with the URL it is served at. */
export interface ImageRefWithUrl extends ImageRef {
  url: string;
}

/** `comfyui-images`: msg.image for an output whose content travels in the msg (a text, an image sent over the WebSocket). */
export interface OutputDescription {
  node: string;
  /** The node's UI output key (`text`), or `websocket`. */
  key: string;
  kind: OutputKind;
  index: number;
  filename: string;
  source?: 'websocket';
  contentType?: string;
}

/** `comfyui-images`: msg.parts, so a Join node in automatic mode rebuilds the set. */
export interface ImageParts {
  id: string;
  index: number;
  count: number;
  type: 'array';
  parts?: unknown;
}

/* ---- comfyui-free ---- */

/** msg.payload of `comfyui-free`: the request as sent. */
export interface FreePayload {
  unload_models: boolean;
  free_memory: boolean;
}

/* ---- comfyui-history ---- */

/**
 * msg.payload of `comfyui-history`: get → an array of summaries (oldest first); get with
 * msg.prompt_id → one summary, or null when ComfyUI has no entry for it; delete → the ids asked
 * for; clear → `{ cleared: true }`.
 */
export type HistoryPayload = PromptSummary[] | PromptSummary | null | { deleted: string[] } | { cleared: true };

/* ---- comfyui-interrupt ---- */

/** msg.payload of `comfyui-interrupt`. */
export interface InterruptPayload {
  outcome: CancelOutcome;
  /** The prompt concerned; null when nothing was running (outcome "idle"). */
  prompt_id: string | null;
}

/* ---- comfyui-queue ---- */

/** msg.payload of `comfyui-queue`; `deleted` and `ignored` only for the delete action. */
export interface QueuePayload extends QueueSummary {
  /** Pending prompts that were removed from the queue. */
  deleted?: string[];
  /** Ids that were not pending (running, finished or unknown) and were left alone. */
  ignored?: string[];
}

/* ---- comfyui-upload ---- */

/** `comfyui-upload`: msg.payload, ComfyUI's answer. */
export type UploadPayload = UploadResult;

/* ---- comfyui-progress ---- */

/** The event types a progress node can send (msg.topic). */
export const PROGRESS_EVENT_TYPES = [
  'execution_start',
  'execution_cached',
  'executing',
  'progress',
  'progress_state',
  'executed',
  'execution_success',
  'execution_error',
  'execution_interrupted',
  'status',
  'preview',
  'queue_position',
] as const;
export type ProgressEventType = (typeof PROGRESS_EVENT_TYPES)[number];

/**
 * `queue_position`: msg.payload, made by this package (ComfyUI has no such event) from its queue
 * each time a waiting prompt of this server configuration moves; position 1 is the next to run.
 */
export type QueuePositionPayload = QueuePosition;

/** The msg `comfyui-progress` sends (documented in its help). */
export interface ProgressMsg extends NodeMessage {
  /** The ComfyUI event type, e.g. `progress`; `preview` for binary preview images. */
  topic: ProgressEventType;
  /** The event's data as ComfyUI sent it; the image bytes for `preview`; a QueuePositionPayload for `queue_position`. */
  payload: unknown;
  prompt_id?: string;
  /** With a pool: the member server the event came from. */
  server?: string;
  /** The node as ComfyUI's editor shows it (display node id). */
  node?: string;
  /** `_meta.title` of that node, else its class_type (prompts submitted through this server config). */
  title?: string;
  /** `progress`: value / max in percent. */
  percent?: number;
  /** Percent of the whole prompt done, from ComfyUI's progress_state (prompts submitted here). */
  overall?: number;
  /** `preview`: image/jpeg or image/png. */
  contentType?: string;
}
