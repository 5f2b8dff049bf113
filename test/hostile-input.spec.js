'use strict';
// Generated hostile input (issue 11 §4), with fast-check and a fixed seed: arbitrary values and
// known-bad ones (cycles, 10 000-level nesting, NaN, Maps, Proxies whose traps throw, objects
// whose toString is no function, __proto__ keys from JSON.parse and defineProperty, getters that
// throw) in every msg field each palette node reads, in a real Node-RED test runtime against the
// simulator; and the same values into the pure workflow and override functions.
// What must hold: done() or done(err) for every msg, err.code a string, nothing thrown into the
// process (test/setup.js fails the test on an uncaught exception or unhandled rejection),
// Object.prototype unchanged, and only plain JSON POSTed to ComfyUI.
const assert = require('node:assert/strict');
const path = require('node:path');
const fc = require('fast-check');
const { util } = require('@node-red/util');
const { helper, allNodes, waitFor, saveImageWorkflow, makePng, useSimulator } = require('./support');
const { normalizeWorkflow, applyOverrides } = require('../dist/client/workflow');
const { plainJson } = require('../dist/client/plain-json');
const { fileNameProblem, subfolderProblem } = require('../dist/client/file-names');
const { evaluateOverrides, overrideRows } = require('../dist/nodes/overrides');
const { promptIdOf, promptIdsOf } = require('../dist/nodes/msg-input');
const { readInput } = require('../dist/nodes/failure');

const SEED = 20261130;
const RUNS_PER_NODE = 250;
const UNIT_RUNS = 2000;

/* ------------------------------------------------------------ hostile values */

const THROWING_GETTER = Symbol('a getter that throws'); // build() turns this marker into a getter
const READ_ONLY = Symbol('a read-only property');

const refuse = (what) => () => {
  throw new Error(`${what} refuses`);
};
const TRAPS = ['get', 'set', 'has', 'ownKeys', 'getPrototypeOf', 'getOwnPropertyDescriptor', 'defineProperty', 'deleteProperty'];
const trappedObject = new Proxy({}, Object.fromEntries(TRAPS.map((trap) => [trap, refuse(trap)])));
const trappedArray = new Proxy([1, 2], { get: refuse('get') });
const revoked = (() => {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
})();
const circular = (() => {
  const value = { a: [1] };
  value.a.push(value);
  return value;
})();
const deepArray = (() => {
  let value = 1;
  for (let i = 0; i < 10000; i += 1) value = [value];
  return value;
})();
const deepObject = (() => {
  let value = 1;
  for (let i = 0; i < 10000; i += 1) value = { a: value };
  return value;
})();
const holey = (() => {
  const list = ['a'];
  list[3] = 'b';
  return list;
})();
const noToString = { toString: 1, valueOf: 1 };
const nullProto = Object.assign(Object.create(null), { toString: 1 });
const protoFromJson = JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}');
const protoDefined = Object.defineProperty({}, '__proto__', { value: { polluted: true }, enumerable: true });
const throwingGetterObject = Object.defineProperty({}, 'width', { get: refuse('width getter'), enumerable: true });
const throwingThrown = {
  get x() {
    throw trappedObject; // the thrown value itself cannot be read
  },
};
const PNG = makePng(2, 2);

const HOSTILE = [
  NaN,
  Infinity,
  -Infinity,
  -0,
  10n ** 30n,
  Symbol('s'),
  () => 1,
  trappedObject,
  trappedArray,
  revoked,
  circular,
  deepArray,
  deepObject,
  holey,
  noToString,
  nullProto,
  protoFromJson,
  protoDefined,
  throwingGetterObject,
  throwingThrown,
  new Map([['Empty Image', { width: 8 }]]),
  new Set(['a']),
  new Date(0),
  new Float64Array([NaN]),
  'x'.repeat(2 ** 21),
  Buffer.from('%PDF-1.7'),
  THROWING_GETTER,
  READ_ONLY,
];

