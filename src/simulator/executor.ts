/**
 * The single queue worker (main.py prompt_worker + execution.py PromptExecutor), emitting events
 * in exactly the recorded order (b_save_image, d_cached_twice, o_runtime_error, h_queue,
 * p_binary_preview_frames):
 *
 *   status (dequeued) → execution_start → execution_cached →
 *   per node: progress_state(running) → executing → [ticks] → [executed] → progress_state(finished)
 *   cached output node: executed (old files) → progress_state(finished, integer 1s)
 *   → execution_success | execution_error | execution_interrupted
 *   → history stored → status → executing {node: null}
 *
 * Routing follows §5.4: with a client_id everything goes to that sid; without one, execution_*,
 * executing and executed go nowhere while progress, progress_state, previews and
 * execution_interrupted are broadcast.
 */
import { Catalog } from './catalog';
import { Folders } from './files';
import { ExecutionList, isLink } from './graph';
import { Hub, Target } from './hub';
import { fitWithin } from './image';
import { encodeJpeg } from './jpeg';
import { NODES, NodeValue, Preview, PreviewMethod, RunContext, formatInputValue } from './nodes';
import { encodePng } from './png';
import { PyDict, PyFloat, PyValue, dumpPyJson, hasKey, isDict } from './pyjson';
import { PyError } from './python';
import { HistoryEntry, PromptQueue, QueueItem } from './queue';

export interface ExecutorOptions {
  stepMs: number;
  nodeMs: number;
  nodeMsByClass: Record<string, number>;
  previewMethod: PreviewMethod;
  /** Test introspection: told of every prompt that finished, with its outcome (survives restarts). */
  onFinished?: (promptId: string, outcome: 'success' | 'error') => void;
}

/** InterruptProcessingException */
class Interrupted extends Error {}
/** The simulator is closing or restarting: abandon the prompt silently. */
class Stopped extends Error {}

interface CacheEntry {
  outputs: NodeValue[];
  ui: { meta: PyDict; output: PyDict } | null;
}

type NodeState = { state: 'pending' | 'running' | 'finished'; value: number | PyFloat; max: number | PyFloat };

const PREVIEW_METHODS: PreviewMethod[] = ['none', 'auto', 'latent2rgb', 'taesd'];

/** comfy_execution/progress.py ProgressRegistry + WebUIProgressHandler */
class Progress {
  private readonly nodes = new Map<string, NodeState>();
  constructor(
    private readonly promptId: string,
    private readonly hub: Hub,
    private readonly target: Target,
  ) {}

  private entry(id: string): NodeState {
    let e = this.nodes.get(id);
    if (!e) {
      e = { state: 'pending', value: 0, max: 1 };
      this.nodes.set(id, e);
    }
    return e;
  }

  private send(): void {
    const nodes: PyDict = {};
    for (const [id, e] of this.nodes) {
      if (e.state === 'pending') continue;
      nodes[id] = {
        value: e.value,
        max: e.max,
        state: e.state,
        node_id: id,
        prompt_id: this.promptId,
        display_node_id: id,
        parent_node_id: null,
        real_node_id: id,
      };
    }
    this.hub.send('progress_state', { prompt_id: this.promptId, nodes }, this.target);
  }

  start(id: string): void {
    const e = this.entry(id);
    e.state = 'running';
    e.value = new PyFloat(0);
    e.max = new PyFloat(1);
    this.send();
  }

  update(id: string, value: number, max: number): void {
    const e = this.entry(id);
    e.state = 'running';
    e.value = value;
    e.max = max;
    this.send();
  }

  finish(id: string): void {
    const e = this.entry(id);
    e.state = 'finished';
    e.value = e.max;
    this.send();
  }
}

export class Executor {
  /** nodes.interrupt_processing flag: set by /interrupt, reset when a prompt starts */
  private interruptFlag = false;
  private readonly cache = new Map<string, CacheEntry>();
  private readonly objects = new Map<string, Record<string, unknown>>();
  private readonly timers = new Set<{ timer: NodeJS.Timeout; resolve: () => void }>();
  private looping = false;
  private paused = false;
  private stopped = false;
  /** server.client_id: the running prompt's client (kept until the next prompt, like the server) */
  clientId: Target = null;
  /** server.last_node_id: display id of the node last announced with `executing` */
  lastNodeId: string | null = null;

