'use strict';
// Every kind of output ComfyUI writes, end to end against the simulator: submit lists each with its
// kind, the images node delivers it with the right content type and file name.
const assert = require('node:assert/strict');
const { helper, allNodes, collectMessages, nextMessage, nextError, useSimulator, isPng, pngSize } = require('./support');
const { collectOutputs } = require('../dist/client/outputs');
const { JobTracker, defaultTrackerOptions } = require('../dist/client/jobs');
const { decodeBinaryFrame } = require('../dist/client/frames');

const EMPTY = { class_type: 'EmptyImage', inputs: { width: 32, height: 24, batch_size: 3, color: 0x3366ff } };

/** One output node fed by `feed` nodes; `save` is the saver's class and inputs. */
function workflow(save, feed = { 1: EMPTY }) {
  return { ...feed, 9: { ...save, _meta: { title: 'Saver' } } };
}

const AUDIO = { 1: { class_type: 'EmptyAudio', inputs: { duration: 0.5, sample_rate: 44100, channels: 2 } } };

/** Each case: workflow, then what the result lists and what the images node emits. */
const CASES = [
  {
    title: 'a still image (SaveImage)',
    prompt: workflow(
      { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'still' } },
      { 1: { ...EMPTY, inputs: { ...EMPTY.inputs, batch_size: 1 } } },
    ),
    kind: 'image',
    key: 'images',
    contentType: 'image/png',
    name: /^still_\d{5}_\.png$/,
    bytes: (b) => isPng(b) && pngSize(b).width === 32,
  },
  {
    title: 'an animated WebP (SaveAnimatedWEBP)',
    prompt: workflow({
      class_type: 'SaveAnimatedWEBP',
      inputs: { images: ['1', 0], filename_prefix: 'anim', fps: 6, lossless: true, quality: 80, method: 'default' },
    }),
    kind: 'animated',
    key: 'images',
    contentType: 'image/webp',
    name: /^anim_\d{5}_\.webp$/,
    // VP8X with its animation flag, then ANIM
    bytes: (b) =>
      b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 12, 16) === 'VP8X' && (b[20] & 0x02) === 2 && b.includes('ANMF'),
  },
  {
    title: 'an animated PNG (SaveAnimatedPNG)',
    prompt: workflow({ class_type: 'SaveAnimatedPNG', inputs: { images: ['1', 0], filename_prefix: 'apng', fps: 6, compress_level: 4 } }),
    kind: 'animated',
    key: 'images',
    contentType: 'image/png',
    name: /^apng_\d{5}_\.png$/,
    bytes: (b) => isPng(b) && b.includes('acTL') && b.includes('fdAT'),
  },
  {
    title: 'a WebM video (SaveWEBM)',
    prompt: workflow({ class_type: 'SaveWEBM', inputs: { images: ['1', 0], filename_prefix: 'clip', codec: 'vp9', fps: 24, crf: 32 } }),
    kind: 'video',
    key: 'images',
    contentType: 'video/webm',
    name: /^clip_\d{5}_\.webm$/,
    bytes: (b) => b.readUInt32BE(0) === 0x1a45dfa3 && b.includes('webm'),
  },
  {
    title: 'an MP4 video (CreateVideo → SaveVideo)',
    prompt: workflow(
      { class_type: 'SaveVideo', inputs: { video: ['2', 0], filename_prefix: 'video/ComfyUI', format: 'auto', codec: 'auto' } },
      { 1: EMPTY, 2: { class_type: 'CreateVideo', inputs: { images: ['1', 0], fps: 30 } } },
    ),
    kind: 'video',
    key: 'images',
    contentType: 'video/mp4',
    name: /^ComfyUI_\d{5}_\.mp4$/,
    subfolder: 'video',
    bytes: (b) => b.toString('latin1', 4, 8) === 'ftyp',
  },
  {
    title: 'FLAC audio (SaveAudio)',
    prompt: workflow({ class_type: 'SaveAudio', inputs: { audio: ['1', 0], filename_prefix: 'audio/ComfyUI' } }, AUDIO),
    kind: 'audio',
    key: 'audio',
    contentType: 'audio/flac',
    name: /^ComfyUI_\d{5}_\.flac$/,
    subfolder: 'audio',
    bytes: (b) => b.toString('latin1', 0, 4) === 'fLaC' && b.includes('prompt='),
  },
  {
    title: 'MP3 audio (SaveAudioMP3)',
    prompt: workflow({ class_type: 'SaveAudioMP3', inputs: { audio: ['1', 0], filename_prefix: 'song', quality: 'V0' } }, AUDIO),
    kind: 'audio',
    key: 'audio',
    contentType: 'audio/mpeg',
    name: /^song_\d{5}_\.mp3$/,
    bytes: (b) => b[0] === 0xff && (b[1] & 0xe0) === 0xe0,
  },
  {
    title: 'Opus audio (SaveAudioOpus)',
    prompt: workflow({ class_type: 'SaveAudioOpus', inputs: { audio: ['1', 0], filename_prefix: 'voice', quality: '128k' } }, AUDIO),
    kind: 'audio',
    key: 'audio',
    contentType: 'audio/ogg',
    name: /^voice_\d{5}_\.opus$/,
    bytes: (b) => b.toString('latin1', 0, 4) === 'OggS' && b.includes('OpusHead'),
  },
  {
    title: 'a 3D model (… → VoxelToMeshBasic → SaveGLB)',
    prompt: workflow(
      { class_type: 'SaveGLB', inputs: { mesh: ['4', 0], filename_prefix: 'mesh/ComfyUI' } },
      {
        1: { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'v1-5-pruned-emaonly.safetensors' } },
        2: { class_type: 'EmptyLatentHunyuan3Dv2', inputs: { resolution: 3072, batch_size: 1 } },
        3: { class_type: 'VAEDecodeHunyuan3D', inputs: { samples: ['2', 0], vae: ['1', 2], num_chunks: 8000, octree_resolution: 256 } },
        4: { class_type: 'VoxelToMeshBasic', inputs: { voxel: ['3', 0], threshold: 0.6 } },
      },
    ),
    kind: '3d',
    key: '3d',
    contentType: 'model/gltf-binary',
    name: /^ComfyUI_\d{5}_\.glb$/,
    subfolder: 'mesh',
    bytes: (b) => b.toString('latin1', 0, 4) === 'glTF' && b.readUInt32LE(8) === b.length,
  },
  {
    title: 'a latent (SaveLatent)',
    prompt: workflow(
      { class_type: 'SaveLatent', inputs: { samples: ['1', 0], filename_prefix: 'latents/ComfyUI' } },
      { 1: { class_type: 'EmptyLatentImage', inputs: { width: 64, height: 64, batch_size: 1 } } },
    ),
    kind: 'latent',
    key: 'latents',
    contentType: 'application/octet-stream',
    name: /^ComfyUI_\d{5}_\.latent$/,
    subfolder: 'latents',
    // safetensors: u64 header length, then the JSON header naming latent_tensor [1, 4, 8, 8]
    bytes: (b) => JSON.parse(b.toString('utf8', 8, 8 + Number(b.readBigUInt64LE(0)))).latent_tensor.shape.join() === '1,4,8,8',
  },
];

