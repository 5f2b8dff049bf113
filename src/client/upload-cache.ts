/**
 * The bytes a client already uploaded, by content: sha256 of the bytes + folder type + subfolder
 * + the name asked for → the name ComfyUI stored them under, so a flow that uploads the same
 * picture for every run sends it once. A hit answers exactly what ComfyUI would have answered:
 * for the same bytes under the same name it keeps the existing file and returns its name (which
 * may be "name (1).png"). Uploads whose name was made up here (`anyName`: node-red-<time>.png)
 * share one entry per content, folder and extension: any earlier such upload of the bytes will do.
 *
 * What it cannot see, it forgets rather than trusts: the client calls forget() whenever its
 * socket opens again after a gap (ComfyUI may have restarted, or its files been cleaned up), and
 * an upload that stores other bytes under a remembered name (overwrite) drops the old memory of
 * that name. Files replaced on the server behind Node-RED's back between reconnects are not seen.
 * Masks are never cached: ComfyUI merges them with an original image whose bytes are not known here.
 * Bounded: the least recently used entries go first.
 */
import { createHash } from 'node:crypto';
import { extname } from 'node:path';
import type { ResultType, UploadResult } from './types';

export interface UploadTarget {
  bytes: Buffer;
  filename: string;
  type?: ResultType;
  subfolder?: string;
  /** With overwrite only an earlier upload stored under that very name is a hit. */
  overwrite?: boolean;
  /** The name was made up, not asked for: it is left out of the key. */
  anyName?: boolean;
}

/** ComfyUI's answer, and whether it came from the cache (nothing was sent). */
export interface CachedUpload extends UploadResult {
  reused: boolean;
}

interface Entry {
  pending: Promise<UploadResult>;
  settled?: UploadResult;
}

export const UPLOAD_CACHE_ENTRIES = 500;

/** Hashed in slices with a turn of the event loop between them: 100 MB never blocks Node-RED for long. */
const HASH_SLICE = 4 * 1024 * 1024;

export class UploadCache {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly capacity = UPLOAD_CACHE_ENTRIES) {}

  get size(): number {
    return this.entries.size;
  }

  /**
   * The earlier upload of these bytes to this folder, or `send()`'s. Two uploads of the same bytes
   * at once send once: the second waits for the first. A failed upload is not remembered.
   */
  async upload(target: UploadTarget, send: () => Promise<UploadResult>): Promise<CachedUpload> {
    // A made-up name still keeps its extension (a data URL's media type chose it).
    const name = target.anyName ? `made up *${extname(target.filename)}` : `named ${target.filename}`;
    const key = `${await sha256(target.bytes)}\n${target.type ?? 'input'}\n${target.subfolder ?? ''}\n${name}`;
    const entry = this.entries.get(key);
    if (entry) {
      const earlier = await entry.pending.catch(() => undefined);
      if (earlier && this.entries.get(key) === entry && (!target.overwrite || earlier.name === target.filename)) {
        this.entries.delete(key);
        this.entries.set(key, entry);
        return { ...earlier, reused: true };
      }
    }
    const mine: Entry = { pending: send() };
    this.entries.set(key, mine);
    try {
      const result = await mine.pending;
      // Forgotten meanwhile (a reconnect): the answer is used, not remembered.
      if (this.entries.get(key) === mine) {
        mine.settled = result;
        this.dropOthersNamed(key, result);
        this.trim();
      }
      return { ...result, reused: false };
    } catch (err) {
      if (this.entries.get(key) === mine) this.entries.delete(key);
      throw err;
    }
  }

  /** Everything: the server may have restarted or lost its files. */
  forget(): void {
    this.entries.clear();
  }

  /** The file `result` names now holds these bytes: whatever was remembered under that name is stale. */
  private dropOthersNamed(key: string, result: UploadResult): void {
    for (const [other, entry] of this.entries) {
      const s = entry.settled;
      if (other !== key && s && s.name === result.name && s.subfolder === result.subfolder && s.type === result.type) {
        this.entries.delete(other);
      }
    }
  }

  private trim(): void {
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.capacity) return;
      this.entries.delete(oldest);
    }
  }
}

async function sha256(bytes: Buffer): Promise<string> {
  const hash = createHash('sha256');
  for (let at = 0; at < bytes.length; at += HASH_SLICE) {
    if (at > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    hash.update(bytes.subarray(at, at + HASH_SLICE));
  }
  return hash.digest('hex');
}
