'use strict';
// Pure functions of the client: frame decoding, workflow handling, URL building.
const assert = require('node:assert/strict');
const fc = require('fast-check');
const { decodeBinaryFrame, decodeTextFrame } = require('../dist/client/frames');
const { normalizeWorkflow, applyOverrides, randomizeSeeds } = require('../dist/client/workflow');
const { Endpoint } = require('../dist/client/endpoint');

function u32(n) {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

describe('frames: decoding ComfyUI WebSocket frames', function () {
  const jpeg = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 1, 2, 3]);
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 9, 9]);

  it('decodes text messages, known and unknown types alike', function () {
    const known = decodeTextFrame('{"type":"executing","data":{"node":"3","display_node":"3","prompt_id":"p"}}');
    assert.deepEqual(known, { kind: 'message', message: { type: 'executing', data: { node: '3', display_node: '3', prompt_id: 'p' } } });
    const custom = decodeTextFrame('{"type":"crystools.monitor","data":{"cpu":3}}');
    assert.deepEqual(custom, { kind: 'custom', type: 'crystools.monitor', data: { cpu: 3 } });
  });

  it('reads progress frames as ComfyUI formats them exactly as the general path reads the same data (fast-check)', function () {
    // The fast path matches json.dumps' formatting; the same data without the spaces always takes the general one.
    const numberText = fc.oneof(
      fc.integer().map(String),
      fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => JSON.stringify(d)),
      fc.constantFrom('0', '007', '-0', '1e3', '1.0', '9007199254740993', '123456789012345', '1234567890123456', '12345678901234567890'),
    );
    const stringText = fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.uuid()).map((v) => JSON.stringify(v));
    const nodeText = fc.oneof(stringText, fc.constant('null'), fc.integer().map(String), fc.constant('true'));
    fc.assert(
      fc.property(numberText, numberText, stringText, nodeText, (value, max, promptId, node) => {
        const data = `{"value": ${value}, "max": ${max}, "prompt_id": ${promptId}, "node": ${node}}`;
        const comfyText = `{"type": "progress", "data": ${data}}`;
        const compactText = `{"type":"progress","data":${data}}`;
        const fast = decodeTextFrame(comfyText);
        const general = decodeTextFrame(compactText);
        if (general.kind === 'invalid') return fast.kind === 'invalid' && fast.problem === general.problem;
        assert.deepEqual(fast, general);
        return true;
      }),
      { numRuns: 3000 },
    );
    assert.deepEqual(decodeTextFrame('{"type": "progress", "data": {"value": 3, "max": 20, "prompt_id": "p", "node": null}}'), {
      kind: 'message',
      message: { type: 'progress', data: { value: 3, max: 20, prompt_id: 'p', node: null } },
    });
  });

  it('reads each of a run of progress frames as its own, whether its ids repeat the frame before or not', function () {
    // The fast path hands on the id strings of the frame before when they are equal: the values must still be each frame's.
    const ids = ['a', 'a', 'b', 'a', '', '', 'ab', 'a'];
    const nodes = ['"10"', '"10"', '"1"', 'null', '"10"', '""', '""', '"100"'];
    ids.forEach((id, i) => {
      const data = `{"value": ${i}, "max": ${10 * i}, "prompt_id": "${id}", "node": ${nodes[i]}}`;
      assert.deepEqual(decodeTextFrame(`{"type": "progress", "data": ${data}}`), decodeTextFrame(`{"type":"progress","data":${data}}`));
      assert.equal(decodeTextFrame(`{"type": "progress", "data": ${data}}`).message.data.prompt_id, id);
    });
  });

  it('reads runs of progress frames whose ids often repeat the frame before exactly as the general path does (fast-check)', function () {
    // Few ids and nodes, so that most frames end as the one before does and the fast path hands on its strings.
    const frame = fc.record({
      value: fc.nat(),
      max: fc.nat(),
      id: fc.constantFrom('a', 'ab', 'b', '', 'a"'),
      node: fc.constantFrom('"1"', '"10"', '"0"', 'null', '""'),
    });
    fc.assert(
      fc.property(fc.array(frame, { minLength: 1, maxLength: 30 }), (frames) => {
        for (const { value, max, id, node } of frames) {
          const data = `{"value": ${value}, "max": ${max}, "prompt_id": ${JSON.stringify(id)}, "node": ${node}}`;
          assert.deepEqual(decodeTextFrame(`{"type": "progress", "data": ${data}}`), decodeTextFrame(`{"type":"progress","data":${data}}`));
        }
      }),
      { numRuns: 500 },
    );
  });

  it('reports malformed text frames instead of throwing', function () {
    assert.equal(decodeTextFrame('{not json').kind, 'invalid');
    assert.equal(decodeTextFrame('[1,2]').kind, 'invalid');
    assert.equal(decodeTextFrame('{"data":{}}').kind, 'invalid');
  });

  it('decodes type-1 previews, reading JPEG vs PNG from the format word', function () {
    const a = decodeBinaryFrame(Buffer.concat([u32(1), u32(1), jpeg]));
    assert.equal(a.kind, 'preview');
    assert.equal(a.contentType, 'image/jpeg');
    assert.deepEqual(a.image, jpeg);
    assert.equal(a.metadata, undefined);
    const b = decodeBinaryFrame(Buffer.concat([u32(1), u32(2), png]));
    assert.equal(b.contentType, 'image/png');
  });

  it('decodes type-4 previews with their metadata', function () {
    const meta = { node_id: '3', prompt_id: 'p', display_node_id: '3', parent_node_id: null, real_node_id: '3', image_type: 'image/png' };
    const json = Buffer.from(JSON.stringify(meta));
    const event = decodeBinaryFrame(Buffer.concat([u32(4), u32(json.length), json, png]));
    assert.equal(event.kind, 'preview');
    assert.deepEqual(event.metadata, meta);
    assert.equal(event.contentType, 'image/png');
    assert.deepEqual(event.image, png);
  });

  it('decodes type-3 text frames', function () {
    const id = Buffer.from('12:5');
    const event = decodeBinaryFrame(Buffer.concat([u32(3), u32(id.length), id, Buffer.from('1024x1024 ✓')]));
    assert.deepEqual(event, { kind: 'text', nodeId: '12:5', text: '1024x1024 ✓' });
  });

  it('ignores unknown binary types and reports truncated frames, never throwing', function () {
    assert.equal(decodeBinaryFrame(Buffer.concat([u32(2), u32(1)])).kind, 'ignored');
    assert.equal(decodeBinaryFrame(Buffer.concat([u32(99), Buffer.from('x')])).kind, 'ignored');
    assert.equal(decodeBinaryFrame(Buffer.from([0, 0])).kind, 'invalid');
    assert.equal(decodeBinaryFrame(u32(1)).kind, 'invalid');
    assert.equal(decodeBinaryFrame(Buffer.concat([u32(4), u32(500), Buffer.from('{}')])).kind, 'invalid');
    assert.equal(decodeBinaryFrame(Buffer.concat([u32(4), u32(3), Buffer.from('{x}')])).kind, 'invalid');
    assert.equal(decodeBinaryFrame(Buffer.concat([u32(3), u32(50), Buffer.from('id')])).kind, 'invalid');
  });
});

