/**
 * The boundary for WebSocket messages: one reader per event type turns a frame's `data` into the
 * typed value of types.ts, or throws a ShapeError naming the field. Readers build fresh objects
 * from the fields they know, so nothing past here meets a field of the wrong type or a hostile
 * extra (an object with a throwing `toString`, a 10 000-deep list). History entries record the
 * same execution messages; outputs.ts reads them with these readers too.
 */
import {
  finite,
  flag,
  json,
  map,
  nodeId,
  nodeIdList,
  nodeIdOrNull,
  optionalFinite,
  optionalNodeId,
  optionalText,
  record,
  text,
  textList,
} from './shape';
import type {
  ExecutedData,
  ExecutingData,
  ExecutionCachedData,
  ExecutionErrorData,
  ExecutionInterruptedData,
  ExecutionStartData,
  ExecutionSuccessData,
  FeatureFlags,
  NodeProgressState,
  NodeUiOutput,
  PreviewMetadata,
  ProgressData,
  ProgressStateData,
  ServerMessage,
  ServerMessageMap,
  ServerMessageType,
  StatusData,
} from './types';

type Reader<T> = (data: unknown) => T;

function readStatus(data: unknown): StatusData {
  const d = record(data, 'data');
  const execInfo = record(record(d.status, 'data.status').exec_info, 'data.status.exec_info');
  const status: StatusData = {
    status: { exec_info: { queue_remaining: finite(execInfo.queue_remaining, 'data.status.exec_info.queue_remaining') } },
  };
  const sid = optionalText(d.sid, 'data.sid');
  if (sid !== undefined) status.sid = sid;
  return status;
}

/** `out` with the message's `timestamp` when it has one (ms epoch; some builds leave it out). */
function withTimestamp<T extends { timestamp?: number }>(out: T, d: Record<string, unknown>): T {
  const timestamp = optionalFinite(d.timestamp, 'data.timestamp');
  if (timestamp !== undefined) out.timestamp = timestamp;
  return out;
}

function readStarted(data: unknown): ExecutionStartData | ExecutionSuccessData {
  const d = record(data, 'data');
  return withTimestamp<ExecutionStartData>({ prompt_id: text(d.prompt_id, 'data.prompt_id') }, d);
}

export function readExecutionCached(data: unknown): ExecutionCachedData {
  const d = record(data, 'data');
  return withTimestamp<ExecutionCachedData>(
    { nodes: nodeIdList(d.nodes, 'data.nodes'), prompt_id: text(d.prompt_id, 'data.prompt_id') },
    d,
  );
}

function readExecuting(data: unknown): ExecutingData {
  const d = record(data, 'data');
  const out: ExecutingData = { node: nodeIdOrNull(d.node, 'data.node') };
  const display = optionalNodeId(d.display_node, 'data.display_node');
  if (display !== undefined) out.display_node = display;
  const promptId = optionalText(d.prompt_id, 'data.prompt_id');
  if (promptId !== undefined) out.prompt_id = promptId;
  return out;
}

/** A node's UI output: an object of media kind → anything (lists of file refs, usually). */
export function readNodeOutput(value: unknown, field: string): NodeUiOutput {
  return map(value, field, json);
}

function readExecuted(data: unknown): ExecutedData {
  const d = record(data, 'data');
  const out: ExecutedData = {
    node: nodeId(d.node, 'data.node'),
    output: d.output === null || d.output === undefined ? null : readNodeOutput(d.output, 'data.output'),
    prompt_id: text(d.prompt_id, 'data.prompt_id'),
  };
  const display = optionalNodeId(d.display_node, 'data.display_node');
  if (display !== undefined) out.display_node = display;
  return out;
}

function readProgress(data: unknown): ProgressData {
  const d = record(data, 'data');
  return {
    value: finite(d.value, 'data.value'),
    max: finite(d.max, 'data.max'),
    prompt_id: text(d.prompt_id, 'data.prompt_id'),
    node: nodeIdOrNull(d.node, 'data.node'),
  };
}

