'use strict';
// Workflows read from the files ComfyUI saves (PNG, WebP, FLAC, Ogg Opus, MP3, MP4, WebM): the
// readers against files shaped like Pillow's and ffmpeg's, the submit node running a PNG the
// simulator made, and generated damage that must end in a ComfyError and nothing else.
const assert = require('node:assert/strict');
const { deflateSync } = require('node:zlib');
const fc = require('fast-check');
const { request } = require('undici');
const { helper, allNodes, nextMessage, nextError, saveImageWorkflow, useSimulator, isPng, makePng } = require('./support');
const files = require('./tools/media-files');
const { readEmbeddedWorkflow } = require('../dist/client/embedded-workflow');
const { normalizeWorkflow, looksLikeWorkflow, readWorkflow } = require('../dist/client/workflow');
const { ComfyError } = require('../dist/client/errors');
const { dumpPyJson, PyFloat } = require('../dist/simulator/pyjson');

const PROMPT = {
  3: {
    class_type: 'KSampler',
    inputs: { seed: 7, steps: 20, cfg: new PyFloat(7), model: ['4', 0], text: 'café ☃' },
    _meta: { title: 'KSampler' },
  },
  4: { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'v1-5-pruned-emaonly.safetensors' } },
};
const WORKFLOW = { last_node_id: 4, nodes: [{ id: 3, type: 'KSampler', widgets_values: [7, 'fixed', 20] }], links: [], version: 0.4 };
/** What the readers give back: plain JSON (PyFloat(7) is 7). */
const plain = (value) => JSON.parse(dumpPyJson(value));

const both = [
  ['prompt', dumpPyJson(PROMPT)],
  ['workflow', dumpPyJson(WORKFLOW)],
];
const workflowOnly = [['workflow', dumpPyJson(WORKFLOW)]];

/** Every writer, with the format name the reader reports, and the variants other writers produce. */
const WRITERS = [
  ['SaveImage PNG (tEXt)', 'PNG', (e) => files.png(e)],
  ['PNG with iTXt', 'PNG', (e) => files.png(e, { chunk: 'iTXt' })],
  ['PNG with compressed iTXt', 'PNG', (e) => files.png(e, { chunk: 'iTXt-z' })],
  ['PNG with zTXt', 'PNG', (e) => files.png(e, { chunk: 'zTXt' })],
  ['SaveAnimatedPNG (comf chunks after IDAT)', 'PNG', (e) => files.apng(e)],
  ['SaveAnimatedWEBP (Pillow 12 EXIF)', 'WebP', (e) => files.webp(e)],
  ['WebP with older Pillow EXIF (no Exif prefix, little-endian)', 'WebP', (e) => files.webp(e, { legacy: true })],
  ['SaveAudio FLAC', 'FLAC', (e) => files.flac(e)],
  ['SaveAudio Opus', 'Ogg', (e) => files.opus(e)],
  ['SaveAudio MP3 (ID3v2.4)', 'MP3', (e) => files.mp3(e)],
  ['MP3 with ID3v2.3', 'MP3', (e) => files.mp3(e, { version: 3 })],
  ['SaveVideo MP4 (moov/udta/meta mdta)', 'MP4', (e) => files.mp4(e)],
  ['MP4 in QuickTime layout (moov/meta)', 'MP4', (e) => files.mp4(e, { layout: 'quicktime' })],
  ['SaveWEBM', 'WebM', (e) => files.webm(e)],
  ['WebM with Tags after the Cluster', 'WebM', (e) => files.webm(e, { clusterFirst: true })],
];

function assertComfyError(err, code = 'BAD_WORKFLOW') {
  assert.ok(err instanceof ComfyError, `a ComfyError, not ${err && err.stack}`);
  assert.equal(err.code, code, err.message);
  return true;
}

