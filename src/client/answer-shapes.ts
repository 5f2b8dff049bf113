/**
 * The boundary for REST answers: one reader per route turns a parsed JSON body into the typed
 * value of types.ts, or throws a ShapeError naming the field; http.ts turns that into BAD_RESPONSE
 * naming the route. Lookups in maps keyed by prompt id go by own keys only, so an id such as
 * "constructor" never finds Object.prototype's members.
 */
import { readExecutionCached, readExecutionError, readExecutionInterrupted, readNodeOutput } from './event-shapes';
import { fileNameProblem, subfolderProblem } from './file-names';
import { workflowFingerprint } from './workflow-fingerprint';
import { isRecord, finite, flag, json, list, map, nodeIdList, own, record, ShapeError, text, textList } from './shape';
import type {
  HistoryEntry,
  HistoryMessage,
  NodeErrorDetail,
  NodeErrors,
  ObjectInfo,
  PromptAccepted,
  PromptNode,
  PromptRejected,
  QueuedPrompt,
  QueueState,
  ResultType,
  SystemStats,
  UploadResult,
} from './types';

const RESULT_TYPES: readonly ResultType[] = ['output', 'temp', 'input'];

function readErrorDetail(value: unknown, field: string): NodeErrorDetail {
  const e = record(value, field);
  const out: NodeErrorDetail = {
    type: text(e.type, `${field}.type`),
    message: text(e.message, `${field}.message`),
    details: e.details === undefined ? '' : text(e.details, `${field}.details`),
  };
  if (e.extra_info !== undefined && e.extra_info !== null) out.extra_info = map(e.extra_info, `${field}.extra_info`, json);
  return out;
}

function readNodeErrors(value: unknown, field: string): NodeErrors {
  const n = record(value, field);
  return {
    errors: list(n.errors, `${field}.errors`, readErrorDetail),
    dependent_outputs: n.dependent_outputs === undefined ? [] : nodeIdList(n.dependent_outputs, `${field}.dependent_outputs`),
    class_type: n.class_type === undefined ? '' : text(n.class_type, `${field}.class_type`),
  };
}

/** POST /prompt, 200. */
export function readPromptAccepted(body: unknown): PromptAccepted {
  const b = record(body, 'body');
  return {
    prompt_id: text(b.prompt_id, 'prompt_id'),
    number: finite(b.number, 'number'),
    node_errors: b.node_errors === undefined ? {} : map(b.node_errors, 'node_errors', readNodeErrors),
  };
}

/** POST /prompt, 400: the validation answer, or undefined when the body is not one (a proxy's page). */
export function readPromptRejected(body: unknown): PromptRejected | undefined {
  if (!isRecord(body)) return undefined;
  try {
    const error = typeof body.error === 'string' ? body.error : readErrorDetail(body.error, 'error');
    return { error, node_errors: body.node_errors === undefined ? {} : map(body.node_errors, 'node_errors', readNodeErrors) };
  } catch (err) {
    if (err instanceof ShapeError) return undefined;
    throw err;
  }
}

function readQueuedPrompt(value: unknown, field: string): QueuedPrompt {
  if (!Array.isArray(value) || value.length < 2) throw new ShapeError(field, 'a queue item [number, prompt_id, …]', value);
  const item: QueuedPrompt = { number: finite(value[0], `${field}[0]`), prompt_id: text(value[1], `${field}[1]`) };
  const extra: unknown = value[3];
  if (isRecord(extra) && typeof extra.client_id === 'string') item.client_id = extra.client_id;
  // Read leniently: a prompt the fingerprint cannot use costs an ETA, never the queue answer.
  const fingerprint = workflowFingerprint(value[2]);
  if (fingerprint !== undefined) item.fingerprint = fingerprint;
  return item;
}

/** GET /queue */
export function readQueue(body: unknown): QueueState {
  const b = record(body, 'body');
  return {
    queue_running: b.queue_running === undefined ? [] : list(b.queue_running, 'queue_running', readQueuedPrompt),
    queue_pending: b.queue_pending === undefined ? [] : list(b.queue_pending, 'queue_pending', readQueuedPrompt),
  };
}

function readPromptNode(value: unknown, field: string): PromptNode {
  const n = record(value, field);
  const node: PromptNode = { class_type: text(n.class_type, `${field}.class_type`), inputs: map(n.inputs ?? {}, `${field}.inputs`, json) };
  if (isRecord(n._meta) && typeof n._meta.title === 'string') node._meta = { title: n._meta.title };
  return node;
}

