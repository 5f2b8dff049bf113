'use strict';
// Generators (fast-check) of what a hostile or broken ComfyUI may send: text frames of every event
// type (recorded shapes with fields replaced, removed or added), binary frames of every kind with
// lying lengths, and answers of every route the client calls (any status, content type and body).
// Each generated value is a plan (plain data, shrinkable, printable); the harness renders it with
// the id of the prompt it targets.
const fc = require('fast-check');
const { frameSamples, answerSamples } = require('./samples');

const FRAMES = frameSamples();
const ANSWERS = answerSamples();

/** Raw JSON a JS value cannot be serialized to: rendered in place of a marker string. */
const MARKERS = {
  DEEP: (n) => `${'['.repeat(n)}${']'.repeat(n)}`,
  DEEPOBJ: (n) => `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`,
  INF: () => '1e400',
  NEGINF: () => '-1e400',
  BIGSTR: (n) => JSON.stringify('x'.repeat(n)),
  TOSTRING: () => '{"toString":1,"valueOf":{},"length":-1}',
  PROTO: () => '{"__proto__":{"polluted":"yes"},"constructor":{"prototype":{"polluted":"yes"}}}',
};

/** A leaf that confuses a reader: other JSON types, extremes, and the raw markers above. */
const hostileLeaf = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
  { weight: 1, arbitrary: fc.constantFrom('', '0', '1', 'null', '[]', '{}', 'constructor', '__proto__', '../../etc/passwd', 'a\u0000b') },
  { weight: 1, arbitrary: fc.constantFrom(0, -1, 1.5, 2 ** 53, -(2 ** 64), 1e308, -0) },
  {
    weight: 2,
    arbitrary: fc.oneof(
      fc.integer({ min: 60, max: 20000 }).map((n) => `\u0000DEEP${n}\u0000`),
      fc.integer({ min: 60, max: 5000 }).map((n) => `\u0000DEEPOBJ${n}\u0000`),
      fc.constantFrom('\u0000INF\u0000', '\u0000NEGINF\u0000', '\u0000TOSTRING\u0000', '\u0000PROTO\u0000'),
      fc.integer({ min: 1000, max: 200000 }).map((n) => `\u0000BIGSTR${n}\u0000`),
    ),
  },
);

const KEYS = fc.oneof(
  fc.constantFrom(
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    'hasOwnProperty',
    'prompt_id',
    'node',
    'nodes',
    'output',
    'images',
    'filename',
  ),
  fc.string({ maxLength: 12 }),
);

/** Numbers and texts of the right type but extreme value: what a reader that checks only types lets through. */
const extremeNumber = fc.oneof(
  fc.constantFrom(0, -1, -0.5, 1e-300, 1e300, -1e300, 2 ** 64, Number.MAX_SAFE_INTEGER + 2),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
);
const extremeText = fc.oneof(
  fc.string({ maxLength: 30 }),
  fc.constantFrom('', ' ', '../x', '..', '/etc/passwd', 'C:\\x', 'a\u0000b', '\u202e', 'x'.repeat(300), '__proto__', 'constructor', 'null'),
);

/**
 * Edits applied to a recorded value: each names a path by index among the value's paths. `tweak`
 * keeps a leaf's type (a number stays a number), so the frame still passes the reader and the
 * extreme value reaches the code behind it.
 */
const edits = fc.array(
  fc.record({
    op: fc.constantFrom('replace', 'replace', 'delete', 'add', 'tweak', 'tweak', 'tweak'),
    at: fc.nat(),
    key: KEYS,
    leaf: hostileLeaf,
    number: extremeNumber,
    text: extremeText,
  }),
  { minLength: 0, maxLength: 4 },
);

/** Every path inside a JSON value (objects and arrays), the root first. */
function pathsOf(value, limit = 400) {
  const paths = [[]];
  for (let i = 0; i < paths.length && paths.length < limit; i += 1) {
    let node = value;
    for (const key of paths[i]) node = node[key];
    if (node && typeof node === 'object') for (const key of Object.keys(node)) paths.push([...paths[i], key]);
  }
  return paths;
}