describe('workflows embedded in files ComfyUI saved', function () {
  describe('readEmbeddedWorkflow', function () {
    for (const [name, format, write] of WRITERS) {
      it(`${name}: prompt and workflow, workflow only, neither`, function () {
        const found = readEmbeddedWorkflow(write(both));
        assert.equal(found.format, format);
        assert.deepEqual(JSON.parse(JSON.stringify(found.prompt)), plain(PROMPT));
        assert.deepEqual(JSON.parse(JSON.stringify(found.workflow)), plain(WORKFLOW));
        assert.equal(Object.getPrototypeOf(found.prompt), null, 'plain null-prototype objects');
        assert.equal(Object.getPrototypeOf(found.prompt['3'].inputs), null);

        const uiOnly = readEmbeddedWorkflow(write(workflowOnly));
        assert.deepEqual(Object.keys(uiOnly).sort(), ['format', 'workflow']);
        assert.deepEqual(JSON.parse(JSON.stringify(uiOnly.workflow)), plain(WORKFLOW));

        assert.deepEqual(readEmbeddedWorkflow(write([])), { format });
      });
    }

    it('reads Python json.dumps NaN, Infinity and -Infinity as null, and leaves them alone inside strings', function () {
      const prompt = {
        1: {
          class_type: 'X',
          inputs: { a: new PyFloat(NaN), b: new PyFloat(Infinity), c: [new PyFloat(-Infinity)], d: 'NaN Infinity "-Infinity"' },
        },
      };
      const text = dumpPyJson(prompt);
      assert.match(text, /"a": NaN, "b": Infinity, "c": \[-Infinity\]/);
      const found = readEmbeddedWorkflow(files.png([['prompt', text]]));
      assert.deepEqual(JSON.parse(JSON.stringify(found.prompt)), {
        1: { class_type: 'X', inputs: { a: null, b: null, c: [null], d: 'NaN Infinity "-Infinity"' } },
      });
    });

    it('names the format and the key when a text is not valid JSON, or JSON but not an object', function () {
      for (const [write, format] of [
        [files.png, 'PNG'],
        [files.mp4, 'MP4'],
      ]) {
        assert.throws(
          () => readEmbeddedWorkflow(write([['prompt', '{"1": {']])),
          (err) => assertComfyError(err) && err.message.includes(`"prompt" text in this ${format} file is not valid JSON`),
        );
        assert.throws(
          () => readEmbeddedWorkflow(write([['workflow', '[1, 2]']])),
          (err) => assertComfyError(err) && err.message.includes(`"workflow" text in this ${format} file is JSON, but not an object`),
        );
      }
    });

    it('refuses texts larger than 4 MB, and inflates compressed ones no further than that', function () {
      const huge = `{"1": {"class_type": "X", "inputs": {"t": "${'a'.repeat(4.5 * 1024 * 1024)}"}}}`;
      assert.throws(
        () => readEmbeddedWorkflow(files.png([['prompt', huge]])),
        (err) => assertComfyError(err) && /larger than 4 MB/.test(err.message),
      );
      // 64 MB of spaces deflate to about 64 kB: the zTXt bomb stops at the cap.
      const bomb = Buffer.from(files.png([['prompt', '{}']], { chunk: 'zTXt' }));
      const at = bomb.indexOf('zTXt');
      const compressed = deflateSync(Buffer.alloc(64 * 1024 * 1024, 0x20));
      const chunk = Buffer.concat([Buffer.from('prompt\0\0', 'latin1'), compressed]);
      const length = Buffer.alloc(4);
      length.writeUInt32BE(chunk.length);
      const crc = Buffer.alloc(4);
      const withBomb = Buffer.concat([
        bomb.subarray(0, at - 4),
        length,
        Buffer.from('zTXt'),
        chunk,
        crc,
        bomb.subarray(at + 4 + bomb.readUInt32BE(at - 4) + 4),
      ]);
      assert.throws(
        () => readEmbeddedWorkflow(withBomb),
        (err) => assertComfyError(err) && /"prompt" text in this PNG file is larger than 4 MB/.test(err.message),
      );
    });

    it('reads an OpusTags packet that spans many Ogg pages', function () {
      const long = { 1: { class_type: 'X', inputs: { text: 'z'.repeat(200000) } } };
      const bytes = files.opus([['prompt', dumpPyJson(long)]]);
      assert.ok(bytes.indexOf('OggS', 200000) > 0, 'the packet continues on later pages');
      assert.equal(readEmbeddedWorkflow(bytes).prompt['1'].inputs.text.length, 200000);
    });

    it('knows the images ComfyUI does not save metadata in, and is undefined for what is no media file', function () {
      assert.deepEqual(readEmbeddedWorkflow(Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16])), { format: 'JPEG' });
      assert.equal(readEmbeddedWorkflow(Buffer.from('{"1": {}}')), undefined);
      assert.equal(readEmbeddedWorkflow(new Uint8Array(0)), undefined);
      // A Uint8Array view into a larger buffer is read at its own offset.
      const png = files.png(both);
      const backing = new Uint8Array(png.length + 5);
      backing.set(png, 5);
      const view = new Uint8Array(backing.buffer, 5, png.length);
      assert.equal(readEmbeddedWorkflow(view).format, 'PNG');
    });
  });

  describe('normalizeWorkflow and looksLikeWorkflow', function () {
    it('runs the embedded API prompt of a file', function () {
      for (const [, , write] of WRITERS) assert.deepEqual(JSON.parse(JSON.stringify(normalizeWorkflow(write(both)))), plain(PROMPT));
    });

    it('a file with only the UI workflow gives that workflow to convert (UI_WORKFLOW where nothing can convert it); one with neither says why', function () {
      const source = readWorkflow(files.webp(workflowOnly));
      assert.equal(source.format, 'ui');
      assert.deepEqual(JSON.parse(JSON.stringify(source.workflow)), plain(WORKFLOW));
      assert.throws(
        () => normalizeWorkflow(files.webp(workflowOnly)),
        (err) => assertComfyError(err, 'UI_WORKFLOW') && /Workflow → Export \(API\)/.test(err.message),
      );
      assert.throws(
        () => normalizeWorkflow(files.png([])),
        (err) =>
          assertComfyError(err) && /^This PNG file has no workflow in it \(ComfyUI embeds one .*--disable-metadata/.test(err.message),
      );
      assert.throws(
        () => normalizeWorkflow(makePng(2, 2)),
        (err) => assertComfyError(err) && /This PNG file has no workflow in it/.test(err.message),
      );
    });

    it('an embedded prompt still gets the API checks', function () {
      assert.throws(
        () => normalizeWorkflow(files.flac([['prompt', '{"1": {"class_type": "X"}}']])),
        (err) => assertComfyError(err) && /Workflow entry "1" is not a node/.test(err.message),
      );
    });

    it("media bytes are no workflow that wins over the node's own; JSON bytes still are", function () {
      for (const [, , write] of WRITERS) assert.equal(looksLikeWorkflow(write(both)), false);
      assert.equal(looksLikeWorkflow(Buffer.from(JSON.stringify(saveImageWorkflow()))), true);
    });
  });

  describe('a PNG the simulator saved, run again by a submit node', function () {
    const env = useSimulator({ testControls: true });

    async function load(workflow) {
      await helper.load(allNodes, [
        { id: 'srv', type: 'comfyui-server', url: env.sim.url, timeout: 5 },
        {
          id: 'first',
          type: 'comfyui-submit',
          server: 'srv',
          workflow: JSON.stringify(saveImageWorkflow({ prefix: 'original' })),
          mode: 'wait',
          wires: [['out1']],
        },
        { id: 'again', type: 'comfyui-submit', server: 'srv', workflow, mode: 'wait', wires: [['out2']] },
        { id: 'out1', type: 'helper' },
        { id: 'out2', type: 'helper' },
      ]);
    }

    /** The prompts POST /prompt received, in order. */
    const posted = () => env.sim.requestLog.filter((r) => r.method === 'POST' && r.url === '/prompt').map((r) => JSON.parse(r.body).prompt);
    const classesAndInputs = (prompt) => Object.entries(prompt).map(([id, node]) => [id, node.class_type, node.inputs]);

    async function savedPng() {
      const got = nextMessage(helper.getNode('out1'));
      helper.getNode('first').receive({});
      const { filename, subfolder, type } = (await got).payload.images[0];
      const res = await request(`${env.sim.url}/view?${new URLSearchParams({ filename, subfolder, type })}`);
      const bytes = Buffer.from(await res.body.arrayBuffer());
      assert.ok(isPng(bytes));
      return bytes;
    }

    it('without a workflow of its own, the node runs the prompt the PNG carries', async function () {
      await load('');
      const png = await savedPng();
      const got = nextMessage(helper.getNode('out2'));
      helper.getNode('again').receive({ payload: png });
      const msg = await got;
      assert.match(msg.payload.images[0].filename, /^original_/);
      const [first, second] = posted();
      assert.equal(posted().length, 2);
      assert.deepEqual(classesAndInputs(second), classesAndInputs(first));
    });

    it('with a workflow of its own, the PNG is data: the node runs its own workflow', async function () {
      await load(JSON.stringify(saveImageWorkflow({ prefix: 'own' })));
      const png = await savedPng();
      const got = nextMessage(helper.getNode('out2'));
      helper.getNode('again').receive({ payload: png });
      assert.match((await got).payload.images[0].filename, /^own_/);
    });

    it('a PNG without a workflow fails with BAD_WORKFLOW through done(err)', async function () {
      await load('');
      const error = nextError(helper.getNode('again'));
      helper.getNode('again').receive({ payload: makePng(4, 4) });
      const err = await error;
      assert.equal(err.code, 'BAD_WORKFLOW');
      assert.match(err.message, /This PNG file has no workflow in it/);
    });
  });

  describe('damaged and random files (fast-check)', function () {
    // Each valid file, and random bytes after each signature, so every reader walks garbage.
    const valid = WRITERS.map(([name, , write]) => [name, write(both)]);
    const signatures = [...new Set(valid.map(([, bytes]) => bytes.subarray(0, 12).toString('latin1')))].map((s) =>
      Buffer.from(s, 'latin1'),
    );

    /** The only outcomes allowed: a result, undefined, or a ComfyError BAD_WORKFLOW. */
    function read(bytes) {
      try {
        readEmbeddedWorkflow(bytes);
      } catch (err) {
        assertComfyError(err);
      }
      try {
        normalizeWorkflow(bytes);
      } catch (err) {
        assert.ok(err instanceof ComfyError && ['BAD_WORKFLOW', 'UI_WORKFLOW'].includes(err.code), `${err && err.stack}`);
      }
    }

    it('truncations of each valid file', function () {
      for (const [, bytes] of valid)
        for (let length = 0; length < bytes.length; length += Math.max(1, bytes.length >> 7)) read(bytes.subarray(0, length));
      fc.assert(
        fc.property(fc.integer({ min: 0, max: valid.length - 1 }), fc.nat(), (index, cut) => {
          const bytes = valid[index][1];
          read(bytes.subarray(0, cut % (bytes.length + 1)));
        }),
        { numRuns: 300 },
      );
    });

    it('byte flips in each valid file', function () {
      fc.assert(
        fc.property(
          fc.integer({ min: 0, max: valid.length - 1 }),
          fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
          (index, flips) => {
            const bytes = Buffer.from(valid[index][1]);
            for (const [at, value] of flips) bytes[at % bytes.length] = value;
            read(bytes);
          },
        ),
        { numRuns: 1500 },
      );
    });

    it('random bytes, alone and after each signature', function () {
      fc.assert(
        fc.property(fc.option(fc.constantFrom(...signatures)), fc.uint8Array({ maxLength: 600 }), (signature, rest) => {
          read(signature ? Buffer.concat([signature, rest]) : rest);
        }),
        { numRuns: 1500 },
      );
    });
  });
});
