/**
 * The submit nodes' prompts in flight, kept through Node-RED's context API in the store the
 * server configuration names. Global context, not the node's own: Node-RED deletes a node's
 * context whenever the node closes (a redeploy too) unless settings.js configures context
 * stores, and a record must outlive exactly that. One key per prompt, naming the submit node,
 * so two instances of a node during a redeploy never overwrite each other's list. A memory store
 * keeps them across redeploys; localfilesystem or a store plugin across restarts. Every call goes
 * through the callback form, which both synchronous and asynchronous stores answer.
 */
import type { Node } from 'node-red';
import { readRecord } from './job-record';
import type { JobRecord } from './job-record';

const PREFIX = 'comfyui-job-';

interface ContextLike {
  get(key: string, store: string | undefined, callback: (err: Error | null, value: unknown) => void): void;
  set(key: string, value: unknown, store: string | undefined, callback: (err: Error | null) => void): void;
  keys(store: string | undefined, callback: (err: Error | null, keys: string[]) => void): void;
}

export class JobStore {
  private readonly context: ContextLike;
  private readonly store: string | undefined;

  /** `store`: a context store name; empty means the default store. */
  constructor(
    node: Node,
    store: string | undefined,
    private readonly owner = node.id,
  ) {
    this.context = node.context().global;
    this.store = store?.trim() ? store.trim() : undefined;
  }

  save(record: JobRecord): Promise<void> {
    return this.call<void>((done) => this.context.set(PREFIX + record.promptId, record, this.store, (err) => done(err)));
  }

  remove(promptId: string): Promise<void> {
    return this.call<void>((done) => this.context.set(PREFIX + promptId, undefined, this.store, (err) => done(err)));
  }

  /** Every readable record of this node; `skipped` counts keys of ours that held something else. */
  async list(): Promise<{ records: JobRecord[]; skipped: number }> {
    const keys = await this.call<string[]>((done) => this.context.keys(this.store, done));
    const records: JobRecord[] = [];
    let skipped = 0;
    for (const key of keys.filter((k) => k.startsWith(PREFIX))) {
      const value = await this.call<unknown>((done) => this.context.get(key, this.store, done));
      const record = readRecord(value);
      if (record && PREFIX + record.promptId === key) {
        if (record.node === this.owner) records.push(record);
      }
      else if (value !== undefined) skipped += 1;
    }
    return { records, skipped };
  }

  /** A store whose call throws (a plugin's bug) rejects instead of throwing into the caller. */
  private call<T>(run: (done: (err: Error | null, value?: T) => void) => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      try {
        run((err, value) => (err ? reject(err) : resolve(value as T)));
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }
}