  constructor(
    private readonly queue: PromptQueue,
    private readonly hub: Hub,
    private readonly catalog: Catalog,
    private readonly folders: Folders,
    private readonly options: ExecutorOptions,
    private readonly log: (line: string) => void,
  ) {}

  /** Wake the worker (after a put, a resume, …). */
  kick(): void {
    if (this.looping || this.stopped || this.paused) return;
    this.looping = true;
    setImmediate(() => {
      this.loop()
        .catch((e: unknown) => {
          if (!(e instanceof Stopped)) this.log(`worker crashed: ${(e as Error).stack ?? String(e)}`);
        })
        .finally(() => {
          this.looping = false;
          if (!this.stopped && !this.paused && this.queue.pending.length > 0) this.kick();
        });
    });
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.kick();
  }

  get idle(): boolean {
    return this.queue.running.size === 0;
  }

  /** POST /interrupt: global, or only when `promptId` is the running one. */
  interrupt(promptId?: string): void {
    if (promptId !== undefined) {
      const running = [...this.queue.running.values()].some((item) => item[1] === promptId);
      if (!running) {
        this.log(`Prompt ${promptId} is not currently running, skipping interrupt`);
        return;
      }
      this.log(`Interrupting prompt ${promptId}`);
    } else {
      this.log('Global interrupt (no prompt_id specified)');
    }
    this.interruptFlag = true;
  }

  /** POST /free flags: applied now when idle, else after the running prompt. */
  setFlag(name: 'unload_models' | 'free_memory', value: PyValue): void {
    this.queue.flags[name] = value;
    if (this.idle) this.applyFlags();
  }

