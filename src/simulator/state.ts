/**
 * Everything one "run" of the fake ComfyUI holds in memory: queue, history, caches, sockets,
 * the prompt counter and the log. A restart (test control) throws this away and builds a new one,
 * like restarting the real process; the files in input/ and output/ survive, temp/ is emptied.
 */
import { Catalog } from './catalog';
import { Executor, ExecutorOptions } from './executor';
import { Folders } from './files';
import { Hub } from './hub';
import { PyDict } from './pyjson';
import { PromptQueue } from './queue';

export interface LogEntry {
  t: string;
  m: string;
}

export class ComfyState {
  readonly catalog: Catalog;
  readonly queue: PromptQueue;
  readonly hub: Hub;
  readonly executor: Executor;
  /** PromptServer.number: the next queue priority, bumped by every POST /prompt without `number` */
  number = 0;
  readonly logs: LogEntry[] = [];
  readonly settings: PyDict = {};

  constructor(
    readonly folders: Folders,
    readonly maxUploadSize: number,
    executorOptions: ExecutorOptions,
    checkpoints?: readonly string[],
  ) {
    folders.clearTemp();
    this.catalog = new Catalog(folders, checkpoints);
    this.hub = new Hub(
      () => this.features(),
      () => this.queue.remaining(),
      () => ({ clientId: this.executor.clientId, lastNodeId: this.executor.lastNodeId }),
    );
    this.queue = new PromptQueue(() =>
      this.hub.send('status', { status: { exec_info: { queue_remaining: this.queue.remaining() } } }, null),
    );
    this.executor = new Executor(this.queue, this.hub, this.catalog, folders, executorOptions, (m) => this.log(m));
    this.log(`Setting output directory to: ${folders.output}`);
    this.log(`Setting input directory to: ${folders.input}`);
  }

  /** The server's feature flags (GET /features and the WS feature_flags reply), as recorded. */
  features(): PyDict {
    return { supports_preview_metadata: true, max_upload_size: this.maxUploadSize, extension: { manager: { supports_v4: true } } };
  }

  /** ComfyUI keeps the last 300 log writes for /internal/logs. */
  log(message: string): void {
    const t = new Date().toISOString().replace('Z', '000');
    this.logs.push({ t, m: `${message}\n` });
    if (this.logs.length > 300) this.logs.shift();
  }

  stop(): void {
    this.executor.stop();
    this.hub.terminateAll();
  }
}
