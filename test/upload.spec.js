'use strict';
const assert = require('node:assert/strict');
const {
  helper,
  startSimulator,
  allNodes,
  nextMessage,
  nextError,
  isPng,
  pngSize,
  lastStatus,
  useSimulator,
  makePng,
  noisyPng,
} = require('./support');
// The simulator's decoder, to look at what ComfyUI's side stored and produced.
const { decodePng } = require('../dist/simulator/png.js');

describe('comfyui-upload', function () {
  const env = useSimulator({ testControls: true });

  const defaults = {
    kind: 'image',
    folder: 'input',
    filename: '',
    subfolder: '',
    overwrite: false,
    original: '',
    target: 'Load Image',
    targetInput: 'image',
  };

  async function load(settings = {}, extra = []) {
    const flow = [
      { id: 'tab', type: 'tab' },
      { id: 'srv', type: 'comfyui-server', url: env.sim.url, timeout: 5 },
      { id: 'up', z: 'tab', type: 'comfyui-upload', server: 'srv', ...defaults, ...settings, wires: [['out']] },
      { id: 'out', z: 'tab', type: 'helper' },
      ...extra.map((n) => ({ z: 'tab', ...n })),
    ];
    await helper.load(allNodes, flow);
    return { up: helper.getNode('up'), out: helper.getNode('out') };
  }

  async function upload(up, out, msg) {
    const got = nextMessage(out);
    up.receive(msg);
    return got;
  }

  /** What ComfyUI stored, read back over /view without our client. */
  async function stored({ name, subfolder = '', type = 'input' }) {
    const query = new URLSearchParams({ filename: name, subfolder, type });
    const response = await fetch(`${env.sim.url}/view?${query}`);
    if (response.status !== 200) return undefined;
    return Buffer.from(await response.arrayBuffer());
  }

  const uploads = () => env.sim.requestLog.filter((r) => r.method === 'POST' && r.url.startsWith('/upload/'));

  it('uploads a Buffer under a generated name and prepares msg.inputs for "Load Image"', async function () {
    const { up, out } = await load();
    const png = makePng(4, 3);
    const before = Date.now();
    const msg = await upload(up, out, { payload: png, keep: 'me' });
    assert.match(msg.payload.name, /^node-red-\d{13}\.png$/);
    const stamp = Number(msg.payload.name.slice(9, 22));
    assert.ok(stamp >= before && stamp <= Date.now(), 'the timestamp is now');
    assert.deepEqual(msg.payload, { name: msg.payload.name, subfolder: '', type: 'input' });
    assert.deepEqual(msg.inputs, { 'Load Image': { image: msg.payload.name } });
    assert.equal(msg.keep, 'me');
    assert.deepEqual(await stored(msg.payload), png);
    assert.deepEqual(
      uploads().map((r) => r.url),
      ['/upload/image'],
    );
    assert.deepEqual(lastStatus(up), { fill: 'green', shape: 'dot', text: 'comfyui-upload.status.done' });
  });

  it('decodes a base64 string, and a data URL whose media type picks the extension', async function () {
    const { up, out } = await load();
    const png = makePng(2, 2, [1, 2, 3, 255]);
    const fromBase64 = await upload(up, out, { payload: png.toString('base64'), filename: 'b64.png' });
    assert.equal(fromBase64.payload.name, 'b64.png');
    assert.deepEqual(await stored(fromBase64.payload), png);

    const wrapped = png.toString('base64').replace(/(.{16})/g, '$1\n');
    const fromWrapped = await upload(up, out, { payload: wrapped, filename: 'wrapped.png' });
    assert.deepEqual(await stored(fromWrapped.payload), png);

    const fromPngUrl = await upload(up, out, { payload: `data:image/png;base64,${png.toString('base64')}` });
    assert.match(fromPngUrl.payload.name, /^node-red-\d+\.png$/);
    assert.deepEqual(await stored(fromPngUrl.payload), png);

    const webp = Buffer.from('RIFF\x1a\x00\x00\x00WEBPVP8 fake', 'latin1');
    const fromWebpUrl = await upload(up, out, { payload: `data:image/webp;base64,${webp.toString('base64')}` });
    assert.match(fromWebpUrl.payload.name, /^node-red-\d+\.webp$/);
    assert.deepEqual(await stored(fromWebpUrl.payload), webp);

    const fromJpegUrl = await upload(up, out, { payload: `data:image/jpeg;name=x.jpg;base64,${webp.toString('base64')}` });
    assert.match(fromJpegUrl.payload.name, /^node-red-\d+\.jpg$/);
  });

  it('uses the settings, and msg.filename, msg.subfolder, msg.type and msg.overwrite override them', async function () {
    const { up, out } = await load({ filename: 'set.png', subfolder: 'fromsetting', folder: 'temp' });
    const png = makePng(2, 2);
    const bySettings = await upload(up, out, { payload: png });
    assert.deepEqual(bySettings.payload, { name: 'set.png', subfolder: 'fromsetting', type: 'temp' });
    assert.deepEqual(bySettings.inputs, { 'Load Image': { image: 'fromsetting/set.png [temp]' } });
    assert.deepEqual(await stored(bySettings.payload), png);

    const byMsg = await upload(up, out, { payload: png, filename: 'photo.png', subfolder: 'mine', type: 'output' });
    assert.deepEqual(byMsg.payload, { name: 'photo.png', subfolder: 'mine', type: 'output' });
    assert.deepEqual(byMsg.inputs, { 'Load Image': { image: 'mine/photo.png [output]' } });
    assert.deepEqual(await stored(byMsg.payload), png);

    // A path is refused (issue 11): File In's full path must be reduced to its name first.
    for (const path of ['/home/me/pictures/photo.png', 'C:\\pics\\win.png']) {
      const failed = nextError(up);
      up.receive({ payload: png, filename: path });
      const err = await failed;
      assert.equal(err.code, 'BAD_INPUT');
      assert.match(err.message, /^msg\.filename contains \/ or \\: give a file name, not a path/);
    }

    const other = makePng(2, 2, [0, 0, 0, 255]);
    const replaced = await upload(up, out, { payload: other, overwrite: true });
    assert.equal(replaced.payload.name, 'set.png', 'overwritten, not renamed');
    assert.deepEqual(await stored(replaced.payload), other);
  });

  it('renames a different file with a taken name to "name (1).png", reuses identical bytes, and overwrites when asked', async function () {
    const { up, out } = await load({ filename: 'same.png' });
    const a = makePng(3, 3, [255, 0, 0, 255]);
    const b = makePng(3, 3, [0, 255, 0, 255]);
    assert.equal((await upload(up, out, { payload: a })).payload.name, 'same.png');
    const renamed = await upload(up, out, { payload: b });
    assert.equal(renamed.payload.name, 'same (1).png');
    assert.deepEqual(renamed.inputs, { 'Load Image': { image: 'same (1).png' } });
    assert.equal((await upload(up, out, { payload: a })).payload.name, 'same.png', 'identical bytes keep the name');
    const forced = await upload(up, out, { payload: b, overwrite: true });
    assert.equal(forced.payload.name, 'same.png');
    assert.deepEqual(await stored({ name: 'same.png' }), b);
  });

  it('overwrites by the Overwrite setting', async function () {
    const { up, out } = await load({ filename: 'over.png', overwrite: true });
    await upload(up, out, { payload: makePng(2, 2, [9, 9, 9, 255]) });
    const second = makePng(2, 2, [8, 8, 8, 255]);
    const msg = await upload(up, out, { payload: second });
    assert.equal(msg.payload.name, 'over.png');
    assert.deepEqual(await stored(msg.payload), second);
  });

  it('uploads a mask onto an original uploaded first (msg.original_ref, or the Original setting)', async function () {
    const { up, out } = await load({ filename: 'photo.png' }, [
      { id: 'maskup', type: 'comfyui-upload', server: 'srv', ...defaults, kind: 'mask', filename: 'photo-mask.png', wires: [['mout']] },
      {
        id: 'maskup2',
        type: 'comfyui-upload',
        server: 'srv',
        ...defaults,
        kind: 'mask',
        original: 'photo.png',
        filename: 'by-setting.png',
        wires: [['mout']],
      },
      { id: 'mout', type: 'helper' },
    ]);
    const original = await upload(up, out, { payload: makePng(4, 4, [200, 40, 10, 255]) });
    const mask = helper.getNode('maskup');
    const mout = helper.getNode('mout');
    // The image upload's answer uses `name`; it is accepted as the original as it is.
    const msg = await upload(mask, mout, { payload: makePng(4, 4, [0, 0, 0, 64]), original_ref: original.payload });
    assert.deepEqual(msg.payload, { name: 'photo-mask.png', subfolder: '', type: 'input' });
    assert.deepEqual(msg.inputs, { 'Load Image': { image: 'photo-mask.png' } });
    const merged = decodePng(await stored(msg.payload));
    assert.deepEqual([...merged.rgba.subarray(0, 4)], [200, 40, 10, 64], "the original's colour with the mask's alpha");
    assert.deepEqual(
      uploads().map((r) => r.url),
      ['/upload/image', '/upload/mask'],
    );

    const bySetting = await upload(helper.getNode('maskup2'), mout, { payload: makePng(4, 4, [0, 0, 0, 128]) });
    assert.equal(bySetting.payload.name, 'by-setting.png');
    assert.deepEqual([...decodePng(await stored(bySetting.payload)).rgba.subarray(0, 4)], [200, 40, 10, 128]);
  });

  it('refuses a mask without an original before sending anything', async function () {
    const { up } = await load({ kind: 'mask' });
    let failed = nextError(up);
    up.receive({ payload: makePng(2, 2) });
    let err = await failed;
    assert.equal(err.code, 'BAD_INPUT');
    assert.match(err.message, /A mask needs its original image/);
    failed = nextError(up);
    up.receive({ payload: makePng(2, 2), original_ref: { subfolder: 'x' } });
    err = await failed;
    assert.equal(err.code, 'BAD_INPUT');
    assert.match(err.message, /msg\.original_ref needs a filename/);
    assert.equal(uploads().length, 0);
  });

  const badPayloads = [
    ['a number', 42, /got number 42/],
    ['an object', { image: 'x.png' }, /got an object/],
    ['an array', [1, 2, 3], /got an array/],
    ['a boolean', true, /got boolean true/],
    ['nothing', undefined, /got nothing\./],
    ['an empty Buffer', Buffer.alloc(0), /got an empty Buffer/],
    ['an empty string', '', /got an empty string/],
    ['plain text', 'hello world', /got a string that is neither base64 nor a data URL \("hello world"\)/],
    ['text of a base64-looking length', 'not-an-image', /neither base64 nor a data URL/],
    ['a data URL that is not base64', 'data:image/png,%89PNG', /got a data URL that is not base64-encoded/],
    ['a data URL with broken base64', 'data:image/png;base64,***', /got a data URL whose data is not valid base64/],
  ];
  for (const [what, payload, pattern] of badPayloads) {
    it(`refuses ${what} as BAD_INPUT and sends nothing`, async function () {
      const { up, out } = await load();
      let sent = false;
      out.on('input', () => {
        sent = true;
      });
      const failed = nextError(up);
      up.receive({ payload });
      const err = await failed;
      assert.equal(err.code, 'BAD_INPUT');
      assert.match(err.message, /^msg\.payload must be image bytes: a Buffer, a base64 string or a data URL/);
      assert.match(err.message, pattern);
      assert.match(err.message, /Nothing was uploaded\.$/);
      assert.equal(sent, false);
      assert.deepEqual(env.sim.requestLog, [], 'not a single request');
      assert.deepEqual(lastStatus(up), { fill: 'red', shape: 'ring', text: 'comfyui-upload.status.error' });
    });
  }

  it('refuses overrides of the wrong type or value before sending', async function () {
    const { up } = await load();
    const cases = [
      [{ type: 'models' }, /msg\.type must be one of input, temp, output; got the string "models"/],
      [{ overwrite: 'yes' }, /msg\.overwrite must be true or false; got the string "yes"/],
      [{ filename: 7 }, /msg\.filename must be a string; got number 7/],
      [{ subfolder: {} }, /msg\.subfolder must be a string; got an object/],
      [{ inputs: 'Load Image' }, /msg\.inputs must be an object/],
    ];
    for (const [override, pattern] of cases) {
      const failed = nextError(up);
      up.receive({ payload: makePng(2, 2), ...override });
      const err = await failed;
      assert.equal(err.code, 'BAD_INPUT');
      assert.match(err.message, pattern);
    }
    assert.deepEqual(env.sim.requestLog, []);
  });

  it('merges into an existing msg.inputs, replacing a dotted key for the same input', async function () {
    const { up, out } = await load({ filename: 'm.png' });
    const msg = await upload(up, out, {
      payload: makePng(2, 2),
      inputs: { 'KSampler.seed': 5, 'Load Image.image': 'old.png', 'Load Image': { upload: 'image' }, 6: { text: 'a cat' } },
    });
    assert.deepEqual(msg.inputs, { 'KSampler.seed': 5, 'Load Image': { upload: 'image', image: 'm.png' }, 6: { text: 'a cat' } });
  });

  it('addresses another node and input, or leaves msg.inputs alone without a target', async function () {
    const { up, out } = await load({ filename: 't.png', target: '10', targetInput: 'picture' }, [
      { id: 'none', type: 'comfyui-upload', server: 'srv', ...defaults, filename: 'n.png', target: '', wires: [['nout']] },
      { id: 'nout', type: 'helper' },
    ]);
    const msg = await upload(up, out, { payload: makePng(2, 2) });
    assert.deepEqual(msg.inputs, { 10: { picture: 't.png' } });
    const plain = await upload(helper.getNode('none'), helper.getNode('nout'), { payload: makePng(2, 2) });
    assert.equal('inputs' in plain, false);
    assert.deepEqual(plain.payload, { name: 'n.png', subfolder: '', type: 'input' });
  });

  it('fails with TOO_LARGE above the advertised max_upload_size without sending the file', async function () {
    await env.sim.close();
    env.sim = await startSimulator({ testControls: true, maxUploadSize: 1000 });
    const { up, out } = await load({ filename: 'big.png' });
    const failed = nextError(up);
    const big = noisyPng(20, 20);
    up.receive({ payload: big });
    const err = await failed;
    assert.equal(err.code, 'TOO_LARGE');
    assert.match(err.message, new RegExp(`big\\.png is ${big.length} bytes; this ComfyUI accepts at most 1000 bytes`));
    assert.ok(
      env.sim.requestLog.some((r) => r.method === 'GET' && r.url === '/features'),
      'it read the limit',
    );
    assert.deepEqual(uploads(), []);
    // Below the limit it goes through.
    const small = await upload(up, out, { payload: makePng(2, 2), filename: 'small.png' });
    assert.equal(small.payload.name, 'small.png');
    assert.deepEqual(
      uploads().map((r) => r.url),
      ['/upload/image'],
    );
  });

  it('upload → submit (LoadImage by title from msg.inputs) → images produces the processed PNG', async function () {
    const workflow = {
      10: { class_type: 'LoadImage', inputs: { image: 'placeholder.png' }, _meta: { title: 'Load Image' } },
      11: { class_type: 'ImageInvert', inputs: { image: ['10', 0] }, _meta: { title: 'Invert' } },
      12: { class_type: 'SaveImage', inputs: { images: ['11', 0], filename_prefix: 'uploaded' }, _meta: { title: 'Save Image' } },
    };
    await helper.load(allNodes, [
      { id: 'tab', type: 'tab' },
      { id: 'srv', type: 'comfyui-server', url: env.sim.url, timeout: 5 },
      { id: 'up', z: 'tab', type: 'comfyui-upload', server: 'srv', ...defaults, filename: 'source.png', wires: [['sub']] },
      {
        id: 'sub',
        z: 'tab',
        type: 'comfyui-submit',
        server: 'srv',
        workflow: JSON.stringify(workflow),
        mode: 'wait',
        randomizeSeeds: false,
        wires: [['img']],
      },
      { id: 'img', z: 'tab', type: 'comfyui-images', server: 'srv', output: 'buffer', wires: [['result']] },
      { id: 'result', z: 'tab', type: 'helper' },
    ]);
    const got = nextMessage(helper.getNode('result'));
    helper.getNode('up').receive({ payload: makePng(8, 6, [10, 20, 30, 255]) });
    const msg = await got;
    assert.ok(isPng(msg.payload), 'a PNG Buffer');
    assert.deepEqual(pngSize(msg.payload), { width: 8, height: 6 });
    assert.match(msg.filename, /^uploaded_\d{5}_\.png$/);
    assert.deepEqual(msg.inputs, { 'Load Image': { image: 'source.png' } });
    const pixels = decodePng(msg.payload).rgba;
    assert.deepEqual([pixels[0], pixels[1], pixels[2]], [245, 235, 225], 'the uploaded picture, inverted');
    assert.deepEqual(
      env.sim.requestLog.filter((r) => r.method === 'POST').map((r) => r.url),
      ['/upload/image', '/prompt'],
    );
  });
});
