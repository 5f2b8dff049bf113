'use strict';
/** Starts the simulator in a child process (bench/lib/sim-child.js) and talks to it over IPC. */
const { fork } = require('node:child_process');
const { join } = require('node:path');
const { request } = require('undici');

async function spawnSimulator(options = {}) {
  const child = fork(join(__dirname, 'sim-child.js'), [JSON.stringify(options)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map();
  let nextId = 0;
  const ready = await new Promise((resolve, reject) => {
    child.once('message', resolve);
    child.once('exit', (code) => reject(new Error(`simulator exited with ${code} before it was ready`)));
  });
  child.on('message', ({ id, value, error }) => {
    const waiter = pending.get(id);
    if (!waiter) return;
    pending.delete(id);
    if (error) waiter.reject(new Error(error));
    else waiter.resolve(value);
  });
  child.on('exit', () => {
    for (const waiter of pending.values()) waiter.reject(new Error('the simulator process exited'));
    pending.clear();
  });
  const call = (cmd, args) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      child.send({ id, cmd, args });
    });
  return {
    url: ready.url,
    port: ready.port,
    pid: child.pid,
    call,
    openSocketCount: () => call('sockets'),
    async close() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      await call('close').catch(() => undefined);
      await exited;
    },
  };
}

/**
 * The simulator's own execution span of some prompts: the first execution_start to the last
 * execution_success, from the timestamps its history records (as ComfyUI's does). `prompts` is a
 * Set of prompt ids, or a count: the newest that many entries. No client can get its prompts back
 * in less time than this: it is the server's floor for them.
 */
async function executionSpan(url, prompts) {
  const count = typeof prompts === 'number' ? prompts : prompts.size;
  const history = await (await request(`${url}/history?max_items=${typeof prompts === 'number' ? count : count + 100}`)).body.json();
  const ids = typeof prompts === 'number' ? Object.keys(history).slice(-count) : [...prompts];
  let first = Infinity;
  let last = -Infinity;
  let seen = 0;
  for (const id of ids) {
    const entry = history[id];
    if (!entry) continue;
    seen += 1;
    for (const [type, data] of entry.status.messages) {
      if (type === 'execution_start') first = Math.min(first, data.timestamp);
      if (type === 'execution_success') last = Math.max(last, data.timestamp);
    }
  }
  return { span: last - first, seen };
}

module.exports = { spawnSimulator, executionSpan };
