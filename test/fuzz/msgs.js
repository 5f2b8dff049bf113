'use strict';
// Hostile msgs (issue 11 §4): arbitrary values and known-bad ones (cycles, 10 000-level nesting,
// NaN, Maps, Proxies whose traps throw, objects whose toString is no function, __proto__ keys from
// JSON.parse and defineProperty, getters that throw) for every msg field each palette node reads,
// and the checks of what may reach ComfyUI. Shared by test/hostile-input.spec.js and the fuzz
// harness (npm run fuzz).
const assert = require('node:assert/strict');
const fc = require('fast-check');
const { saveImageWorkflow, makePng } = require('../support');

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
  // Node names for Run only, bypass and mute: a title, an id, a class, a list, a non-output node.
  'Save Image',
  ['1', 'SaveImage', 'Empty Image, 2'],
  'EmptyImage',
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

/* ------------------------------------------------ the nodes and what they read */

/** [node, the msg fields it reads, a msg it handles (the fields replace parts of it)] */
const MSG_NODES = [
  [
    { id: 'sub', type: 'comfyui-submit', workflow: '', mode: 'wait' },
    ['payload', 'inputs', 'previews', 'targets', 'bypass', 'mute'],
    { payload: WORKFLOW },
  ],
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

module.exports = {
  HOSTILE,
  PLAUSIBLE,
  WORKFLOW,
  PNG,
  MSG_NODES,
  fieldValue,
  resolve,
  msgOf,
  assertUnpolluted,
  holdsNull,
  isStrictJson,
  assertComfyError,
};
