/**
 * What a finished prompt produced, read from its history entry (the truth for outputs) and
 * turned into the shapes our messages carry.
 */
import { ComfyError } from './errors';
import { fileNameProblem, subfolderProblem } from './file-names';
import { contentTypeOf, isAnimatedOutput, kindOfFile, textsOf } from './output-kinds';
import type { FileKind, TextOutput } from './output-kinds';
import type { WebsocketImage } from './websocket-outputs';
import { clip } from './shape';
import type {
  ApiPrompt,
  ExecutionErrorData,
  ExecutionInterruptedData,
  HistoryEntry,
  NodeId,
  NodeUiOutput,
  PromptNode,
  ResultItem,
} from './types';

/** A file a node saved, with the node and the kind of media it is; fetched from /view. */
export interface ImageRef extends ResultItem {
  node: NodeId;
  /** The key of the node's UI output it was listed under: images, audio, gifs, 3d, latents, … */
  key: string;
  kind: FileKind;
  /** The media type /view serves it with (from its extension). */
  contentType: string;
  /** VideoHelperSuite (`gifs`): the format it wrote, e.g. "video/h264-mp4", and its frames per second. */
  format?: string;
  frame_rate?: number;
}

/** Everything a prompt delivered, in node order: files (any kind), images sent over the WebSocket, and texts. */
export type OutputItem = ImageRef | WebsocketImage | TextOutput;

/**
 * Every list item that names a file, under any output key: ComfyUI's set of keys is open
 * (images, audio, gifs, …), so anything with a filename and a type counts. A name from the wire
 * that is a path (or a subfolder that leaves its folder) is left out: it would reach msg.filename.
 */
export function collectFileRefs(outputs: Record<NodeId, NodeUiOutput | null | undefined>): ImageRef[] {
  const refs: ImageRef[] = [];
  for (const [node, output] of Object.entries(outputs)) if (output) addFileRefs(refs, node, output);
  return refs;
}

function addFileRefs(refs: OutputItem[], node: NodeId, output: NodeUiOutput): void {
  const animated = isAnimatedOutput(output);
  for (const [key, items] of Object.entries(output)) {
    if (!Array.isArray(items)) continue;
    for (const item of items) if (isFileRef(item) && isSafeRef(item)) refs.push(fileRefOf(node, key, item, animated));
  }
}

/** Files and texts of every node, node by node (texts after the node's files). */
export function collectOutputs(outputs: Record<NodeId, NodeUiOutput | null | undefined>): OutputItem[] {
  const items: OutputItem[] = [];
  for (const [node, output] of Object.entries(outputs)) {
    if (!output) continue;
    addFileRefs(items, node, output);
    items.push(...textsOf(node, output));
  }
  return items;
}

function fileRefOf(node: NodeId, key: string, item: ResultItem & Record<string, unknown>, animated: boolean): ImageRef {
  const ref: ImageRef = {
    filename: item.filename,
    subfolder: item.subfolder ?? '',
    type: item.type,
    node,
    key,
    kind: kindOfFile(key, item.filename, animated),
    contentType: contentTypeOf(item),
  };
  // VideoHelperSuite's extras; its `fullpath` (a path on the server's disk) and `workflow` stay behind.
  if (typeof item.format === 'string' && /^[a-z]+\/[a-z0-9.+-]{1,60}$/i.test(item.format)) ref.format = item.format;
  if (typeof item.frame_rate === 'number' && Number.isFinite(item.frame_rate)) ref.frame_rate = item.frame_rate;
  return ref;
}

/** The shape of a `{filename, subfolder, type}` (file-names.ts says whether its names are usable). */
export function isFileRef(value: unknown): value is ResultItem & Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const item = value as Record<string, unknown>;
  return (
    typeof item.filename === 'string' &&
    item.filename !== '' &&
    (item.type === 'output' || item.type === 'temp' || item.type === 'input') &&
    (item.subfolder === undefined || typeof item.subfolder === 'string')
  );
}

function isSafeRef(ref: ResultItem): boolean {
  return fileNameProblem(ref.filename) === undefined && subfolderProblem(ref.subfolder ?? '') === undefined;
}

/** The node ids ComfyUI took from its cache, as recorded in the entry's execution_cached message. */
export function cachedNodesOf(entry: HistoryEntry): NodeId[] {
  for (const message of entry.status.messages) if (message.type === 'execution_cached') return message.data.nodes;
  return [];
}

/** A run is "cached" when every node that was to run (by default: every node of the prompt) came from the cache, so nothing executed. */
export function wasFullyCached(entry: HistoryEntry, runs: Iterable<NodeId> = Object.keys(entry.prompt ?? {})): boolean {
  const nodes = [...runs];
  const cached = new Set(cachedNodesOf(entry));
  return nodes.length > 0 && nodes.every((id) => cached.has(id));
}

