'use strict';
// The simulator's own guarantees beyond the recordings: test controls, real image bytes (PNG checked
// chunk by chunk here, JPEG/WebP headers), KSampler progress and previews, interrupts, routing
// without a client_id, the sid race, the origin check, the body limit, and a clean close.
// Everything talks to it over real sockets on 127.0.0.1, and shares no code with it.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const net = require('node:net');
const zlib = require('node:zlib');
const WebSocket = require('ws');
const { startSimulator } = require('../dist/simulator');
const { makePng, multipart, saveImageWorkflow, textToImageWorkflow } = require('./support');

/* ------------------------------------------------------------------ helpers */

async function call(sim, method, path, body, headers = {}) {
  const init = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    if (typeof body !== 'string' && !Buffer.isBuffer(body)) init.headers['Content-Type'] = 'application/json';
  }
  const res = await fetch(sim.url + path, init);
  const buf = Buffer.from(await res.arrayBuffer());
  let json;
  try {
    json = JSON.parse(buf.toString('utf8'));
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, body: buf, text: buf.toString('utf8'), json };
}

/** A WebSocket client that records every frame and can wait for one. */
async function connect(sim, clientId, { flags } = {}) {
  const ws = new WebSocket(`${sim.url.replace('http', 'ws')}/ws${clientId ? `?clientId=${encodeURIComponent(clientId)}` : ''}`);
  const frames = [];
  const waiters = [];
  ws.on('message', (data, isBinary) => {
    frames.push(isBinary ? { binary: Buffer.from(data) } : JSON.parse(data.toString()));
    for (const w of [...waiters]) w();
  });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  if (flags) ws.send(JSON.stringify({ type: 'feature_flags', data: flags }));
  const client = {
    ws,
    frames,
    /** resolves with the first frame (from `from` on) matching `pred` */
    waitFor(pred, what = 'a frame', ms = 5000, from = 0) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const i = frames.findIndex((f, k) => k >= from && pred(f));
          if (i < 0) return false;
          waiters.splice(waiters.indexOf(check), 1);
          clearTimeout(timer);
          resolve(frames[i]);
          return true;
        };
        const timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(check), 1);
          reject(new Error(`timed out waiting for ${what}; got ${frames.map((f) => f.type ?? 'binary').join(',')}`));
        }, ms);
        waiters.push(check);
        check();
      });
    },
    done(promptId) {
      return client.waitFor(
        (f) => f.type === 'executing' && f.data.node === null && f.data.prompt_id === promptId,
        `the end of ${promptId}`,
      );
    },
    async close() {
      if (ws.readyState === WebSocket.CLOSED) return;
      const closed = new Promise((r) => ws.once('close', r));
      ws.close();
      await closed;
    },
  };
  await client.waitFor((f) => f.type === 'status' && f.data.sid, 'the connect status');
  return client;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitUntil(check, what, ms = 3000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(10);
  }
}

/** The support workflow with this spec's defaults. */
function saveImage({ width = 32, height = 24, color = 0x3366cc, prefix = 'spec', batch = 1 } = {}) {
  return saveImageWorkflow({ width, height, color, prefix, batch });
}

/** The support workflow with this spec's defaults (3 steps, a 64×48 latent). */
function textToImage({ steps = 3, height = 48, ...rest } = {}) {
  return textToImageWorkflow({ steps, height, ...rest });
}

async function submit(sim, prompt, extra = {}) {
  const res = await call(sim, 'POST', '/prompt', { prompt, ...extra });
  assert.equal(res.status, 200, res.text);
  return res.json.prompt_id;
}

/* ---------------------------------------------------------------- PNG check */

/** Parses a PNG strictly (signature, every CRC, IHDR, IEND) and inflates + unfilters IDAT. */
function readPng(buf) {
  assert.equal(buf.subarray(0, 8).toString('hex'), '89504e470d0a1a0a', 'PNG signature');
  const chunks = [];
  let pos = 8;
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString('latin1', pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    assert.equal(buf.readUInt32BE(pos + 8 + len), zlib.crc32(buf.subarray(pos + 4, pos + 8 + len)) >>> 0, `CRC of ${type}`);
    chunks.push({ type, data });
    pos += 12 + len;
  }
  assert.equal(pos, buf.length, 'no trailing bytes');
  assert.equal(chunks[0].type, 'IHDR');
  assert.equal(chunks[chunks.length - 1].type, 'IEND');
  const ihdr = chunks[0].data;
  const width = ihdr.readUInt32BE(0);
  const height = ihdr.readUInt32BE(4);
  assert.equal(ihdr[8], 8, '8-bit');
  const channels = { 2: 3, 6: 4 }[ihdr[9]];
  assert.ok(channels, `colour type ${ihdr[9]}`);
  const raw = zlib.inflateSync(Buffer.concat(chunks.filter((c) => c.type === 'IDAT').map((c) => c.data)));
  const stride = width * channels;
  assert.equal(raw.length, (stride + 1) * height, 'IDAT size');
  const px = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    for (let x = 0; x < stride; x++) {
      const v = raw[y * (stride + 1) + 1 + x];
      const a = x >= channels ? px[y * stride + x - channels] : 0;
      const b = y > 0 ? px[(y - 1) * stride + x] : 0;
      const c = x >= channels && y > 0 ? px[(y - 1) * stride + x - channels] : 0;
      const p = a + b - c;
      const pred = [
        0,
        a,
        b,
        (a + b) >> 1,
        Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c,
      ][f];
      assert.ok(pred !== undefined, `filter ${f}`);
      px[y * stride + x] = (v + pred) & 0xff;
    }
  }
  const texts = Object.fromEntries(
    chunks
      .filter((c) => c.type === 'tEXt')
      .map((c) => [c.data.toString('latin1', 0, c.data.indexOf(0)), c.data.toString('latin1', c.data.indexOf(0) + 1)]),
  );
  return { width, height, channels, px, texts };
}