describe('workflow: input formats, overrides and seeds', function () {
  const api = {
    3: { class_type: 'KSampler', inputs: { seed: 1, steps: 20, model: ['4', 0] }, _meta: { title: 'KSampler' } },
    4: { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'a.safetensors' }, _meta: { title: 'Loader v1.5' } },
  };

  // What normalizeWorkflow returns is a copy made of null-prototype objects: compared as JSON.
  const asJson = (value) => JSON.parse(JSON.stringify(value));

  it('accepts an API object, the {prompt} wrapper and JSON text of either', function () {
    assert.deepEqual(asJson(normalizeWorkflow(api)), api);
    assert.deepEqual(asJson(normalizeWorkflow({ prompt: api, client_id: 'x' })), api);
    assert.deepEqual(asJson(normalizeWorkflow(JSON.stringify(api))), api);
    assert.deepEqual(asJson(normalizeWorkflow(JSON.stringify({ prompt: api }))), api);
  });

  it('reads a Buffer of JSON (File In), with or without a UTF-8 byte order mark, and says what other bytes are', function () {
    const text = JSON.stringify(api);
    assert.deepEqual(asJson(normalizeWorkflow(Buffer.from(text))), api);
    assert.deepEqual(asJson(normalizeWorkflow(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`\n${text}\n`)]))), api);
    assert.deepEqual(asJson(normalizeWorkflow(new Uint8Array(Buffer.from(text)))), api);
    const png = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.alloc(2040)]);
    assert.throws(
      () => normalizeWorkflow(png),
      (err) => err.code === 'BAD_WORKFLOW' && err.message.startsWith('This PNG file has no workflow in it (ComfyUI embeds one'),
    );
    const zip = Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(2044)]);
    assert.throws(
      () => normalizeWorkflow(zip),
      (err) =>
        err.code === 'BAD_WORKFLOW' &&
        err.message === 'The workflow is a Buffer of 2048 bytes that is not JSON (it starts with the ZIP signature (PK))',
    );
    assert.throws(
      () => normalizeWorkflow(Buffer.from('hello there')),
      (err) => err.code === 'BAD_WORKFLOW' && /a Buffer of 11 bytes that is not JSON \(it is text: "hello there"\)/.test(err.message),
    );
    assert.throws(
      () => normalizeWorkflow(Buffer.from('{"1": ')),
      (err) => err.code === 'BAD_WORKFLOW' && /not valid JSON/.test(err.message),
    );
  });

  it('names what is wrong with input that is not an API workflow', function () {
    const cases = [
      ['not json {', 'BAD_WORKFLOW', /not valid JSON/],
      ['[]', 'BAD_WORKFLOW', /array/],
      [{}, 'BAD_WORKFLOW', /no nodes/],
      [{ prompt: 'text' }, 'BAD_WORKFLOW', /"prompt" must be an API-format workflow object, not the text "text"/],
      [{ 1: { inputs: {} } }, 'BAD_WORKFLOW', /entry "1" is not a node/],
      [{ nodes: [], links: [], version: 0.4 }, 'UI_WORKFLOW', /Export \(API\)/],
      [{ prompt: { nodes: [], links: [] } }, 'UI_WORKFLOW', /Export \(API\)/],
      [{ nodes: [], state: {}, version: 1 }, 'UI_WORKFLOW', /UI-format/],
      [42, 'BAD_WORKFLOW', /not a number/],
    ];
    for (const [input, code, message] of cases) {
      assert.throws(
        () => normalizeWorkflow(input),
        (err) => err.code === code && message.test(err.message),
        JSON.stringify(input),
      );
    }
  });

  it('applies overrides by id, title and dotted key (titles may contain dots) without touching the original', function () {
    const { prompt: result } = applyOverrides(api, { 3: { steps: 5 }, 'Loader v1.5.ckpt_name': 'b.safetensors', 'KSampler.seed': 9 });
    assert.equal(result['3'].inputs.steps, 5);
    assert.equal(result['3'].inputs.seed, 9);
    assert.equal(result['4'].inputs.ckpt_name, 'b.safetensors');
    assert.equal(api['3'].inputs.steps, 20, 'the input workflow is not mutated');
  });

  it('refuses ambiguous titles and unknown targets with the list of what exists', function () {
    const twin = { ...api, 5: { class_type: 'KSampler', inputs: { seed: 2 }, _meta: { title: 'KSampler' } } };
    assert.throws(() => applyOverrides(twin, { KSampler: { seed: 1 } }), /matches several nodes \(#3, #5\)/);
    assert.throws(() => applyOverrides(api, { 9: { seed: 1 } }), /No node "9".*#3 "KSampler" \(KSampler\), #4 "Loader v1\.5"/);
    assert.throws(() => applyOverrides(api, { KSampler: { cfg: 1 } }), /has no input "cfg"; its inputs are: seed, steps, model/);
    assert.throws(() => applyOverrides(api, { KSampler: 3 }), /needs an input name/);
    assert.throws(() => applyOverrides(api, 'seed=1'), /msg.inputs must be an object/);
  });

  it('randomizes literal seeds but leaves links alone', function () {
    const linked = { 1: { class_type: 'SamplerCustom', inputs: { noise_seed: ['2', 0] } }, ...api };
    const a = randomizeSeeds(linked);
    assert.deepEqual(a['1'].inputs.noise_seed, ['2', 0]);
    assert.notEqual(a['3'].inputs.seed, 1);
    assert.notEqual(randomizeSeeds(linked)['3'].inputs.seed, a['3'].inputs.seed);
  });
});

describe('endpoint: URLs under a base path', function () {
  it('keeps a path prefix for routes and the WebSocket and encodes query values', function () {
    const endpoint = new Endpoint({ url: 'https://host.example/comfy' });
    assert.equal(endpoint.httpUrl('/prompt').href, 'https://host.example/comfy/prompt');
    assert.equal(endpoint.webSocketUrl('abc').href, 'wss://host.example/comfy/ws?clientId=abc');
    const view = endpoint.httpUrl('/view', { filename: 'a&b c.png', subfolder: '../x', type: 'output' });
    assert.equal(view.pathname, '/comfy/view');
    assert.equal(view.searchParams.get('filename'), 'a&b c.png');
    assert.equal(view.searchParams.get('subfolder'), '../x');
    assert.equal(new Endpoint({ url: 'http://127.0.0.1:8188' }).webSocketUrl('x').href, 'ws://127.0.0.1:8188/ws?clientId=x');
  });

  it('refuses URLs that are not http(s) with a host', function () {
    for (const bad of ['ftp://h/', 'http://', '', 'localhost:8188']) {
      assert.throws(
        () => new Endpoint({ url: bad }),
        (err) => err.code === 'INVALID_URL',
        bad,
      );
    }
  });
});

describe('http: JSON answers that do not arrive whole', function () {
  const net = require('node:net');
  const { ComfyHttp } = require('../dist/client/http');
  let server;
  let http;

  /** A server on 127.0.0.1 that answers every request with `head` and the first bytes of a JSON body, then `after(socket)`. */
  async function answering(declared, after) {
    server = net.createServer((socket) => {
      socket.once('data', () => {
        socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n{"queue_running": [`);
        after(socket);
      });
      socket.on('error', () => undefined);
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    http = new ComfyHttp(new Endpoint({ url: `http://127.0.0.1:${server.address().port}` }), { timeoutMs: 400 });
  }

  afterEach(async function () {
    await http?.close();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
    server = undefined;
    http = undefined;
  });

  it('a connection closed before the declared length is NETWORK, "the answer was cut off"', async function () {
    await answering(200, (socket) => socket.destroy());
    await assert.rejects(http.queue(), (err) => {
      assert.equal(err.code, 'NETWORK');
      assert.match(err.message, /^GET \/queue: the answer was cut off/);
      return true;
    });
  });

  it('a body that stops coming is TIMEOUT at the request time limit', async function () {
    await answering(200, () => undefined);
    await assert.rejects(http.queue(), (err) => {
      assert.equal(err.code, 'TIMEOUT');
      assert.match(err.message, /^GET \/queue: /);
      return true;
    });
  });
});
