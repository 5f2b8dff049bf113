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
const { helper, allNodes, waitFor, useSimulator } = require('./support');
const {
  WORKFLOW,
  MSG_NODES,
  fieldValue,
  resolve,
  msgOf,
  assertUnpolluted,
  holdsNull,
  isStrictJson,
  assertComfyError,
} = require('./fuzz/msgs');
const { normalizeWorkflow, applyOverrides } = require('../dist/client/workflow');
const { plainJson } = require('../dist/client/plain-json');
const { fileNameProblem, subfolderProblem } = require('../dist/client/file-names');
const { evaluateOverrides, overrideRows } = require('../dist/nodes/overrides');
const { promptIdOf, promptIdsOf } = require('../dist/nodes/msg-input');
const { readInput } = require('../dist/nodes/failure');

const SEED = 20261130;
const RUNS_PER_NODE = 250;
const UNIT_RUNS = 2000;

/* ------------------------------------------------------ every palette node */

describe('hostile msgs into every palette node (fast-check, real runtime, simulator)', function () {
  this.timeout(120000);
  const env = useSimulator({ testControls: true, stepMs: 1, maxUploadSize: 1024 * 1024 });

  const wires = [['out']];
  const NODES = MSG_NODES;

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
          result = applyOverrides(base, given).prompt;
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
        const result = applyOverrides(base, dotted ? { [`Empty Image.${input}`]: value } : { 'Empty Image': { [input]: value } }).prompt;
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
