'use strict';
/**
 * One run of job 4 in a fresh process, so that its peak RSS is its own: downloads the given refs
 * either through comfyui-images (buffer mode) → sink in a Node-RED runtime (`ours`) or with plain
 * undici requests of the same /view URLs (`baseline`), and prints one JSON line:
 *   {ms, bytes, files, rssBefore, peakGrowth, sampledPeakGrowth}
 * Peak growth is VmHWM (reset through /proc/self/clear_refs just before the run) minus the RSS at
 * that moment; a 2 ms sampler of process.memoryUsage.rss() is reported beside it.
 */
const { readFileSync, writeFileSync } = require('node:fs');
const { Agent, request } = require('undici');

const [side, url, refsJson] = process.argv.slice(2);
const refs = JSON.parse(refsJson);
const warm = refs.shift(); // a tiny file: connection and JIT warm-up, never measured

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

function viewUrl(ref) {
  const query = new URLSearchParams({ filename: ref.filename, subfolder: ref.subfolder, type: ref.type });
  return `${url}/view?${query}`;
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
      { id: 'img', z: 'tab', type: 'comfyui-images', server: 'srv', output: 'buffer', wires: [['sink']] },
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
  const fetchAll = (list) =>
    new Promise((resolve, reject) => {
      let files = 0;
      let bytes = 0;
      const onInput = (msg) => {
        // Only counted, never kept: a flow that writes each file away and forgets it.
        files += 1;
        bytes += msg.payload.length;
        if (files === list.length) {
          sink.off('input', onInput);
          resolve({ files, bytes });
        }
      };
      sink.on('input', onInput);
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

/**
 * `raw-in-node-red`: the baseline's downloads in a process that also holds a started Node-RED
 * runtime (an empty flow). Not a side of the ratio: it shows what the bigger heap alone costs —
 * every collection of the downloads' garbage now marks Node-RED's heap too.
 */
async function baseline(withNodeRed = false) {
  let runtime;
  if (withNodeRed) {
    runtime = require('./runtime');
    await runtime.load([{ id: 'tab', type: 'tab' }]);
  }
  const agent = new Agent({ keepAliveTimeout: 10_000 });
  const fetchAll = async (list) => {
    let bytes = 0;
    for (const ref of list) {
      const response = await request(viewUrl(ref), { dispatcher: agent });
      if (response.statusCode !== 200) throw new Error(`GET /view answered ${response.statusCode}`);
      const body = Buffer.from(await response.body.arrayBuffer());
      bytes += body.length;
    }
    return { files: list.length, bytes };
  };
  await fetchAll([warm]);
  const result = await measure(() => fetchAll(refs));
  await agent.close();
  if (runtime) {
    await runtime.unload();
    await runtime.stop();
  }
  return result;
}

(side === 'ours' ? ours() : baseline(side === 'raw-in-node-red')).then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(0);
  },
  (err) => {
    console.error(err && err.stack ? err.stack : err);
    process.exit(1);
  },
);
