'use strict';
// The runtime side of the editor features: the submit node's override rows (evaluated per
// message, applied before msg.inputs) and the images node's editor thumbnail. The editor side is
// driven in a real browser by test/browser/editor.spec.js.
const assert = require('node:assert/strict');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { request } = require('undici');
const { events, util } = require('@node-red/util');
const {
  helper,
  startSimulator,
  allNodes,
  nextMessage,
  nextError,
  saveImageWorkflow,
  textToImageWorkflow,
  isPng,
  makePng,
} = require('./support');

/** Random RGB pixels: a PNG of them does not compress, so it is about width × height × 3 bytes. */
const noise = () => [0, 0, 0].map(() => Math.floor(Math.random() * 256));
const { evaluateOverrides, overrideRows, OVERRIDE_VALUE_TYPES } = require('../dist/nodes/overrides');

const root = join(__dirname, '..');

/** Everything our nodes publish to the editor while `work` runs. */
async function publishedDuring(work) {
  const seen = [];
  const listener = (event) => {
    if (String(event.topic).startsWith('comfyui-')) seen.push(event);
  };
  events.on('comms', listener);
  try {
    await work();
    await new Promise((resolve) => setTimeout(resolve, 50));
  } finally {
    events.off('comms', listener);
  }
  return seen;
}