/** Values that pass the first checks of some field, so the generated msgs reach deeper code. */
const WORKFLOW = saveImageWorkflow();
const PLAUSIBLE = [
  WORKFLOW,
  JSON.stringify(WORKFLOW),
  Buffer.from(`\uFEFF${JSON.stringify(WORKFLOW)}`),
  '{"__proto__": {"class_type": "EmptyImage", "inputs": {}}}',
  { prompt: WORKFLOW },
  { 'Empty Image': { width: 16 } },
  { 'Empty Image.width': 16 },
  JSON.parse('{"Empty Image": {"__proto__": 1}}'),
  { 'Empty Image': { toString: 1 } },
  { constructor: { prototype: 1 } },
  '00000000-0000-4000-8000-000000000000',
  ['00000000-0000-4000-8000-000000000000', '../x'],
  '../../etc/passwd',
  'a'.repeat(129),
  'a.png',
  '..',
  'a/b.png',
  'a\u0000.png',
  `${'é'.repeat(130)}.png`,
  'C:\\x',
  '/abs',
  'sub/dir',
  PNG,
  PNG.toString('base64'),
  `data:image/png;base64,${PNG.toString('base64')}`,
  { images: [{ filename: 'a.png', subfolder: '', type: 'output' }] },
  { images: [{ filename: '../a.png', subfolder: '', type: 'output' }] },
  [{ filename: 'a.png', subfolder: '/etc', type: 'input' }],
  { filename: 'a.png', subfolder: '..', type: 'input' },
  { free_memory: true, unload_models: 'false' },
  'get',
  'delete',
  'clear',
  'object_info',
  'models',
  'KSampler',
  'true',
  true,
  3,
  '',
  null,
  undefined,
];

const anything = fc.anything({
  maxDepth: 3,
  maxKeys: 4,
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withObjectString: true,
  withSparseArray: true,
  withTypedArray: true,
  withUnicodeString: true,
});

/**
 * fast-check looks into every value it generates (for a clone method), which a Proxy whose traps
 * throw does not survive: generated values hold a Pick naming a hostile value instead, and
 * resolve() swaps in the real value for each run.
 */
class Pick {
  constructor(index) {
    this.index = index;
  }
}
const hostile = fc.nat({ max: HOSTILE.length - 1 }).map((index) => new Pick(index));

/** The value with every Pick in it (in arrays and plain objects fast-check made) replaced by its hostile value. */
function resolve(value, depth = 0) {
  if (value instanceof Pick) return HOSTILE[value.index];
  if (typeof value !== 'object' || value === null || depth > 8) return value;
  if (Array.isArray(value)) return value.map((item) => resolve(item, depth + 1)); // map keeps holes
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return value;
  const out = Object.create(proto);
  for (const key of Reflect.ownKeys(value)) {
    const property = Object.getOwnPropertyDescriptor(value, key);
    Object.defineProperty(out, key, { ...property, value: resolve(property.value, depth + 1) });
  }
  return out;
}

/** A value: arbitrary, known-bad, plausible, or a plausible shape with a bad value inside. */
const fieldValue = fc.oneof(
  { weight: 3, arbitrary: anything },
  { weight: 3, arbitrary: hostile },
  { weight: 3, arbitrary: fc.constantFrom(...PLAUSIBLE) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom('Empty Image', 'Save Image', '1', '__proto__', 'toString', 'images'),
        fc.constantFrom('width', 'color', 'filename_prefix', 'prototype'),
        hostile,
      )
      .map(([node, input, pick]) => ({ [node]: { [input]: pick }, [`${node}.${input}`]: pick })),
  },
);

const ABSENT = Symbol('the field is not set');

/**
 * A msg: `base` (what the node needs to get far) with some `fields` replaced; each field is
 * left alone twice as often as it is set, so some msgs are handled and others fail late.
 * THROWING_GETTER and READ_ONLY become properties of that kind.
 */
