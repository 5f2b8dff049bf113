'use strict';
/**
 * One run of the `images to files` job in a fresh process, so that its peak RSS is its own: streams
 * the given refs to files in `dir`, either through comfyui-images in its "files" mode → sink in a
 * Node-RED runtime (`ours`) or with plain undici requests piped into fs write streams
 * (`baseline`), and prints one JSON line: {ms, bytes, files, rssBefore, peakGrowth, sampledPeakGrowth}.
 * Each file is removed as soon as it is complete (a flow that moves it on): the page cache, not the
 * disk, is what both sides write to, and the temp folder never holds more than a file or two.
 * Peak growth is measured as in images-run.js (VmHWM after /proc/self/clear_refs, and a 2 ms sampler).
 */
const { createWriteStream, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { pipeline } = require('node:stream/promises');
const { Agent, request } = require('undici');

const [side, url, refsJson, dir] = process.argv.slice(2);
const refs = JSON.parse(refsJson);
const warm = refs.shift(); // a file of the full size: connection, JIT and GC warm-up, never measured

function statusKb(field) {
  const match = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'));
  return match ? Number(match[1]) * 1024 : NaN;
}

function resetPeak() {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

async function measure(run) {
  global.gc();
  global.gc();
  const rssBefore = process.memoryUsage().rss;
  const canReset = resetPeak();
  let sampled = rssBefore;
  const sampler = setInterval(() => {
    sampled = Math.max(sampled, process.memoryUsage.rss());
  }, 2);
  const started = performance.now();
  const { bytes, files } = await run();
  const elapsed = performance.now() - started;
  clearInterval(sampler);
  sampled = Math.max(sampled, process.memoryUsage().rss);
  const peak = canReset ? statusKb('VmHWM') : sampled;
  return { ms: elapsed, bytes, files, rssBefore, peakGrowth: peak - rssBefore, sampledPeakGrowth: sampled - rssBefore };
}

async function ours() {
  const runtime = require('./runtime');
  const helper = await runtime.load(
    [
      { id: 'tab', type: 'tab' },
      { id: 'srv', type: 'comfyui-server', url, timeout: 60, stall: 60 },
      {
        id: 'img',
        z: 'tab',
        type: 'comfyui-images',
        server: 'srv',
        output: 'files',
        directory: dir,
        directoryType: 'str',
        template: 'ours-{filename}',
        existing: 'overwrite',
        wires: [['sink']],
      },
      { id: 'sink', z: 'tab', type: 'helper' },
      { id: 'catcher', z: 'tab', type: 'catch', scope: ['img'], uncaught: false, wires: [['errors']] },
      { id: 'errors', z: 'tab', type: 'helper' },
    ],
    [runtime.coreNode('common/25-catch.js')],
  );
  const images = helper.getNode('img');
  const sink = helper.getNode('sink');
  const errors = [];
  helper.getNode('errors').on('input', (msg) => errors.push(msg.error && msg.error.message));
  // One listener for every run: Node-RED wraps 'input' listeners, so sink.off(original) would not remove one.
  let onFile = () => undefined;
  sink.on('input', (msg) => onFile(msg));
  const fetchAll = (list) =>
    new Promise((resolve, reject) => {
      let files = 0;
      let bytes = 0;
      onFile = (msg) => {
        files += 1;
        bytes += msg.size;
        rmSync(msg.payload);
        if (files === list.length) resolve({ files, bytes });
      };
      images.receive({ payload: { images: list } });
      const check = setInterval(() => {
        if (errors.length) {
          clearInterval(check);
          reject(new Error(errors.join('; ')));
        }
      }, 50);
      check.unref();
    });
  await fetchAll([warm]);
  const result = await measure(() => fetchAll(refs));
  await runtime.unload();
  await runtime.stop();
  return result;
}

/** The same downloads as a person would write them with undici alone: the body piped into a file. */
async function baseline() {
  const agent = new Agent({ keepAliveTimeout: 10_000 });
  const fetchAll = async (list) => {
    let bytes = 0;
    for (const ref of list) {
      const query = new URLSearchParams({ filename: ref.filename, subfolder: ref.subfolder, type: ref.type });
      const response = await request(`${url}/view?${query}`, { dispatcher: agent });
      if (response.statusCode !== 200) throw new Error(`GET /view answered ${response.statusCode}`);
      const path = join(dir, `raw-${ref.filename}`);
      const file = createWriteStream(path);
      await pipeline(response.body, file);
      bytes += file.bytesWritten;
      rmSync(path);
    }
    return { files: list.length, bytes };
  };
  await fetchAll([warm]);
  const result = await measure(() => fetchAll(refs));
  await agent.close();
  return result;
}

(side === 'ours' ? ours() : baseline()).then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(0);
  },
  (err) => {
    console.error(err && err.stack ? err.stack : err);
    process.exit(1);
  },
);
