/**
 * Protocol shapes of a ComfyUI v0.8.0 server, as recorded in shared/transcripts: the types the
 * boundary (event-shapes.ts, answer-shapes.ts) reads frames and answers into. The simulator keeps
 * its own, so that a bug in one side's parser cannot hide behind the same bug in the other.
 */
import type { Json } from './shape';

/** A JSON value as JSON.parse makes it (bounded in depth by the boundary). */
export type { Json };

/** Node ids are strings everywhere, even when they look numeric ("3", "12:5"). */
export type NodeId = string;

/** A link from one node's output slot to another node's input: `["4", 0]`. */
export type Link = [NodeId, number];

export interface PromptNode {
  class_type: string;
  inputs: Record<string, unknown>;
  _meta?: { title?: string };
}

/** An API-format workflow: node id → node. */
export type ApiPrompt = Record<NodeId, PromptNode>;

export type ResultType = 'output' | 'temp' | 'input';

/** GET /view?preview=<format>;<quality>: ComfyUI re-encodes an image (JPEG works on every build). */
export interface ViewPreview {
  format: 'jpeg' | 'webp';
  quality: number;
}

/** A file a node saved or previewed; the three fields are exactly what GET /view takes. */
export interface ResultItem {
  filename: string;
  subfolder: string;
  type: ResultType;
}

/** A node's UI output: media kind → items (usually a list). The set of kinds is open-ended. */
export type NodeUiOutput = Record<string, Json>;

export interface PromptRequest {
  prompt: ApiPrompt;
  client_id?: string;
  prompt_id?: string;
  number?: number;
  front?: boolean;
  extra_data?: Record<string, unknown>;
  partial_execution_targets?: NodeId[];
}

export interface NodeErrorDetail {
  type: string;
  message: string;
  details: string;
  extra_info?: Record<string, Json>;
}

export interface NodeErrors {
  errors: NodeErrorDetail[];
  dependent_outputs: NodeId[];
  class_type: string;
}

export interface PromptAccepted {
  prompt_id: string;
  number: number;
  node_errors: Record<NodeId, NodeErrors>;
}

/** The 400 answer to POST /prompt. */
export interface PromptRejected {
  error: NodeErrorDetail | string;
  node_errors: Record<NodeId, NodeErrors>;
}

/** What the client keeps of a queue item `[number, prompt_id, prompt, extra_data, outputs_to_execute]`. */
export interface QueuedPrompt {
  number: number;
  prompt_id: string;
  /** extra_data.client_id: the socket that submitted it. */
  client_id?: string;
  /** The workflow's fingerprint (workflow-fingerprint.ts), for ETAs; undefined when the item holds no prompt. */
  fingerprint?: string;
}

export interface QueueState {
  queue_running: QueuedPrompt[];
  queue_pending: QueuedPrompt[];
}

/** The execution messages a history entry records, as typed as their WebSocket twins; others by name only. */
export type HistoryMessage =
  | { type: 'execution_error'; data: ExecutionErrorData }
  | { type: 'execution_interrupted'; data: ExecutionInterruptedData }
  | { type: 'execution_cached'; data: ExecutionCachedData }
  | { type: 'execution_success' }
  | { type: 'other'; name: string };

export interface HistoryEntry {
  /** From the queue item: its number and the prompt as ComfyUI ran it (for titles and node counts). */
  number: number;
  prompt: ApiPrompt | undefined;
  outputs: Record<NodeId, NodeUiOutput>;
  status: { status_str: string; completed: boolean; messages: HistoryMessage[] };
}

export interface FeatureFlags {
  supports_preview_metadata?: boolean;
  max_upload_size?: number;
  [flag: string]: Json | undefined;
}

export interface UploadResult {
  name: string;
  subfolder: string;
  type: ResultType;
}

/* ---------------- WebSocket text messages (server → client) ---------------- */
/* What the boundary (event-shapes.ts) admits: the recorded shapes, with fields that some builds
   leave out marked optional. Open-ended parts are bounded JSON. */

export interface StatusData {
  status: { exec_info: { queue_remaining: number } };
  /** only on the first message of a new socket */
  sid?: string;
}
export interface ExecutionStartData {
  prompt_id: string;
  timestamp?: number;
}
export interface ExecutionCachedData {
  nodes: NodeId[];
  prompt_id: string;
  timestamp?: number;
}
/** `node: null` with a prompt_id ends the prompt; `node` alone (no prompt_id) is the reconnect notice. */
export interface ExecutingData {
  node: NodeId | null;
  display_node?: NodeId;
  prompt_id?: string;
}
export interface ExecutedData {
  node: NodeId;
  display_node?: NodeId;
  output: NodeUiOutput | null;
  prompt_id: string;
}
export interface ProgressData {
  value: number;
  max: number;
  prompt_id: string;
  node: NodeId | null;
}
export interface NodeProgressState {
  value: number;
  max: number;
  /** running or finished on v0.8.0; the schema also names pending and error. */
  state: string;
  node_id?: NodeId;
  prompt_id?: string;
  display_node_id?: NodeId;
  parent_node_id?: NodeId | null;
  real_node_id?: NodeId;
}
export interface ProgressStateData {
  prompt_id: string;
  nodes: Record<NodeId, NodeProgressState>;
}
export interface ExecutionSuccessData {
  prompt_id: string;
  timestamp?: number;
}
export interface ExecutionErrorData {
  prompt_id: string;
  node_id: NodeId;
  node_type: string;
  executed: NodeId[];
  exception_message: string;
  exception_type: string;
  traceback: string[];
  current_inputs: Json;
  current_outputs: Json;
  timestamp?: number;
}
export interface ExecutionInterruptedData {
  prompt_id: string;
  node_id: NodeId;
  node_type: string;
  executed: NodeId[];
  timestamp?: number;
}

export interface ServerMessageMap {
  status: StatusData;
  execution_start: ExecutionStartData;
  execution_cached: ExecutionCachedData;
  executing: ExecutingData;
  executed: ExecutedData;
  progress: ProgressData;
  progress_state: ProgressStateData;
  execution_success: ExecutionSuccessData;
  execution_error: ExecutionErrorData;
  execution_interrupted: ExecutionInterruptedData;
  feature_flags: FeatureFlags;
}

export type ServerMessageType = keyof ServerMessageMap;

export type ServerMessage = {
  [K in ServerMessageType]: { type: K; data: ServerMessageMap[K] };
}[ServerMessageType];

/* ---------------- WebSocket binary frames ---------------- */

/** The u32 big-endian event type that starts every binary frame. */
export const BinaryEventType = {
  PREVIEW_IMAGE: 1,
  TEXT: 3,
  PREVIEW_IMAGE_WITH_METADATA: 4,
} as const;

/** The u32 format word of a type-1 preview. */
export const PreviewImageFormat = { JPEG: 1, PNG: 2 } as const;

export interface PreviewMetadata {
  node_id: NodeId;
  prompt_id: string;
  display_node_id?: NodeId;
  parent_node_id?: NodeId | null;
  real_node_id?: NodeId;
  image_type?: string;
}

/* ---------------- Info routes ---------------- */

/** GET /system_stats: passed on whole; `system` and `devices` are what every build has. */
export interface SystemStats {
  system: { [key: string]: Json };
  /** One entry on v0.8.0; older builds may leave the list out. */
  devices?: Json[];
  [key: string]: Json | undefined;
}

/** One node class as GET /object_info describes it: passed on whole to the editor and to flows. */
export type ObjectInfo = Record<string, Json>;