/** JPEG: SOI, a baseline SOF0 with the size, EOI. */
function jpegSize(buf) {
  assert.equal(buf.subarray(0, 2).toString('hex'), 'ffd8', 'JPEG SOI');
  assert.equal(buf.subarray(-2).toString('hex'), 'ffd9', 'JPEG EOI');
  let p = 2;
  while (p < buf.length) {
    const marker = buf[p + 1];
    if (marker === 0xc0) return { height: buf.readUInt16BE(p + 5), width: buf.readUInt16BE(p + 7) };
    p += 2 + buf.readUInt16BE(p + 2);
  }
  throw new Error('no SOF0');
}

/* -------------------------------------------------------------------- tests */

describe('simulator', function () {
  this.timeout(10000);
  let sim;

  beforeEach(async function () {
    sim = await startSimulator({ testControls: true, stepMs: 5 });
  });
  afterEach(async function () {
    await sim.close();
  });

  describe('outputs', function () {
    it('saves EmptyImage as a real PNG: signature, CRCs, IHDR size, inflated pixels of the asked colour, prompt metadata', async function () {
      const c = await connect(sim, 'png');
      const prompt = saveImage({ width: 37, height: 21, color: 0x12ab34, batch: 2, prefix: 'sub/dir/pic' });
      const id = await submit(sim, prompt, { client_id: 'png', extra_data: { extra_pnginfo: { workflow: { note: 'hello' } } } });
      await c.done(id);
      const { json } = await call(sim, 'GET', `/history/${id}`);
      const images = json[id].outputs['2'].images;
      assert.deepEqual(images, [
        { filename: 'pic_00001_.png', subfolder: 'sub/dir', type: 'output' },
        { filename: 'pic_00002_.png', subfolder: 'sub/dir', type: 'output' },
      ]);
      const res = await call(sim, 'GET', '/view?filename=pic_00002_.png&subfolder=sub/dir&type=output');
      assert.equal(res.headers.get('content-type'), 'image/png');
      assert.equal(res.headers.get('content-disposition'), 'filename="pic_00002_.png"');
      const png = readPng(res.body);
      assert.deepEqual([png.width, png.height, png.channels], [37, 21, 3]);
      for (let p = 0; p < 37 * 21; p++) assert.deepEqual([...png.px.subarray(p * 3, p * 3 + 3)], [0x12, 0xab, 0x34], `pixel ${p}`);
      assert.deepEqual(JSON.parse(png.texts.prompt), prompt);
      assert.deepEqual(JSON.parse(png.texts.workflow), { note: 'hello' });
      // the counter is per prefix and read back from the folder
      const id2 = await submit(sim, prompt, { client_id: 'png' });
      await c.done(id2);
      await call(sim, 'POST', '/free', { free_memory: true });
      const id3 = await submit(sim, prompt, { client_id: 'png' });
      await c.done(id3);
      const again = await call(sim, 'GET', `/history/${id3}`);
      assert.deepEqual(
        again.json[id3].outputs['2'].images.map((i) => i.filename),
        ['pic_00003_.png', 'pic_00004_.png'],
      );
      await c.close();
    });

    it('runs the text-to-image chain: steps of progress, a deterministic picture at the latent size × 8', async function () {
      const c = await connect(sim, 't2i');
      const id = await submit(sim, textToImage({ seed: 7, steps: 3, width: 64, height: 48 }), { client_id: 't2i' });
      await c.done(id);
      const mine = c.frames.filter((f) => f.data && f.data.prompt_id === id);
      const ticks = mine.filter((f) => f.type === 'progress').map((f) => [f.data.value, f.data.max, f.data.node]);
      assert.deepEqual(ticks, [
        [1, 3, '3'],
        [2, 3, '3'],
        [3, 3, '3'],
      ]);
      // per tick: progress_state with the step, then progress
      const kinds = mine.map((f) => (f.type === 'progress_state' ? `ps:${f.data.nodes['3'] ? f.data.nodes['3'].value : '-'}` : f.type));
      const start = kinds.indexOf('progress');
      assert.deepEqual(kinds.slice(start - 1, start + 5), ['ps:1', 'progress', 'ps:2', 'progress', 'ps:3', 'progress']);
      const file = (await call(sim, 'GET', `/history/${id}`)).json[id].outputs['9'].images[0];
      const first = await call(sim, 'GET', `/view?filename=${file.filename}`);
      const png = readPng(first.body);
      assert.deepEqual([png.width, png.height], [64, 48]);
      assert.ok(new Set(png.px).size > 20, 'a picture, not a flat colour');

      // another seed gives another picture; the same seed (after /free) gives the same bytes
      const id2 = await submit(sim, textToImage({ seed: 8, steps: 3, width: 64, height: 48 }), { client_id: 't2i' });
      await c.done(id2);
      const other = (await call(sim, 'GET', `/history/${id2}`)).json[id2].outputs['9'].images[0];
      assert.notDeepEqual((await call(sim, 'GET', `/view?filename=${other.filename}`)).body, first.body);
      await call(sim, 'POST', '/free', { free_memory: true });
      const id3 = await submit(sim, textToImage({ seed: 7, steps: 3, width: 64, height: 48 }), { client_id: 't2i' });
      await c.done(id3);
      const same = (await call(sim, 'GET', `/history/${id3}`)).json[id3].outputs['9'].images[0];
      assert.notEqual(same.filename, file.filename);
      assert.deepEqual(readPng((await call(sim, 'GET', `/view?filename=${same.filename}`)).body).px, png.px);
      await c.close();
    });

    it('sends sampler previews only when asked: JPEG type 1 for legacy sockets, type 4 with metadata when negotiated', async function () {
      const legacy = await connect(sim, 'legacy');
      const meta = await connect(sim, 'meta', { flags: { supports_preview_metadata: true } });
      await meta.waitFor((f) => f.type === 'feature_flags', 'the feature_flags reply');

      const none = await submit(sim, textToImage({ steps: 2 }), { client_id: 'legacy' });
      await legacy.done(none);
      assert.equal(legacy.frames.filter((f) => f.binary).length, 0, 'server default preview method is none');

      const a = await submit(sim, textToImage({ steps: 2, seed: 3 }), { client_id: 'legacy', extra_data: { preview_method: 'auto' } });
      await legacy.done(a);
      const frames = legacy.frames.filter((f) => f.binary);
      assert.equal(frames.length, 2);
      for (const f of frames) {
        assert.equal(f.binary.readUInt32BE(0), 1, 'PREVIEW_IMAGE');
        assert.equal(f.binary.readUInt32BE(4), 1, 'JPEG');
        assert.deepEqual(jpegSize(f.binary.subarray(8)), { width: 8, height: 6 }, 'latent2rgb previews at latent size');
      }
      // order within a tick: progress, then the type-1 frame
      const idx = legacy.frames.findIndex((f) => f.binary);
      assert.equal(legacy.frames[idx - 1].type, 'progress');

      const b = await submit(sim, textToImage({ steps: 2, seed: 4 }), { client_id: 'meta', extra_data: { preview_method: 'taesd' } });
      await meta.done(b);
      const four = meta.frames.filter((f) => f.binary);
      assert.equal(four.length, 2);
      for (const f of four) {
        assert.equal(f.binary.readUInt32BE(0), 4, 'PREVIEW_IMAGE_WITH_METADATA');
        const len = f.binary.readUInt32BE(4);
        const m = JSON.parse(f.binary.subarray(8, 8 + len).toString());
        assert.deepEqual(m, {
          node_id: '3',
          prompt_id: b,
          display_node_id: '3',
          parent_node_id: null,
          real_node_id: '3',
          image_type: 'image/jpeg',
        });
        assert.deepEqual(jpegSize(f.binary.subarray(8 + len)), { width: 64, height: 48 }, 'taesd previews at full size');
      }
      // order within a tick: progress_state, type 4, progress
      const i4 = meta.frames.findIndex((f) => f.binary);
      assert.deepEqual([meta.frames[i4 - 1].type, meta.frames[i4 + 1].type], ['progress_state', 'progress']);
      await legacy.close();
      await meta.close();
    });

    it('runs every class it lists in /object_info (upload → scale → invert → blur → encode → sample → decode → outputs)', async function () {
      const classes = Object.keys((await call(sim, 'GET', '/object_info')).json).sort();
      const up = multipart([{ name: 'image', filename: 'src.png', value: makePng(20, 12, (x) => [x * 10, 100, 200, 255]) }]);
      assert.equal((await call(sim, 'POST', '/upload/image', up.body, { 'Content-Type': up.contentType })).status, 200);
      const c = await connect(sim, 'all', { flags: { supports_preview_metadata: true } });
      // Until the server has read the flags, it sends this socket type-1 frames (a race on a busy machine).
      await c.waitFor((f) => f.type === 'feature_flags', 'the feature_flags reply');
      const prompt = {
        1: { class_type: 'LoadImage', inputs: { image: 'src.png' } },
        2: { class_type: 'ImageScale', inputs: { image: ['1', 0], upscale_method: 'bilinear', width: 40, height: 0, crop: 'disabled' } },
        3: { class_type: 'ImageInvert', inputs: { image: ['2', 0] } },
        4: { class_type: 'ImageBlur', inputs: { image: ['3', 0], blur_radius: 2, sigma: 0.5 } },
        5: { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sd_xl_base_1.0.safetensors' } },
        6: { class_type: 'VAEEncode', inputs: { pixels: ['4', 0], vae: ['5', 2] } },
        7: { class_type: 'CLIPTextEncode', inputs: { text: 'x', clip: ['5', 1] } },
        8: {
          class_type: 'KSampler',
          inputs: {
            seed: '18446744073709551615',
            steps: 2,
            cfg: 1.5,
            sampler_name: 'dpmpp_2m',
            scheduler: 'karras',
            denoise: 0.5,
            model: ['5', 0],
            positive: ['7', 0],
            negative: ['7', 0],
            latent_image: ['6', 0],
          },
        },
        9: { class_type: 'VAEDecode', inputs: { samples: ['8', 0], vae: ['5', 2] } },
        10: { class_type: 'PreviewImage', inputs: { images: ['9', 0] } },
        11: { class_type: 'SaveImageWebsocket', inputs: { images: ['13', 0] } },
        12: { class_type: 'EmptyLatentImage', inputs: { width: 16, height: 16, batch_size: 1 } },
        13: { class_type: 'EmptyImage', inputs: { width: 3, height: 2, batch_size: 1, color: 0xffffff } },
        14: { class_type: 'SaveImage', inputs: { images: ['15', 0], filename_prefix: 'all' } },
        15: { class_type: 'VAEDecode', inputs: { samples: ['12', 0], vae: ['5', 2] } },
        // Every other kind of output (output-kinds.spec.js checks each one's files and UI output).
        16: {
          class_type: 'SaveAnimatedWEBP',
          inputs: { images: ['13', 0], filename_prefix: 'all', fps: 6, lossless: true, quality: 80, method: 'default' },
        },
        17: { class_type: 'SaveAnimatedPNG', inputs: { images: ['13', 0], filename_prefix: 'all', fps: 6, compress_level: 4 } },
        18: { class_type: 'SaveWEBM', inputs: { images: ['13', 0], filename_prefix: 'all', codec: 'vp9', fps: 24, crf: 32 } },
        19: { class_type: 'CreateVideo', inputs: { images: ['13', 0], fps: 30 } },
        20: { class_type: 'SaveVideo', inputs: { video: ['19', 0], filename_prefix: 'video/all', format: 'auto', codec: 'auto' } },
        21: { class_type: 'EmptyAudio', inputs: { duration: 0.1, sample_rate: 44100, channels: 1 } },
        22: { class_type: 'SaveAudio', inputs: { audio: ['21', 0], filename_prefix: 'audio/all' } },
        23: { class_type: 'SaveAudioMP3', inputs: { audio: ['21', 0], filename_prefix: 'audio/all', quality: 'V0' } },
        24: { class_type: 'SaveAudioOpus', inputs: { audio: ['21', 0], filename_prefix: 'audio/all', quality: '128k' } },
        25: { class_type: 'PrimitiveString', inputs: { value: 'words' } },
        26: { class_type: 'PreviewAny', inputs: { source: ['25', 0] } },
        27: { class_type: 'SaveLatent', inputs: { samples: ['12', 0], filename_prefix: 'latents/all' } },
        28: { class_type: 'EmptyLatentHunyuan3Dv2', inputs: { resolution: 3072, batch_size: 1 } },
        29: { class_type: 'VAEDecodeHunyuan3D', inputs: { samples: ['28', 0], vae: ['5', 2], num_chunks: 8000, octree_resolution: 256 } },
        30: { class_type: 'VoxelToMeshBasic', inputs: { voxel: ['29', 0], threshold: 0.6 } },
        31: { class_type: 'SaveGLB', inputs: { mesh: ['30', 0], filename_prefix: 'mesh/all' } },
      };
      const used = [...new Set(Object.values(prompt).map((n) => n.class_type))].sort();
      assert.deepEqual(used, classes, 'the workflow uses every listed class');
      const id = await submit(sim, prompt, { client_id: 'all' });
      await c.done(id);
      const h = (await call(sim, 'GET', `/history/${id}`)).json[id];
      assert.equal(h.status.status_str, 'success', JSON.stringify(h.status.messages.at(-1)));
      assert.deepEqual(h.prompt[2]['8'].inputs.seed, 2 ** 64, 'INT coercion of a 64-bit seed string');
      assert.match((await call(sim, 'GET', `/history/${id}`)).text, /"seed": 18446744073709551615,/);
      const preview = h.outputs['10'].images[0];
      assert.match(preview.filename, /^ComfyUI_temp_[a-z]{5}_00001_\.png$/);
      const png = readPng((await call(sim, 'GET', `/view?filename=${preview.filename}&type=temp`)).body);
      assert.deepEqual([png.width, png.height], [40, 24], 'the scaled size survives encode/decode (multiple of 8)');
      const ws = c.frames.filter((f) => f.binary);
      assert.equal(ws.length, 1, 'SaveImageWebsocket sends its image as a type-4 frame');
      const len = ws[0].binary.readUInt32BE(4);
      assert.equal(JSON.parse(ws[0].binary.subarray(8, 8 + len)).image_type, 'image/png');
      const sent = readPng(ws[0].binary.subarray(8 + len));
      assert.deepEqual([sent.width, sent.height, [...sent.px.subarray(0, 3)]], [3, 2, [255, 255, 255]]);
      const empty = readPng((await call(sim, 'GET', `/view?filename=${h.outputs['14'].images[0].filename}`)).body);
      assert.deepEqual([empty.width, empty.height], [16, 16], 'an empty 16×16 latent decodes to 16×16 pixels');
      assert.equal(c.frames.filter((f) => f.type === 'executed' && f.data.node === '11').length, 0, 'no executed for SaveImageWebsocket');
      assert.deepEqual(h.outputs['26'], { text: ['words'] });
      assert.deepEqual(Object.keys(h.outputs['18']), ['images', 'animated'], 'a video under images, animated: [true]');
      assert.deepEqual(h.outputs['16'].animated, undefined, 'a one-frame animated WebP is not marked animated');
      assert.equal(h.outputs['31']['3d'][0].subfolder, 'mesh');
      assert.equal(h.outputs['27'].latents[0].subfolder, 'latents');
      await c.close();
    });

    it('honours the server-wide previewMethod option', async function () {
      await sim.close();
      sim = await startSimulator({ testControls: true, stepMs: 2, previewMethod: 'latent2rgb' });
      const c = await connect(sim, 'p');
      const id = await submit(sim, textToImage({ steps: 2 }), { client_id: 'p' });
      await c.done(id);
      assert.equal(c.frames.filter((f) => f.binary).length, 2);
      const none = await submit(sim, textToImage({ steps: 2, seed: 9 }), { client_id: 'p', extra_data: { preview_method: 'none' } });
      await c.done(none);
      assert.equal(c.frames.filter((f) => f.binary).length, 2, 'a prompt can turn previews off');
      await c.close();
    });
  });

  describe('execution', function () {
    it('interrupts a running KSampler at the next step, and ignores an interrupt for another prompt_id', async function () {
      await sim.close();
      sim = await startSimulator({ testControls: true, stepMs: 60 });
      const c = await connect(sim, 'int');
      const id = await submit(sim, textToImage({ steps: 50 }), { client_id: 'int' });
      await c.waitFor((f) => f.type === 'progress' && f.data.value === 2, 'step 2');
      assert.equal((await call(sim, 'POST', '/interrupt', { prompt_id: 'not-running' })).status, 200);
      await c.waitFor((f) => f.type === 'progress' && f.data.value === 3, 'step 3 (the foreign interrupt changed nothing)');
      await call(sim, 'POST', '/interrupt', { prompt_id: id });
      const stop = await c.waitFor((f) => f.type === 'execution_interrupted', 'execution_interrupted');
      assert.deepEqual(Object.keys(stop.data), ['prompt_id', 'node_id', 'node_type', 'executed', 'timestamp']);
      assert.equal(stop.data.node_id, '3');
      assert.equal(stop.data.node_type, 'KSampler');
      assert.deepEqual([...stop.data.executed].sort(), ['4', '5', '6', '7']);
      const ticks = c.frames.filter((f) => f.type === 'progress').length;
      assert.ok(ticks < 10, `stopped after ${ticks} steps`);
      await c.done(id);
      const after = c.frames.slice(c.frames.indexOf(stop) + 1).map((f) => f.type);
      assert.deepEqual(after, ['status', 'executing']);
      const h = (await call(sim, 'GET', `/history/${id}`)).json[id];
      assert.deepEqual(
        [h.status.status_str, h.status.completed, h.status.messages.map((m) => m[0])],
        ['error', false, ['execution_start', 'execution_cached', 'execution_interrupted']],
      );
      // idle: an interrupt now does not affect the next prompt (the flag resets when a prompt starts)
      await call(sim, 'POST', '/interrupt', '');
      const next = await submit(sim, textToImage({ steps: 1, seed: 5 }), { client_id: 'int' });
      await c.done(next);
      assert.equal((await call(sim, 'GET', `/history/${next}`)).json[next].status.status_str, 'success');
      await c.close();
    });

    it('routes a prompt without client_id: progress broadcast, execution events to nobody; history still written', async function () {
      const a = await connect(sim, 'a');
      const b = await connect(sim);
      const id = await submit(sim, textToImage({ steps: 2 }));
      const h = await waitUntil(async () => (await call(sim, 'GET', `/history/${id}`)).json[id], 'history');
      assert.equal(h.status.status_str, 'success');
      for (const c of [a, b]) {
        // frames and HTTP answers travel on different connections: wait for the run's last broadcast
        await c.waitFor((f) => f.type === 'progress' && f.data.value === 2, 'the last tick');
        await c.waitFor((f) => f.type === 'status' && f.data.status.exec_info.queue_remaining === 0, 'the final status', 5000, 3);
        const types = new Set(c.frames.map((f) => f.type));
        assert.ok(types.has('progress') && types.has('progress_state'), 'progress is broadcast');
        for (const t of ['execution_start', 'execution_cached', 'executing', 'executed', 'execution_success'])
          assert.ok(!types.has(t), `${t} goes to nobody`);
      }
      await a.close();
      await b.close();
    });

    it('caches per node: an identical prompt reports old files, integer progress, no executing; /free clears it', async function () {
      const c = await connect(sim, 'cache');
      const first = await submit(sim, saveImage({ prefix: 'cache' }), { client_id: 'cache' });
      await c.done(first);
      const from = c.frames.length;
      const second = await submit(sim, saveImage({ prefix: 'cache' }), { client_id: 'cache' });
      await c.done(second);
      const run = c.frames.slice(from).filter((f) => f.data && f.data.prompt_id === second);
      assert.deepEqual(
        run.map((f) => f.type),
        ['execution_start', 'execution_cached', 'executed', 'progress_state', 'execution_success', 'executing'],
      );
      assert.deepEqual(run[1].data.nodes, ['1', '2']);
      assert.equal(run[2].data.output.images[0].filename, 'cache_00001_.png');
      await call(sim, 'POST', '/free', { free_memory: true });
      const third = await submit(sim, saveImage({ prefix: 'cache' }), { client_id: 'cache' });
      await c.done(third);
      const h = (await call(sim, 'GET', `/history/${third}`)).json[third];
      assert.deepEqual(h.status.messages[1][1].nodes, []);
      assert.equal(h.outputs['2'].images[0].filename, 'cache_00002_.png');
      await c.close();
    });

    it('answers 200 with node_errors when one output fails and another passes, and runs only the good one', async function () {
      const c = await connect(sim, 'half');
      const prompt = {
        ...saveImage({ prefix: 'good' }),
        3: { class_type: 'EmptyImage', inputs: { width: 0, height: 8, batch_size: 1, color: 0 } },
        4: { class_type: 'SaveImage', inputs: { images: ['3', 0], filename_prefix: 'bad' } },
      };
      const res = await call(sim, 'POST', '/prompt', { prompt, client_id: 'half' });
      assert.equal(res.status, 200);
      assert.deepEqual(Object.keys(res.json.node_errors), ['3']);
      assert.equal(res.json.node_errors['3'].errors[0].type, 'value_smaller_than_min');
      assert.deepEqual(res.json.node_errors['3'].dependent_outputs, ['4']);
      await c.done(res.json.prompt_id);
      const q = (await call(sim, 'GET', `/history/${res.json.prompt_id}`)).json[res.json.prompt_id];
      assert.deepEqual(q.prompt[4], ['2']);
      assert.deepEqual(Object.keys(q.outputs), ['2']);
      await c.close();
    });

    it('reports value_not_in_list with the list, or only its length above 20 options; coerces like Python', async function () {
      const bad = textToImage();
      bad['3'].inputs.sampler_name = 'nope';
      bad['3'].inputs.scheduler = 'sometimes';
      bad['4'].inputs.ckpt_name = 'missing.safetensors';
      const res = await call(sim, 'POST', '/prompt', { prompt: bad });
      assert.equal(res.status, 400);
      const errors = Object.fromEntries(
        Object.values(res.json.node_errors)
          .flatMap((n) => n.errors)
          .map((e) => [e.extra_info.input_name, e]),
      );
      assert.match(errors.sampler_name.details, /^sampler_name: 'nope' not in \(list of length \d\d\)$/);
      assert.equal(errors.sampler_name.extra_info.input_config, null);
      assert.equal(
        errors.scheduler.details,
        "scheduler: 'sometimes' not in ['simple', 'sgm_uniform', 'karras', 'exponential', 'ddim_uniform', 'beta', 'normal', 'linear_quadratic', 'kl_optimal']",
      );
      assert.match(errors.ckpt_name.details, /^ckpt_name: 'missing\.safetensors' not in \['.*v1-5-pruned-emaonly\.safetensors'\]$/);

      const coerced = textToImage();
      Object.assign(coerced['3'].inputs, { steps: '2', seed: 3.7, cfg: '6', denoise: { __value__: 1 } });
      const ok = await call(sim, 'POST', '/prompt', { prompt: coerced, number: 5 });
      assert.equal(ok.status, 200, ok.text);
      assert.match(ok.text, /"number": 5\.0,/);
      const raw = (await call(sim, 'GET', '/queue')).text + (await call(sim, 'GET', `/history/${ok.json.prompt_id}`)).text;
      assert.match(raw, /"seed": 3, "steps": 2, "cfg": 6\.0, "sampler_name": "euler", "scheduler": "normal", "denoise": 1\.0/);
    });

    it('stores extra_data with client_id and create_time added and the comfy.org secrets removed', async function () {
      sim.faults.pauseWorker();
      const extra = { api_key_comfy_org: 'k', auth_token_comfy_org: 't', extra_pnginfo: { workflow: { id: 'wf' } }, mine: 1 };
      const id = await submit(sim, saveImage(), { client_id: 'c1', extra_data: extra, prompt_id: 'my-own-id' });
      assert.equal(id, 'my-own-id');
      assert.deepEqual((await call(sim, 'GET', '/prompt')).json, { exec_info: { queue_remaining: 1 } });
      const item = (await call(sim, 'GET', '/queue')).json.queue_pending[0];
      assert.equal(item.length, 5);
      assert.deepEqual(Object.keys(item[3]), ['extra_pnginfo', 'mine', 'client_id', 'create_time']);
      assert.ok(Math.abs(item[3].create_time - Date.now()) < 5000);
      sim.faults.resumeWorker();
      await waitUntil(async () => (await call(sim, 'GET', '/history/my-own-id')).json['my-own-id'], 'the run');
      const text = (await call(sim, 'GET', '/history')).text + (await call(sim, 'GET', '/api/jobs/my-own-id')).text;
      assert.doesNotMatch(text, /comfy_org/);
      assert.equal((await call(sim, 'GET', '/api/jobs?workflow_id=wf')).json.jobs[0].workflow_id, 'wf');
    });

    it('fails at run time on a non-image upload, with the recorded execution_error fields', async function () {
      const c = await connect(sim, 'err');
      const up = multipart([{ name: 'image', filename: 'broken.png', value: 'not a png' }]);
      assert.equal((await call(sim, 'POST', '/upload/image', up.body, { 'Content-Type': up.contentType })).status, 200);
      const id = await submit(
        sim,
        {
          1: { class_type: 'LoadImage', inputs: { image: 'broken.png' } },
          2: { class_type: 'PreviewImage', inputs: { images: ['1', 0] } },
        },
        { client_id: 'err' },
      );
      const e = await c.waitFor((f) => f.type === 'execution_error', 'execution_error');
      assert.deepEqual(Object.keys(e.data), [
        'prompt_id',
        'node_id',
        'node_type',
        'executed',
        'exception_message',
        'exception_type',
        'traceback',
        'current_inputs',
        'current_outputs',
        'timestamp',
      ]);
      assert.equal(e.data.exception_type, 'PIL.UnidentifiedImageError');
      assert.match(e.data.exception_message, /^cannot identify image file '.*broken\.png'\n$/);
      assert.deepEqual(e.data.current_inputs, { image: ['broken.png'] });
      await c.done(id);
      await c.close();
    });
  });

  describe('WebSocket', function () {
    it('generates a 32-hex sid, answers only the first feature_flags, ignores junk, never pings', async function () {
      const c = await connect(sim);
      assert.match(c.frames[0].data.sid, /^[0-9a-f]{32}$/);
      let pinged = false;
      c.ws.on('ping', () => (pinged = true));
      c.ws.send('not json');
      c.ws.send(Buffer.from([1, 2, 3]));
      c.ws.send(JSON.stringify({ type: 'feature_flags', data: { supports_preview_metadata: true } }));
      c.ws.send(JSON.stringify({ type: 'feature_flags', data: {} }));
      const reply = await c.waitFor((f) => f.type === 'feature_flags', 'the reply');
      assert.deepEqual(reply.data, {
        supports_preview_metadata: true,
        max_upload_size: 104857600,
        extension: { manager: { supports_v4: true } },
      });
      await sleep(100);
      assert.equal(c.frames.filter((f) => f.type === 'feature_flags').length, 1);
      assert.equal(pinged, false);
      await c.close();
    });

    it('reproduces the sid race: last registration wins, and closing the old socket deafens the new one', async function () {
      const old = await connect(sim, 'dup');
      const young = await connect(sim, 'dup');
      const one = await submit(sim, saveImage({ prefix: 'race1' }), { client_id: 'dup' });
      await young.done(one);
      assert.equal(old.frames.filter((f) => f.type === 'executing').length, 0, 'the old socket gets nothing');
      await old.close();
      await sleep(50);
      const two = await submit(sim, saveImage({ prefix: 'race2' }), { client_id: 'dup' });
      await waitUntil(async () => (await call(sim, 'GET', `/history/${two}`)).json[two], 'the second prompt');
      await sleep(50);
      assert.equal(young.frames.filter((f) => f.data && f.data.prompt_id === two).length, 0, 'the young socket is deaf now');
      assert.equal(sim.openSocketCount(), 1);
      await young.close();
    });

    it("tells a socket that reconnects with the running prompt's sid which node is executing", async function () {
      await sim.close();
      sim = await startSimulator({ testControls: true, stepMs: 50 });
      const first = await connect(sim, 'owner');
      const id = await submit(sim, textToImage({ steps: 20 }), { client_id: 'owner' });
      await first.waitFor((f) => f.type === 'progress', 'sampling');
      await first.close();
      const again = await connect(sim, 'owner');
      const notice = await again.waitFor((f) => f.type === 'executing', 'the reconnect notice');
      assert.deepEqual(notice.data, { node: '3' });
      assert.deepEqual(
        again.frames.slice(0, 2).map((f) => f.type),
        ['status', 'executing'],
      );
      await call(sim, 'POST', '/interrupt', {});
      await again.done(id);
      await again.close();
    });
  });

  describe('HTTP rules', function () {
    it('applies the Host/Origin check: 403 on mismatch (also on the WS upgrade), nothing without Origin', async function () {
      const host = `127.0.0.1:${sim.port}`;
      assert.equal((await call(sim, 'GET', '/prompt', undefined, { Origin: `http://${host}` })).status, 200);
      assert.equal((await call(sim, 'GET', '/prompt', undefined, { Origin: 'http://127.0.0.1' })).status, 200);
      const bad = await call(sim, 'GET', '/prompt', undefined, { Origin: `http://localhost:${sim.port}` });
      assert.deepEqual([bad.status, bad.body.length, bad.headers.get('content-type')], [403, 0, 'application/octet-stream']);
      assert.equal((await call(sim, 'POST', '/prompt', { prompt: {} }, { Origin: 'http://localhost:1880' })).status, 403);
      const status = await new Promise((resolve) => {
        const ws = new WebSocket(`${sim.url.replace('http', 'ws')}/ws`, { headers: { Origin: 'http://localhost:1880' } });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode));
        ws.on('open', () => resolve('opened'));
        ws.on('error', () => undefined);
      });
      assert.equal(status, 403);
      assert.equal(sim.connectionLog.at(-1).headers.origin, 'http://localhost:1880');
      assert.equal((await call(sim, 'OPTIONS', '/prompt')).status, 200);
    });

    it('limits every body to maxUploadSize with 413 and advertises the limit', async function () {
      await sim.close();
      sim = await startSimulator({ maxUploadSize: 2000 });
      const big = await call(sim, 'POST', '/prompt', `{"prompt": {}, "pad": "${'x'.repeat(5000)}"}`);
      assert.equal(big.status, 413);
      assert.match(big.text, /^Maximum request body size 2000 exceeded, actual body size \d+$/);
      const up = multipart([{ name: 'image', filename: 'big.png', value: Buffer.alloc(3000) }]);
      assert.equal((await call(sim, 'POST', '/upload/image', up.body, { 'Content-Type': up.contentType })).status, 413);
      assert.equal((await call(sim, 'GET', '/features')).json.max_upload_size, 2000);
      assert.throws(() => sim.faults, /test controls are disabled/);
    });

    it('routes like aiohttp: /api twins, 404/405, /internal only bare, /api/jobs only prefixed', async function () {
      for (const p of ['/prompt', '/api/prompt', '/queue', '/api/queue', '/internal/logs', '/api/jobs', '/api/api/jobs']) {
        assert.equal((await call(sim, 'GET', p)).status, 200, p);
      }
      for (const p of ['/api/internal/logs', '/jobs', '/interrupt', '/nothing']) {
        const r = await call(sim, 'GET', p);
        assert.deepEqual([r.status, r.text], [404, '404: Not Found'], p);
      }
      assert.equal((await call(sim, 'POST', '/view', {})).status, 405);
      assert.equal((await call(sim, 'POST', '/free', '')).status, 500);
      assert.equal((await call(sim, 'POST', '/interrupt', '')).status, 200);
      assert.equal((await call(sim, 'POST', '/history', [1])).status, 200, '"clear" in [1] is just False');
      assert.equal((await call(sim, 'POST', '/history', 'clear')).status, 500, '"clear"["clear"] raises');
      const head = await fetch(`${sim.url}/object_info/EmptyImage`, { method: 'HEAD' });
      assert.equal(head.status, 200);
    });

    it('uploads: dedup by content, "name (1).ext" renaming, bad type 500, masks merge the alpha', async function () {
      const red = makePng(4, 4, () => [255, 0, 0, 255]);
      const blue = makePng(4, 4, () => [0, 0, 255, 255]);
      const up = async (fields) => {
        const m = multipart(fields);
        return call(sim, 'POST', '/upload/image', m.body, { 'Content-Type': m.contentType });
      };
      assert.deepEqual((await up([{ name: 'image', filename: 'x.png', value: red }])).json, {
        name: 'x.png',
        subfolder: '',
        type: 'input',
      });
      assert.equal((await up([{ name: 'image', filename: 'x.png', value: red }])).json.name, 'x.png');
      assert.equal((await up([{ name: 'image', filename: 'x.png', value: blue }])).json.name, 'x (1).png');
      assert.equal(
        (
          await up([
            { name: 'image', filename: 'x.png', value: blue },
            { name: 'type', value: 'nope' },
          ])
        ).status,
        500,
      );
      assert.equal(
        (
          await up([
            { name: 'image', filename: 'x.png', value: blue },
            { name: 'subfolder', value: '../out' },
          ])
        ).status,
        400,
      );
      const info = (await call(sim, 'GET', '/object_info/LoadImage')).json;
      assert.deepEqual(info.LoadImage.input.required.image[0], ['x (1).png', 'x.png']);

      const mask = multipart([
        { name: 'image', filename: 'x_mask.png', value: makePng(4, 4, (x) => [0, 0, 0, x * 60]) },
        { name: 'original_ref', value: JSON.stringify({ filename: 'x.png', subfolder: '', type: 'input' }) },
      ]);
      const res = await call(sim, 'POST', '/upload/mask', mask.body, { 'Content-Type': mask.contentType });
      assert.deepEqual(res.json, { name: 'x_mask.png', subfolder: '', type: 'input' });
      const merged = readPng((await call(sim, 'GET', '/view?filename=x_mask.png&type=input')).body);
      assert.equal(merged.channels, 4);
      assert.deepEqual([...merged.px.subarray(0, 8)], [255, 0, 0, 0, 255, 0, 0, 60]);
      // /view re-encodings
      const webp = await call(sim, 'GET', '/view?filename=x_mask.png&type=input&preview=webp;80');
      assert.deepEqual(
        [webp.headers.get('content-type'), webp.body.toString('latin1', 0, 4), webp.body.toString('latin1', 8, 16)],
        ['image/webp', 'RIFF', 'WEBPVP8L'],
      );
      const jpeg = await call(sim, 'GET', '/view?filename=x_mask.png&type=input&preview=jpeg;50');
      assert.deepEqual([jpeg.headers.get('content-type'), jpegSize(jpeg.body)], ['image/jpeg', { width: 4, height: 4 }]);
      const alpha = readPng((await call(sim, 'GET', '/view?filename=x_mask.png&type=input&channel=a')).body);
      assert.deepEqual([...alpha.px.subarray(0, 8)], [0, 0, 0, 0, 0, 0, 0, 60]);
      const range = await call(sim, 'GET', '/view?filename=x.png&type=input', undefined, { Range: 'bytes=0-7' });
      assert.deepEqual([range.status, range.body.toString('hex')], [206, '89504e470d0a1a0a']);
    });

    it('keeps history order and slices it like get_history (max_items, offset); deleting the last pending item broadcasts twice', async function () {
      const c = await connect(sim, 'h');
      const ids = [];
      for (let i = 0; i < 3; i++) {
        ids.push(await submit(sim, saveImage({ prefix: `h${i}`, color: i }), { client_id: 'h' }));
        await c.done(ids[i]);
      }
      assert.deepEqual(Object.keys((await call(sim, 'GET', '/history')).json), ids);
      assert.deepEqual(Object.keys((await call(sim, 'GET', '/history?max_items=2')).json), ids.slice(1));
      assert.deepEqual(Object.keys((await call(sim, 'GET', '/history?offset=1&max_items=1')).json), ids.slice(1, 2));
      assert.equal((await call(sim, 'GET', '/history?max_items=x')).status, 500);
      sim.faults.pauseWorker();
      const before = c.frames.length;
      const pending = await submit(sim, saveImage({ prefix: 'p' }), { client_id: 'h' });
      await c.waitFor((f) => f.type === 'status' && f.data.status.exec_info.queue_remaining === 1, 'queued', 2000, before);
      const from = c.frames.length;
      await call(sim, 'POST', '/queue', { delete: [pending] });
      // Both broadcasts, then a little more time in which a third one would show.
      await c.waitFor((f) => f.type === 'status', 'the first status after the delete', 5000, from);
      await c.waitFor((f) => f.type === 'status', 'the second status after the delete', 5000, from + 1);
      await sleep(50);
      assert.deepEqual(
        c.frames.slice(from).map((f) => f.data.status.exec_info.queue_remaining),
        [0, 0],
      );
      sim.faults.resumeWorker();
      await c.close();
    });
  });

  describe('test controls', function () {
    it('pauseWorker holds prompts pending until resumeWorker', async function () {
      sim.faults.pauseWorker();
      const id = await submit(sim, saveImage());
      await sleep(50);
      const q = (await call(sim, 'GET', '/queue')).json;
      assert.deepEqual([q.queue_running.length, q.queue_pending.length, q.queue_pending[0][1]], [0, 1, id]);
      assert.deepEqual((await call(sim, 'GET', `/history/${id}`)).json, {});
      sim.faults.resumeWorker();
      await waitUntil(async () => (await call(sim, 'GET', `/history/${id}`)).json[id], 'the prompt to run');
    });

    it('delayRoute holds the answer (the request itself is handled at once), for `times` requests', async function () {
      sim.faults.delayRoute('GET', '/history', 250, 1);
      const t0 = Date.now();
      await call(sim, 'GET', '/api/history/abc');
      assert.ok(Date.now() - t0 >= 240, 'delayed');
      const t1 = Date.now();
      await call(sim, 'GET', '/history');
      assert.ok(Date.now() - t1 < 200, 'only once');
      const c = await connect(sim, 'd');
      sim.faults.delayRoute('POST', '/prompt', 300, 1);
      const answer = call(sim, 'POST', '/prompt', { prompt: saveImage(), client_id: 'd' });
      const end = await c.waitFor((f) => f.type === 'executing' && f.data.node === null, 'the run, before the answer');
      const res = await answer;
      assert.equal(res.json.prompt_id, end.data.prompt_id);
      await c.close();
    });

    it('failRoute answers with e.g. an HTML 502 page instead of handling the request; reset() removes rules', async function () {
      const page = '<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>';
      sim.faults.failRoute('POST', '/prompt', 502, page, 'text/html', 1);
      const res = await call(sim, 'POST', '/prompt', { prompt: saveImage() });
      assert.deepEqual([res.status, res.headers.get('content-type'), res.text], [502, 'text/html', page]);
      assert.equal(
        (await call(sim, 'GET', '/queue')).json.queue_pending.length + (await call(sim, 'GET', '/history')).text.length,
        2,
        'nothing was queued',
      );
      assert.equal((await call(sim, 'POST', '/prompt', { prompt: saveImage() })).status, 200, 'times: 1');
      sim.faults.failRoute('GET', '/system_stats', 503);
      sim.faults.reset();
      assert.equal((await call(sim, 'GET', '/system_stats')).status, 200);
    });

    it('dropSockets terminates every socket abruptly', async function () {
      const a = await connect(sim, 'x');
      const b = await connect(sim, 'y');
      const codes = Promise.all([a, b].map((c) => new Promise((r) => c.ws.once('close', (code) => r(code)))));
      assert.equal(sim.openSocketCount(), 2);
      sim.faults.dropSockets();
      assert.deepEqual(await codes, [1006, 1006]);
      await waitUntil(() => sim.openSocketCount() === 0, 'server-side sockets gone');
    });

    it('restart keeps the port and the files but loses queue, history, counter and sockets', async function () {
      const c = await connect(sim, 'r');
      const done = await submit(sim, saveImage({ prefix: 'kept' }), { client_id: 'r' });
      await c.done(done);
      sim.faults.pauseWorker();
      await submit(sim, saveImage({ prefix: 'lost' }));
      const closed = new Promise((r) => c.ws.once('close', r));
      const port = sim.port;
      await sim.faults.restart();
      await closed;
      assert.equal(sim.port, port);
      assert.deepEqual((await call(sim, 'GET', '/history')).json, {});
      assert.deepEqual((await call(sim, 'GET', '/queue')).json, { queue_running: [], queue_pending: [] });
      assert.equal((await call(sim, 'GET', '/view?filename=kept_00001_.png')).status, 200);
      const res = await call(sim, 'POST', '/prompt', { prompt: saveImage() });
      assert.equal(res.json.number, 0, 'the counter starts again');
      const again = await connect(sim, 'r');
      assert.equal(again.frames[0].type, 'status');
      await again.close();
    });
  });

  describe('lifecycle', function () {
    it('counts 0 open sockets after clients close', async function () {
      const cs = [await connect(sim, 'a'), await connect(sim, 'b'), await connect(sim)];
      assert.equal(sim.openSocketCount(), 3);
      for (const c of cs) await c.close();
      await waitUntil(() => sim.openSocketCount() === 0, 'zero sockets');
    });

    it('close() leaves nothing listening and removes its own data folder', async function () {
      const own = await startSimulator();
      const c = await connect(own, 'bye');
      await submit(own, saveImage(), { client_id: 'bye' });
      const dirs = fs.readdirSync(require('node:os').tmpdir()).filter((d) => d.startsWith('comfyui-sim-'));
      const clientClosed = new Promise((r) => c.ws.once('close', r));
      await own.close();
      await clientClosed;
      const refused = await new Promise((resolve) => {
        const s = net.connect(own.port, '127.0.0.1');
        s.on('connect', () => {
          s.destroy();
          resolve(false);
        });
        s.on('error', (e) => resolve(e.code === 'ECONNREFUSED'));
      });
      assert.equal(refused, true, 'the port is closed');
      const after = fs.readdirSync(require('node:os').tmpdir()).filter((d) => d.startsWith('comfyui-sim-'));
      assert.ok(after.length < dirs.length, 'its data folder is gone');
      await own.close(); // idempotent
    });

    it('binds 127.0.0.1 and reports its URL', async function () {
      assert.match(sim.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(sim.url, `http://127.0.0.1:${sim.port}`);
    });
  });
});