  private applyFlags(): void {
    const free = this.queue.flags.free_memory !== undefined; // only ever set to a truthy value
    for (const k of Object.keys(this.queue.flags)) delete this.queue.flags[k];
    if (free) {
      this.cache.clear();
      this.objects.clear();
    }
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) {
      clearTimeout(t.timer);
      t.resolve();
    }
    this.timers.clear();
  }

  private sleep(ms: number): Promise<void> {
    if (this.stopped) return Promise.reject(new Stopped());
    return new Promise<void>((resolve, reject) => {
      const entry = {
        timer: setTimeout(
          () => {
            this.timers.delete(entry);
            if (this.stopped) reject(new Stopped());
            else resolve();
          },
          Math.max(0, ms),
        ),
        resolve: () => reject(new Stopped()),
      };
      this.timers.add(entry);
    });
  }

  private async loop(): Promise<void> {
    while (!this.stopped && !this.paused) {
      const next = this.queue.get();
      if (!next) break;
      const [item, taskId] = next;
      const started = performance.now();
      const result = await this.execute(item);
      if (this.stopped) return;
      this.queue.taskDone(taskId, result.history, result.status);
      this.options.onFinished?.(item[1], result.status.status_str === 'success' ? 'success' : 'error');
      if (this.clientId !== null) this.hub.send('executing', { node: null, prompt_id: item[1] }, this.clientId);
      this.log(`Prompt executed in ${((performance.now() - started) / 1000).toFixed(2)} seconds`);
      this.applyFlags();
    }
    if (!this.stopped) this.applyFlags();
  }

  /** Cache key: class, IS_CHANGED, every input (links by their source's key), like CacheKeySetInputSignature. */
  private signatures(prompt: PyDict): Map<string, string> {
    const sigs = new Map<string, string>();
    const visiting = new Set<string>();
    const canon = (v: PyValue): PyValue => {
      if (v instanceof PyFloat) return v.value;
      if (Array.isArray(v)) return v.map(canon);
      if (isDict(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, canon(x)]));
      return v;
    };
    const sig = (id: string): string => {
      const known = sigs.get(id);
      if (known) return known;
      const node = prompt[id];
      if (!isDict(node) || visiting.has(id)) return `NaN:${id}:${Math.random()}`;
      visiting.add(id);
      const cls = classOf(node);
      const inputs = isDict(node.inputs) ? node.inputs : {};
      const impl = NODES[cls];
      const parts: PyValue[] = [cls, impl?.isChanged ? impl.isChanged(this.folders, inputs) : false];
      for (const key of Object.keys(inputs).sort()) {
        const v = inputs[key]!;
        parts.push(isLink(v) ? [key, 'LINK', sig(v[0]), Number(v[1])] : [key, canon(v)]);
      }
      visiting.delete(id);
      const s = dumpPyJson(parts);
      sigs.set(id, s);
      return s;
    };
    for (const id of Object.keys(prompt)) sig(id);
    return sigs;
  }

  private async execute(item: QueueItem): Promise<{ history: { outputs: PyDict; meta: PyDict }; status: HistoryEntry['status'] }> {
    const [, promptId, prompt, extraData, outputs, sensitive] = item;
    const extra: PyDict = { ...extraData, ...sensitive };
    this.interruptFlag = false;
    const target: Target = hasKey(extra, 'client_id') ? extra.client_id! : null;
    this.clientId = target;
    const messages: Array<[string, PyDict]> = [];
    let success = true;
    const addMessage = (event: string, data: PyDict, broadcast: boolean): void => {
      const full = { ...data, timestamp: Date.now() };
      messages.push([event, full]);
      if (target !== null || broadcast) this.hub.send(event, full, target);
    };
    const pm = extra.preview_method;
    const previewMethod =
      typeof pm === 'string' && (PREVIEW_METHODS as string[]).includes(pm) ? (pm as PreviewMethod) : this.options.previewMethod;

    addMessage('execution_start', { prompt_id: promptId }, false);
    const progress = new Progress(promptId, this.hub, target);

    // HierarchicalCache.set_prompt + clean_unused: keep only entries the new prompt can use
    const sigs = this.signatures(prompt);
    const wanted = new Set(sigs.values());
    for (const key of [...this.cache.keys()]) if (!wanted.has(key)) this.cache.delete(key);
    const objectKeys = new Set(Object.keys(prompt).map((id) => `${id}|${classOf(prompt[id])}`));
    for (const key of [...this.objects.keys()]) if (!objectKeys.has(key)) this.objects.delete(key);
    const isCached = (id: string): boolean => this.cache.has(sigs.get(id) ?? '');

    addMessage('execution_cached', { nodes: Object.keys(prompt).filter(isCached), prompt_id: promptId }, false);
    const list = new ExecutionList(prompt, isCached, (id) => this.catalog.isOutputNode(classOf(prompt[id])));
    const currentOutputs = Object.keys(prompt);
    for (const o of outputs) list.addNode(o);

    const executed: string[] = [];
    const ui = new Map<string, { meta: PyDict; output: PyDict }>();
    const values = new Map<string, NodeValue[]>();
    let failed = false;

    while (!list.isEmpty()) {
      const id = list.stage();
      if (id === undefined) break; // a cycle: validation rejects these before they are queued
      const node = prompt[id] as PyDict;
      const cls = classOf(node);
      const cached = this.cache.get(sigs.get(id)!);
      if (cached) {
        if (target !== null) {
          this.hub.send('executed', { node: id, display_node: id, output: cached.ui?.output ?? null, prompt_id: promptId }, target);
          if (cached.ui) ui.set(id, cached.ui);
        }
        values.set(id, cached.outputs);
        progress.finish(id);
        list.complete();
        continue;
      }

      let inputs: Record<string, unknown> | undefined;
      try {
        progress.start(id);
        inputs = {};
        for (const [name, v] of Object.entries(isDict(node.inputs) ? node.inputs : {})) {
          if (isLink(v)) {
            const src = values.get(v[0]) ?? this.cache.get(sigs.get(v[0]) ?? '')?.outputs;
            inputs[name] = src?.[Number(v[1])];
          } else inputs[name] = v;
        }
        if (target !== null) {
          this.lastNodeId = id;
          this.hub.send('executing', { node: id, display_node: id, prompt_id: promptId }, target);
        }
        if (this.interruptFlag) throw new Interrupted();
        const impl = NODES[cls];
        const stateKey = `${id}|${cls}`;
        if (!this.objects.has(stateKey)) this.objects.set(stateKey, {});
        const ctx: RunContext = {
          nodeId: id,
          promptId,
          prompt,
          extraData: extra,
          folders: this.folders,
          previewMethod,
          stepMs: this.options.stepMs,
          nodeMs: this.options.nodeMsByClass[cls] ?? this.options.nodeMs,
          state: this.objects.get(stateKey)!,
          sleep: (ms) => this.sleep(ms),
          // The executor runs tick at once; a throw (interrupt, stop) becomes the rejection ComfyUI's node would see.
          progress: (value, max, preview) =>
            new Promise<void>((resolve) => {
              this.tick(progress, id, promptId, target, value, max, preview);
              resolve();
            }),
        };
        const run = await impl.run(ctx, inputs);
        if (this.stopped) throw new Stopped();
        let entry: CacheEntry['ui'] = null;
        if (run.ui && Object.keys(run.ui).length > 0) {
          entry = { meta: { node_id: id, display_node: id, parent_node: null, real_node_id: id }, output: run.ui };
          ui.set(id, entry);
          if (target !== null) this.hub.send('executed', { node: id, display_node: id, output: run.ui, prompt_id: promptId }, target);
        }
        values.set(id, run.outputs);
        this.cache.set(sigs.get(id)!, { outputs: run.outputs, ui: entry });
      } catch (e) {
        if (e instanceof Stopped || this.stopped) throw new Stopped();
        success = false;
        failed = true;
        if (e instanceof Interrupted) {
          this.log('Processing interrupted');
          addMessage('execution_interrupted', { prompt_id: promptId, node_id: id, node_type: cls, executed: [...executed] }, true);
        } else {
          const py = e instanceof PyError ? e : new PyError('Exception', `${(e as Error).message}\n`);
          const current: PyDict = {};
          for (const [k, v] of Object.entries(inputs ?? {})) current[k] = [formatInputValue(v)];
          this.log(`!!! Exception during processing !!! ${py.message.trim()}`);
          addMessage(
            'execution_error',
            {
              prompt_id: promptId,
              node_id: id,
              node_type: cls,
              executed: [...executed],
              exception_message: py.message,
              exception_type: py.type,
              traceback: py.frames,
              current_inputs: current,
              current_outputs: currentOutputs,
            },
            false,
          );
        }
        break;
      }
      progress.finish(id);
      executed.push(id);
      list.complete();
    }
    if (!failed) addMessage('execution_success', { prompt_id: promptId }, false);
    this.lastNodeId = null;
    const outputsOut: PyDict = {};
    const meta: PyDict = {};
    for (const [id, entry] of ui) {
      outputsOut[id] = entry.output;
      meta[id] = entry.meta;
    }
    return { history: { outputs: outputsOut, meta }, status: { status_str: success ? 'success' : 'error', completed: success, messages } };
  }

  /** The ProgressBar hook of main.py: interrupt check, progress_state (+type 4), progress, (type 1). */
  private tick(
    progress: Progress,
    id: string,
    promptId: string,
    target: Target,
    value: number,
    max: number,
    preview: Preview | null,
  ): void {
    if (this.stopped) throw new Stopped();
    if (this.interruptFlag) throw new Interrupted();
    progress.update(id, value, max);
    const meta = this.hub.supportsPreviewMetadata(target);
    let bytes: Buffer | undefined;
    if (preview) {
      const img = preview.maxSize !== null ? fitWithin(preview.image, preview.maxSize) : preview.image;
      bytes =
        preview.format === 'JPEG'
          ? encodeJpeg(img.width, img.height, img.data, 95)
          : encodePng({ width: img.width, height: img.height, channels: 3, data: img.data }, { level: 1 });
      if (meta) {
        const json = Buffer.from(
          dumpPyJson({
            node_id: id,
            prompt_id: promptId,
            display_node_id: id,
            parent_node_id: null,
            real_node_id: id,
            image_type: preview.format === 'JPEG' ? 'image/jpeg' : 'image/png',
          }),
          'utf8',
        );
        const len = Buffer.alloc(4);
        len.writeUInt32BE(json.length, 0);
        this.hub.sendBinary(4, Buffer.concat([len, json, bytes]), target);
      }
    }
    this.hub.send('progress', { value, max, prompt_id: promptId, node: id }, target);
    if (bytes && !meta) {
      const fmt = Buffer.alloc(4);
      fmt.writeUInt32BE(preview!.format === 'JPEG' ? 1 : 2, 0);
      this.hub.sendBinary(1, Buffer.concat([fmt, bytes]), target);
    }
  }
}

/** A queued node's class: validation admitted only nodes whose class_type is text. */
function classOf(node: unknown): string {
  return isDict(node) && typeof node.class_type === 'string' ? node.class_type : '';
}