/** A copy of `value` with the edits applied (prompt ids first set to `promptId`). */
function applyEdits(value, list, promptId) {
  let root = JSON.parse(JSON.stringify(value, (key, v) => (key === 'prompt_id' && promptId ? promptId : v)));
  for (const edit of list) {
    const paths = pathsOf(root);
    const path = paths[edit.at % paths.length];
    if (path.length === 0) {
      if (edit.op === 'replace' && edit.at % 4 === 0) root = edit.leaf;
      else if (edit.op === 'add' && root && typeof root === 'object' && !Array.isArray(root)) root[edit.key] = edit.leaf;
      continue;
    }
    let parent = root;
    for (const key of path.slice(0, -1)) parent = parent[key];
    const last = path[path.length - 1];
    if (edit.op === 'tweak') {
      if (typeof parent[last] === 'number') parent[last] = edit.number;
      else if (typeof parent[last] === 'string') parent[last] = edit.text;
    } else if (edit.op === 'replace') parent[last] = edit.leaf;
    else if (edit.op === 'delete') {
      if (Array.isArray(parent)) parent.splice(Number(last), 1);
      else delete parent[last];
    } else {
      const target = parent[last];
      if (target && typeof target === 'object' && !Array.isArray(target)) target[edit.key] = edit.leaf;
      else parent[last] = { [edit.key]: edit.leaf };
    }
  }
  return root;
}

/** JSON text of a value with its markers rendered. */
function render(value) {
  return JSON.stringify(value === undefined ? null : value).replace(/"\\u0000([A-Z]+)(\d*)\\u0000"/g, (whole, name, n) => {
    const make = MARKERS[name];
    return make ? make(Number(n)) : whole;
  });
}

const frameTypes = [...FRAMES.keys()];

/** A text frame: a recorded frame of some type with edits, an unknown type, or no envelope at all. */
const textFramePlan = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('typed'),
      type: fc.constantFrom(...frameTypes),
      sample: fc.nat(),
      edits,
      // Now and then the recorded data under another type's name (custom nodes' types, hostile names).
      retype: fc.oneof(
        { weight: 8, arbitrary: fc.constant(null) },
        { weight: 1, arbitrary: fc.constantFrom('custom.event', 'crystools.monitor', '__proto__', 'constructor', 'logs', ...frameTypes) },
      ),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('envelope'), value: hostileLeaf }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('text'), text: fc.string({ maxLength: 200 }) }) },
);

function renderTextFrame(plan, promptId) {
  if (plan.kind === 'text') return plan.text;
  if (plan.kind === 'envelope') return render(plan.value);
  const samples = FRAMES.get(plan.type);
  const data = applyEdits(samples[plan.sample % samples.length], plan.edits, promptId);
  return render({ type: plan.retype ?? plan.type, data });
}

const PNG = Buffer.from(
  '89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d4944415478da63f8cfc0f01f0005000201b5e5a0270000000049454e44ae426082',
  'hex',
);
const JPEG_HEAD = Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46]);

const imageBytes = fc.oneof(
  fc.constant(PNG),
  fc.constant(JPEG_HEAD),
  fc.constant(Buffer.alloc(0)),
  fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
);

const u32 = fc.oneof(fc.nat({ max: 8 }), fc.constantFrom(0xffffffff, 0x7fffffff, 2 ** 31), fc.nat());

/** Binary frames: previews (type 1 and 4), text (type 3), unknown types, and bytes of no kind. */
const binaryFramePlan = fc.oneof(
  fc.record({ kind: fc.constant(1), format: u32, image: imageBytes }),
  fc.record({ kind: fc.constant(3), idLength: fc.option(u32), id: fc.string({ maxLength: 20 }), text: fc.string({ maxLength: 100 }) }),
  fc.record({ kind: fc.constant(4), metaEdits: edits, lie: fc.option(u32), image: imageBytes }),
  fc.record({ kind: fc.constant('raw'), bytes: fc.uint8Array({ maxLength: 40 }) }),
);

function u32Bytes(n) {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
}

