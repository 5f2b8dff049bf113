/**
 * Protocol shapes of a ComfyUI v0.8.0 server, as recorded in shared/transcripts.
 * Shared by the client and the simulator: shapes only, never behaviour, so that a bug in one
 * side's parser cannot hide behind the same bug in the other.
 */

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

/** A node's UI output: media kind → items. The set of kinds is open-ended. */
export type NodeUiOutput = Record<string, unknown[]>;

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
  extra_info?: Record<string, unknown>;
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

export interface PromptRejected {
  error: NodeErrorDetail | string;
  node_errors: Record<NodeId, NodeErrors>;
}

/** `[number, prompt_id, prompt, extra_data, outputs_to_execute]` */
export type QueueItem = [number, string, ApiPrompt, Record<string, unknown>, NodeId[]];

export interface QueueState {
  queue_running: QueueItem[];
  queue_pending: QueueItem[];
}

export type HistoryMessage = [string, Record<string, unknown>];

export interface HistoryEntry {
  prompt: QueueItem;
  outputs: Record<NodeId, NodeUiOutput>;
  status: { status_str: 'success' | 'error'; completed: boolean; messages: HistoryMessage[] };
  meta: Record<NodeId, { node_id: NodeId; display_node: NodeId; parent_node: NodeId | null; real_node_id: NodeId }>;
}

export type HistoryMap = Record<string, HistoryEntry>;

export interface FeatureFlags {
  supports_preview_metadata?: boolean;
  max_upload_size?: number;
  extension?: Record<string, unknown>;
  [flag: string]: unknown;
}

export interface UploadResult {
  name: string;
  subfolder: string;
  type: ResultType;
}

/* ---------------- WebSocket text messages (server → client) ---------------- */

export interface StatusData {
  status: { exec_info: { queue_remaining: number } };
  /** only on the first message of a new socket */
  sid?: string;
}
export interface ExecutionStartData {
  prompt_id: string;
  timestamp: number;
}
export interface ExecutionCachedData {
  nodes: NodeId[];
  prompt_id: string;
  timestamp: number;
}
/** `node: null` with a prompt_id ends the prompt; `node` alone (no prompt_id) is the reconnect notice. */
export interface ExecutingData {
  node: NodeId | null;
  display_node?: NodeId;
  prompt_id?: string;
}
export interface ExecutedData {
  node: NodeId;
  display_node: NodeId;
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
  state: 'pending' | 'running' | 'finished' | 'error';
  node_id: NodeId;
  prompt_id: string;
  display_node_id: NodeId;
  parent_node_id: NodeId | null;
  real_node_id: NodeId;
}
export interface ProgressStateData {
  prompt_id: string;
  nodes: Record<NodeId, NodeProgressState>;
}
export interface ExecutionSuccessData {
  prompt_id: string;
  timestamp: number;
}
export interface ExecutionErrorData {
  prompt_id: string;
  node_id: NodeId;
  node_type: string;
  executed: NodeId[];
  exception_message: string;
  exception_type: string;
  traceback: string[];
  current_inputs: Record<string, unknown[]> | unknown[];
  current_outputs: unknown[];
  timestamp?: number;
}
export interface ExecutionInterruptedData {
  prompt_id: string;
  node_id: NodeId;
  node_type: string;
  executed: NodeId[];
  timestamp: number;
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
  display_node_id: NodeId;
  parent_node_id: NodeId | null;
  real_node_id: NodeId;
  image_type: string;
}

/* ---------------- Info routes ---------------- */

export interface SystemStats {
  system: {
    os: string;
    ram_total: number;
    ram_free: number;
    comfyui_version: string | null;
    python_version: string;
    pytorch_version: string;
    embedded_python: boolean;
    argv: string[];
    [key: string]: unknown;
  };
  devices: Array<{
    name: string;
    type: string;
    index: number | null;
    vram_total: number;
    vram_free: number;
    torch_vram_total: number;
    torch_vram_free: number;
  }>;
}

/** One node class as GET /object_info describes it. */
export interface ObjectInfo {
  input: { required?: Record<string, unknown[]>; optional?: Record<string, unknown[]>; hidden?: Record<string, unknown> };
  input_order?: { required?: string[]; optional?: string[]; hidden?: string[] };
  output: string[];
  output_is_list: boolean[];
  output_name: string[];
  name: string;
  display_name: string;
  description: string;
  python_module: string;
  category: string;
  output_node: boolean;
  [key: string]: unknown;
}