describe('editor features, runtime side', function () {
  let sim;

  before(() => helper.startServer());
  after(() => helper.stopServer());
  beforeEach(async () => {
    sim = await startSimulator({ testControls: true, stepMs: 5 });
  });
  afterEach(async () => {
    await helper.unload();
    await sim.close();
    delete process.env.COMFYUI_EDITOR_SPEC_PREFIX;
  });

  async function history(promptId) {
    const res = await request(`${sim.url}/history/${promptId}`);
    return (await res.body.json())[promptId];
  }

  /** The workflow ComfyUI received for a prompt. */
  async function submitted(promptId) {
    return (await history(promptId)).prompt[2];
  }

  describe('submit: override rows', function () {
    async function load(submitProps = {}) {
      const flow = [
        { id: 'tab', type: 'tab', label: 'editor spec' },
        { id: 'srv', type: 'comfyui-server', url: sim.url, timeout: 5 },
        {
          id: 'sub',
          z: 'tab',
          type: 'comfyui-submit',
          server: 'srv',
          workflow: JSON.stringify(saveImageWorkflow()),
          mode: 'wait',
          wires: [['out']],
          ...submitProps,
        },
        { id: 'out', z: 'tab', type: 'helper' },
      ];
      await helper.load(allNodes, flow);
      return { sub: helper.getNode('sub'), out: helper.getNode('out') };
    }

    const postedPrompts = () => sim.requestLog.filter((r) => r.method === 'POST' && r.url === '/prompt').length;

    it('reads the stored rows: trims, drops rows without node or input, unknown types count as text', function () {
      assert.deepEqual(overrideRows(undefined), []);
      assert.deepEqual(overrideRows('nope'), []);
      assert.deepEqual(
        overrideRows([
          { node: ' Empty Image ', input: ' width ', value: '32', valueType: 'num' },
          { node: '', input: 'width', value: '1', valueType: 'num' },
          { node: '1', input: '', value: '1', valueType: 'num' },
          null,
          { node: '2', input: 'filename_prefix', value: 7, valueType: 'weird' },
        ]),
        [
          { node: 'Empty Image', input: 'width', value: '32', valueType: 'num' },
          { node: '2', input: 'filename_prefix', value: '7', valueType: 'str' },
        ],
      );
      assert.deepEqual([...OVERRIDE_VALUE_TYPES].sort(), ['bool', 'env', 'flow', 'global', 'json', 'jsonata', 'msg', 'num', 'str']);
    });

    it('evaluates every value type for the msg: str, num, bool, json, jsonata, msg, flow, global, env', async function () {
      const { sub } = await load();
      sub.context().flow.set('size', 48);
      sub.context().global.set('colour', 255);
      process.env.COMFYUI_EDITOR_SPEC_PREFIX = 'from-env';
      const rows = overrideRows([
        { node: 'A', input: 'str', value: 'a lighthouse', valueType: 'str' },
        { node: 'A', input: 'num', value: '7.5', valueType: 'num' },
        { node: 'A', input: 'bool', value: 'true', valueType: 'bool' },
        { node: 'A', input: 'json', value: '{"x":[1,2]}', valueType: 'json' },
        { node: 'A', input: 'jsonata', value: 'payload.n * 2', valueType: 'jsonata' },
        { node: 'B', input: 'msg', value: 'topic', valueType: 'msg' },
        { node: 'B', input: 'flow', value: 'size', valueType: 'flow' },
        { node: 'B', input: 'global', value: 'colour', valueType: 'global' },
        { node: 'B', input: 'env', value: 'COMFYUI_EDITOR_SPEC_PREFIX', valueType: 'env' },
      ]);
      const RED = { util };
      const result = await evaluateOverrides(RED, sub, rows, { _msgid: 'm1', topic: 'the topic', payload: { n: 21 } });
      // The rows are read into null-prototype objects (no row can reach a prototype): compared as JSON.
      assert.deepEqual(JSON.parse(JSON.stringify(result)), {
        A: { str: 'a lighthouse', num: 7.5, bool: true, json: { x: [1, 2] }, jsonata: 42 },
        B: { msg: 'the topic', flow: 48, global: 255, env: 'from-env' },
      });
      assert.equal(await evaluateOverrides(RED, sub, [], { _msgid: 'm2' }), undefined, 'no rows: nothing to apply');
    });

    it('applies the rows per message, then msg.inputs on top (msg.inputs wins)', async function () {
      const { sub, out } = await load({
        overrides: [
          { node: 'Empty Image', input: 'width', value: '32', valueType: 'num' },
          { node: 'Empty Image', input: 'height', value: 'payload.h', valueType: 'jsonata' },
          { node: '2', input: 'filename_prefix', value: 'topic', valueType: 'msg' },
        ],
      });
      let got = nextMessage(out);
      sub.receive({ topic: 'first', payload: { h: 24 } });
      const first = await got;
      let prompt = await submitted(first.prompt_id);
      assert.equal(prompt[1].inputs.width, 32);
      assert.equal(prompt[1].inputs.height, 24);
      assert.equal(prompt[2].inputs.filename_prefix, 'first');
      assert.match(first.payload.images[0].filename, /^first_\d{5}_\.png$/);

      got = nextMessage(out);
      sub.receive({ topic: 'second', payload: { h: 40 }, inputs: { 'Empty Image': { width: 16 }, 'Save Image.filename_prefix': 'wins' } });
      const second = await got;
      prompt = await submitted(second.prompt_id);
      assert.equal(prompt[1].inputs.width, 16, 'msg.inputs wins over the row');
      assert.equal(prompt[1].inputs.height, 40, 'the row was evaluated again for this msg');
      assert.equal(prompt[2].inputs.filename_prefix, 'wins');
    });

    it('skips a row whose value is undefined, so the workflow keeps its value', async function () {
      const { sub, out } = await load({ overrides: [{ node: 'Empty Image', input: 'width', value: 'size', valueType: 'msg' }] });
      const got = nextMessage(out);
      sub.receive({ payload: 'go' });
      const msg = await got;
      assert.equal((await submitted(msg.prompt_id))[1].inputs.width, 64);
    });

    it('beats a random seed, and msg.inputs beats the row', async function () {
      const { sub, out } = await load({
        workflow: JSON.stringify(textToImageWorkflow({ steps: 1 })),
        randomizeSeeds: true,
        overrides: [
          { node: 'KSampler', input: 'seed', value: '1234', valueType: 'num' },
          { node: 'KSampler', input: 'cfg', value: '5', valueType: 'num' },
        ],
      });
      let got = nextMessage(out, 15000);
      sub.receive({ payload: 'go' });
      let prompt = await submitted((await got).prompt_id);
      assert.equal(prompt[3].inputs.seed, 1234);
      got = nextMessage(out, 15000);
      sub.receive({ payload: 'go', inputs: { 'KSampler.seed': 99 } });
      prompt = await submitted((await got).prompt_id);
      assert.equal(prompt[3].inputs.seed, 99);
      assert.equal(prompt[3].inputs.cfg, 5);
    });

    const broken = [
      [
        'JSON that does not parse',
        { value: '{"a":', valueType: 'json' },
        /Override row 2 \(Empty Image → height = json \{"a":\) could not be evaluated: /,
      ],
      [
        'a number row that is not a number',
        { value: 'wide', valueType: 'num' },
        /Override row 2 \(Empty Image → height = num wide\) could not be evaluated: "wide" is not a number/,
      ],
      ['an empty number row', { value: '', valueType: 'num' }, /Override row 2 .* is not a number/],
      [
        'a JSONata expression that fails',
        { value: '$error("no height")', valueType: 'jsonata' },
        /Override row 2 .*could not be evaluated: no height/,
      ],
      [
        'a msg property expression that does not parse',
        { value: 'a..b', valueType: 'msg' },
        /Override row 2 \(Empty Image → height = msg a\.\.b\) could not be evaluated/,
      ],
    ];
    for (const [what, row, message] of broken) {
      it(`fails with BAD_INPUT naming the row for ${what}, and sends nothing`, async function () {
        const { sub } = await load({
          overrides: [
            { node: 'Empty Image', input: 'width', value: '32', valueType: 'num' },
            { node: 'Empty Image', input: 'height', ...row },
          ],
        });
        const before = postedPrompts();
        const failed = nextError(sub);
        sub.receive({ payload: 'go' });
        const err = await failed;
        assert.equal(err.code, 'BAD_INPUT');
        assert.match(err.message, message);
        assert.equal(postedPrompts(), before, 'nothing was sent to ComfyUI');
      });
    }

    it('fails with UNKNOWN_OVERRIDE when a row names a node the workflow does not have', async function () {
      const { sub } = await load({
        overrides: [{ node: 'Load Checkpoint', input: 'ckpt_name', value: 'x.safetensors', valueType: 'str' }],
      });
      const failed = nextError(sub);
      sub.receive({ payload: 'go' });
      const err = await failed;
      assert.equal(err.code, 'UNKNOWN_OVERRIDE');
      assert.match(
        err.message,
        /No node "Load Checkpoint" in the workflow; the nodes are: #1 "Empty Image" \(EmptyImage\), #2 "Save Image" \(SaveImage\)/,
      );
    });
  });

  describe('images: editor thumbnail', function () {
    async function load(imagesProps = {}) {
      const flow = [
        { id: 'tab', type: 'tab', label: 'editor spec' },
        { id: 'srv', type: 'comfyui-server', url: sim.url, timeout: 5 },
        { id: 'img', z: 'tab', type: 'comfyui-images', server: 'srv', output: 'buffer', wires: [['out']], ...imagesProps },
        { id: 'out', z: 'tab', type: 'helper' },
      ];
      await helper.load(allNodes, flow);
      return { img: helper.getNode('img'), out: helper.getNode('out') };
    }

    async function makeImages(count) {
      const { sub, out } = await (async () => {
        const flow = [
          { id: 'tab2', type: 'tab', label: 'maker' },
          { id: 'srv2', type: 'comfyui-server', url: sim.url, timeout: 5 },
          {
            id: 'sub2',
            z: 'tab2',
            type: 'comfyui-submit',
            server: 'srv2',
            workflow: JSON.stringify(saveImageWorkflow({ batch: count, width: 48, height: 32 })),
            wires: [['out2']],
          },
          { id: 'out2', z: 'tab2', type: 'helper' },
        ];
        await helper.load(allNodes, flow);
        return { sub: helper.getNode('sub2'), out: helper.getNode('out2') };
      })();
      const got = nextMessage(out);
      sub.receive({ payload: 'go' });
      const images = (await got).payload.images;
      await helper.unload();
      return images;
    }

    async function upload(bytes, name) {
      // The global fetch, FormData and Blob together: npm undici's FormData sent through the global
      // dispatcher that Node's own fetch installs (Node 24) fails inside Node's undici.
      const form = new FormData();
      form.append('image', new Blob([bytes], { type: 'image/png' }), name);
      const res = await fetch(`${sim.url}/upload/image`, { method: 'POST', body: form });
      assert.equal(res.status, 200);
      const stored = await res.json();
      return { filename: stored.name, subfolder: stored.subfolder, type: stored.type };
    }

    it('publishes the last downloaded image to the editor when the thumbnail is on', async function () {
      const images = await makeImages(2);
      const { img, out } = await load({ thumbnail: true });
      const sent = [];
      out.on('input', (msg) => sent.push(msg));
      const published = await publishedDuring(async () => {
        img.receive({ payload: { images } });
        await new Promise((resolve) => {
          const check = () => (sent.length === 2 ? resolve() : setTimeout(check, 10));
          check();
        });
      });
      assert.equal(published.length, 1, 'one picture per msg, not one per file');
      const [event] = published;
      assert.equal(event.topic, `comfyui-images/thumbnail/${img.id}`);
      assert.equal(event.retain, false);
      assert.deepEqual(Object.keys(event.data), ['dataUrl']);
      const match = /^data:image\/png;base64,(.+)$/.exec(event.data.dataUrl);
      assert.ok(match, 'a PNG data URL');
      const bytes = Buffer.from(match[1], 'base64');
      assert.ok(isPng(bytes));
      assert.deepEqual(bytes, sent[1].payload, 'the last image');
    });

    it('publishes nothing by default or in references mode', async function () {
      const images = await makeImages(1);
      const small = await upload(makePng(8, 8, noise), 'small.png');

      for (const [props, payload, what] of [
        [{}, { images }, 'default (off)'],
        [{ thumbnail: true, output: 'refs' }, { images }, 'references only'],
      ]) {
        const { img, out } = await load(props);
        const published = await publishedDuring(async () => {
          const got = nextMessage(out);
          img.receive({ payload });
          await got;
        });
        assert.deepEqual(published, [], what);
        await helper.unload();
      }

      const { img, out } = await load({ thumbnail: true });
      const published = await publishedDuring(async () => {
        const got = nextMessage(out);
        img.receive({ payload: { images: [{ ...small }] } });
        await got;
      });
      assert.equal(published.length, 1, 'an uploaded (input) image of a few bytes is shown');
    });

    it('shows an image above 256 KB through a JPEG that ComfyUI re-encodes (/view?preview=jpeg;60); the msg keeps the original', async function () {
      const original = makePng(320, 300, noise);
      const big = await upload(original, 'noise.png');
      const { img, out } = await load({ thumbnail: true });
      let msg;
      const published = await publishedDuring(async () => {
        const got = nextMessage(out);
        // The re-encoded picture is asked for after the msg went out: wait for the green status.
        const finished = new Promise((resolve) => {
          img.on('call:status', (call) => {
            if (call.args[0].text === 'comfyui-images.status.done') resolve();
          });
        });
        img.receive({ payload: { images: [{ ...big }] } });
        msg = await got;
        await finished;
      });
      assert.ok(msg.payload.length > 256 * 1024, `the noise PNG is ${msg.payload.length} bytes`);
      assert.deepEqual(msg.payload, original, 'the msg carries the PNG itself');
      assert.equal(published.length, 1);
      const match = /^data:image\/jpeg;base64,(.+)$/.exec(published[0].data.dataUrl);
      assert.ok(match, 'a JPEG data URL');
      const jpeg = Buffer.from(match[1], 'base64');
      assert.deepEqual([...jpeg.subarray(0, 3)], [0xff, 0xd8, 0xff], 'JPEG bytes');
      assert.ok(jpeg.length <= 256 * 1024, `the thumbnail is ${jpeg.length} bytes`);
      const asked = sim.requestLog
        .filter((r) => r.url.startsWith('/view?'))
        .map((r) => new URL(r.url, sim.url).searchParams.get('preview'));
      assert.deepEqual(asked, [null, 'jpeg;60'], 'the file once, then its preview');
    });
  });

  describe('editor files', function () {
    const read = (...parts) => readFileSync(join(root, ...parts), 'utf8');

    it('the submit node stores overrides as a list of {node, input, value, valueType}, an empty list for a flow from before them', function () {
      const html = read('nodes', 'comfyui-submit.html');
      assert.match(html, /overrides: \{\s*value: \[\],\s*validate:/);
      assert.deepEqual(require('../resources/comfyui-editor.js').migrate({ type: 'comfyui-submit' }).overrides, []);
      for (const field of ['node', 'input', 'value', 'valueType']) assert.ok(html.includes(`${field}: `), `a row has ${field}`);
      assert.match(
        html,
        /comfyui\/servers\/" \+ encodeURIComponent\(serverId\)/,
        'lookups go through the admin routes of the deployed server',
      );
      assert.match(html, /"object_info\/" \+ encodeURIComponent\(nodeClass\)/);
      assert.match(html, /own\(SAMPLER_INPUTS, input\) \? "KSampler"/);
    });

    it('the images node has an opt-in thumbnail, subscribes once, and cleans up on remove', function () {
      const html = read('nodes', 'comfyui-images.html');
      assert.match(html, /thumbnail: \{ value: false \}/);
      assert.equal(html.split('RED.comms.subscribe(').length - 1, 1);
      assert.match(html, /RED\.events\.on\("nodes:remove", onNodeRemoved\)/);
      for (const [, name, handler] of html.matchAll(/RED\.events\.on\("([^"]+)", (\w+)\)/g)) {
        assert.ok(html.includes(`RED.events.off("${name}", ${handler})`), `RED.events.on("${name}") has its off`);
      }
      assert.match(html, /RED\.comms\.unsubscribe\(TOPIC \+ "#", onThumbnail\)/);
      assert.match(html, /var MAX_WIDTH = 120;/);
    });
  });
});