function readHistoryMessage(value: unknown, field: string): HistoryMessage {
  if (!Array.isArray(value) || typeof value[0] !== 'string') throw new ShapeError(field, 'a message ["<type>", {…}]', value);
  const [type, data] = value as [string, unknown];
  switch (type) {
    case 'execution_error':
      return { type, data: rebased(readExecutionError, data, `${field}[1]`) };
    case 'execution_interrupted':
      return { type, data: rebased(readExecutionInterrupted, data, `${field}[1]`) };
    case 'execution_cached':
      return { type, data: rebased(readExecutionCached, data, `${field}[1]`) };
    case 'execution_success':
      return { type };
    default:
      return { type: 'other', name: type };
  }
}

/** An event reader applied where its data sits elsewhere: its field names ("data.…") are re-rooted at `field`. */
function rebased<T>(reader: (data: unknown) => T, data: unknown, field: string): T {
  try {
    return reader(data);
  } catch (err) {
    if (err instanceof ShapeError) throw new ShapeError(err.field.replace(/^data/, field), err.expected, err.got);
    throw err;
  }
}

/** `withPrompt` false leaves out the prompt ComfyUI ran (undefined), unread: it is as large as the workflow, and a job has its own. */
function readHistoryEntry(value: unknown, field: string, withPrompt = true): HistoryEntry {
  const e = record(value, field);
  const item: unknown = e.prompt;
  if (!Array.isArray(item)) throw new ShapeError(`${field}.prompt`, 'a queue item [number, prompt_id, prompt, …]', item);
  const status = record(e.status, `${field}.status`);
  return {
    number: finite(item[0], `${field}.prompt[0]`),
    prompt: item[2] === undefined || !withPrompt ? undefined : map(item[2], `${field}.prompt[2]`, readPromptNode),
    outputs: e.outputs === undefined ? {} : map(e.outputs, `${field}.outputs`, readNodeOutput),
    status: {
      status_str: text(status.status_str, `${field}.status.status_str`),
      completed: flag(status.completed, `${field}.status.completed`),
      messages: status.messages === undefined ? [] : list(status.messages, `${field}.status.messages`, readHistoryMessage),
    },
  };
}

/** GET /history/{id}: the entry, or undefined while ComfyUI answers `{}` (unknown, pending or running). */
export function readHistoryOf(promptId: string, withPrompt = true): (body: unknown) => HistoryEntry | undefined {
  return (body) => {
    const b = record(body, 'body');
    const entry = own(b, promptId);
    return entry === undefined ? undefined : readHistoryEntry(entry, promptId, withPrompt);
  };
}

/** GET /history: entries oldest first, as ComfyUI orders them. */
export function readHistoryList(body: unknown): Array<[string, HistoryEntry]> {
  const b = record(body, 'body');
  return Object.keys(b).map((id) => [id, readHistoryEntry(b[id], id)]);
}

/** /models, /models/{folder}, /embeddings, /extensions */
export function readTextList(body: unknown): string[] {
  return textList(body, 'body');
}

/** GET /system_stats */
export function readSystemStats(body: unknown): SystemStats {
  const b = map(body, 'body', json);
  record(b.system, 'system');
  if (b.devices !== undefined) list(b.devices, 'devices', json);
  return b as SystemStats;
}

/** GET /object_info[/{class}]: class name → its definition. */
export function readObjectInfo(body: unknown): Record<string, ObjectInfo> {
  return map(body, 'body', (value, field) => map(value, field, json));
}

/** POST /upload/image and /upload/mask */
export function readUploadResult(body: unknown): UploadResult {
  const b = record(body, 'body');
  const type = text(b.type, 'type');
  if (!(RESULT_TYPES as readonly string[]).includes(type)) throw new ShapeError('type', 'input, temp or output', type);
  const name = text(b.name, 'name');
  const subfolder = text(b.subfolder ?? '', 'subfolder');
  // The name goes into msg.payload and msg.inputs: it must be a name, not a path.
  if (fileNameProblem(name)) throw new ShapeError('name', 'a file name', name);
  if (subfolderProblem(subfolder)) throw new ShapeError('subfolder', 'a subfolder inside the folder', subfolder);
  return { name, subfolder, type: type as ResultType };
}
