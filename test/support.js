'use strict';
// Shared test plumbing: the simulator, the Node-RED test runtime, and small waiting helpers.
const helper = require('node-red-node-test-helper');
const { startSimulator } = require('../dist/simulator');

helper.init(require.resolve('node-red'));

const { randomBytes } = require('node:crypto');
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const zlib = require('node:zlib');
const packageJson = require('../package.json');

/** Every node module the package declares, as the runtime would load them. */
const nodeFiles = Object.values(packageJson['node-red'].nodes).map((file) => join(__dirname, '..', file));
const allNodes = nodeFiles.filter((file) => existsSync(file)).map((file) => require(file));
const serverNode = require('../dist/nodes/comfyui-server.js');
const submitNode = require('../dist/nodes/comfyui-submit.js');
const imagesNode = require('../dist/nodes/comfyui-images.js');

/** Resolves when `check()` returns a truthy value; fails with `what` after `timeoutMs`. */
async function waitFor(check, what, timeoutMs = 5000) {
  const started = Date.now();
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The next `call:<method>` spy event of a node, as a promise. */
function nextCall(node, method, timeoutMs = 8000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${method} call on ${node.id} within ${timeoutMs} ms`)), timeoutMs);
    node.once(`call:${method}`, (call) => {
      clearTimeout(timer);
      resolve(call);
    });
  });
}

/** The next msg a helper node receives. */
function nextMessage(node, timeoutMs = 8000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no message at ${node.id} within ${timeoutMs} ms`)), timeoutMs);
    node.once('input', (msg) => {
      clearTimeout(timer);
      resolve(msg);
    });
  });
}

/** Collects `count` msgs at a helper node. */
function collectMessages(node, count, timeoutMs = 8000) {
  return new Promise((resolve, reject) => {
    const got = [];
    const timer = setTimeout(() => reject(new Error(`got ${got.length} of ${count} messages at ${node.id}`)), timeoutMs);
    const onInput = (msg) => {
      got.push(msg);
      if (got.length === count) {
        clearTimeout(timer);
        node.off('input', onInput);
        resolve(got);
      }
    };
    node.on('input', onInput);
  });
}

/** Resolves with the Error a node passed to done(err) (the runtime logs it through node.error). */
async function nextError(node, timeoutMs = 8000) {
  const call = await nextCall(node, 'error', timeoutMs);
  return call.args[0];
}

/**
 * The usual frame of a spec file: the test runtime once per file, a fresh simulator per test,
 * and after each test the flow unloaded (our close handlers run) and the simulator closed.
 * `env.sim` is the current simulator.
 */
function useSimulator(options = { testControls: true }) {
  const env = { sim: undefined };
  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => {
    env.sim = await startSimulator(options);
  });
  afterEach(async () => {
    try {
      await helper.unload();
      // Prompts in flight and client ids live in global context (job-store.ts), which outlives a flow: none may reach the next test.
      await helper._context.delete('global');
    } finally {
      await env.sim.close(); // also removes its temporary folder
    }
  });
  return env;
}

/** The status calls of one node (the test helper spies on the shared prototype, so filter by node). */
function statusesOf(node) {
  return node.status
    .getCalls()
    .filter((call) => call.thisValue === node)
    .map((call) => call.args[0]);
}

/** The latest status a node set, or {} when it set none. */
function lastStatus(node) {
  const all = statusesOf(node);
  return all[all.length - 1] ?? {};
}

/** EmptyImage → SaveImage, the smallest workflow that writes files. */
function saveImageWorkflow({ width = 64, height = 64, batch = 1, color = 0xff0000, prefix = 'test' } = {}) {
  return {
    1: { class_type: 'EmptyImage', inputs: { width, height, batch_size: batch, color }, _meta: { title: 'Empty Image' } },
    2: { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: prefix }, _meta: { title: 'Save Image' } },
  };
}

/** saveImageWorkflow as ComfyUI's "Save" writes it (UI format): EmptyImage → SaveImage titled "Keep". */
function uiSaveImageWorkflow({ prefix = 'ui_converted' } = {}) {
  return {
    last_node_id: 2,
    last_link_id: 1,
    nodes: [
      { id: 1, type: 'EmptyImage', mode: 0, outputs: [{ name: 'IMAGE', type: 'IMAGE', links: [1] }], widgets_values: [64, 32, 1, 0] },
      { id: 2, type: 'SaveImage', mode: 0, title: 'Keep', inputs: [{ name: 'images', type: 'IMAGE', link: 1 }], widgets_values: [prefix] },
    ],
    links: [[1, 1, 0, 2, 0, 'IMAGE']],
    version: 0.4,
  };
}

/**
 * Loads a server configuration on the simulator of `env` (useSimulator), a submit node with `props`
 * wired to a helper node `out`, and `extra` nodes.
 */