function readNodeState(value: unknown, field: string): NodeProgressState {
  const n = record(value, field);
  const out: NodeProgressState = {
    value: finite(n.value, `${field}.value`),
    max: finite(n.max, `${field}.max`),
    state: text(n.state, `${field}.state`),
  };
  const nodeIdValue = optionalNodeId(n.node_id, `${field}.node_id`);
  if (nodeIdValue !== undefined) out.node_id = nodeIdValue;
  const promptId = optionalText(n.prompt_id, `${field}.prompt_id`);
  if (promptId !== undefined) out.prompt_id = promptId;
  const display = optionalNodeId(n.display_node_id, `${field}.display_node_id`);
  if (display !== undefined) out.display_node_id = display;
  if (n.parent_node_id !== undefined) out.parent_node_id = nodeIdOrNull(n.parent_node_id, `${field}.parent_node_id`);
  const real = optionalNodeId(n.real_node_id, `${field}.real_node_id`);
  if (real !== undefined) out.real_node_id = real;
  return out;
}

function readProgressState(data: unknown): ProgressStateData {
  const d = record(data, 'data');
  return { prompt_id: text(d.prompt_id, 'data.prompt_id'), nodes: map(d.nodes, 'data.nodes', readNodeState) };
}

/** What execution_error and execution_interrupted both say: which prompt stopped where, and what had run. */
function readStopped(d: Record<string, unknown>): ExecutionInterruptedData {
  return withTimestamp<ExecutionInterruptedData>(
    {
      prompt_id: text(d.prompt_id, 'data.prompt_id'),
      node_id: nodeId(d.node_id, 'data.node_id'),
      node_type: text(d.node_type, 'data.node_type'),
      executed: d.executed === undefined ? [] : nodeIdList(d.executed, 'data.executed'),
    },
    d,
  );
}

export function readExecutionError(data: unknown): ExecutionErrorData {
  const d = record(data, 'data');
  return {
    ...readStopped(d),
    exception_message: text(d.exception_message, 'data.exception_message'),
    exception_type: text(d.exception_type, 'data.exception_type'),
    traceback: d.traceback === undefined ? [] : textList(d.traceback, 'data.traceback'),
    current_inputs: d.current_inputs === undefined ? {} : json(d.current_inputs, 'data.current_inputs'),
    current_outputs: d.current_outputs === undefined ? [] : json(d.current_outputs, 'data.current_outputs'),
  };
}

export function readExecutionInterrupted(data: unknown): ExecutionInterruptedData {
  return readStopped(record(data, 'data'));
}

/** GET /features and the feature_flags reply: open-ended, with the two flags the client reads typed. */
export function readFeatureFlags(data: unknown, field = 'data'): FeatureFlags {
  const flags = map(data, field, json) as FeatureFlags;
  if (flags.supports_preview_metadata !== undefined) flag(flags.supports_preview_metadata, `${field}.supports_preview_metadata`);
  if (flags.max_upload_size !== undefined) finite(flags.max_upload_size, `${field}.max_upload_size`);
  return flags;
}

const READERS: { [K in ServerMessageType]: Reader<ServerMessageMap[K]> } = {
  status: readStatus,
  execution_start: readStarted,
  execution_cached: readExecutionCached,
  executing: readExecuting,
  executed: readExecuted,
  progress: readProgress,
  progress_state: readProgressState,
  execution_success: readStarted,
  execution_error: readExecutionError,
  execution_interrupted: readExecutionInterrupted,
  feature_flags: (data) => readFeatureFlags(data),
};

/** Whether `type` is one of the events ComfyUI itself sends (custom nodes send others). */
export function isKnownType(type: string): type is ServerMessageType {
  return Object.prototype.hasOwnProperty.call(READERS, type);
}

/** The typed message; throws ShapeError when `data` does not fit the type. */
export function readMessage(type: ServerMessageType, data: unknown): ServerMessage {
  const reader = READERS[type] as Reader<ServerMessage['data']>;
  return { type, data: reader(data) } as ServerMessage;
}

/** Type-4 preview metadata: which prompt and node an image belongs to. */
export function readPreviewMetadata(value: unknown): PreviewMetadata {
  const m = record(value, 'metadata');
  const out: PreviewMetadata = { node_id: nodeId(m.node_id, 'metadata.node_id'), prompt_id: text(m.prompt_id, 'metadata.prompt_id') };
  const display = optionalNodeId(m.display_node_id, 'metadata.display_node_id');
  if (display !== undefined) out.display_node_id = display;
  if (m.parent_node_id !== undefined) out.parent_node_id = nodeIdOrNull(m.parent_node_id, 'metadata.parent_node_id');
  const real = optionalNodeId(m.real_node_id, 'metadata.real_node_id');
  if (real !== undefined) out.real_node_id = real;
  const imageType = optionalText(m.image_type, 'metadata.image_type');
  if (imageType !== undefined) out.image_type = imageType;
  return out;
}
