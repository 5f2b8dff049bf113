'use strict';
// Issue 12 §4, the pure parts: nodes named by id, title or class (overrides touch every node of a
// class and say which), the output nodes a partial execution runs, and bypass/mute of an API prompt.
const assert = require('node:assert/strict');
const fc = require('fast-check');
const { applyOverrides } = require('../dist/client/workflow');
const { findNodes, nodeKeysOf } = require('../dist/client/node-address');
const { resolveTargets } = require('../dist/client/prompt-targets');
const { nodesNeededBy } = require('../dist/client/prompt-graph');
const { leaveOut } = require('../dist/client/prompt-bypass');
const { readNodeDefinitions } = require('../dist/client/node-definitions');
const { ComfyError } = require('../dist/client/errors');
const { mergeTouched } = require('../dist/nodes/overrides');

/** Definitions in /object_info's shape: `inputs` [[name, TYPE], …], `outputs` [TYPE, …]. */
function definitionsOf(classes) {
  const info = {};
  for (const [name, { inputs = [], outputs = [], outputNode = false }] of Object.entries(classes)) {
    info[name] = {
      input: { required: Object.fromEntries(inputs.map(([input, type]) => [input, [type, {}]])) },
      input_order: { required: inputs.map(([input]) => input) },
      output: outputs,
      output_name: outputs,
      output_is_list: outputs.map(() => false),
      name,
      display_name: name,
      output_node: outputNode,
    };
  }
  return readNodeDefinitions(info);
}

const DEFINITIONS = definitionsOf({
  EmptyImage: { inputs: [['width', 'INT']], outputs: ['IMAGE'] },
  ImageBlur: {
    inputs: [
      ['image', 'IMAGE'],
      ['blur_radius', 'INT'],
    ],
    outputs: ['IMAGE'],
  },
  // Output 0 is a MASK, output 1 an IMAGE; its inputs are IMAGE then MASK: index and type disagree.
  Split: {
    inputs: [
      ['image', 'IMAGE'],
      ['mask', 'MASK'],
    ],
    outputs: ['MASK', 'IMAGE'],
  },
  MaskToImage: { inputs: [['mask', 'MASK']], outputs: ['IMAGE'] },
  Pair: {
    inputs: [
      ['a', 'IMAGE'],
      ['b', 'IMAGE'],
    ],
    outputs: ['IMAGE', 'IMAGE'],
  },
  SaveImage: {
    inputs: [
      ['images', 'IMAGE'],
      ['filename_prefix', 'STRING'],
    ],
    outputNode: true,
  },
  PreviewImage: { inputs: [['images', 'IMAGE']], outputNode: true },
});

const asJson = (value) => JSON.parse(JSON.stringify(value));

/** Two chains into two savers: 1 → 2 (blur) → 3 (save "A"); 1 → 4 (blur) → 5 (save "B"), 6 a preview of 2. */
function twoSavers() {
  return {
    1: { class_type: 'EmptyImage', inputs: { width: 64 }, _meta: { title: 'Empty' } },
    2: { class_type: 'ImageBlur', inputs: { image: ['1', 0], blur_radius: 1 }, _meta: { title: 'Blur' } },
    3: { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: 'a' }, _meta: { title: 'Save A' } },
    4: { class_type: 'ImageBlur', inputs: { image: ['1', 0], blur_radius: 5 }, _meta: { title: 'Blur more' } },
    5: { class_type: 'SaveImage', inputs: { images: ['4', 0], filename_prefix: 'b' }, _meta: { title: 'Save B' } },
    6: { class_type: 'PreviewImage', inputs: { images: ['2', 0] } },
  };
}

