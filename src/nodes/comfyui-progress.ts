/**
 * `comfyui-progress`: one msg per ComfyUI event (progress, node start/finish, previews, queue
 * status). Events come from the config node's client, decoded and attributed once for every
 * progress node; this adapter only filters them by type and scope, paces them when asked to
 * (progress-coalescer.ts) and shows the running node in its status.
 */
import type { Node, NodeAPI, NodeDef, NodeMessage, NodeMessageInFlow, NodeStatus } from 'node-red';
import { ComfyError } from '../client/errors';
import type { ComfyEvent } from '../client/events';
import { failInput, finishInput, readInput } from './failure';
import { promptIdOf, promptIdsOf } from './msg-input';
import { attachTarget, usableTarget } from './server-api';
import type { TargetNode } from './server-api';
import type { ComfyTarget } from './comfy-target';
import { nextMsgId } from './msg-id';
import { statusLabel, Throttle } from './status';
import { PROGRESS_EVENT_TYPES } from './messages';
import type { ProgressEventType, ProgressMsg } from './messages';
import { upgradeConfig } from './config-version';
import { ProgressCoalescer } from './progress-coalescer';




type Scope = 'own' | 'ids' | 'all';

interface ProgressConfig extends NodeDef {
  server: string;
  scope: Scope;
  events: string[] | string;
  /** At most this many previews per second per prompt; 0 = no limit. */
  previewRate: string | number;
  /** At most this many msgs per second per prompt, newest value first; empty or 0 = every event (older flows have none). */
  coalesce?: string | number;
}

type InputMsg = NodeMessageInFlow & { prompt_id?: unknown; reset?: unknown };

/** Status updates per second at most (the editor and its websocket choke on more). */
const STATUS_INTERVAL_MS = 250;
/** Given ids are remembered up to this many (oldest dropped first). */
const MAX_IDS = 1000;
/**
 * Scope `ids`: events can arrive before the POST /prompt answer, hence before anyone could
 * send their prompt id here. Recent events of unknown prompts are kept this long and replayed
 * when their id arrives.
 */
const REPLAY_MS = 5000;
const REPLAY_MAX = 500;

