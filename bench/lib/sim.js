'use strict';
/** Starts the simulator in a child process (bench/lib/sim-child.js) and talks to it over IPC. */
const { fork } = require('node:child_process');
const { join } = require('node:path');

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

module.exports = { spawnSimulator };
