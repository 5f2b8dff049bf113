'use strict';
// Expansion of legacy group nodes and subgraphs into the flat graph the converter reads: the ids the
// frontend gives inner nodes, links rewired across each boundary, widget values where the frontend
// puts them, the frontend's treatment of muted and bypassed instances, and generated hostile files
// that may only ever end in a flat graph or a coded BAD_WORKFLOW, within bounded work.
// Fixtures are our own, in the shapes ComfyUI's frontend saves (test/fixtures/ui-workflows/expand-*.json).
const assert = require('node:assert/strict');
const { isDeepStrictEqual } = require('node:util');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const fc = require('fast-check');
const { expandWorkflow, MAX_NESTING, MAX_EXPANDED_NODES } = require('../dist/client/ui-convert/expand');
const { readUiGraph } = require('../dist/client/ui-convert/ui-graph');
const { ComfyError } = require('../dist/client/errors');

const fixture = (name) => JSON.parse(readFileSync(join(__dirname, 'fixtures', 'ui-workflows', `expand-${name}.json`), 'utf8'));

/** The flat graph as text a test can compare whole: per node its type, mode, widget values, overrides and fed inputs. */
function summary(graph) {
  const nodes = {};
  for (const node of graph.nodes) {
    const fed = {};
    for (const input of node.inputs) {
      if (input.link === null) continue;
      const link = graph.links.get(input.link);
      fed[input.name] = [link.originId, link.originSlot];
    }
    nodes[node.id] = {
      type: node.type,
      mode: node.mode,
      ...(node.widgetsValues === undefined ? {} : { values: node.widgetsValues }),
      ...(node.widgetOverrides ? { overrides: Object.fromEntries(node.widgetOverrides) } : {}),
      ...(Object.keys(fed).length > 0 ? { fed } : {}),
    };
  }
  return nodes;
}

/**
 * Every flat link joins two flat nodes at slots that name it back, and no id is used twice. A graph
 * with nothing to expand comes back exactly as read (its dangling links are the converter's to skip).
 */
function assertConsistent(graph, raw) {
  if (raw !== undefined && isDeepStrictEqual(graph, readUiGraph(raw))) return;
  const byId = new Map();
  for (const node of graph.nodes) {
    assert.ok(!byId.has(node.id), `node id ${node.id} twice`);
    byId.set(node.id, node);
  }
  for (const [id, link] of graph.links) {
    assert.equal(link.id, id);
    const origin = byId.get(link.originId);
    const target = byId.get(link.targetId);
    assert.ok(origin, `link ${id} from missing node ${link.originId}`);
    assert.ok(target, `link ${id} to missing node ${link.targetId}`);
    assert.equal(target.inputs[link.targetSlot]?.link, id, `link ${id} is not named by its target slot`);
    if (origin.outputs[link.originSlot])
      assert.ok(origin.outputs[link.originSlot].links.includes(id), `link ${id} missing from its origin`);
  }
  for (const node of graph.nodes) {
    for (const input of node.inputs)
      if (input.link !== null) assert.ok(graph.links.has(input.link), `${node.id}.${input.name} names a missing link`);
  }
}

/** Runs expandWorkflow and hands back the ComfyError it throws (failing on anything else, or on no error). */
function refusal(raw) {
  try {
    expandWorkflow(raw);
  } catch (err) {
    assert.ok(err instanceof ComfyError, `not a ComfyError: ${err && err.stack}`);
    assert.equal(err.code, 'BAD_WORKFLOW');
    return err;
  }
  assert.fail('expansion was not refused');
}

/** A subgraph definition in the saved shape: nodes and object links, declared inputs and outputs. */
function definition(id, nodes, links, inputs = [], outputs = []) {
  return { id, name: id, inputNode: { id: -10 }, outputNode: { id: -20 }, inputs, outputs, widgets: [], nodes, links };
}