export = function (RED: NodeAPI): void {
  function ComfyProgressNode(this: Node, config: ProgressConfig): void {
    RED.nodes.createNode(this, config);
    config = upgradeConfig(config);
    const node = this;
    const scope: Scope = config.scope === 'ids' || config.scope === 'all' ? config.scope : 'own';
    const wanted = new Set<string>(eventsOf(config.events));
    const ids = new Set<string>();
    const recent: Array<{ at: number; event: ComfyEvent; server?: string }> = [];
    let running = false;

    // Holds the latest event; the status object is built only when shown (at most 4 a second).
    const statusThrottle = new Throttle<ComfyEvent>(STATUS_INTERVAL_MS, (event) => node.status(runningStatus(event, comfy?.textLimit ?? Infinity)));
    const coalescer = pacerOf(config, (pending) => {
      // Called from a timer too, where nothing else would catch.
      try {
        node.send(toMsg(pending.event, pending.server));
      } catch (err) {
        node.error(err);
      }
    });

    const server: TargetNode | undefined = attachTarget(RED, node, config);
    // A pool's events come from every member, each msg naming its member in msg.server.
    const comfy: ComfyTarget | undefined = usableTarget(server);

    function inScope(event: ComfyEvent): boolean {
      if (scope === 'all') return true;
      if (scope === 'ids') return event.promptId !== undefined && ids.has(event.promptId);
      // A status change belongs to no prompt; everything else must be ours.
      return event.promptId === undefined ? event.type === 'status' : event.own;
    }

    function deliver(event: ComfyEvent, member: string | undefined): void {
      showStatus(event);
      if (!wanted.has(event.type)) return;
      // Coalesced, the msg is built only for what is sent: most events are replaced by a newer one first.
      if (coalescer) coalescer.push({ topic: event.type, prompt_id: event.promptId, node: event.node, server: member, event });
      else node.send(toMsg(event, member));
    }

    function showStatus(event: ComfyEvent): void {
      const label = event.title ?? event.node;
      switch (event.type) {
        case 'executing':
          if (label === undefined) return;
          running = true;
          statusThrottle.push(event);
          return;
        case 'progress':
          running = true;
          statusThrottle.push(event);
          return;
        case 'execution_success':
          finish({ fill: 'green', shape: 'dot', text: 'comfyui-progress.status.done' });
          return;
        case 'execution_error':
          finish({ fill: 'red', shape: 'ring', text: 'comfyui-progress.status.failed' });
          return;
        case 'execution_interrupted':
          finish({ fill: 'yellow', shape: 'ring', text: 'comfyui-progress.status.interrupted' });
          return;
        default:
      }
    }

    function finish(status: NodeStatus): void {
      running = false;
      statusThrottle.cancel();
      node.status(status);
    }

    function onEvent(event: ComfyEvent, member?: string): void {
      try {
        // The queue ran empty without a finishing event we could see (a prompt without client_id).
        if (event.type === 'status' && running && event.queueRemaining === 0) finish({ fill: 'green', shape: 'dot', text: 'comfyui-progress.status.idle' });
        if (inScope(event)) deliver(event, member);
        else if (scope === 'ids' && event.promptId !== undefined) remember(event, member);
        if (scope === 'ids' && event.promptId !== undefined && event.finished) ids.delete(event.promptId);
      } catch (err) {
        // An event source has no done(): report, never throw into the client's emitter.
        node.error(err);
      }
    }

    function remember(event: ComfyEvent, member: string | undefined): void {
      const now = Date.now();
      recent.push({ at: now, event, ...(member === undefined ? {} : { server: member }) });
      while (recent.length > REPLAY_MAX || (recent.length > 0 && now - recent[0].at > REPLAY_MS)) recent.shift();
    }

    function follow(promptId: string): void {
      if (ids.has(promptId)) return;
      ids.add(promptId);
      if (ids.size > MAX_IDS) ids.delete(ids.values().next().value as string);
      const now = Date.now();
      const replay = recent.filter((r) => r.event.promptId === promptId && now - r.at <= REPLAY_MS);
      if (replay.length === 0) return;
      for (let i = recent.length - 1; i >= 0; i--) if (recent[i].event.promptId === promptId) recent.splice(i, 1);
      let ended = false;
      for (const { event, server: member } of replay) {
        deliver(event, member);
        ended ||= event.finished === true;
      }
      if (ended) ids.delete(promptId);
    }

    const unsubscribe = comfy?.onEvent(onEvent);

    node.on('input', (msg: InputMsg, _send: (msg: NodeMessage) => void, done: (err?: Error) => void) => {
      if (scope !== 'ids') return finishInput(node, done);
      readInput(() => idsToFollow(msg)).then(
        ({ reset, given }) => {
          if (reset) {
            ids.clear();
            recent.length = 0;
          }
          for (const id of given) follow(id);
          finishInput(node, done);
        },
        (err: unknown) => failInput(node, err, done, 'comfyui-progress.status.error'),
      );
    });

    node.on('close', (removed: boolean, done: () => void) => {
      unsubscribe?.();
      statusThrottle.stop();
      coalescer?.close();
      ids.clear();
      recent.length = 0;
      if (server) server.deregister(node, removed, done);
      else done();
    });
  }

  RED.nodes.registerType('comfyui-progress', ComfyProgressNode as unknown as Parameters<NodeAPI['nodes']['registerType']>[1]);
};

/**
 * The pacing a node asks for, or none: `coalesce` msgs per second per prompt, and previews at most
 * `previewRate` a second on top. A value that is not a number ≥ 0 (a flow edited by hand) means no limit.
 */
