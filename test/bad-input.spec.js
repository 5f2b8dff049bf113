'use strict';
// The bad-input table: each row is one kind of bad input, with the error code and message it
// must produce. Nothing crashes, nothing is half-sent. The README's troubleshooting section
// lists the same rows.
const assert = require('node:assert/strict');
const { request } = require('undici');
const {
  helper,
  startSimulator,
  allNodes,
  waitFor,
  nextError,
  nextMessage,
  collectMessages,
  saveImageWorkflow,
  noisyPng,
} = require('./support');

const UI_WORKFLOW = { last_node_id: 2, last_link_id: 1, nodes: [{ id: 1, type: 'NoSuchNode' }], links: [], version: 0.4 };

/** [name, target node, msg, code, message pattern, sends nothing to ComfyUI] */
const TABLE = [
  ['submit: a string that is not JSON', 'sub', { payload: 'make me a cat' }, 'BAD_WORKFLOW', /not valid JSON/, true],
  ['submit: a JSON array', 'sub', { payload: '[{"class_type":"SaveImage"}]' }, 'BAD_WORKFLOW', /JSON array/, true],
  [
    'submit: a UI-format workflow using a class the server lacks',
    'sub',
    { payload: UI_WORKFLOW },
    'UI_WORKFLOW',
    /NoSuchNode.*Export \(API\)/s,
    true,
  ],
  [
    'submit: {prompt: "text"}',
    'sub',
    { payload: { prompt: 'a cat' } },
    'BAD_WORKFLOW',
    /"prompt" must be an API-format workflow object, not the text "a cat"/,
    true,
  ],
  ['submit: an empty object', 'sub', { payload: {} }, 'BAD_WORKFLOW', /no nodes/, true],
  ['submit: no workflow at all', 'sub', { payload: 1732000000000 }, 'BAD_WORKFLOW', /No workflow/, true],
  ['submit: an entry that is not a node', 'sub', { payload: { 1: { inputs: {} } } }, 'BAD_WORKFLOW', /entry "1" is not a node/, true],
  [
    'submit: a workflow with no output node',
    'sub',
    { payload: { 1: saveImageWorkflow()['1'] } },
    'VALIDATION',
    /prompt_no_outputs.*Prompt has no outputs/,
    false,
  ],
  [
    'submit: an unknown node class',
    'sub',
    { payload: { 1: { class_type: 'NoSuchNode', inputs: {} } } },
    'VALIDATION',
    /NoSuchNode does not exist/,
    false,
  ],
  [
    'submit: an override of an unknown node id',
    'sub',
    { payload: saveImageWorkflow(), inputs: { 42: { width: 8 } } },
    'UNKNOWN_OVERRIDE',
    /No node "42".*#1 "Empty Image"/,
    true,
  ],
  [
    'submit: an override of an unknown title',
    'sub',
    { payload: saveImageWorkflow(), inputs: { 'Empty Imag.width': 8 } },
    'UNKNOWN_OVERRIDE',
    /No node "Empty Imag"/,
    true,
  ],
  [
    'submit: an override of an unknown input',
    'sub',
    { payload: saveImageWorkflow(), inputs: { 'Empty Image.depth': 8 } },
    'UNKNOWN_OVERRIDE',
    /has no input "depth"; its inputs are: width, height, batch_size, color/,
    true,
  ],
  [
    'submit: an override of the wrong type (text into INT)',
    'sub',
    { payload: saveImageWorkflow(), inputs: { 'Empty Image.width': 'wide' } },
    'VALIDATION',
    /"Empty Image" \(#1, EmptyImage\) input "width": Failed to convert an input value to a INT value/,
    false,
  ],
  [
    'submit: msg.inputs that is not an object',
    'sub',
    { payload: saveImageWorkflow(), inputs: 'width=8' },
    'BAD_INPUT',
    /msg.inputs must be an object/,
    true,
  ],
  [
    'submit: an unknown msg.previews',
    'sub',
    { payload: saveImageWorkflow(), previews: 'fast' },
    'BAD_INPUT',
    /msg.previews must be one of/,
    true,
  ],
  [
    "submit: a workflow above the server's body limit (413)",
    'sub',
    { payload: bigWorkflow() },
    'TOO_LARGE',
    /larger than this ComfyUI accepts/,
    false,
  ],
  [
    'images: refs without a type',
    'img',
    { payload: { images: [{ filename: 'a.png', subfolder: '' }] } },
    'BAD_INPUT',
    /no usable file refs/,
    true,
  ],
  ['images: refs that are not objects', 'img', { payload: { images: ['a.png'] } }, 'BAD_INPUT', /no usable file refs/, true],
  ['images: nothing to fetch', 'img', { payload: 'hello' }, 'BAD_INPUT', /No images to fetch/, true],
  [
    'images: an unknown msg.prompt_id',
    'img',
    { prompt_id: '00000000-0000-4000-8000-000000000000' },
    'BAD_INPUT',
    /no history for prompt/,
    false,
  ],
  ['upload: a number', 'up', { payload: 42 }, 'BAD_INPUT', /Nothing was uploaded/, true],
  ['upload: an object', 'up', { payload: { image: 'x' } }, 'BAD_INPUT', /Nothing was uploaded/, true],
  ['upload: a string that is neither base64 nor a data URL', 'up', { payload: 'not an image!' }, 'BAD_INPUT', /Nothing was uploaded/, true],
  ['upload: an empty Buffer', 'up', { payload: Buffer.alloc(0) }, 'BAD_INPUT', /Nothing was uploaded/, true],
  ['upload: bytes above max_upload_size', 'up', { payload: noisyPng(40, 40) }, 'TOO_LARGE', /at most 4000 bytes/, false],
  [
    'history: delete with a number',
    'hist',
    { action: 'delete', payload: 7 },
    'BAD_INPUT',
    /msg.payload must be a prompt id or an array of prompt ids; got number 7/,
    true,
  ],
  [
    'history: delete with an object',
    'hist',
    { action: 'delete', payload: { id: 'x' } },
    'BAD_INPUT',
    /To delete history entries, msg.payload must be .*; got an object/,
    true,
  ],
  ['history: a negative msg.max_items', 'hist', { max_items: -1 }, 'BAD_INPUT', /msg.max_items must be a whole number of 0 or more/, true],
  [
    'queue: delete with an object',
    'queue',
    { action: 'delete', payload: { id: 'x' } },
    'BAD_INPUT',
    /To delete from the queue, msg.payload must be .*; got an object/,
    true,
  ],
  [
    'queue: an unknown msg.action',
    'queue',
    { action: 'flush' },
    'BAD_INPUT',
    /msg.action must be one of get, clear, delete; got the string "flush"/,
    true,
  ],
  [
    'interrupt: a msg.prompt_id that is not text',
    'intr',
    { prompt_id: 12 },
    'BAD_INPUT',
    /msg.prompt_id must be a prompt id \(a string\)/,
    true,
  ],
  [
    'free: a flag that is not a boolean',
    'free',
    { payload: { free_memory: 'yes' } },
    'BAD_INPUT',
    /msg.payload.free_memory must be true or false; got the string "yes"/,
    true,
  ],
  [
    'queue: an Action read from msg.cmd that is no action',
    'qsrc',
    { cmd: 'flush', action: 'get' },
    'BAD_INPUT',
    /^msg\.cmd must be one of get, clear, delete; got the string "flush"$/,
    true,
  ],
  [
    'history: a Max items JSONata expression that cannot run',
    'hsrc',
    { payload: 1 },
    'BAD_INPUT',
    /^Max items \(JSONata \$nope\(payload\)\) could not be read: /,
    true,
  ],
  ['info: an unknown node class', 'info', { info: 'object_info', class: 'KSamplr' }, 'NOT_FOUND', /no node class "KSamplr"/, false],
  [
    'info: an unknown model folder',
    'info',
    { info: 'models', folder: 'chekpoints' },
    'NOT_FOUND',
    /no model folder "chekpoints"; folders: .*checkpoints/,
    false,
  ],
];

/**
 * Issue 11 §4, untrusted keys and values from flows: one row for each class of hostile input.
 * A msg given as a function is built fresh for the row (Proxies, getters, functions and Buffers do
 * not survive structuredClone). The last column is true (no POST at all) or a pattern of URLs
 * that must not be requested (a GET the node would make with the bad value).
 */
const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c63f8cfc0f01f0005000201a2b7b3f70000000049454e44ae426082',
  'hex',
);
const throwing = (what) => () => {
  throw new Error(`${what} refuses to be read`);
};
const trapped = new Proxy(
  {},
  { get: throwing('get'), ownKeys: throwing('ownKeys'), has: throwing('has'), getPrototypeOf: throwing('getPrototypeOf') },
);
const circular = () => {
  const inputs = { 'Empty Image': { width: 8 } };
  inputs['Empty Image'].color = inputs;
  return inputs;
};
const deep = () => {
  let value = 8;
  for (let i = 0; i < 10000; i += 1) value = [value];
  return value;
};
/** [first, <hole>, last] */
const holey = (first, last) => {
  const list = [first];
  list[2] = last;
  return list;
};
const withInputs = (inputs) => () => ({ payload: saveImageWorkflow(), inputs });
const HOSTILE = [
  [
    'submit: a msg.inputs node "__proto__" (JSON.parse)',
    'sub',
    withInputs(JSON.parse('{"__proto__": {"polluted": 1}}')),
    'BAD_INPUT',
    /msg\.inputs names the node "__proto__", which is not allowed/,
    true,
  ],
  [
    'submit: a msg.inputs key "constructor.prototype"',
    'sub',
    withInputs({ 'constructor.prototype': 1 }),
    'BAD_INPUT',
    /names the node "constructor"/,
    true,
  ],
  [
    'submit: a msg.inputs input "__proto__" (defineProperty)',
    'sub',
    withInputs({ 'Empty Image': Object.defineProperty({}, '__proto__', { value: { polluted: 1 }, enumerable: true }) }),
    'BAD_INPUT',
    /names the input "__proto__"/,
    true,
  ],
  [
    'submit: an override of an inherited name (toString)',
    'sub',
    withInputs({ 'Empty Image': { toString: 8 } }),
    'UNKNOWN_OVERRIDE',
    /has no input "toString"/,
    true,
  ],
  [
    'submit: a workflow node id "__proto__"',
    'sub',
    { payload: '{"__proto__": {"class_type": "EmptyImage", "inputs": {}}}' },
    'BAD_WORKFLOW',
    /Workflow node id "__proto__" is not allowed/,
    true,
  ],
  [
    'submit: an override row naming node "__proto__"',
    'rows',
    { payload: saveImageWorkflow() },
    'BAD_INPUT',
    /Override row 1 \(__proto__ → polluted = "1"\) names "__proto__"/,
    true,
  ],
  [
    'submit: NaN in msg.inputs',
    'sub',
    withInputs({ 'Empty Image': { width: NaN } }),
    'BAD_INPUT',
    /msg\.inputs\["Empty Image"\]\.width is NaN, which JSON cannot carry/,
    true,
  ],
  [
    'submit: Infinity in a workflow',
    'sub',
    () => ({ payload: { ...saveImageWorkflow(), 3: { class_type: 'EmptyImage', inputs: { width: Infinity } } } }),
    'BAD_WORKFLOW',
    /The workflow\[?"?3"?\]?\.inputs\.width is Infinity/,
    true,
  ],
  ['submit: a circular msg.inputs', 'sub', withInputs(circular()), 'BAD_INPUT', /contains itself \(a circular structure\)/, true],
  [
    'submit: msg.inputs nested 10 000 levels',
    'sub',
    withInputs({ 'Empty Image': { width: deep() } }),
    'BAD_INPUT',
    /is nested more than 100 levels deep/,
    true,
  ],
  [
    'submit: a Map as msg.inputs',
    'sub',
    withInputs(new Map([['Empty Image', { width: 8 }]])),
    'BAD_INPUT',
    /msg\.inputs must be an object like .*, not a Map/,
    true,
  ],
  [
    'submit: a getter in msg.inputs that throws',
    'sub',
    withInputs({
      'Empty Image': {
        get width() {
          throw new Error('no width today');
        },
      },
    }),
    'BAD_INPUT',
    /msg\.inputs\["Empty Image"\]\.width could not be read: no width today/,
    true,
  ],
  ['submit: a Proxy with throwing traps as msg.inputs', 'sub', withInputs(trapped), 'BAD_INPUT', /msg\.inputs/, true],
  ['submit: a BigInt in msg.inputs', 'sub', withInputs({ 'Empty Image': { width: 8n } }), 'BAD_INPUT', /is the BigInt 8n/, true],
  ['submit: a Symbol in msg.inputs', 'sub', withInputs({ 'Empty Image': { width: Symbol('w') } }), 'BAD_INPUT', /width is a symbol/, true],
  ['submit: a function in msg.inputs', 'sub', withInputs({ 'Empty Image': { width: () => 8 } }), 'BAD_INPUT', /width is a function/, true],
  [
    'submit: a sparse array in msg.inputs',
    'sub',
    withInputs({ 'Empty Image': { color: holey(1, 3) } }),
    'BAD_INPUT',
    /color\[1\] is missing \(a sparse array\)/,
    true,
  ],
  [
    'submit: a 4 MB string that is not JSON',
    'sub',
    { payload: 'x'.repeat(4 * 1024 * 1024) },
    'BAD_WORKFLOW',
    /^The workflow is not valid JSON: .{0,200}$/,
    true,
  ],
  [
    'submit: a msg.payload whose getter throws',
    'sub',
    () => Object.defineProperty({}, 'payload', { get: throwing('payload'), enumerable: true }),
    'BAD_INPUT',
    /^The msg could not be read: payload refuses to be read$/,
    true,
  ],
  [
    'submit: a Buffer that is not JSON',
    'sub',
    () => ({ payload: Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(100)]) }),
    'BAD_WORKFLOW',
    /^The workflow is a Buffer of \d+ bytes that is not JSON \(it starts with the ZIP signature \(PK\)\)$/,
    true,
  ],
  [
    'submit: a PNG without a workflow in it',
    'sub',
    () => ({ payload: Buffer.concat([PNG, Buffer.alloc(100)]) }),
    'BAD_WORKFLOW',
    /^This PNG file has no workflow in it \(ComfyUI embeds one/,
    true,
  ],
  [
    'upload: bytes that are no image (a PDF)',
    'up',
    () => ({ payload: Buffer.from('%PDF-1.7 a document') }),
    'BAD_INPUT',
    /not an image ComfyUI reads \(it starts with the PDF signature/,
    true,
  ],
  [
    'upload: a file name with NUL',
    'up',
    () => ({ payload: PNG, filename: 'a\u0000.png' }),
    'BAD_INPUT',
    /msg\.filename contains a control character/,
    true,
  ],
  [
    'upload: a file name with /',
    'up',
    () => ({ payload: PNG, filename: 'sub/a.png' }),
    'BAD_INPUT',
    /msg\.filename contains \/ or \\/,
    true,
  ],
  [
    'upload: a file name with \\',
    'up',
    () => ({ payload: PNG, filename: '..\\a.png' }),
    'BAD_INPUT',
    /msg\.filename contains \/ or \\/,
    true,
  ],
  ['upload: the file name ".."', 'up', () => ({ payload: PNG, filename: '..' }), 'BAD_INPUT', /msg\.filename contains "\.\."/, true],
  [
    'upload: a file name over 255 bytes (UTF-8)',
    'up',
    () => ({ payload: PNG, filename: `${'가'.repeat(84)}.png` }),
    'BAD_INPUT',
    /longer than 255 bytes/,
    true,
  ],
  [
    'upload: a file name with a drive letter',
    'up',
    () => ({ payload: PNG, filename: 'C:a.png' }),
    'BAD_INPUT',
    /msg\.filename contains ":"/,
    true,
  ],
  [
    'upload: a subfolder ".. " (Windows reads it as "..")',
    'up',
    () => ({ payload: PNG, subfolder: 'a/.. ' }),
    'BAD_INPUT',
    /contains "\.\." as a folder/,
    true,
  ],
  [
    'upload: a subfolder with ".."',
    'up',
    () => ({ payload: PNG, subfolder: 'a/../../b' }),
    'BAD_INPUT',
    /msg\.subfolder contains "\.\." as a folder/,
    true,
  ],
  [
    'upload: an absolute subfolder',
    'up',
    () => ({ payload: PNG, subfolder: '/etc' }),
    'BAD_INPUT',
    /msg\.subfolder is an absolute path/,
    true,
  ],
  [
    'upload: a mask original with ".."',
    'upm',
    () => ({ payload: PNG, original_ref: { filename: 'a.png', subfolder: '../..', type: 'input' } }),
    'BAD_INPUT',
    /msg\.original_ref\.subfolder contains "\.\."/,
    true,
  ],
  [
    'upload: a mask original path with ".."',
    'upm',
    () => ({ payload: PNG, original_ref: '../a.png' }),
    'BAD_INPUT',
    /msg\.original_ref\.subfolder contains "\.\."/,
    true,
  ],
  [
    'upload: a Map as msg.inputs',
    'up',
    () => ({ payload: PNG, inputs: new Map() }),
    'BAD_INPUT',
    /msg\.inputs must be an object .*; got a Map/,
    true,
  ],
  [
    'images: a ref that walks out of the folder',
    'img',
    { payload: { images: [{ filename: '../../../etc/passwd', subfolder: '', type: 'output' }] } },
    'BAD_INPUT',
    /msg\.payload\.images\[0\]\.filename contains \//,
    /^\/(api\/)?view/,
  ],
  [
    'images: a ref with an absolute subfolder',
    'img',
    { payload: [{ filename: 'a.png', subfolder: '/etc', type: 'output' }] },
    'BAD_INPUT',
    /msg\.payload\[0\]\.subfolder is an absolute path/,
    /^\/(api\/)?view/,
  ],
  [
    'images: a msg.prompt_id outside the id charset',
    'img',
    { prompt_id: '../queue' },
    'BAD_INPUT',
    /msg\.prompt_id is not a prompt id \(1 to 128 letters, digits, _ or -\)/,
    /^\/(api\/)?history/,
  ],
  [
    'interrupt: a msg.prompt_id outside the id charset',
    'intr',
    { prompt_id: 'a b' },
    'BAD_INPUT',
    /msg\.prompt_id is not a prompt id/,
    /^\/(api\/)?(history|queue|interrupt)/,
  ],
  [
    'interrupt: a read-only msg.payload (the result would have nowhere to go)',
    'intr',
    () => Object.defineProperty({}, 'payload', { value: 1, enumerable: true, writable: false }),
    'BAD_INPUT',
    /msg\.payload cannot be set/,
    /^\/(api\/)?(history|queue|interrupt)/,
  ],
  [
    'history: a msg.prompt_id of 129 characters',
    'hist',
    { prompt_id: 'a'.repeat(129) },
    'BAD_INPUT',
    /msg\.prompt_id is not a prompt id/,
    /^\/(api\/)?history/,
  ],
  [
    'history: delete with an id outside the charset',
    'hist',
    { action: 'delete', payload: ['ok', '../x'] },
    'BAD_INPUT',
    /msg\.payload\[1\] is not a prompt id/,
    true,
  ],
  [
    'queue: delete with a sparse array of ids',
    'queue',
    () => ({ action: 'delete', payload: holey('a', 'b') }),
    'BAD_INPUT',
    /msg\.payload must be a prompt id or an array of prompt ids/,
    true,
  ],
  [
    'progress: a msg.prompt_id outside the id charset',
    'prog',
    { prompt_id: 'x.y' },
    'BAD_INPUT',
    /msg\.prompt_id is not a prompt id/,
    true,
  ],
  [
    'free: a flag whose getter throws',
    'free',
    () => ({
      payload: {
        get free_memory() {
          throw new Error('no');
        },
      },
    }),
    'BAD_INPUT',
    /msg\.payload\.free_memory could not be read: no/,
    true,
  ],
  [
    'info: a node class ".."',
    'info',
    { info: 'object_info', class: '..' },
    'BAD_INPUT',
    /msg\.class cannot be "\.\."/,
    /^\/(api\/)?object_info/,
  ],
  [
    'info: an object with a non-callable toString as msg.info',
    'info',
    { info: { toString: 1, valueOf: 1 } },
    'BAD_INPUT',
    /msg\.info must be one of .*; got an object/,
    true,
  ],
];

function bigWorkflow() {
  const workflow = saveImageWorkflow();
  workflow['2'].inputs.filename_prefix = 'x'.repeat(5000);
  return workflow;
}

describe('bad input: a specific error for each, nothing crashes, nothing half-sent', function () {
  let sim;

  before(async () => {
    await helper.startServer();
  });
  after(() => helper.stopServer());
  beforeEach(async () => {
    sim = await startSimulator({ testControls: true, maxUploadSize: 4000 });
  });
  afterEach(async () => {
    await helper.unload();
    await sim.close();
  });

  function flow(url = sim.url) {
    const wires = [['out']];
    return [
      { id: 'srv', type: 'comfyui-server', url, timeout: 3 },
      { id: 'sub', type: 'comfyui-submit', server: 'srv', workflow: '', mode: 'wait', wires },
      { id: 'img', type: 'comfyui-images', server: 'srv', output: 'buffer', wires },
      {
        id: 'up',
        type: 'comfyui-upload',
        server: 'srv',
        kind: 'image',
        folder: 'input',
        filename: 'x.png',
        target: 'Load Image',
        targetInput: 'image',
        wires,
      },
      { id: 'hist', type: 'comfyui-history', server: 'srv', action: 'get', wires },
      { id: 'queue', type: 'comfyui-queue', server: 'srv', action: 'get', wires },
      { id: 'intr', type: 'comfyui-interrupt', server: 'srv', wires },
      { id: 'free', type: 'comfyui-free', server: 'srv', unloadModels: true, freeMemory: false, wires },
      { id: 'info', type: 'comfyui-info', server: 'srv', info: 'system_stats', wires },
      { id: 'qsrc', type: 'comfyui-queue', server: 'srv', action: 'cmd', actionType: 'msg', wires },
      { id: 'hsrc', type: 'comfyui-history', server: 'srv', action: 'get', maxItems: '$nope(payload)', maxItemsType: 'jsonata', wires },
      {
        id: 'upm',
        type: 'comfyui-upload',
        server: 'srv',
        kind: 'mask',
        folder: 'input',
        filename: 'm.png',
        target: '',
        wires,
      },
      {
        id: 'rows',
        type: 'comfyui-submit',
        server: 'srv',
        workflow: '',
        mode: 'wait',
        overrides: [{ node: '__proto__', input: 'polluted', value: '1', valueType: 'str' }],
        wires,
      },
      { id: 'prog', type: 'comfyui-progress', server: 'srv', scope: 'ids', wires },
      { id: 'out', type: 'helper' },
    ];
  }

  let prototypeKeys;
  before(() => (prototypeKeys = Reflect.ownKeys(Object.prototype)));
  afterEach(() => assert.deepEqual(Reflect.ownKeys(Object.prototype), prototypeKeys, 'Object.prototype was changed'));

  for (const [name, target, msg, code, pattern, sendsNothing] of [...TABLE, ...HOSTILE]) {
    it(name, async function () {
      await helper.load(allNodes, flow());
      const node = helper.getNode(target);
      await waitFor(() => sim.openSocketCount() === 1, 'connected');
      const before = sim.requestLog.filter((r) => r.method === 'POST').length;
      let sent = 0;
      helper.getNode('out').on('input', () => (sent += 1));
      const requestsBefore = sim.requestLog.length;
      const failed = nextError(node);
      node.receive(typeof msg === 'function' ? msg() : structuredClone(msg));
      const err = await failed;
      assert.ok(err instanceof Error, 'an Error');
      assert.equal(err.code, code, `${err.code}: ${err.message}`);
      assert.match(err.message, pattern);
      assert.equal(sent, 0, 'no output msg');
      if (sendsNothing) assert.equal(sim.requestLog.filter((r) => r.method === 'POST').length, before, 'nothing was sent to ComfyUI');
      if (sendsNothing instanceof RegExp) {
        const asked = sim.requestLog.slice(requestsBefore).filter((r) => sendsNothing.test(r.url));
        assert.deepEqual(asked, [], 'nothing was asked of ComfyUI with the bad value');
      }
      assert.equal(Object.prototype.polluted, undefined);
    });
  }

  it('config: an invalid server URL', async function () {
    await helper.load(allNodes, flow('ftp://127.0.0.1:8188'));
    const sub = helper.getNode('sub');
    const failed = nextError(sub);
    sub.receive({ payload: saveImageWorkflow() });
    const err = await failed;
    assert.equal(err.code, 'INVALID_URL');
    assert.match(err.message, /the scheme must be http or https, not ftp/);
    assert.equal(sim.requestLog.length + sim.connectionLog.length, 0);
  });

  it('a proxy answering an HTML 502', async function () {
    await helper.load(allNodes, flow());
    sim.faults.failRoute('POST', '/prompt', 502, '<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>', 'text/html');
    const sub = helper.getNode('sub');
    const failed = nextError(sub);
    sub.receive({ payload: saveImageWorkflow() });
    const err = await failed;
    assert.equal(err.code, 'HTTP');
    assert.equal(err.status, 502);
    assert.match(err.message, /POST \/prompt failed: ComfyUI answered 502: an HTML page \("502 Bad Gateway"\)/);
  });

  it('/view answering 404 for one of several images: the others arrive, the missing one is reported', async function () {
    await helper.load(allNodes, flow());
    const img = helper.getNode('img');
    const done = await (async () => {
      const got = nextMessage(helper.getNode('out'));
      helper.getNode('sub').receive({ payload: saveImageWorkflow({ batch: 2, prefix: 'pair' }) });
      return got;
    })();
    const refs = done.payload.images;
    const arrived = collectMessages(helper.getNode('out'), 2);
    const failed = nextError(img);
    img.receive({ payload: { images: [refs[0], { filename: 'missing.png', subfolder: '', type: 'output' }, refs[1]] } });
    assert.deepEqual(
      (await arrived).map((m) => m.filename),
      refs.map((r) => r.filename),
    );
    assert.match((await failed).message, /1 of 3 files could not be downloaded: missing\.png/);
  });

  describe('frames the socket must survive', function () {
    const frames = [
      ['a malformed text frame', '{"type": "executing", "data": {', false],
      ['a text frame that is JSON but no message', '[1, 2, 3]', false],
      ['an unknown event type', JSON.stringify({ type: 'crystools.monitor', data: { cpu_utilization: 3 } }), false],
      ['a truncated binary frame', Buffer.from([0, 0, 0]), true],
      [
        'a binary preview with its metadata length past the end',
        Buffer.concat([Buffer.from([0, 0, 0, 4, 0, 0, 1, 0]), Buffer.from('{}')]),
        true,
      ],
      ['an unknown binary event type', Buffer.from([0, 0, 0, 9, 1, 2, 3]), true],
      ['a text frame over 4 MiB', JSON.stringify({ type: 'custom.blob', data: 'x'.repeat(4.5 * 1024 * 1024) }), false],
    ];
    for (const [name, data, binary] of frames) {
      it(`${name}: ignored, the connection stays up, prompts still complete`, async function () {
        await helper.load(allNodes, flow());
        await waitFor(() => sim.openSocketCount() === 1, 'connected');
        const client = helper.getNode('srv').client;
        const problems = [];
        client.on('problem', (p) => problems.push(p));
        sim.faults.sendRaw(data, binary);
        const got = nextMessage(helper.getNode('out'));
        helper.getNode('sub').receive({ payload: saveImageWorkflow({ prefix: 'survived' }) });
        assert.match((await got).payload.images[0].filename, /^survived_/);
        assert.equal(sim.connectionLog.length, 1, 'no reconnect was needed');
        if (/malformed|no message|truncated|past the end/.test(name))
          assert.ok(
            problems.some((p) => /malformed frame/.test(p)),
            problems.join('; '),
          );
      });
    }

    it('the server closing the socket mid-frame: reconnect, then prompts complete', async function () {
      await helper.load(allNodes, flow());
      await waitFor(() => sim.openSocketCount() === 1, 'connected');
      sim.faults.cutMidFrame();
      await waitFor(() => sim.connectionLog.length === 2 && sim.openSocketCount() === 1, 'the reconnect', 5000);
      const got = nextMessage(helper.getNode('out'));
      helper.getNode('sub').receive({ payload: saveImageWorkflow({ prefix: 'after-cut' }) });
      assert.match((await got).payload.images[0].filename, /^after-cut_/);
      const res = await request(`${sim.url}/queue`);
      assert.equal(res.statusCode, 200);
    });
  });
});
