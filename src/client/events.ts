/**
 * Turns decoded frames into the events a flow sees: each carries its prompt and node where
 * ComfyUI allows it, the node's title, a step percentage and a prompt-wide percentage.
 * Decoding happens once per frame in the socket; this runs once per frame for all listeners.
 */
import type { FrameEvent } from './frames';
import { titleOf } from './outputs';
import type { ApiPrompt, NodeId, NodeProgressState, PreviewMetadata } from './types';

export interface ComfyEvent {
  /** The ComfyUI event type; `preview` for binary previews, `text` for binary text frames. */
  type: string;
  /** The event's data as ComfyUI sent it; the image Buffer for `preview`, the text for `text`. */
  data: unknown;
  promptId?: string;
  /** The node as shown in ComfyUI's editor (display node). */
  node?: NodeId;
  title?: string;
  /** True when the prompt was submitted through this client. */
  own: boolean;
  /** `progress`: value / max in percent. */
  percent?: number;
  /** Progress of the whole prompt in percent, from the latest `progress_state`. */
  overall?: number;
  /** `preview`: image/jpeg or image/png. */
  contentType?: string;
}

interface PromptProgress {
  cached: number;
  overall?: number;
}

export type PromptLookup = (promptId: string) => ApiPrompt | undefined;

export class EventFeed {
  /** Type-1 previews carry no ids: they belong to the latest node that reported running. */
  private current: { promptId?: string; node?: NodeId } = {};
  private readonly progress = new Map<string, PromptProgress>();

  constructor(private readonly lookup: PromptLookup) {}

  enrich(frame: FrameEvent): ComfyEvent | undefined {
    if (frame.kind === 'preview') return this.preview(frame.image, frame.contentType, frame.metadata);
    if (frame.kind === 'text') return this.withPrompt({ type: 'text', data: frame.text, own: false }, this.current.promptId, frame.nodeId);
    if (frame.kind !== 'message') return undefined;
    const { type } = frame.message;
    const data = frame.message.data as Record<string, unknown> | undefined;
    const promptId = typeof data?.prompt_id === 'string' ? data.prompt_id : undefined;
    const event: ComfyEvent = { type, data, own: false };
    switch (type) {
      case 'execution_cached':
        if (promptId) this.state(promptId).cached = Array.isArray(data?.nodes) ? data.nodes.length : 0;
        return this.withPrompt(event, promptId);
      case 'executing': {
        const node = data?.display_node ?? data?.node;
        if (node === null || node === undefined) {
          if (promptId) this.progress.delete(promptId);
          if (this.current.promptId === promptId) this.current = {};
          return this.withPrompt(event, promptId);
        }
        this.current = { promptId: promptId ?? this.current.promptId, node: String(node) };
        return this.withPrompt(event, this.current.promptId, String(node));
      }
      case 'progress': {
        const node = data?.node === null || data?.node === undefined ? this.current.node : String(data.node);
        if (promptId) this.current = { promptId, node };
        const value = Number(data?.value);
        const max = Number(data?.max);
        if (max > 0) event.percent = Math.round((value / max) * 1000) / 10;
        const overall = promptId ? this.progress.get(promptId)?.overall : undefined;
        if (overall !== undefined) event.overall = overall;
        return this.withPrompt(event, promptId, node);
      }
      case 'progress_state':
        if (promptId && data?.nodes && typeof data.nodes === 'object') {
          const overall = this.overall(promptId, data.nodes as Record<NodeId, NodeProgressState>);
          if (overall !== undefined) event.overall = overall;
        }
        return this.withPrompt(event, promptId);
      case 'executed':
      case 'execution_error':
      case 'execution_interrupted': {
        const node = data?.display_node ?? data?.node_id ?? data?.node;
        return this.withPrompt(event, promptId, node === undefined || node === null ? undefined : String(node));
      }
      default:
        return this.withPrompt(event, promptId);
    }
  }

  private preview(image: Buffer, contentType: string, metadata: PreviewMetadata | undefined): ComfyEvent {
    const event: ComfyEvent = { type: 'preview', data: image, contentType, own: false };
    if (metadata) return this.withPrompt(event, metadata.prompt_id, metadata.display_node_id ?? metadata.node_id);
    return this.withPrompt(event, this.current.promptId, this.current.node);
  }

  private withPrompt(event: ComfyEvent, promptId: string | undefined, node?: NodeId): ComfyEvent {
    if (promptId !== undefined) {
      event.promptId = promptId;
      const prompt = this.lookup(promptId);
      event.own = prompt !== undefined;
      if (node !== undefined) {
        const title = titleOf(prompt, node) ?? prompt?.[node]?.class_type;
        if (title !== undefined) event.title = title;
      }
    }
    if (node !== undefined) event.node = node;
    return event;
  }

  /** Finished nodes count whole, running ones by their fraction, over the nodes that execute. */
  private overall(promptId: string, nodes: Record<NodeId, NodeProgressState>): number | undefined {
    const prompt = this.lookup(promptId);
    if (!prompt) return undefined;
    const total = Object.keys(prompt).length - this.state(promptId).cached;
    if (total <= 0) return 100;
    let done = 0;
    for (const node of Object.values(nodes)) {
      if (node.state === 'finished') done += 1;
      else if (node.max > 0) done += Math.min(1, node.value / node.max);
    }
    const overall = Math.min(100, Math.round((done / total) * 1000) / 10);
    this.state(promptId).overall = overall;
    return overall;
  }

  private state(promptId: string): PromptProgress {
    let state = this.progress.get(promptId);
    if (!state) {
      state = { cached: 0 };
      this.progress.set(promptId, state);
      // A prompt whose final `executing` was missed (socket gap) must not stay forever.
      if (this.progress.size > 1000) this.progress.delete(this.progress.keys().next().value as string);
    }
    return state;
  }
}