function pacerOf(config: ProgressConfig, send: (pending: PendingEvent) => void): ProgressCoalescer<PendingEvent> | undefined {
  const perSecond = rateOf(config.coalesce);
  const previewsPerSecond = rateOf(config.previewRate);
  if (perSecond === 0 && previewsPerSecond === 0) return undefined;
  return new ProgressCoalescer<PendingEvent>({ perSecond, previewsPerSecond, send });
}

/** An event waiting in the coalescer, with what it reads of the msg it will become. */
interface PendingEvent {
  topic: string;
  prompt_id: string | undefined;
  node: string | undefined;
  server: string | undefined;
  event: ComfyEvent;
}

function rateOf(value: string | number | undefined): number {
  // Number('') is 0: an empty field is off, as documented.
  const rate = Number(value);
  return Number.isFinite(rate) && rate > 0 ? rate : 0;
}

/** Each node gets its own copy of the event data: a flow that edits its msg must not change another's. */
function toMsg(event: ComfyEvent, server: string | undefined): ProgressMsg {
  const payload = Buffer.isBuffer(event.data) ? event.data : copyJson(event.data);
  const msg: ProgressMsg = { _msgid: nextMsgId(), topic: event.type as ProgressEventType, payload };
  if (server !== undefined) msg.server = server;
  if (event.promptId !== undefined) msg.prompt_id = event.promptId;
  if (event.node !== undefined) msg.node = event.node;
  if (event.title !== undefined) msg.title = event.title;
  if (event.percent !== undefined) msg.percent = event.percent;
  if (event.overall !== undefined) msg.overall = event.overall;
  if (event.contentType !== undefined) msg.contentType = event.contentType;
  return msg;
}

/**
 * A copy of decoded event data (plain objects, arrays and primitives, as JSON.parse makes them):
 * ~0.1 µs for a progress event where structuredClone takes ~1.5 µs.
 */
function copyJson(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(copyJson);
  if (Buffer.isBuffer(value)) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const copy = copyJson((value as Record<string, unknown>)[key]);
    // JSON.parse makes "__proto__" an own key; plain assignment would set the prototype instead.
    if (key === '__proto__') Object.defineProperty(out, key, { value: copy, enumerable: true, writable: true, configurable: true });
    else out[key] = copy;
  }
  return out;
}

/** The status of a node following a running prompt: the node, with its steps while it reports them. */
function runningStatus(event: ComfyEvent, maxText: number): NodeStatus {
  const label = statusLabel(event.title ?? event.node ?? '', maxText);
  if (event.type !== 'progress') return { fill: 'blue', shape: 'dot', text: label };
  return { fill: 'blue', shape: 'dot', text: `${label} ${event.value ?? 0}/${event.max ?? 0}`.trim() };
}

/** The event types a config asks for (a flow from before the list gets the first release's: config-version.ts). */
function eventsOf(events: string[] | string | undefined): string[] {
  if (events === undefined || events === null) return [];
  const list = Array.isArray(events) ? events : String(events).split(',');
  return list.map((e) => String(e).trim()).filter((e) => (PROGRESS_EVENT_TYPES as readonly string[]).includes(e));
}

/**
 * The ids an input msg gives: msg.prompt_id, else msg.payload as one id or a list of ids, each of
 * the id charset. With msg.reset = true ids are optional and a payload that holds none (an inject
 * timestamp, say) is ignored.
 */
function idsToFollow(msg: InputMsg): { reset: boolean; given: string[] } {
  const reset = msg.reset === true;
  const promptId = promptIdOf({ value: msg.prompt_id, from: 'msg.prompt_id' });
  if (promptId !== undefined) return { reset, given: [promptId] };
  const payload = msg.payload;
  const holdsIds = (typeof payload === 'string' && payload.trim() !== '') || Array.isArray(payload);
  const given = holdsIds ? promptIdsOf(typeof payload === 'string' ? payload.trim() : payload, 'To follow prompts') : [];
  if (given.length > 0 || reset) return { reset, given };
  throw new ComfyError('BAD_INPUT', 'Send the prompt ids to follow in msg.prompt_id or msg.payload (a string or an array of strings), or msg.reset = true');
}

