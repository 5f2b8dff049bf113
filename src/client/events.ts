/**
 * Turns decoded frames into the events a flow sees: each carries its prompt and node where
 * ComfyUI allows it, the node's title, a step percentage and a prompt-wide percentage.
 * Decoding happens once per frame in the socket; this runs once per frame for all listeners.
 * Frames arrive here typed (frames.ts), so nothing below re-checks a field.
 */
import type { FrameEvent } from './frames';
import { labelOf } from './outputs';
import type { ApiPrompt, NodeId, NodeProgressState, PreviewMetadata, ProgressData } from './types';

export interface ComfyEvent {
  /** The ComfyUI event type; `preview` for binary previews, `text` for binary text frames; `queue_position` from the queue watch (queue-watch.ts). */
  type: string;
  /** The event's data (typed by the boundary); the image Buffer for `preview`, the text for `text`. */
  data: unknown;
  promptId?: string;
  /** The node as shown in ComfyUI's editor (display node). */
  node?: NodeId;
  title?: string;
  /** True when the prompt was submitted through this client. */
  own: boolean;
  /** `progress`: the step and the number of steps. */
  value?: number;
  max?: number;
  /** `progress`: value / max in percent, 0–100. */
  percent?: number;
  /** Progress of the whole prompt in percent (0–100), from the latest `progress_state`. */
  overall?: number;
  /** `preview`: the image's media type, from its bytes. */
  contentType?: string;
  /** `status`: prompts pending or running. */
  queueRemaining?: number;
  /** `executing` with node null: ComfyUI is done with the prompt. */
  finished?: boolean;
}

interface PromptProgress {
  cached: number;
  overall?: number;
}

export type PromptLookup = (promptId: string) => ApiPrompt | undefined;

/** Prompts whose end went unseen (a socket gap) are forgotten beyond this many. */
const TRACKED_PROMPTS = 1000;

export class EventFeed {
  /** Type-1 previews carry no ids: they belong to the latest node that reported running. */
  private current: { readonly promptId?: string; readonly node?: NodeId } = {};
  private readonly progress = new Map<string, PromptProgress>();

  constructor(private readonly lookup: PromptLookup) {}

  enrich(frame: FrameEvent): ComfyEvent | undefined {
    switch (frame.kind) {
      case 'preview':
        return this.preview(frame.image, frame.contentType, frame.metadata);
      case 'text':
        return this.withPrompt({ type: 'text', data: frame.text, own: false }, this.current.promptId, frame.nodeId);
      case 'custom':
        return { type: frame.type, data: frame.data, own: false };
      case 'message':
        break;
      default:
        return undefined;
    }
    const message = frame.message;
    if (message.type === 'progress') return this.progressEvent(message.data);
    const event: ComfyEvent = { type: message.type, data: message.data, own: false };
    switch (message.type) {
      case 'status':
        event.queueRemaining = message.data.status.exec_info.queue_remaining;
        return event;
      case 'execution_cached': {
        // ComfyUI lists every cached node of the prompt; ours remember only the nodes that run (partial execution).
        const prompt = this.lookup(message.data.prompt_id);
        const cached = prompt ? message.data.nodes.filter((id) => Object.hasOwn(prompt, id)) : message.data.nodes;
        this.state(message.data.prompt_id).cached = cached.length;
        return this.withPrompt(event, message.data.prompt_id);
      }
      case 'executing': {
        const { prompt_id: promptId } = message.data;
        const node = message.data.display_node ?? message.data.node;
        if (node === null) {
          if (promptId !== undefined) this.progress.delete(promptId);
          if (this.current.promptId === promptId) this.current = {};
          event.finished = promptId !== undefined;
          return this.withPrompt(event, promptId);
        }
        this.current = { promptId: promptId ?? this.current.promptId, node };
        return this.withPrompt(event, this.current.promptId, node);
      }
      case 'progress_state': {
        const overall = this.overall(message.data.prompt_id, message.data.nodes);
        if (overall !== undefined) event.overall = overall;
        return this.withPrompt(event, message.data.prompt_id);
      }
      case 'executed':
        return this.withPrompt(event, message.data.prompt_id, message.data.display_node ?? message.data.node);
      case 'execution_error':
      case 'execution_interrupted':
        return this.withPrompt(event, message.data.prompt_id, message.data.node_id);
      case 'execution_start':
      case 'execution_success':
        return this.withPrompt(event, message.data.prompt_id);
      default:
        return event;
    }
  }

  /**
   * The event of a progress frame, one for every sampler step: made with the fields every one has, so that
   * fewer are added one by one (each added field may grow the object's property store, at 100 000 a second).
   */
  private progressEvent(data: ProgressData): ComfyEvent {
    const { prompt_id: promptId, value, max } = data;
    const node = data.node ?? this.current.node;
    // A burst of progress names the same node: no new object per frame.
    if (this.current.promptId !== promptId || this.current.node !== node) this.current = { promptId, node };
    const event: ComfyEvent = { type: 'progress', data, own: false, promptId, value, max };
    if (max > 0) event.percent = percentOf(value, max);
    const overall = this.progress.get(promptId)?.overall;
    if (overall !== undefined) event.overall = overall;
    return this.withPrompt(event, promptId, node);
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
        const title = labelOf(prompt, node);
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
      else if (node.max > 0) done += Math.min(1, Math.max(0, node.value / node.max));
    }
    const overall = percentOf(done, total);
    this.state(promptId).overall = overall;
    return overall;
  }

  private state(promptId: string): PromptProgress {
    let state = this.progress.get(promptId);
    if (!state) {
      state = { cached: 0 };
      this.progress.set(promptId, state);
      if (this.progress.size > TRACKED_PROMPTS) this.progress.delete(this.progress.keys().next().value as string);
    }
    return state;
  }
}

/** part / whole in percent with one decimal, kept within 0–100 whatever a server reports. */
function percentOf(part: number, whole: number): number {
  const percent = Math.round((part / whole) * 1000) / 10;
  return percent < 0 ? 0 : percent > 100 ? 100 : percent;
}