describe('output kinds (submit → images)', function () {
  const env = useSimulator({ testControls: true });

  async function load(output = 'buffer') {
    const flow = [
      { id: 'srv', type: 'comfyui-server', url: env.sim.url, timeout: 5 },
      { id: 'sub', type: 'comfyui-submit', server: 'srv', workflow: '', mode: 'wait', wires: [['img', 'result']] },
      { id: 'img', type: 'comfyui-images', server: 'srv', output, wires: [['out']] },
      { id: 'result', type: 'helper' },
      { id: 'out', type: 'helper' },
    ];
    await helper.load(allNodes, flow);
    return { sub: helper.getNode('sub'), img: helper.getNode('img'), out: helper.getNode('out'), result: helper.getNode('result') };
  }

  for (const c of CASES) {
    it(`lists and delivers ${c.title}`, async function () {
      const { sub, out, result } = await load();
      const listed = nextMessage(result);
      const delivered = nextMessage(out);
      sub.receive({ payload: c.prompt });
      const { payload } = await listed;
      assert.equal(payload.images.length, 1, JSON.stringify(payload.images));
      const [item] = payload.images;
      assert.equal(item.kind, c.kind);
      assert.equal(item.key, c.key);
      assert.equal(item.node, '9');
      assert.equal(item.contentType, c.contentType);
      assert.equal(item.subfolder, c.subfolder ?? '');
      assert.match(item.filename, c.name);
      const msg = await delivered;
      assert.equal(msg.kind, c.kind);
      assert.equal(msg.contentType, c.contentType);
      assert.equal(msg.filename, item.filename);
      assert.ok(Buffer.isBuffer(msg.payload), 'the file bytes');
      assert.ok(c.bytes(msg.payload), `the bytes are ${c.title}`);
      assert.equal(msg.image.kind, c.kind);
    });
  }

  it('lists a text output as a string and delivers it as msg.payload (PrimitiveString → PreviewAny)', async function () {
    const { sub, out, result } = await load();
    const listed = nextMessage(result);
    const delivered = nextMessage(out);
    const prompt = workflow(
      { class_type: 'PreviewAny', inputs: { source: ['1', 0] } },
      { 1: { class_type: 'PrimitiveString', inputs: { value: 'a lighthouse at dusk' } } },
    );
    sub.receive({ payload: prompt });
    const { payload } = await listed;
    assert.deepEqual(payload.outputs['9'], { text: ['a lighthouse at dusk'] });
    assert.deepEqual(payload.images, [{ node: '9', key: 'text', kind: 'text', index: 0, text: 'a lighthouse at dusk' }]);
    const msg = await delivered;
    assert.equal(msg.payload, 'a lighthouse at dusk');
    assert.equal(msg.kind, 'text');
    assert.equal(msg.contentType, 'text/plain; charset=utf-8');
    assert.equal(msg.filename, 'text_9_0.txt');
  });

  it('delivers a text output in refs mode too, and reads every kind from a history entry (msg.prompt_id)', async function () {
    const { sub, img, out, result } = await load('refs');
    const listed = nextMessage(result);
    const first = collectMessages(out, 2);
    const prompt = {
      1: { class_type: 'PrimitiveString', inputs: { value: 'caption' } },
      2: { class_type: 'PreviewAny', inputs: { source: ['1', 0] } },
      3: { class_type: 'EmptyAudio', inputs: { duration: 0.5, sample_rate: 44100, channels: 1 } },
      4: { class_type: 'SaveAudio', inputs: { audio: ['3', 0], filename_prefix: 'audio/ComfyUI' } },
    };
    sub.receive({ payload: prompt });
    const { prompt_id: promptId } = await listed;
    await first;
    const again = collectMessages(out, 2);
    img.receive({ prompt_id: promptId });
    const msgs = await again;
    const text = msgs.find((m) => m.kind === 'text');
    const audio = msgs.find((m) => m.kind === 'audio');
    assert.equal(text.payload, 'caption');
    assert.equal(audio.contentType, 'audio/flac');
    assert.match(audio.payload.url, /filename=ComfyUI_\d{5}_\.flac/);
  });

  it('delivers SaveImageWebsocket images from memory, attributed to their node, without /view (type-4 frames)', async function () {
    const { sub, out, result } = await load();
    // Any /view would fail: the images must come from memory.
    env.sim.faults.failRoute('GET', '/view', 500, 'no /view expected');
    const listed = nextMessage(result);
    const delivered = collectMessages(out, 2);
    sub.receive({
      payload: {
        1: { class_type: 'EmptyImage', inputs: { width: 48, height: 32, batch_size: 2, color: 0xff00ff } },
        2: { class_type: 'SaveImageWebsocket', inputs: { images: ['1', 0] } },
      },
    });
    const { payload } = await listed;
    assert.equal(payload.images.length, 2);
    payload.images.forEach((item, index) => {
      assert.equal(item.source, 'websocket');
      assert.equal(item.kind, 'image');
      assert.equal(item.node, '2');
      assert.equal(item.index, index);
      assert.equal(item.contentType, 'image/png');
      assert.deepEqual(pngSize(item.data), { width: 48, height: 32 });
    });
    const msgs = await delivered;
    assert.deepEqual(
      msgs.map((m) => [m.filename, m.kind, m.contentType, pngSize(m.payload).width, m.image.source]),
      [
        ['websocket_2_0.png', 'image', 'image/png', 48, 'websocket'],
        ['websocket_2_1.png', 'image', 'image/png', 48, 'websocket'],
      ],
    );
  });

  it('fails with TOO_LARGE when WebSocket images go over the Largest file setting, naming it', async function () {
    const flow = [
      { id: 'srv', type: 'comfyui-server', url: env.sim.url, timeout: 5, maxFileMB: 0.001 },
      { id: 'sub', type: 'comfyui-submit', server: 'srv', workflow: '', mode: 'wait', wires: [['out']] },
      { id: 'out', type: 'helper' },
    ];
    await helper.load(allNodes, flow);
    const sub = helper.getNode('sub');
    const failed = nextError(sub);
    sub.receive({
      payload: {
        1: { class_type: 'EmptyImage', inputs: { width: 256, height: 256, batch_size: 1, color: 0 } },
        2: { class_type: 'SaveImageWebsocket', inputs: { images: ['1', 0] } },
      },
    });
    const err = await failed;
    assert.equal(err.code, 'TOO_LARGE');
    assert.match(err.message, /Largest file/);
  });
});

