'use strict';
/**
 * A real Node-RED runtime (node-red-node-test-helper) outside mocha, the way test/soak.js drives
 * one. The helper wraps Node.prototype.send/status/log/… in Sinon spies that record every call and
 * emit an event per call on the next tick; that is test instrumentation, not Node-RED, and at
 * 100 000 msgs it would dominate what is measured. `load()` therefore removes the spies again once
 * the flow is deployed (set BENCH_KEEP_SPIES=1 to keep them).
 */
const { join } = require('node:path');
const helper = require('node-red-node-test-helper');

const root = join(__dirname, '..', '..');
const packageJson = require(join(root, 'package.json'));

/** Every node module the package declares, as the runtime would load them. */
const ourNodes = Object.values(packageJson['node-red'].nodes).map((file) => require(join(root, file)));

let started = false;

/** Node.prototype.send as Node-RED defines it, before the helper wraps it. */
let originalSend;

async function start() {
  if (started) return helper;
  helper.init(require.resolve('node-red'));
  originalSend = helper._NodePrototype.send;
  await helper.startServer();
  started = true;
  return helper;
}

/** Deploys `flow` with our nodes plus `extra` node modules (core nodes) and the nodes' `credentials` by id. */
async function load(flow, extra = [], credentials = {}) {
  await start();
  await helper.load([...ourNodes, ...extra], flow, credentials);
  if (!process.env.BENCH_KEEP_SPIES) unspy(flow);
  return helper;
}

/**
 * Takes the helper's spies off again. Node-RED copies Node.prototype.send onto each node when
 * its wires are set (Node.updateWires), so the deployed nodes keep the spy unless fixed here.
 */
function unspy(flow) {
  if (helper._logSpy) helper._logSpy.restore();
  if (helper._sandbox) helper._sandbox.restore();
  for (const { id } of flow) {
    const node = helper.getNode(id);
    if (node && node.send && node.send.isSinonProxy) node.send = originalSend;
  }
}

async function unload() {
  await helper.unload();
}

async function stop() {
  if (!started) return;
  await helper.stopServer();
  started = false;
}

/** The core node modules a do-it-yourself flow uses, by type. */
function coreNode(path) {
  return require(require.resolve(`@node-red/nodes/core/${path}`, { paths: [require.resolve('node-red')] }));
}

/** Collects msgs at a helper node: resolves after `count`, with the times of the first and last. */
function sinkCounter(node, count, onMessage) {
  let received = 0;
  let first = 0;
  let last = 0;
  let resolve;
  const done = new Promise((r) => (resolve = r));
  const listener = (msg) => {
    if (received === 0) first = performance.now();
    received += 1;
    if (onMessage) onMessage(msg);
    if (received === count) {
      last = performance.now();
      node.off('input', listener);
      resolve();
    }
  };
  node.on('input', listener);
  return {
    done,
    get received() {
      return received;
    },
    get first() {
      return first;
    },
    get last() {
      return last;
    },
    stop: () => node.off('input', listener),
  };
}

module.exports = { helper, start, load, unload, stop, unspy, coreNode, sinkCounter, ourNodes };