function msgOf(fields, base = {}) {
  const field = fc.oneof({ weight: 2, arbitrary: fc.constant(ABSENT) }, { weight: 1, arbitrary: fieldValue });
  return fc.record(Object.fromEntries(fields.map((name) => [name, field]))).map((recipe) => () => {
    const msg = { ...base };
    const values = { ...base, ...resolve(Object.fromEntries(Object.entries(recipe).filter(([, value]) => value !== ABSENT))) };
    for (const key of Object.keys(values)) {
      const value = values[key];
      // The runtime itself reads _msgid before any node sees the msg: a getter there never reaches us.
      if (value === THROWING_GETTER && key === '_msgid') msg[key] = noToString;
      else if (value === THROWING_GETTER) Object.defineProperty(msg, key, { get: refuse(`msg.${key}`), enumerable: true });
      else if (value === READ_ONLY) Object.defineProperty(msg, key, { value: 'fixed', enumerable: true, writable: false });
      else msg[key] = value;
    }
    return { msg, values };
  });
}

/* ------------------------------------------------------------------ checks */

const prototypeKeys = () => [Object.prototype, Array.prototype, Function.prototype].map((proto) => Reflect.ownKeys(proto).length);
const PROTOTYPE_KEYS = prototypeKeys();

function assertUnpolluted() {
  assert.deepEqual(prototypeKeys(), PROTOTYPE_KEYS, 'a prototype was changed');
  assert.equal({}.polluted, undefined, 'Object.prototype.polluted');
}

/** Whether `value` holds a null anywhere (reading what can be read, never throwing). */
function holdsNull(value, seen = new Set(), depth = 0) {
  try {
    if (value === null) return true;
    if (typeof value !== 'object' || depth > 200 || seen.has(value)) return false;
    seen.add(value);
    if (value instanceof Map) return [...value.values()].some((v) => holdsNull(v, seen, depth + 1));
    return Reflect.ownKeys(value).some((key) => holdsNull(value[key], seen, depth + 1));
  } catch {
    return false;
  }
}

/** JSON as JSON.parse makes it, with no NaN, undefined, functions, holes or class instances. */
function isStrictJson(value, depth = 0) {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true;
  if (typeof value === 'number') return Number.isFinite(value);
  if (typeof value !== 'object' || depth > 200) return false;
  if (Array.isArray(value)) return value.length === Object.keys(value).length && value.every((item) => isStrictJson(item, depth + 1));
  const proto = Object.getPrototypeOf(value);
  if (proto !== null && proto !== Object.prototype) return false;
  return Object.keys(value).every((key) => isStrictJson(value[key], depth + 1));
}

function assertComfyError(err, codes) {
  assert.ok(err instanceof Error, `an Error, got ${typeof err}`);
  assert.equal(err.name, 'ComfyError', `${err.name}: ${err.message}`);
  if (codes) assert.ok(codes.includes(err.code), `${err.code}: ${err.message}`);
}

/* ------------------------------------------------------ every palette node */

