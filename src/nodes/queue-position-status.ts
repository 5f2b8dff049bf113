/**
 * The submit node's status while its prompt waits in ComfyUI's queue: its place and, when known,
 * how long until it should be done, e.g. `#3 ~1:20`. A status text is a catalog key or plain text,
 * never a key with a value in it, so this is plain text the way the running status shows steps
 * (`2/5 KSampler 3/20`): a number and a clock read the same in every language, and the editor
 * leaves a text that starts with `#` untranslated. The blue ring is the "queued" status's.
 */
import type { NodeStatus } from 'node-red';
import type { QueuePosition } from '../client/queue-positions';

export function queuePositionStatus(position: QueuePosition): NodeStatus {
  const eta = position.eta_ms === null ? '' : ` ~${clock(position.eta_ms)}`;
  return { fill: 'blue', shape: 'ring', text: `#${position.position}${eta}` };
}

/** m:ss, or h:mm:ss from an hour on; whole seconds, rounded up (an ETA of 0:00 before the end would be wrong). */
function clock(ms: number): string {
  const seconds = Math.max(0, Math.ceil(ms / 1000));
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = String(seconds % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${s}` : `${m}:${s}`;
}