function renderBinaryFrame(plan, promptId) {
  switch (plan.kind) {
    case 1:
      return Buffer.concat([u32Bytes(1), u32Bytes(plan.format), plan.image]);
    case 3: {
      const id = Buffer.from(plan.id);
      return Buffer.concat([u32Bytes(3), u32Bytes(plan.idLength ?? id.length), id, Buffer.from(plan.text)]);
    }
    case 4: {
      const metadata = {
        node_id: '2',
        prompt_id: promptId,
        display_node_id: '2',
        parent_node_id: null,
        real_node_id: '2',
        image_type: 'image/png',
      };
      const json = Buffer.from(render(applyEdits(metadata, plan.metaEdits, promptId)));
      return Buffer.concat([u32Bytes(4), u32Bytes(plan.lie ?? json.length), json, plan.image]);
    }
    default:
      return Buffer.from(plan.bytes);
  }
}

/** A burst of frames, text and binary mixed. */
const framesPlan = fc.array(
  fc.oneof(
    { weight: 3, arbitrary: textFramePlan.map((plan) => ({ binary: false, plan })) },
    { weight: 1, arbitrary: binaryFramePlan.map((plan) => ({ binary: true, plan })) },
  ),
  { minLength: 1, maxLength: 4 },
);

function renderFrame(frame, promptId) {
  return frame.binary ? renderBinaryFrame(frame.plan, promptId) : renderTextFrame(frame.plan, promptId);
}

const STATUSES = [200, 200, 200, 200, 200, 201, 204, 301, 400, 401, 403, 404, 413, 500, 502, 503];
const TYPES = [
  'application/json',
  'application/json; charset=utf-8',
  'text/html',
  'text/plain',
  'application/octet-stream',
  'image/png',
  '',
];

/** An answer body: a recorded answer of the route with edits, text, an HTML page, nothing, or a lot. */
function bodyPlan(route) {
  const recorded = ANSWERS.get(route) ? [fc.record({ kind: fc.constant('sample'), sample: fc.nat(), edits })] : [];
  return fc.oneof(
    ...recorded.map((arbitrary) => ({ weight: 6, arbitrary })),
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('json'), value: hostileLeaf }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('text'), text: fc.string({ maxLength: 300 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('html'), title: fc.string({ maxLength: 40 }) }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'empty' }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('big'), bytes: fc.integer({ min: 1, max: 3 * 1024 * 1024 }) }) },
  );
}

function answerPlan(route) {
  return fc.record({
    route: fc.constant(route),
    status: fc.constantFrom(...STATUSES),
    contentType: fc.constantFrom(...TYPES),
    body: bodyPlan(route),
    // A hostile server may echo what it was sent (a token) back: never inside a success that parses, where it is data.
    echo: fc.boolean(),
  });
}

/** The body text of an answer plan; `secret` is echoed where the plan says so and it is not data. */
function renderAnswer(plan, promptId, secret) {
  const echo = plan.echo && plan.status >= 300 ? ` ${secret}` : '';
  switch (plan.body.kind) {
    case 'sample': {
      const samples = ANSWERS.get(plan.route);
      const sample = samples[plan.body.sample % samples.length].json;
      // Answers keyed by prompt id (history) answer for the prompt asked about.
      const keyed =
        plan.route === 'GET /history/{id}' && sample && typeof sample === 'object' && !Array.isArray(sample)
          ? Object.fromEntries(
              Object.values(sample)
                .slice(0, 1)
                .map((entry) => [promptId, entry]),
            )
          : sample;
      const value = applyEdits(keyed, plan.body.edits, promptId);
      if (echo && value && typeof value === 'object' && !Array.isArray(value)) value.error = `token was${echo}`;
      return render(value);
    }
    case 'json':
      return render(plan.body.value);
    case 'text':
      return `${plan.body.text}${echo}`;
    case 'html':
      return `<!DOCTYPE html><html><head><title>${plan.body.title}${echo}</title></head><body>login${echo}</body></html>`;
    case 'big':
      return 'x'.repeat(plan.body.bytes);
    default:
      return '';
  }
}

module.exports = { fc, framesPlan, renderFrame, answerPlan, renderAnswer, render, applyEdits, hostileLeaf, ANSWERS };