describe('addressing nodes: by id, then unique title, then every node of a class', function () {
  it('an override by class sets the input on every node of that class and reports their ids under the key as given', function () {
    const prompt = twoSavers();
    const { prompt: result, touched } = applyOverrides(prompt, { ImageBlur: { blur_radius: 9 }, 'SaveImage.filename_prefix': 'x' });
    assert.equal(result['2'].inputs.blur_radius, 9);
    assert.equal(result['4'].inputs.blur_radius, 9);
    assert.equal(result['3'].inputs.filename_prefix, 'x');
    assert.equal(result['5'].inputs.filename_prefix, 'x');
    assert.deepEqual(asJson(touched), { ImageBlur: ['2', '4'], 'SaveImage.filename_prefix': ['3', '5'] });
    assert.equal(prompt['2'].inputs.blur_radius, 1, 'the prompt given is not changed');
  });

  it('looks up an id first, then an exact title, then a class', function () {
    const prompt = {
      ...twoSavers(),
      // A node titled like a class, and a node whose id is a title elsewhere.
      7: { class_type: 'ImageBlur', inputs: { image: ['1', 0], blur_radius: 2 }, _meta: { title: 'SaveImage' } },
      'Save A': { class_type: 'PreviewImage', inputs: { images: ['1', 0] } },
    };
    assert.deepEqual(findNodes(prompt, '7', 'test'), ['7']);
    assert.deepEqual(findNodes(prompt, 'Save A', 'test'), ['Save A'], 'the id wins over the title "Save A" of node 3');
    assert.deepEqual(findNodes(prompt, 'SaveImage', 'test'), ['7'], 'the title wins over the class');
    assert.deepEqual(findNodes(prompt, 'ImageBlur', 'test'), ['2', '4', '7']);
    const { touched } = applyOverrides(prompt, { 'Blur more': { blur_radius: 3 }, 4: { blur_radius: 4 } });
    assert.deepEqual(asJson(touched), { 4: ['4'], 'Blur more': ['4'] });
  });

  it('still refuses a title two nodes share, and a class node that lacks the input names that node', function () {
    const prompt = twoSavers();
    prompt['4']._meta.title = 'Blur';
    assert.throws(
      () => applyOverrides(prompt, { Blur: { blur_radius: 3 } }),
      (err) => err.code === 'UNKNOWN_OVERRIDE' && /"Blur" matches several nodes \(#2, #4\): use the node id instead/.test(err.message),
    );
    assert.throws(
      () => applyOverrides(prompt, { SaveImage: { images: ['1', 0] }, PreviewImage: { filename_prefix: 'p' } }),
      (err) => err.code === 'UNKNOWN_OVERRIDE' && /Node #6 \(PreviewImage\) has no input "filename_prefix"/.test(err.message),
    );
    assert.throws(
      () => applyOverrides(prompt, { Nothing: { a: 1 } }, 'The rows'),
      (err) =>
        err.code === 'UNKNOWN_OVERRIDE' &&
        /No node "Nothing" in the workflow; the nodes are: #1 "Empty" \(EmptyImage\).*\(named in The rows\)$/.test(err.message),
    );
  });

  it('merges what the override rows and msg.inputs touched: a key in both lists the nodes of either, once', function () {
    const rows = applyOverrides(twoSavers(), { ImageBlur: { blur_radius: 2 } }, 'The rows').touched;
    const inputs = applyOverrides(twoSavers(), { ImageBlur: { blur_radius: 3 }, 'Save B': { filename_prefix: 'b' } }).touched;
    assert.deepEqual(mergeTouched(rows, inputs), { ImageBlur: ['2', '4'], 'Save B': ['5'] });
    assert.deepEqual(mergeTouched({ 3: ['3'] }, { 3: ['3', '9'] }), { 3: ['3', '9'] });
    assert.deepEqual(mergeTouched(), {});
  });

  it('reads node names from text (split at commas), numbers and lists; anything else is BAD_INPUT', function () {
    assert.deepEqual(nodeKeysOf(' Save A , 5,, ', 'msg.targets'), ['Save A', '5']);
    assert.deepEqual(nodeKeysOf(['Save, with comma', 9, ' '], 'msg.targets'), ['Save, with comma', '9']);
    assert.deepEqual(nodeKeysOf('', 'msg.targets'), []);
    for (const wrong of [true, {}, [null], [{}], 1.5]) {
      assert.throws(
        () => nodeKeysOf(wrong, 'msg.bypass'),
        (err) => err.code === 'BAD_INPUT' && /^msg\.bypass must be a node id, title or class, or a list of them/.test(err.message),
        JSON.stringify(wrong),
      );
    }
  });
});

describe('partial execution: the output nodes to run', function () {
  it('resolves ids, titles and classes to output node ids', function () {
    const prompt = twoSavers();
    assert.deepEqual(resolveTargets(prompt, ['Save B'], DEFINITIONS, 'Run only'), ['5']);
    assert.deepEqual(resolveTargets(prompt, ['SaveImage', '6', '3'], DEFINITIONS, 'Run only'), ['3', '5', '6']);
    assert.equal(resolveTargets(prompt, [], DEFINITIONS, 'Run only'), undefined, 'nothing named: the whole prompt runs');
  });

  it('refuses a node that is not an output node, an unknown name and a class the server lacks', function () {
    const prompt = { ...twoSavers(), 8: { class_type: 'CustomSaver', inputs: {} } };
    assert.throws(
      () => resolveTargets(prompt, ['Save A', 'Blur', 'Empty'], DEFINITIONS, 'msg.targets'),
      (err) =>
        err.code === 'BAD_INPUT' &&
        /^msg\.targets names nodes that are not output nodes .*: #2 "Blur" \(ImageBlur\), #1 "Empty" \(EmptyImage\)$/.test(err.message),
    );
    assert.throws(
      () => resolveTargets(prompt, ['Save C'], DEFINITIONS, 'msg.targets'),
      (err) => err.code === 'UNKNOWN_OVERRIDE' && /No node "Save C"/.test(err.message),
    );
    assert.throws(
      () => resolveTargets(prompt, ['8'], DEFINITIONS, 'msg.targets'),
      (err) => err.code === 'BAD_INPUT' && /class ComfyUI does not have.*#8 \(CustomSaver\)/.test(err.message),
    );
  });

  it('knows which nodes a target needs (what the tracker expects to run)', function () {
    const prompt = twoSavers();
    assert.deepEqual([...nodesNeededBy(prompt, ['5'])].sort(), ['1', '4', '5']);
    assert.deepEqual([...nodesNeededBy(prompt, ['3', '6'])].sort(), ['1', '2', '3', '6']);
    const circle = { 1: { class_type: 'A', inputs: { x: ['2', 0] } }, 2: { class_type: 'A', inputs: { x: ['1', 0], y: ['gone', 0] } } };
    assert.deepEqual([...nodesNeededBy(circle, ['1'])].sort(), ['1', '2'], 'a cycle ends, a dangling link is skipped');
  });
});

describe('bypass and mute of an API prompt', function () {
  it('mute removes the node and every input linked to it', function () {
    const prompt = twoSavers();
    const result = leaveOut(prompt, { bypass: [], mute: ['2'] }, new Map());
    assert.deepEqual(Object.keys(result).sort(), ['1', '3', '4', '5', '6']);
    assert.deepEqual(asJson(result['3'].inputs), { filename_prefix: 'a' });
    assert.deepEqual(asJson(result['6'].inputs), {});
    assert.deepEqual(result['5'].inputs.images, ['4', 0], 'other links stay');
    assert.ok(prompt['2'], 'the prompt given is not changed');
  });

  it('bypass rewires each consumer to the input at the same index when its type fits', function () {
    const result = leaveOut(twoSavers(), { bypass: ['2'], mute: [] }, DEFINITIONS);
    assert.equal(result['2'], undefined);
    assert.deepEqual(result['3'].inputs.images, ['1', 0]);
    assert.deepEqual(result['6'].inputs.images, ['1', 0]);
    const pair = {
      1: { class_type: 'EmptyImage', inputs: { width: 1 } },
      2: { class_type: 'EmptyImage', inputs: { width: 2 } },
      3: { class_type: 'Pair', inputs: { a: ['1', 0], b: ['2', 0] } },
      4: { class_type: 'SaveImage', inputs: { images: ['3', 1], filename_prefix: 'p' } },
    };
    assert.deepEqual(leaveOut(pair, { bypass: ['3'], mute: [] }, DEFINITIONS)['4'].inputs.images, ['2', 0], 'output 1 → input 1');
  });

  it('bypass picks the first input of the consumer type when the same index does not fit, and drops the input when none fits', function () {
    const prompt = {
      1: { class_type: 'EmptyImage', inputs: { width: 1 } },
      2: { class_type: 'ImageBlur', inputs: { image: ['1', 0], blur_radius: 1 } },
      9: { class_type: 'Split', inputs: { image: ['1', 0], mask: ['2', 0] } }, // a MASK fed an IMAGE: only types matter here
      3: { class_type: 'Split', inputs: { image: ['2', 0], mask: ['9', 0] } },
      4: { class_type: 'SaveImage', inputs: { images: ['3', 1], filename_prefix: 'p' } }, // output 1 (IMAGE) → input "image" (index 0)
      5: { class_type: 'MaskToImage', inputs: { mask: ['3', 0] } }, // output 0 (MASK) → input "mask" (index 1), not "image" at index 0
    };
    const result = leaveOut(prompt, { bypass: ['3'], mute: [] }, DEFINITIONS);
    assert.deepEqual(result['4'].inputs.images, ['2', 0]);
    assert.deepEqual(result['5'].inputs.mask, ['9', 0]);
    const noMask = leaveOut(
      { ...prompt, 3: { class_type: 'Split', inputs: { image: ['2', 0] } } },
      { bypass: ['3'], mute: [] },
      DEFINITIONS,
    );
    assert.deepEqual(asJson(noMask['5'].inputs), {}, 'the picked input is absent: the consumer input goes');
  });

  it('follows chains of bypassed nodes, stops at a literal or a muted node, and ends on a cycle', function () {
    const chain = {
      1: { class_type: 'EmptyImage', inputs: { width: 1 } },
      2: { class_type: 'ImageBlur', inputs: { image: ['1', 0], blur_radius: 1 } },
      3: { class_type: 'ImageBlur', inputs: { image: ['2', 0], blur_radius: 1 } },
      4: { class_type: 'ImageBlur', inputs: { image: ['3', 0], blur_radius: 1 } },
      5: { class_type: 'SaveImage', inputs: { images: ['4', 0], filename_prefix: 'c' } },
    };
    assert.deepEqual(leaveOut(chain, { bypass: ['4', '3', '2'], mute: [] }, DEFINITIONS)['5'].inputs.images, ['1', 0]);
    assert.equal(leaveOut(chain, { bypass: ['4', '3'], mute: ['2'] }, DEFINITIONS)['5'].inputs.images, undefined, 'ends at a muted node');
    const literal = { ...chain, 3: { class_type: 'ImageBlur', inputs: { image: 'not a link', blur_radius: 1 } } };
    assert.equal(leaveOut(literal, { bypass: ['4', '3'], mute: [] }, DEFINITIONS)['5'].inputs.images, undefined, 'ends at a literal');
    const circle = { ...chain, 3: { class_type: 'ImageBlur', inputs: { image: ['4', 0], blur_radius: 1 } } };
    assert.equal(
      leaveOut(circle, { bypass: ['4', '3'], mute: [] }, DEFINITIONS)['5'].inputs.images,
      undefined,
      'a circle of bypassed nodes',
    );
  });

  it('refuses to bypass a node whose class (or whose consumer class) the server lacks, and a node both bypassed and muted', function () {
    const prompt = {
      ...twoSavers(),
      7: { class_type: 'Mystery', inputs: { image: ['1', 0] }, _meta: { title: 'Odd' } },
      8: { class_type: 'Consumer', inputs: { image: ['4', 0] } },
    };
    assert.throws(
      () => leaveOut(prompt, { bypass: ['7'], mute: [] }, DEFINITIONS),
      (err) =>
        err.code === 'BAD_INPUT' && /^Cannot bypass #7 "Odd" \(Mystery\): ComfyUI has no node class "Mystery" \(#7\)/.test(err.message),
    );
    assert.throws(
      () => leaveOut(prompt, { bypass: ['4'], mute: [] }, DEFINITIONS),
      (err) => err.code === 'BAD_INPUT' && /no node class "Consumer" \(#8\)/.test(err.message),
    );
    assert.deepEqual(Object.keys(leaveOut(prompt, { bypass: [], mute: ['7'] }, new Map())).length, 7, 'mute needs no definitions');
    assert.throws(
      () => leaveOut(prompt, { bypass: ['2', '4'], mute: ['4'] }, DEFINITIONS),
      (err) => err.code === 'BAD_INPUT' && /both bypassed and muted: #4 "Blur more"/.test(err.message),
    );
  });

  it('random prompts with random bypass and mute lists give a prompt or a ComfyError, and always end (fast-check)', function () {
    const classes = [...DEFINITIONS.keys(), 'Unknown'];
    const id = fc.constantFrom('1', '2', '3', '4', '5', '6', '7');
    const value = fc.oneof(
      fc.tuple(id, fc.integer({ min: -1, max: 3 })), // links, also to missing nodes and slots
      fc.tuple(id, fc.double({ noNaN: true, noDefaultInfinity: true })), // prompts are plain JSON (normalizeWorkflow)
      fc.integer(),
      fc.string({ maxLength: 3 }),
    );
    const node = fc.record({
      class_type: fc.constantFrom(...classes),
      inputs: fc.dictionary(fc.constantFrom('image', 'mask', 'images', 'a', 'b', 'width', 'x'), value, { maxKeys: 4 }),
    });
    const prompt = fc.dictionary(id, node, { minKeys: 1, maxKeys: 7 });
    const ids = fc.uniqueArray(id, { maxLength: 4 });
    fc.assert(
      fc.property(prompt, ids, ids, (given, bypass, mute) => {
        const before = JSON.stringify(given);
        let result;
        try {
          result = leaveOut(given, { bypass, mute }, DEFINITIONS);
        } catch (err) {
          assert.ok(err instanceof ComfyError, `only ComfyErrors: ${err}`);
          assert.equal(err.code, 'BAD_INPUT');
          return;
        }
        assert.equal(JSON.stringify(given), before, 'the prompt given is not changed');
        // Ids the prompt lacks are no nodes to leave out (callers resolve names to ids of the prompt first).
        const left = [...bypass, ...mute].filter((leftId) => Object.hasOwn(given, leftId));
        for (const leftId of left) assert.equal(result[leftId], undefined);
        // No input links to a node that was left out.
        for (const kept of Object.values(result)) {
          for (const input of Object.values(kept.inputs)) {
            if (Array.isArray(input) && typeof input[0] === 'string' && typeof input[1] === 'number') {
              assert.ok(!left.includes(input[0]), JSON.stringify(input));
            }
          }
        }
      }),
      { seed: 20261130, numRuns: 2000 },
    );
  });
});
