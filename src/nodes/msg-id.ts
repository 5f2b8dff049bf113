/**
 * `_msgid` for msgs sent at event rates. Node-RED gives a msg without one 8 random bytes built
 * digit by digit (~0.6 µs: at 100 000 progress events, a quarter of what Node-RED itself costs
 * per msg). A random prefix per process and a counter are as unique within the runtime, which is
 * all a _msgid is for (debug, catch, complete, tracing), at a fraction of the cost.
 */
import { randomBytes } from 'node:crypto';

let prefix = randomBytes(4).toString('hex');
let counter = 0;

/** 16 hex digits, like Node-RED's own ids. */
export function nextMsgId(): string {
  counter = (counter + 1) >>> 0;
  // After 2^32 ids the counter starts over under a new prefix rather than repeat an id.
  if (counter === 0) prefix = randomBytes(4).toString('hex');
  return prefix + counter.toString(16).padStart(8, '0');
}
