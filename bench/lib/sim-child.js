'use strict';
/**
 * The simulator in its own process, as ComfyUI is in real life: the process being measured holds
 * only Node-RED and the client (or the baseline client), never the server's work or memory.
 * Driven over IPC by bench/lib/sim.js; options arrive as JSON in argv[2].
 */
const { readFileSync } = require('node:fs');
const { WebSocketServer } = require('ws');
const { startSimulator } = require('../../dist/simulator');

/**
 * The server side of every open WebSocket, so that `blast` can write pre-framed bytes straight to
 * the TCP socket. Through ws.send() the simulator manages ~250k small frames a second, which is
 * slower than a bare client reads them: the baseline would measure the sender, not the client.
 */
const serverSockets = new Set();
const handleUpgrade = WebSocketServer.prototype.handleUpgrade;
WebSocketServer.prototype.handleUpgrade = function (req, socket, head, callback) {
  return handleUpgrade.call(this, req, socket, head, (ws, request) => {
    ws.clientId = new URL(req.url || '/', 'http://localhost').searchParams.get('clientId') || '';
    serverSockets.add(ws);
    ws.once('close', () => serverSockets.delete(ws));
    callback(ws, request);
  });
};

/** One unmasked, final text frame (RFC 6455 §5.2), as a server sends it. */
function textFrame(payload) {
  const length = payload.length;
  const head = length < 126 ? Buffer.from([0x81, length]) : length < 65536 ? Buffer.from([0x81, 126, length >> 8, length & 0xff]) : null;
  if (!head) throw new Error('frame too large for the bench');
  return Buffer.concat([head, payload]);
}

/** `count` progress frames of one prompt as ComfyUI's executor writes them, framed back to back. */
function progressFrames(promptId, node, count) {
  const frames = [];
  for (let i = 1; i <= count; i += 1) {
    const text = `{"type": "progress", "data": {"value": ${i}, "max": ${count}, "prompt_id": "${promptId}", "node": "${node}"}}`;
    frames.push(textFrame(Buffer.from(text)));
  }
  return Buffer.concat(frames);
}

const blastKey = (promptId, node, count) => JSON.stringify([promptId, node, count]);
/** What `frameBlast` built for the next `blast`. */
let framed;

const options = JSON.parse(process.argv[2] || '{}');

/** Counts ESTABLISHED sockets whose local port is `port` in /proc/net/tcp{,6} (the server's ends). */
function establishedTo(port) {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  let count = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length > 3 && cols[1].endsWith(`:${hex}`) && cols[3] === '01') count += 1;
    }
  }
  return count;
}

async function main() {
  const sim = await startSimulator({ ...options, testControls: true });
  const handlers = {
    sockets: () => sim.openSocketCount(),
    /** Established TCP connections to the simulator's port (WebSockets and HTTP keep-alive alike). */
    tcp: () => establishedTo(sim.port),
    pause: () => sim.faults.pauseWorker(),
    resume: () => sim.faults.resumeWorker(),
    requests: () => sim.requestLog.length,
    /** The logged requests (the simulator keeps the latest ones) by method and route, ids cut off: what a side asked for. */
    routes: () => {
      const counts = {};
      for (const { method, url } of sim.requestLog) {
        const route = `${method} ${url.replace(/\?.*$/, '').replace(/^\/(history|view)\/.*$/, '/$1/…')}`;
        counts[route] = (counts[route] || 0) + 1;
      }
      return counts;
    },
    finished: () => sim.finished.size,
    /**
     * N `progress` frames of one prompt (ComfyUI's formatting, as the executor sends them) to the
     * sockets of `clientId` (every open socket without it): framed in advance, then written to
     * the TCP socket in 1 MiB chunks, so the sender costs next to nothing and the receiving
     * client is what gets measured.
     */
    blast: async ({ promptId, node, count, clientId }) => {
      const key = blastKey(promptId, node, count);
      const wire = framed && framed.key === key ? framed.wire : progressFrames(promptId, node, count);
      framed = undefined;
      const started = process.hrtime.bigint();
      const writes = [];
      const targets = [...serverSockets].filter((ws) => clientId === undefined || ws.clientId === clientId);
      for (const ws of targets) {
        const tcp = ws._socket;
        if (!tcp || tcp.destroyed) continue;
        for (let at = 0; at < wire.length; at += 1 << 20) {
          const chunk = wire.subarray(at, at + (1 << 20));
          writes.push(new Promise((resolve) => tcp.write(chunk, resolve)));
        }
      }
      await Promise.all(writes);
      return { sockets: targets.length, bytes: wire.length, sendMs: Number(process.hrtime.bigint() - started) / 1e6 };
    },
    /**
     * Frames `blast`'s bytes in advance (the same arguments), so that a span started after this
     * answer holds the writing and the client's reading, not the building of 50,000 frames here.
     */
    frameBlast: async ({ promptId, node, count }) => {
      framed = { key: blastKey(promptId, node, count), wire: progressFrames(promptId, node, count) };
      return framed.wire.length;
    },
    close: async () => {
      await sim.close();
      setImmediate(() => process.exit(0));
      return true;
    },
  };
  process.on('message', async ({ id, cmd, args }) => {
    try {
      const value = await handlers[cmd](args || {});
      process.send({ id, value });
    } catch (err) {
      process.send({ id, error: String((err && err.stack) || err) });
    }
  });
  // The bench ended (or died) without saying close: close anyway, which removes the simulator's temporary folder.
  process.on('disconnect', () => void sim.close().finally(() => process.exit(0)));
  process.send({ ready: true, url: sim.url, port: sim.port });
}

main().catch((err) => {
  console.error(err);
  process.exit(2);
});