describe('output kinds (reading UI outputs)', function () {
  it("reads VideoHelperSuite's gifs (format, frame_rate) and leaves its server paths behind", function () {
    const outputs = {
      12: {
        gifs: [
          {
            filename: 'AnimateDiff_00001.mp4',
            subfolder: '',
            type: 'output',
            format: 'video/h264-mp4',
            frame_rate: 8.0,
            workflow: 'AnimateDiff_00001.png',
            fullpath: '/opt/ComfyUI/output/AnimateDiff_00001.mp4',
          },
          {
            filename: 'loop_00002.gif',
            subfolder: '',
            type: 'output',
            format: 'image/gif',
            frame_rate: 12,
            workflow: 'x.png',
            fullpath: '/x',
          },
        ],
      },
    };
    assert.deepEqual(collectOutputs(outputs), [
      {
        filename: 'AnimateDiff_00001.mp4',
        subfolder: '',
        type: 'output',
        node: '12',
        key: 'gifs',
        kind: 'video',
        contentType: 'video/mp4',
        format: 'video/h264-mp4',
        frame_rate: 8,
      },
      {
        filename: 'loop_00002.gif',
        subfolder: '',
        type: 'output',
        node: '12',
        key: 'gifs',
        kind: 'animated',
        contentType: 'image/gif',
        format: 'image/gif',
        frame_rate: 12,
      },
    ]);
  });

  it('tells a one-frame animated save (no `animated`) and a V3 preview (`animated: [false]`) from a moving one', function () {
    const kinds = collectOutputs({
      1: { images: [{ filename: 'a_00001_.webp', subfolder: '', type: 'output' }] },
      2: { images: [{ filename: 'ComfyUI_temp_abcde_00001_.png', subfolder: '', type: 'temp' }], animated: [false] },
      3: { images: [{ filename: 'b_00001_.webp', subfolder: '', type: 'output' }], animated: [true] },
    }).map((item) => item.kind);
    assert.deepEqual(kinds, ['image', 'image', 'animated']);
  });

  it('keeps unknown keys visible: a file under any key is a file of the kind its name says, anything else stays in outputs only', function () {
    const items = collectOutputs({
      5: {
        meshes: [{ filename: 'm.obj', subfolder: '', type: 'output' }],
        result: ['model.glb', null, null],
        unfinished_batch: [true],
        text: ['hello', 42, { no: 1 }],
      },
    });
    assert.deepEqual(
      items.map((item) => [item.key, item.kind, item.filename ?? item.text]),
      [
        ['meshes', 'file', 'm.obj'],
        ['text', 'text', 'hello'],
      ],
    );
  });

  it('keeps type-1 frames (no ids) for the node ComfyUI named last in `executing`, and no sampler previews', async function () {
    const promptId = 'p-legacy';
    const prompt = {
      1: { class_type: 'EmptyImage', inputs: {} },
      2: { class_type: 'SaveImageWebsocket', inputs: { images: ['1', 0] } },
      3: { class_type: 'KSampler', inputs: {} },
    };
    const entry = {
      number: 1,
      prompt,
      outputs: {},
      status: { status_str: 'success', completed: true, messages: [{ type: 'execution_success' }] },
    };
    const tracker = new JobTracker(
      { history: async () => entry, queue: async () => ({ queue_running: [], queue_pending: [] }) },
      defaultTrackerOptions,
    );
    const result = tracker.register(promptId, prompt);
    tracker.accepted(promptId);
    const message = (type, data) => ({ kind: 'message', message: { type, data } });
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 0x10]);
    const legacy = (format, bytes) => decodeBinaryFrame(Buffer.concat([Buffer.from([0, 0, 0, 1, 0, 0, 0, format]), bytes]));
    tracker.handle(message('executing', { node: '3', display_node: '3', prompt_id: promptId }));
    tracker.handle(legacy(1, jpeg)); // a sampler preview: not a result
    tracker.handle(message('executing', { node: '2', display_node: '2', prompt_id: promptId }));
    tracker.handle(legacy(2, png));
    tracker.handle(legacy(2, png));
    tracker.handle(message('executing', { node: null, prompt_id: promptId }));
    const { images } = await result;
    assert.deepEqual(
      images.map((i) => [i.node, i.index, i.filename, i.contentType, i.data.length]),
      [
        ['2', 0, 'websocket_2_0.png', 'image/png', png.length],
        ['2', 1, 'websocket_2_1.png', 'image/png', png.length],
      ],
    );
  });
});