async function loadSubmit(env, props = {}, extra = []) {
  const flow = [
    { id: 'srv', type: 'comfyui-server', url: env.sim.url, timeout: 5 },
    { id: 'sub', type: 'comfyui-submit', server: 'srv', workflow: '', mode: 'wait', randomizeSeeds: false, wires: [['out']], ...props },
    { id: 'out', type: 'helper' },
    ...extra,
  ];
  await helper.load(allNodes, flow);
  return { sub: helper.getNode('sub'), out: helper.getNode('out'), client: helper.getNode('srv').client };
}

/** The standard text-to-image chain, with a KSampler that reports `steps` progress ticks. */
function textToImageWorkflow({ steps = 4, seed = 1, width = 64, height = 64, prefix = 't2i', sampler = 'euler' } = {}) {
  return {
    4: {
      class_type: 'CheckpointLoaderSimple',
      inputs: { ckpt_name: 'v1-5-pruned-emaonly.safetensors' },
      _meta: { title: 'Load Checkpoint' },
    },
    6: { class_type: 'CLIPTextEncode', inputs: { text: 'a lighthouse', clip: ['4', 1] }, _meta: { title: 'Positive Prompt' } },
    7: { class_type: 'CLIPTextEncode', inputs: { text: 'blurry', clip: ['4', 1] }, _meta: { title: 'Negative Prompt' } },
    5: { class_type: 'EmptyLatentImage', inputs: { width, height, batch_size: 1 }, _meta: { title: 'Empty Latent Image' } },
    3: {
      class_type: 'KSampler',
      inputs: {
        seed,
        steps,
        cfg: 7,
        sampler_name: sampler,
        scheduler: 'normal',
        denoise: 1,
        model: ['4', 0],
        positive: ['6', 0],
        negative: ['7', 0],
        latent_image: ['5', 0],
      },
      _meta: { title: 'KSampler' },
    },
    8: { class_type: 'VAEDecode', inputs: { samples: ['3', 0], vae: ['4', 2] }, _meta: { title: 'VAE Decode' } },
    9: { class_type: 'SaveImage', inputs: { images: ['8', 0], filename_prefix: prefix }, _meta: { title: 'Save Image' } },
  };
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function isPng(buffer) {
  return Buffer.isBuffer(buffer) && buffer.length > 33 && buffer.subarray(0, 8).equals(PNG_SIGNATURE);
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(buffer) {
  return { width: buffer.readUInt32BE(16), height: buffer.readUInt32BE(20) };
}

/**
 * A real PNG from our own encoder, so no test trusts the simulator's (and the client never builds
 * PNGs). `pixel` is [r, g, b] or [r, g, b, a] (RGB or RGBA), or `(x, y) => such an array`;
 * `() => [random, random, random]` gives noise that does not compress.
 */
function makePng(width, height, pixel = [200, 40, 10, 255]) {
  const at = typeof pixel === 'function' ? pixel : () => pixel;
  const channels = at(0, 0).length;
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(body) >>> 0);
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = channels === 4 ? 6 : 2; // RGBA or RGB
  const raw = Buffer.alloc((1 + width * channels) * height);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) raw.set(at(x, y), y * (1 + width * channels) + 1 + x * channels);
  }
  return Buffer.concat([PNG_SIGNATURE, chunk('IHDR', header), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

/** A PNG of deterministic noise (an LCG), which does not compress: about width × height × 3 bytes. */
function noisyPng(width, height) {
  let state = 12345;
  // The high bits: the low bits of a power-of-two LCG repeat after a few steps.
  const next = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) >>> 16) & 255;
  return makePng(width, height, () => [next(), next(), next()]);
}

/** A multipart/form-data body of `{name, value, filename?}` fields; a part with a filename is image/png. */
function multipart(fields) {
  const boundary = `----specboundary${randomBytes(12).toString('hex')}`;
  const parts = [];
  for (const f of fields) {
    const disposition = f.filename ? `form-data; name="${f.name}"; filename="${f.filename}"` : `form-data; name="${f.name}"`;
    const head = `--${boundary}\r\nContent-Disposition: ${disposition}\r\n${f.filename ? 'Content-Type: image/png\r\n' : ''}\r\n`;
    parts.push(Buffer.from(head, 'latin1'), Buffer.isBuffer(f.value) ? f.value : Buffer.from(f.value), Buffer.from('\r\n'));
  }
  parts.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(parts), contentType: `multipart/form-data; boundary=${boundary}` };
}

module.exports = {
  helper,
  startSimulator,
  allNodes,
  nodeFiles,
  packageJson,
  serverNode,
  submitNode,
  imagesNode,
  waitFor,
  nextCall,
  nextMessage,
  nextError,
  collectMessages,
  statusesOf,
  lastStatus,
  useSimulator,
  saveImageWorkflow,
  uiSaveImageWorkflow,
  loadSubmit,
  textToImageWorkflow,
  isPng,
  pngSize,
  makePng,
  noisyPng,
  multipart,
};
