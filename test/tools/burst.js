'use strict';
// A burst of N msgs into one comfyui-submit node at once, in a process whose file descriptors are
// limited (run by test/burst.spec.js under `ulimit -n 1024`): every prompt must come back, which
// holds only while the HTTP connections per server stay bounded. Prints one JSON line.
const helper = require('node-red-node-test-helper');
const { startSimulator } = require('../../dist/simulator');
const { allNodes } = require('../support');

const COUNT = Number(process.argv[2] || 1500);

async function main() {
  const sim = await startSimulator({ stepMs: 0, nodeMs: 0 });
  await helper.startServer();
  const flow = [
    { id: 'tab', type: 'tab' },
    { id: 'srv', z: 'tab', type: 'comfyui-server', url: sim.url, timeout: 60, stall: 60 },
    { id: 'sub', z: 'tab', type: 'comfyui-submit', server: 'srv', workflow: '', mode: 'wait', wires: [['out']] },
    { id: 'out', z: 'tab', type: 'helper' },
  ];
  await helper.load(allNodes, flow);
  const sub = helper.getNode('sub');
  const delivered = new Set();
  const errors = {};
  sub.on('call:error', (call) => {
    const code = (call.args[0] && call.args[0].code) || 'none';
    errors[code] = (errors[code] || 0) + 1;
  });
  const done = new Promise((resolve) => {
    helper.getNode('out').on('input', (msg) => {
      delivered.add(msg.topic);
      if (delivered.size === COUNT) resolve();
    });
  });
  // The most connections open to the server at once while the burst runs.
  let peak = 0;
  const sampler = setInterval(() => (peak = Math.max(peak, sim.openConnectionCount())), 2);
  for (let i = 0; i < COUNT; i += 1) {
    sub.receive({
      topic: `burst-${i}`,
      payload: {
        1: { class_type: 'EmptyImage', inputs: { width: 8, height: 8, batch_size: 1, color: i } },
        2: { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: `burst/${i}/img` } },
      },
    });
  }
  const settled = await Promise.race([done.then(() => 'all'), new Promise((resolve) => setTimeout(() => resolve('timeout'), 240_000))]);
  clearInterval(sampler);
  console.log(JSON.stringify({ count: COUNT, delivered: delivered.size, errors, settled, peakConnections: peak }));
  await helper.unload();
  await helper.stopServer();
  await sim.close();
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err && err.stack ? err.stack : err);
    process.exit(1);
  },
);