describe('hostile msgs into every palette node (fast-check, real runtime, simulator)', function () {
  this.timeout(120000);
  const env = useSimulator({ testControls: true, stepMs: 1, maxUploadSize: 1024 * 1024 });

  const wires = [['out']];
  /** [node, the msg fields it reads, a msg it handles (the fields replace parts of it)] */
  const NODES = [
    [{ id: 'sub', type: 'comfyui-submit', workflow: '', mode: 'wait' }, ['payload', 'inputs', 'previews'], { payload: WORKFLOW }],
    [
      {
        id: 'subOwn',
        type: 'comfyui-submit',
        workflow: JSON.stringify(WORKFLOW),
        mode: 'wait',
        overrides: [
          { node: 'Empty Image', input: 'width', value: 'width', valueType: 'msg' },
          { node: 'Save Image', input: 'filename_prefix', value: 'payload.prefix', valueType: 'msg' },
        ],
      },
      ['payload', 'inputs', 'width'],
      {},
    ],
    [{ id: 'img', type: 'comfyui-images', output: 'buffer' }, ['payload', 'prompt_id', 'parts', '_msgid'], { payload: { images: [] } }],
    [
      { id: 'imgRefs', type: 'comfyui-images', output: 'refs' },
      ['payload', 'prompt_id'],
      { payload: { images: [{ filename: 'a.png', subfolder: 'x', type: 'output' }] } },
    ],
    [
      { id: 'up', type: 'comfyui-upload', kind: 'image', folder: 'input', filename: '', target: 'Load Image', targetInput: 'image' },
      ['payload', 'filename', 'subfolder', 'type', 'overwrite', 'inputs'],
      { payload: PNG },
    ],
    [
      { id: 'upm', type: 'comfyui-upload', kind: 'mask', folder: 'input', filename: 'm.png', target: '' },
      ['payload', 'original_ref', 'filename'],
      { payload: PNG, original_ref: 'x.png' },
    ],
    [{ id: 'queue', type: 'comfyui-queue', action: 'get' }, ['action', 'payload'], {}],
    [{ id: 'hist', type: 'comfyui-history', action: 'get' }, ['action', 'max_items', 'offset', 'prompt_id', 'payload'], {}],
    [{ id: 'intr', type: 'comfyui-interrupt' }, ['prompt_id', 'payload'], {}],
    [{ id: 'free', type: 'comfyui-free', unloadModels: false, freeMemory: false }, ['payload'], {}],
    [{ id: 'info', type: 'comfyui-info', info: 'system_stats' }, ['info', 'class', 'folder', 'payload'], {}],
    [{ id: 'prog', type: 'comfyui-progress', scope: 'ids' }, ['prompt_id', 'payload', 'reset'], {}],
  ];

  /** msg → settle(error) for the msg being handled; done() runs node._complete(msg, err). */
  const pending = new Map();
  const doneTwice = [];

  async function load() {
    const flow = [
      { id: 'srv', type: 'comfyui-server', url: env.sim.url, timeout: 5 },
      ...NODES.map(([config]) => ({ server: 'srv', wires, ...config })),
      { id: 'out', type: 'helper' },
    ];
    await helper.load(allNodes, flow);
    await waitFor(() => env.sim.openSocketCount() === 1, 'connected');
    for (const [{ id }] of NODES) {
      const node = helper.getNode(id);
      const complete = node._complete;
      node._complete = function (msg, error) {
        const settle = pending.get(msg);
        if (settle) {
          pending.delete(msg);
          settle(error);
        } else doneTwice.push(`${id}: done() for a msg already done`);
        return complete.call(this, msg, error);
      };
    }
  }

  function deliver(node, msg) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${node.type} did not call done() within 15 s`)), 15000);
      pending.set(msg, (error) => {
        clearTimeout(timer);
        resolve(error);
      });
      node.receive(msg);
    });
  }

  for (const [config, fields, base] of NODES) {
    it(`${config.type} (${config.id}): done for every msg, a code on every error, no pollution, only JSON POSTed`, async function () {
      await load();
      const node = helper.getNode(config.id);
      const seen = new Set();
      await fc.assert(
        fc.asyncProperty(msgOf(fields, base), async (build) => {
          const { msg, values } = build();
          const requestsBefore = env.sim.requestLog.length;
          const error = await deliver(node, msg);
          if (error !== undefined) {
            assertComfyError(error);
            assert.equal(typeof error.code, 'string');
            assert.notEqual(error.code, 'INTERNAL', `a fault of ours: ${error.message}`);
            seen.add(error.code);
          } else seen.add('ok');
          assertUnpolluted();
          for (const request of env.sim.requestLog.slice(requestsBefore)) {
            if (request.method !== 'POST' || request.body === undefined) continue;
            const body = JSON.parse(request.body); // strict: JavaScript's parser refuses NaN and Infinity
            assert.ok(isStrictJson(body), `${request.url}: not plain JSON`);
            if (/\/prompt$/.test(request.url) && holdsNull(body.prompt)) {
              assert.ok(holdsNull(values), `${request.url}: a null ComfyUI got that the msg never had`);
            }
          }
        }),
        { seed: SEED, numRuns: RUNS_PER_NODE, endOnFailure: true },
      );
      assert.deepEqual(doneTwice, []);
      // The generator reaches both ends: msgs that fail and msgs that are handled.
      assert.ok(seen.size >= 2, `only ${[...seen].join(', ')}`);
    });
  }
});

/* --------------------------------------------------- the pure functions */

describe('hostile values into the workflow and override functions (fast-check)', function () {
  this.timeout(60000);
  const values = fieldValue;
  const options = { seed: SEED, numRuns: UNIT_RUNS };
  /** fc.property over generated recipes, each resolved into its real (hostile) values first. */
  const property = (...args) => {
    const check = args.pop();
    return fc.property(...args, (...generated) => check(...generated.map((value) => resolve(value))));
  };
  const asyncProperty = (...args) => {
    const check = args.pop();
    return fc.asyncProperty(...args, (...generated) => check(...generated.map((value) => resolve(value))));
  };

  it('plainJson: a strict JSON copy, or a ComfyError of the asked code', function () {
    fc.assert(
      property(values, (value) => {
        let copy;
        try {
          copy = plainJson(value, 'BAD_INPUT', 'x');
        } catch (err) {
          assertComfyError(err, ['BAD_INPUT']);
          assert.match(err.message, /^x/);
          return;
        }
        assert.ok(isStrictJson(copy));
        assert.doesNotThrow(() => JSON.stringify(copy));
        assertUnpolluted();
      }),
      options,
    );
  });

  it('normalizeWorkflow: an API prompt of plain JSON, or BAD_WORKFLOW / UI_WORKFLOW', function () {
    const workflows = fc.oneof(
      values,
      fc.json().map((text) => text),
      fc.json().map((text) => Buffer.from(text)),
      fc.dictionary(fc.string(), values),
    );
    fc.assert(
      property(workflows, (input) => {
        let prompt;
        try {
          prompt = normalizeWorkflow(input);
        } catch (err) {
          assertComfyError(err, ['BAD_WORKFLOW', 'UI_WORKFLOW']);
          return;
        }
        assert.ok(isStrictJson(prompt));
        for (const [id, node] of Object.entries(prompt)) {
          assert.ok(!['__proto__', 'constructor', 'prototype'].includes(id));
          assert.equal(typeof node.class_type, 'string');
          assert.equal(typeof node.inputs, 'object');
        }
        assertUnpolluted();
      }),
      options,
    );
  });

  it('applyOverrides: the prompt with the values set, or BAD_INPUT / UNKNOWN_OVERRIDE; the prompt given is never changed', function () {
    const base = normalizeWorkflow(WORKFLOW);
    const before = JSON.stringify(base);
    const names = fc.constantFrom(
      'Empty Image',
      'Save Image',
      'EmptyImage',
      '1',
      '2',
      '3',
      '__proto__',
      'constructor',
      'prototype',
      'toString',
      'hasOwnProperty',
    );
    const inputs = fc.constantFrom(
      'width',
      'height',
      'color',
      'filename_prefix',
      '__proto__',
      'constructor',
      'prototype',
      'toString',
      'valueOf',
    );
    const overrides = fc.oneof(
      values,
      fc.dictionary(
        fc.oneof(
          names,
          names.chain((n) => inputs.map((i) => `${n}.${i}`)),
        ),
        fc.oneof(values, fc.dictionary(inputs, values)),
      ),
    );
    fc.assert(
      property(overrides, (given) => {
        let result;
        try {
          result = applyOverrides(base, given);
        } catch (err) {
          assertComfyError(err, ['BAD_INPUT', 'UNKNOWN_OVERRIDE']);
          return;
        }
        assert.ok(isStrictJson(result));
        assert.deepEqual(Object.keys(result), Object.keys(base));
        assertUnpolluted();
      }),
      options,
    );
    assert.equal(JSON.stringify(base), before);
  });

  it('applyOverrides: any JSON value reaches an existing input exactly', function () {
    const base = normalizeWorkflow(WORKFLOW);
    fc.assert(
      property(fc.jsonValue(), fc.constantFrom('width', 'height', 'color'), fc.boolean(), (value, input, dotted) => {
        const result = applyOverrides(base, dotted ? { [`Empty Image.${input}`]: value } : { 'Empty Image': { [input]: value } });
        assert.equal(JSON.stringify(result['1'].inputs[input]), JSON.stringify(value));
      }),
      options,
    );
  });

  it('overrideRows and evaluateOverrides: rows of any names and values give plain JSON or BAD_INPUT', async function () {
    const RED = { util };
    const fakeNode = { id: 'n', context: () => ({ flow: { get: () => undefined }, global: { get: () => undefined } }) };
    // The rows come from flows.json, so they are JSON (of any shape); the msg they read is hostile.
    const row = fc.record({
      node: fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', 'prototype', 'Empty Image'), fc.jsonValue()),
      input: fc.oneof(fc.string(), fc.constantFrom('__proto__', 'constructor', 'prototype', 'width'), fc.jsonValue()),
      value: fc.oneof(fc.json(), fc.constantFrom('payload', 'inputs', 'payload.a', 'NaN', '1e400', '$number("x")'), fc.jsonValue()),
      valueType: fc.constantFrom('str', 'num', 'bool', 'json', 'jsonata', 'msg', 'weird', undefined),
    });
    await fc.assert(
      asyncProperty(
        fc.oneof(fc.jsonValue(), fc.array(fc.oneof(row, fc.jsonValue()), { maxLength: 4 })),
        values,
        async (config, payload) => {
          const rows = overrideRows(config);
          for (const r of rows) {
            assert.equal(typeof r.node, 'string');
            assert.equal(typeof r.input, 'string');
            assert.equal(typeof r.value, 'string');
          }
          let result;
          try {
            result = await evaluateOverrides(RED, fakeNode, rows, { _msgid: 'm', payload, inputs: payload });
          } catch (err) {
            assertComfyError(err, ['BAD_INPUT']);
            return;
          }
          if (result !== undefined) assert.ok(isStrictJson(result));
          assertUnpolluted();
        },
      ),
      { ...options, numRuns: 500 },
    );
  });

  it('prompt ids, read as the adapters read them: what passes is 1–128 of [A-Za-z0-9_-], everything else is BAD_INPUT', async function () {
    const ids = fc.oneof(
      values,
      fc.string({ unit: 'grapheme-ascii', maxLength: 140 }),
      fc.array(fc.oneof(fc.uuid(), fc.string()), { maxLength: 3 }),
    );
    await fc.assert(
      asyncProperty(ids, async (given) => {
        for (const read of [
          () => [promptIdOf({ value: given, from: 'msg.prompt_id' })].filter(Boolean),
          () => promptIdsOf(given, 'To test'),
        ]) {
          let got;
          try {
            got = await readInput(read);
          } catch (err) {
            assertComfyError(err, ['BAD_INPUT']);
            continue;
          }
          for (const id of got) assert.match(id, /^[A-Za-z0-9_-]{1,128}$/);
        }
      }),
      options,
    );
  });

  it('file names and subfolders: what passes stays inside the folder on POSIX and Windows', function () {
    const part = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 40 }),
      fc.array(fc.constantFrom('..', '.', '', 'a', 'b.png', '/', '\\', 'C:', '\u0000', '…'), { maxLength: 6 }).map((bits) => bits.join('')),
    );
    fc.assert(
      property(part, part, (subfolder, name) => {
        const nameOk = fileNameProblem(name) === undefined;
        const folderOk = subfolderProblem(subfolder) === undefined;
        if (!nameOk || !folderOk) return;
        assert.ok(Buffer.byteLength(name) <= 255 && !name.includes('\u0000'));
        for (const p of [path.posix, path.win32]) {
          const root = p.resolve(p === path.posix ? '/comfy/input' : 'C:\\comfy\\input');
          const target = p.resolve(root, subfolder, name);
          assert.ok(target.startsWith(root + p.sep), `${JSON.stringify([subfolder, name])} → ${target}`);
        }
      }),
      options,
    );
  });
});