describe('UI workflow expansion (group nodes, subgraphs)', function () {
  it('a legacy group node becomes its inner nodes "<instance>:<index>", rewired, with the instance widget values distributed', function () {
    const graph = expandWorkflow(fixture('group-node'));
    assertConsistent(graph);
    assert.deepEqual(summary(graph), {
      1: { type: 'CheckpointLoaderSimple', mode: 0, values: ['sd_xl_base_1.0.safetensors'] },
      2: { type: 'CLIPTextEncode', mode: 0, values: ['a lighthouse at dusk, oil painting'], fed: { clip: ['1', 1] } },
      3: { type: 'CLIPTextEncode', mode: 0, values: ['blurry, text'], fed: { clip: ['1', 1] } },
      4: { type: 'EmptyLatentImage', mode: 0, values: [1024, 1024, 1] },
      // widgets_values ["dpmpp_2m", 424242, "fixed", "karras", 30, 1, 6.5] in inner node order; the Note takes none.
      '10:0': { type: 'KSamplerSelect', mode: 0, values: ['dpmpp_2m'] },
      '10:1': { type: 'RandomNoise', mode: 0, values: [424242, 'fixed'] },
      '10:2': { type: 'Reroute', mode: 0, fed: { '': ['1', 0] } },
      '10:3': { type: 'BasicScheduler', mode: 0, values: ['karras', 30, 1], fed: { model: ['10:2', 0] } },
      '10:4': { type: 'CFGGuider', mode: 0, values: [6.5], fed: { model: ['10:2', 0], positive: ['2', 0], negative: ['3', 0] } },
      '10:5': {
        type: 'SamplerCustomAdvanced',
        mode: 0,
        fed: { noise: ['10:1', 0], guider: ['10:4', 0], sampler: ['10:0', 0], sigmas: ['10:3', 0], latent_image: ['4', 0] },
      },
      '10:6': { type: 'Note', mode: 0, values: ['cfg above 7 burns this model'] },
      11: { type: 'VAEDecode', mode: 0, fed: { samples: ['10:5', 0], vae: ['1', 2] } },
      12: { type: 'SaveImage', mode: 0, values: ['lighthouse'], fed: { images: ['11', 0] } },
      // A muted group node is not expanded (graphToPrompt skips getInnerNodes for mode 2/4).
      13: { type: 'workflow>CustomSampler', mode: 2, values: ['euler', 1, 'fixed', 'normal', 20, 1, 8] },
    });
  });

  it('the older "workflow/" spelling and an inner widget fed inside the group', function () {
    const raw = fixture('group-node');
    const group = raw.extra.groupNodes.CustomSampler;
    raw.nodes.find((node) => node.id === 10).type = 'workflow/CustomSampler';
    // The guider's cfg shown as an input (2025 files give every widget one) and fed by a PrimitiveNode inside the group.
    group.nodes[4].inputs.push({ name: 'cfg', type: 'FLOAT', widget: { name: 'cfg' }, link: null });
    group.nodes.push({
      type: 'PrimitiveNode',
      outputs: [{ name: 'FLOAT', type: 'FLOAT', links: [], widget: { name: 'cfg' } }],
      widgets_values: [3.5, 'fixed'],
      index: 7,
    });
    group.links.push([7, 0, 4, 3, 30, 'FLOAT']);
    // The instance shows the primitive's value (and its control) where the guider's cfg was: the last two values.
    raw.nodes.find((node) => node.id === 10).widgets_values = ['dpmpp_2m', 424242, 'fixed', 'karras', 30, 1, 4.5, 'increment'];
    const nodes = summary(expandWorkflow(raw));
    assert.deepEqual(nodes['10:4'].values, [8], 'the fed cfg keeps its saved value (the link wins)');
    assert.deepEqual(nodes['10:4'].fed.cfg, ['10:7', 0]);
    assert.deepEqual(nodes['10:7'], { type: 'PrimitiveNode', mode: 0, values: [4.5, 'increment'] });
    assert.deepEqual(nodes['10:3'].values, ['karras', 30, 1]);
  });

  it('an input hidden in "Manage Group Node" has no slot on the instance', function () {
    const raw = fixture('group-node');
    raw.extra.groupNodes.CustomSampler.config['4'] = { input: { negative: { visible: false } } };
    const instance = raw.nodes.find((node) => node.id === 10);
    instance.inputs.splice(2, 1); // negative
    raw.links = raw.links.filter((link) => link[0] !== 5);
    const nodes = summary(expandWorkflow(raw));
    assert.deepEqual(nodes['10:4'].fed, { model: ['10:2', 0], positive: ['2', 0] });
    assert.deepEqual(nodes['10:5'].fed.latent_image, ['4', 0]);
  });

  it('a bypassed group node stays whole; its typed consumers take the first input of exactly their type, an untyped one links to it', function () {
    const raw = fixture('group-node');
    raw.nodes.find((node) => node.id === 10).mode = 4;
    raw.nodes.push({
      id: 14,
      type: 'Reroute',
      mode: 0,
      inputs: [{ name: '', type: '*', link: 10 }],
      outputs: [{ name: '', type: '*', links: [] }],
      properties: {},
    });
    raw.links.push([10, 10, 0, 14, 0, 'LATENT']);
    const nodes = summary(expandWorkflow(raw));
    assert.equal(nodes['10:0'], undefined);
    assert.equal(nodes[10].mode, 4);
    assert.deepEqual(nodes[11].fed, { samples: ['4', 0], vae: ['1', 2] }, 'LATENT: the latent_image input, not the same slot (MODEL)');
    assert.deepEqual(nodes[14].fed, { '': ['10', 0] }, 'the converter resolves it with the type its own consumers pass on');
  });

  it('a group output is the inner node behind its Reroutes, as it is: a bypassed one gives the consumer nothing', function () {
    const raw = fixture('group-node');
    const group = raw.extra.groupNodes.CustomSampler;
    group.nodes.push({
      type: 'Reroute',
      inputs: [{ name: '', type: '*', link: null }],
      outputs: [{ name: '', type: '*', links: null }],
      properties: {},
      index: 7,
    });
    group.links.push([5, 0, 7, 0, 25, 'LATENT']);
    group.external = [[7, 0, 'LATENT']];
    const instance = raw.nodes.find((node) => node.id === 10);
    instance.outputs = [
      { name: 'denoised_output', type: 'LATENT', links: null },
      { name: 'LATENT', type: 'LATENT', links: [7] },
    ];
    raw.links.find((link) => link[0] === 7)[2] = 1;
    assert.deepEqual(summary(expandWorkflow(raw))[11].fed.samples, ['10:5', 0]);
    group.nodes[5].mode = 4;
    assert.equal(summary(expandWorkflow(raw))[11].fed.samples, undefined);
  });

  it('subgraphs nest: ids are the path of instance ids, links cross both boundaries', function () {
    const graph = expandWorkflow(fixture('subgraph-nested'));
    assertConsistent(graph);
    assert.deepEqual(summary(graph), {
      1: { type: 'CheckpointLoaderSimple', mode: 0, values: ['v1-5-pruned-emaonly-fp16.safetensors'] },
      '5:2': { type: 'CLIPTextEncode', mode: 0, values: ['a red fox in fresh snow'], fed: { clip: ['1', 1] } },
      '5:3': { type: 'CLIPTextEncode', mode: 0, values: ['text, watermark'], fed: { clip: ['1', 1] } },
      '5:4:1': { type: 'EmptyLatentImage', mode: 0, values: [768, 768, 1] },
      '5:4:2': {
        type: 'KSampler',
        mode: 0,
        values: [7, 'fixed', 25, 5.5, 'euler', 'normal', 1],
        fed: { model: ['1', 0], positive: ['5:2', 0], negative: ['5:3', 0], latent_image: ['5:4:1', 0] },
      },
      '5:7': { type: 'VAEDecode', mode: 0, fed: { samples: ['5:4:2', 0], vae: ['1', 2] } },
      6: { type: 'SaveImage', mode: 0, values: ['fox'], fed: { images: ['5:7', 0] } },
    });
    assert.equal(graph.nodes.find((node) => node.id === '5:2').title, 'Positive', 'inner nodes keep their titles');
  });

  it('a proxy widget of an outer instance that shows a nested instance’s promoted widget sets the innermost node', function () {
    const raw = fixture('subgraph-nested');
    const [outer, inner] = raw.definitions.subgraphs;
    // Subgraph B promotes its KSampler's seed as input 3; instance 4 in A shows it, instance 5 in the root shows that through proxyWidgets.
    inner.inputs.push({ id: 'in-3-seed', name: 'seed', type: 'INT', linkIds: [25] });
    inner.links.push({ id: 25, origin_id: -10, origin_slot: 3, target_id: 2, target_slot: 4, type: 'INT' });
    inner.nodes.find((node) => node.id === 2).inputs[4].link = 25;
    const nested = outer.nodes.find((node) => node.id === 4);
    nested.inputs.push({ name: 'seed', type: 'INT', widget: { name: 'seed' }, link: null });
    nested.widgets_values = [5];
    assert.deepEqual(summary(expandWorkflow(raw))['5:4:2'].overrides, { seed: 5 });
    const instance = raw.nodes.find((node) => node.id === 5);
    instance.properties.proxyWidgets = [['4', 'seed']];
    instance.widgets_values = [31337];
    assert.deepEqual(summary(expandWorkflow(raw))['5:4:2'].overrides, { seed: 31337 });
  });

  it('a proxy widget that shows a nested instance’s own proxy widget reaches the inner node it names, legacy "<id>: name" too', function () {
    const raw = fixture('subgraph-nested');
    const outer = raw.definitions.subgraphs[0];
    // Instance 4 (in A) shows two widgets of its inner nodes 1 and 2 through proxyWidgets, with no input behind them.
    const nested = outer.nodes.find((node) => node.id === 4);
    nested.properties.proxyWidgets = [
      ['2', 'steps'],
      ['1', 'width'],
    ];
    nested.widgets_values = [30, 640];
    const instance = raw.nodes.find((node) => node.id === 5);
    const overridesOf = (proxies, values) => {
      instance.properties.proxyWidgets = proxies;
      instance.widgets_values = values;
      const nodes = summary(expandWorkflow(raw));
      return [nodes['5:4:1'].overrides, nodes['5:4:2'].overrides];
    };
    // Without a value from the root instance, the nested instance's own values stand.
    assert.deepEqual(overridesOf([], []), [{ width: 640 }, { steps: 30 }]);
    // [nested instance, widget name, inner node of that instance]: the current format.
    assert.deepEqual(
      overridesOf(
        [
          ['4', 'steps', '2'],
          ['4', 'width', '1'],
        ],
        [12, 512],
      ),
      [{ width: 512 }, { steps: 12 }],
    );
    // Older frontends prefixed the name with the nested path, once per level.
    assert.deepEqual(overridesOf([['4', '4: 2: steps']], [9]), [{ width: 640 }, { steps: 9 }]);
    // A source the nested instance does not show sets nothing.
    assert.deepEqual(overridesOf([['4', 'steps', '1']], [3]), [{ width: 640 }, { steps: 30 }]);
  });

  it('promoted widgets: instance values become overrides of the inner widgets, a linked instance input sends its link', function () {
    const graph = expandWorkflow(fixture('subgraph-promoted'));
    assertConsistent(graph);
    const nodes = summary(graph);
    const saved = [1, 'randomize', 20, 8, 'euler', 'normal', 1];
    // One value per promoted input (the current format); "text" is linked on the instance, so its value is not used.
    assert.deepEqual(nodes['30:1'], {
      type: 'KSampler',
      mode: 0,
      values: saved,
      overrides: { seed: 123456, steps: 12 },
      fed: { positive: ['30:2', 0] },
    });
    assert.deepEqual(nodes['30:2'], { type: 'CLIPTextEncode', mode: 0, values: ['saved prompt'], fed: { text: ['2', 0] } });
    // Older files kept the seed's control value in the instance's list too.
    assert.deepEqual(nodes['31:1'].overrides, { seed: 654321, steps: 40 });
    assert.deepEqual(nodes['31:2'].overrides, { text: 'legacy prompt' });
    // properties.proxyWidgets: values in its order, "-1" naming the instance's own input.
    assert.deepEqual(nodes['32:1'].overrides, { seed: 99 });
    assert.deepEqual(nodes['32:2'].overrides, { text: 'a proxied prompt' });
    // proxyWidgets with no values: the inner nodes' saved values stand.
    assert.equal(nodes['33:1'].overrides, undefined);
    assert.equal(nodes['33:2'].overrides, undefined);
    // Inputs the file left out are still the subgraph's inputs (matched by name); null leaves the inner value.
    assert.deepEqual(nodes['34:1'].overrides, { steps: 33 });
    assert.deepEqual(nodes['34:2'].overrides, { text: 'from the instance' });
    assert.deepEqual(nodes['35:1'].overrides, { seed: 777, steps: 15 });
    assert.deepEqual(nodes['35:2'].overrides, { text: 'no inputs saved' });
  });

  it('muted and bypassed instances stay whole at any depth: their inner nodes are left out, consumers go through the instance', function () {
    const graph = expandWorkflow(fixture('subgraph-modes'));
    assertConsistent(graph);
    const U = '7c2e5a1b-9d3f-4b6a-8e20-a4b5c6d7e804';
    assert.deepEqual(summary(graph), {
      1: { type: 'LoadImage', mode: 0, values: ['portrait.png', 'image'] },
      // The converter bypasses 40 (its consumer gets 1.0 by the bypass rule) and drops 41 with its links.
      40: { type: U, mode: 4, fed: { image: ['1', 0] } },
      3: { type: 'SaveImage', mode: 0, values: ['bypassed'], fed: { images: ['40', 0] } },
      41: { type: U, mode: 2, fed: { image: ['1', 0] } },
      5: { type: 'PreviewImage', mode: 0, fed: { images: ['41', 0] } },
      // Nested ones too, as the frontend's tests now expect (frontends up to 1.48 ran 42:2:1 and 42:3:1).
      '42:2': { type: U, mode: 4, fed: { image: ['1', 0] } },
      '42:3': { type: U, mode: 2, fed: { image: ['1', 0] } },
      6: { type: 'SaveImage', mode: 0, values: ['nested-bypassed'], fed: { images: ['42:2', 0] } },
      7: { type: 'SaveImage', mode: 0, values: ['nested-muted'], fed: { images: ['42:3', 0] } },
    });
  });

  it('a subgraph output fed straight from its input gives the instance input’s source', function () {
    const graph = expandWorkflow(fixture('subgraph-passthrough'));
    assertConsistent(graph);
    const nodes = summary(graph);
    assert.deepEqual(nodes[2].fed, { images: ['1', 0] });
    assert.deepEqual(nodes[3].fed, { images: ['50:1', 0] });
    assert.deepEqual(nodes['50:1'].fed, { image: ['1', 0] });
    assert.equal(nodes[50], undefined);
  });

  it('a workflow without group nodes or subgraphs comes back as read; no node list gives undefined', function () {
    const raw = fixture('subgraph-nested');
    delete raw.definitions;
    const graph = expandWorkflow(raw);
    assert.deepEqual(
      graph.nodes.map((node) => [node.id, node.type]),
      [
        ['1', 'CheckpointLoaderSimple'],
        ['5', '8d1c2b9e-0a55-4c1f-9a8e-3f5b7c2d1e01'],
        ['6', 'SaveImage'],
      ],
    );
    assert.deepEqual([...graph.links.keys()], [1, 2, 3, 4]);
    for (const value of [undefined, null, 'text', [], { nodes: 'x' }]) assert.equal(expandWorkflow(value), undefined);
  });

  it('a missing group or subgraph definition leaves the node as it is (the converter names it as a missing class)', function () {
    const raw = fixture('group-node');
    raw.extra.groupNodes = { Other: raw.extra.groupNodes.CustomSampler };
    raw.definitions = { subgraphs: [definition('unused', [], [])] };
    const nodes = summary(expandWorkflow(raw));
    assert.equal(nodes[10].type, 'workflow>CustomSampler');
    assert.equal(nodes['10:0'], undefined);
  });

  describe('refused with BAD_WORKFLOW', function () {
    it('a subgraph containing itself, directly or through another', function () {
      const self = { nodes: [{ id: 1, type: 'A' }], links: [], definitions: { subgraphs: [definition('A', [{ id: 2, type: 'A' }], [])] } };
      assert.match(refusal(self).message, /Subgraph "A" contains an instance of itself \(node 1:2\)/);
      const mutual = {
        nodes: [{ id: 1, type: 'A' }],
        links: [],
        definitions: { subgraphs: [definition('A', [{ id: 2, type: 'B' }], []), definition('B', [{ id: 3, type: 'A' }], [])] },
      };
      assert.match(refusal(mutual).message, /contains an instance of itself \(node 1:2:3\)/);
    });

    it(`nesting deeper than ${MAX_NESTING}, while ${MAX_NESTING} levels expand`, function () {
      const chain = (depth) => ({
        nodes: [{ id: 1, type: 'S0' }],
        links: [],
        definitions: {
          subgraphs: Array.from({ length: depth }, (_, level) =>
            definition(`S${level}`, [level + 1 < depth ? { id: 1, type: `S${level + 1}` } : { id: 1, type: 'SaveImage' }], []),
          ),
        },
      });
      const deepest = expandWorkflow(chain(MAX_NESTING));
      assert.deepEqual(
        deepest.nodes.map((node) => node.id),
        [
          Array(MAX_NESTING + 1)
            .fill('1')
            .join(':'),
        ],
      );
      assert.match(refusal(chain(MAX_NESTING + 1)).message, new RegExp(`nest more than ${MAX_NESTING} deep`));
    });

    it(`more than ${MAX_EXPANDED_NODES} expanded nodes (ten instances of ten instances of …)`, function () {
      const wide = (level) => Array.from({ length: 10 }, (_, i) => ({ id: i + 1, type: level < 6 ? `W${level + 1}` : 'SaveImage' }));
      const raw = {
        nodes: [{ id: 1, type: 'W1' }],
        links: [],
        definitions: { subgraphs: Array.from({ length: 6 }, (_, i) => definition(`W${i + 1}`, wide(i + 1), [])) },
      };
      assert.match(refusal(raw).message, new RegExp(`more than ${MAX_EXPANDED_NODES} nodes`));
    });

    it('a loop across a boundary (an output fed from the input that same output feeds)', function () {
      const raw = {
        nodes: [{ id: 1, type: 'L', inputs: [{ name: 'x', type: 'IMAGE', link: 1 }], outputs: [{ name: 'y', type: 'IMAGE', links: [1] }] }],
        links: [[1, 1, 0, 1, 0, 'IMAGE']],
        definitions: {
          subgraphs: [
            definition(
              'L',
              [{ id: 2, type: 'PreviewImage', inputs: [{ name: 'images', type: 'IMAGE', link: 11 }] }],
              [
                { id: 10, origin_id: -10, origin_slot: 0, target_id: -20, target_slot: 0, type: 'IMAGE' },
                { id: 11, origin_id: -10, origin_slot: 0, target_id: 2, target_slot: 0, type: 'IMAGE' },
              ],
              [{ name: 'x', type: 'IMAGE', linkIds: [10, 11] }],
              [{ name: 'y', type: 'IMAGE', linkIds: [10] }],
            ),
          ],
        },
      };
      assert.match(refusal(raw).message, /form a loop/);
    });

    it('a text id in the file that an expanded id would repeat', function () {
      const raw = fixture('subgraph-nested');
      raw.nodes.push({ id: '5:2', type: 'SaveImage', inputs: [], outputs: [] });
      assert.match(refusal(raw).message, /Two nodes would both have id 5:2/);
    });
  });

  describe('generated files (fast-check)', function () {
    const ids = fc.oneof(fc.integer({ min: -25, max: 12 }), fc.constantFrom('1', '2:1', '__proto__', 'constructor', '', 'x'));
    const types = fc.constantFrom(
      'A',
      'B',
      'C',
      'workflow>G',
      'workflow/G',
      'workflow>__proto__',
      'Reroute',
      'PrimitiveNode',
      'Note',
      'KSampler',
      '__proto__',
    );
    const slot = () =>
      fc.record({
        name: fc.constantFrom('a', 'b', '', '__proto__'),
        type: fc.constantFrom('IMAGE', '*', 'INT'),
        link: fc.option(fc.integer({ min: 0, max: 12 })),
      });
    const slots = () =>
      fc.array(
        fc.oneof(
          slot(),
          fc.record({ name: fc.constant('w'), type: fc.constant('INT'), widget: fc.constant({ name: 'w' }), link: fc.option(fc.nat(12)) }),
          fc.anything(),
        ),
        { maxLength: 4 },
      );
    const outputs = fc.array(
      fc.record({ name: fc.constant('o'), type: fc.constantFrom('IMAGE', '*'), links: fc.option(fc.array(fc.nat(12), { maxLength: 3 })) }),
      { maxLength: 3 },
    );
    const values = fc.option(
      fc.oneof(
        fc.array(fc.oneof(fc.integer(), fc.constantFrom('fixed', 'randomize', 'x'), fc.boolean()), { maxLength: 8 }),
        fc.dictionary(fc.string(), fc.integer()),
      ),
    );
    const node = fc.record(
      {
        id: ids,
        type: types,
        mode: fc.constantFrom(0, 2, 4, 1),
        inputs: slots(),
        outputs,
        widgets_values: values,
        properties: fc.oneof(
          fc.constant({}),
          fc.record({
            proxyWidgets: fc.oneof(
              fc.array(fc.tuple(fc.oneof(ids, fc.constant('-1')), fc.constantFrom('w', 'a', '__proto__'))),
              fc.string(),
            ),
          }),
        ),
      },
      { requiredKeys: ['id', 'type'] },
    );
    const tupleLink = fc.tuple(
      fc.nat(12),
      ids,
      fc.integer({ min: -1, max: 3 }),
      ids,
      fc.integer({ min: -1, max: 3 }),
      fc.constantFrom('IMAGE', '*'),
    );
    const objectLink = tupleLink.map(([id, o, os, t, ts, type]) => ({
      id,
      origin_id: o,
      origin_slot: os,
      target_id: t,
      target_slot: ts,
      type,
    }));
    const io = fc.array(
      fc.record({ name: fc.constant('p'), type: fc.constant('IMAGE'), linkIds: fc.array(fc.nat(12), { maxLength: 2 }) }),
      { maxLength: 3 },
    );
    const subgraph = (id) =>
      fc.record({
        id: fc.constant(id),
        nodes: fc.array(node, { maxLength: 5 }),
        links: fc.array(objectLink, { maxLength: 6 }),
        inputs: io,
        outputs: io,
      });
    const groupLink = fc.tuple(
      fc.option(fc.integer({ min: -1, max: 6 })),
      fc.integer({ min: -1, max: 3 }),
      fc.integer({ min: -1, max: 6 }),
      fc.integer({ min: -1, max: 3 }),
      fc.nat(),
      fc.constant('IMAGE'),
    );
    const groupDefinition = fc.record({
      nodes: fc.array(
        fc.oneof(
          node.map(({ id: _id, ...rest }) => rest),
          fc.anything(),
        ),
        { maxLength: 6 },
      ),
      links: fc.array(fc.oneof(groupLink, fc.anything()), { maxLength: 6 }),
      external: fc.array(fc.tuple(fc.oneof(fc.nat(6), fc.object()), fc.nat(3), fc.constant('IMAGE')), { maxLength: 2 }),
      config: fc.dictionary(
        fc.constantFrom('0', '1', '__proto__'),
        fc.record({ input: fc.dictionary(fc.constantFrom('a', 'w', '__proto__'), fc.record({ visible: fc.boolean() })) }),
      ),
    });
    const workflow = fc.record({
      nodes: fc.array(node, { maxLength: 8 }),
      links: fc.array(fc.oneof(tupleLink, objectLink), { maxLength: 10 }),
      definitions: fc.record({ subgraphs: fc.tuple(subgraph('A'), subgraph('B'), subgraph('C')) }),
      extra: fc.record({ groupNodes: fc.dictionary(fc.constantFrom('G', '__proto__'), groupDefinition) }),
    });

    it('expand to a consistent flat graph or are refused with BAD_WORKFLOW, nothing else', function () {
      let expanded = 0;
      let refused = 0;
      let withInnerNodes = 0;
      fc.assert(
        fc.property(workflow, (raw) => {
          let graph;
          try {
            graph = expandWorkflow(raw);
          } catch (err) {
            assert.ok(err instanceof ComfyError && err.code === 'BAD_WORKFLOW', `unexpected ${err && err.stack}`);
            refused++;
            return;
          }
          assert.ok(graph, 'a workflow with a node list gives a graph');
          assertConsistent(graph, raw);
          assert.ok(graph.nodes.length <= MAX_EXPANDED_NODES);
          expanded++;
          if (graph.nodes.some((node) => /^-?\d+:/.test(node.id))) withInnerNodes++;
        }),
        { seed: 12, numRuns: 400 },
      );
      // Every outcome occurs, so the property is not vacuously about one of them.
      assert.ok(withInnerNodes > 0 && refused > 0, `expanded ${expanded} (${withInnerNodes} with inner nodes), refused ${refused}`);
    });

    it('any JSON value at all gives undefined, a graph or BAD_WORKFLOW', function () {
      fc.assert(
        fc.property(
          fc.oneof(
            fc.anything(),
            fc.record({ nodes: fc.array(fc.anything()), links: fc.anything(), definitions: fc.anything(), extra: fc.anything() }),
          ),
          (raw) => {
            try {
              const graph = expandWorkflow(raw);
              if (graph) assertConsistent(graph, raw);
            } catch (err) {
              assert.ok(err instanceof ComfyError && err.code === 'BAD_WORKFLOW', `unexpected ${err && err.stack}`);
            }
          },
        ),
        { seed: 12, numRuns: 400 },
      );
    });
  });
});