/** The failure recorded in a history entry, or undefined when the prompt succeeded. */
export function failureOf(entry: HistoryEntry, prompt: ApiPrompt | undefined, promptId: string): ComfyError | undefined {
  const messages = entry.status.messages;
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    const message = messages[i];
    if (message === undefined) continue;
    if (message.type === 'execution_error') return executionError(message.data, prompt, promptId);
    if (message.type === 'execution_interrupted') return interruptedError(message.data, prompt, promptId);
    if (message.type === 'execution_success') return undefined;
  }
  if (entry.status.status_str === 'error') {
    return new ComfyError('EXECUTION', `Prompt ${promptId} failed (ComfyUI recorded no reason)`, { promptId });
  }
  return undefined;
}

/** Longest part of a server's text (an exception message, a class name) put into an error message. */
const PART_CHARS = 500;

export function executionError(data: ExecutionErrorData, prompt: ApiPrompt | undefined, promptId: string): ComfyError {
  const reason = [data.exception_type, data.exception_message].filter((part) => part !== '').join(': ');
  return new ComfyError(
    'EXECUTION',
    `${describeNode(prompt, data.node_id, data.node_type)} failed: ${clip(reason, PART_CHARS) || 'unknown error'}`,
    {
      promptId,
      nodes: [
        {
          id: data.node_id,
          title: titleOf(prompt, data.node_id),
          class_type: data.node_type,
          message: clip(data.exception_message, PART_CHARS),
          exception_type: data.exception_type,
        },
      ],
      body: data,
    },
  );
}

export function interruptedError(data: ExecutionInterruptedData, prompt: ApiPrompt | undefined, promptId: string): ComfyError {
  return new ComfyError('INTERRUPTED', `Prompt interrupted at ${describeNode(prompt, data.node_id, data.node_type)}`, {
    promptId,
    body: data,
  });
}

/** The prompt's node of that id, by own keys only (a wire-given id may be "constructor"). */
export function nodeOf(prompt: ApiPrompt | undefined, nodeId: NodeId): PromptNode | undefined {
  return prompt && Object.prototype.hasOwnProperty.call(prompt, nodeId) ? prompt[nodeId] : undefined;
}

export function titleOf(prompt: ApiPrompt | undefined, nodeId: NodeId): string | undefined {
  return titleIn(nodeOf(prompt, nodeId));
}

function titleIn(node: PromptNode | undefined): string | undefined {
  const title = node?._meta?.title;
  return typeof title === 'string' && title !== '' ? title : undefined;
}

/** How progress names a node: its title, else its class; one lookup (this runs for every progress frame). */
export function labelOf(prompt: ApiPrompt | undefined, nodeId: NodeId): string | undefined {
  const node = nodeOf(prompt, nodeId);
  return titleIn(node) ?? node?.class_type;
}

/** `"Positive Prompt" (#6, CLIPTextEncode)` — how a person finds the node in ComfyUI. */
export function describeNode(prompt: ApiPrompt | undefined, nodeId: NodeId, classType?: string): string {
  const type = classType || nodeOf(prompt, nodeId)?.class_type;
  const title = titleOf(prompt, nodeId);
  const where = type ? `#${clip(nodeId, 40)}, ${clip(type, 80)}` : `#${clip(nodeId, 40)}`;
  return title ? `"${clip(title, 80)}" (${where})` : `node ${where}`;
}

/** A history entry in the shape the submit node emits, so `comfyui-images` takes either. */
export interface PromptSummary {
  prompt_id: string;
  number: number;
  outputs: Record<NodeId, NodeUiOutput>;
  /** Every output, each with its kind (files of any kind and texts; WebSocket images only in a submit result). */
  images: OutputItem[];
  cached: boolean;
  cachedNodes: NodeId[];
  status: 'success' | 'error';
  /** For failed or interrupted prompts: what ComfyUI recorded. */
  error?: { code: string; message: string };
}

export function summarizeEntry(promptId: string, entry: HistoryEntry): PromptSummary {
  const failure = failureOf(entry, entry.prompt, promptId);
  const summary: PromptSummary = {
    prompt_id: promptId,
    number: entry.number,
    outputs: entry.outputs,
    images: collectOutputs(entry.outputs),
    cached: wasFullyCached(entry),
    cachedNodes: cachedNodesOf(entry),
    status: failure ? 'error' : 'success',
  };
  if (failure) summary.error = { code: failure.code, message: failure.message };
  return summary;
}

/**
 * How a LoadImage input names an uploaded file: `subfolder/name`, annotated with ` [temp]` or
 * ` [output]` when it is not in the input folder (the space belongs to the annotation).
 */
export function loadImageValue(file: { name: string; subfolder: string; type: string }): string {
  const path = file.subfolder ? `${file.subfolder}/${file.name}` : file.name;
  return file.type && file.type !== 'input' ? `${path} [${file.type}]` : path;
}

/** A file ref as a message names it: `subfolder/name`, each part cut short. */
export function describeRef(ref: ResultItem): string {
  const name = clip(ref.filename, 120);
  return ref.subfolder ? `${clip(ref.subfolder, 120)}/${name}` : name;
}
