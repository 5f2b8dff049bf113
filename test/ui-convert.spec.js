'use strict';
// The UI-format → API converter (src/client/ui-convert): our own fixtures, written in the shapes real
// files have (test/fixtures/ui-workflows/X.ui.json, with the prompt ComfyUI's frontend makes of it in
// X.api.json), converted against the definitions of a real ComfyUI v0.8.0 (/object_info recording).
const assert = require('node:assert/strict');
const { readFileSync, readdirSync } = require('node:fs');
const { join } = require('node:path');
const fc = require('fast-check');
const { convertUiWorkflow } = require('../dist/client/ui-convert/index');
const { readNodeDefinition, readNodeDefinitions } = require('../dist/client/node-definitions');
const { UI_FORMAT_HINT } = require('../dist/client/workflow');
const { ComfyError } = require('../dist/client/errors');
const { plainJson } = require('../dist/client/plain-json');
const { processDynamicPrompt } = require('../dist/client/ui-convert/dynamic-prompts');

const FIXTURES = join(__dirname, 'fixtures', 'ui-workflows');
const definitions = readNodeDefinitions(
  JSON.parse(readFileSync(join(__dirname, 'fixtures', 'transcripts', 'object_info_full.json'), 'utf8')),
);
const fixture = (name) => JSON.parse(readFileSync(join(FIXTURES, name), 'utf8'));
/** The prompt as JSON text: equal texts mean equal ids, values and key order (inputs in the order the frontend emits). */
const asText = (prompt) => JSON.stringify(prompt, null, 1);
const convert = (workflow) => convertUiWorkflow(workflow, definitions);

function expectError(code, run, pattern) {
  let caught;
  try {
    run();
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ComfyError, `expected a ComfyError, got ${caught}`);
  assert.equal(caught.code, code, caught.message);
  if (pattern) assert.match(caught.message, pattern);
  return caught;
}

/** A node of a hand-made graph: [id, type, {inputs, outputs, widgets, mode, title}]. */
function node(id, type, { inputs = [], outputs = [], widgets, mode = 0, title } = {}) {
  return {
    id,
    type,
    mode,
    ...(title === undefined ? {} : { title }),
    inputs: inputs.map(([name, slotType, link, widget]) => ({
      name,
      type: slotType,
      link,
      ...(widget ? { widget: { name: widget } } : {}),
    })),
    outputs: outputs.map(([name, slotType, links]) => ({ name, type: slotType, links })),
    properties: {},
    ...(widgets === undefined ? {} : { widgets_values: widgets }),
  };
}

describe('ui-convert: UI-format workflows to API prompts', function () {
  describe('fixtures (X.ui.json converts to exactly X.api.json)', function () {
    const names = readdirSync(FIXTURES)
      .filter((file) => file.endsWith('.ui.json'))
      .map((file) => file.slice(0, -'.ui.json'.length));

    it('has the fixtures this spec is about', function () {
      assert.deepEqual(names.sort(), ['bypass-and-mute', 'loaders-and-eras', 'txt2img-2023', 'widgets-as-inputs']);
    });

    for (const name of names) {
      it(name, function () {
        const prompt = convert(fixture(`${name}.ui.json`));
        assert.equal(asText(prompt), asText(fixture(`${name}.api.json`)));
      });
    }
  });

  describe('what each fixture shows', function () {
    it('drops the value of a seed control (2023 true/false and later "randomize") and of the upload button', function () {
      const old = convert(fixture('txt2img-2023.ui.json'));
      assert.equal(old['3'].inputs.seed, 156680208700286);
      assert.equal(old['3'].inputs.steps, 20, 'the place after the seed belongs to its control, not to steps');
      assert.deepEqual(Object.keys(old['10'].inputs), ['image']);
      const newer = convert(fixture('loaders-and-eras.ui.json'));
      assert.deepEqual(newer['2'].inputs, Object.assign(Object.create(null), { image: 'mask.png', channel: 'red' }));
    });

    it('gives a PrimitiveNode value to every input it feeds, through a Reroute too, and sends a server node link instead', function () {
      const prompt = convert(fixture('widgets-as-inputs.ui.json'));
      assert.equal(prompt['2'].inputs.width, 768);
      assert.equal(prompt['2'].inputs.height, 768);
      assert.deepEqual(prompt['3'].inputs.seed, ['7', 0]);
      assert.equal(prompt['5'], undefined, 'the PrimitiveNode itself is not sent');
      assert.equal(prompt['6'], undefined, 'the Reroute itself is not sent');
    });

    it('rewires through a chain of bypassed nodes and leaves muted ones and their links out', function () {
      const prompt = convert(fixture('bypass-and-mute.ui.json'));
      assert.deepEqual(prompt['4'].inputs.model, ['1', 0]);
      assert.deepEqual(prompt['5'].inputs.clip, ['1', 1]);
      assert.ok(!('negative' in prompt['4'].inputs), 'a link from a muted node is dropped');
      assert.ok(!('steps' in prompt['4'].inputs), 'a widget input linked to a muted node is dropped, as the frontend does');
      assert.equal(prompt['4'].inputs.cfg, 7.5, 'a widget input whose link does not resolve keeps its saved value');
      assert.deepEqual(Object.keys(prompt['9'].inputs), [], 'a socket whose link does not resolve is left out');
      for (const id of ['2', '3', '6', '8', '10', '13', '14']) assert.equal(prompt[id], undefined, `#${id} is muted or bypassed`);
    });
  });

  describe('rules checked on small graphs', function () {
    it('sends a list value wrapped as {__value__}, so that it is not read as a link', function () {
      const prompt = convert({ nodes: [node(1, 'SaveImage', { widgets: [['a', 'b']] })], links: [] });
      assert.equal(JSON.stringify(prompt['1'].inputs.filename_prefix), '{"__value__":["a","b"]}');
    });

    it('keeps the saved value of a widget input whose link is missing from the file, and leaves out a socket whose link is', function () {
      const prompt = convert({
        nodes: [
          node(1, 'VAEEncodeForInpaint', {
            inputs: [
              ['pixels', 'IMAGE', 99],
              ['vae', 'VAE', null],
              ['mask', 'MASK', null],
              ['grow_mask_by', 'INT', 98, 'grow_mask_by'],
            ],
            widgets: [12],
          }),
        ],
        links: [],
      });
      assert.equal(asText(prompt['1'].inputs), asText({ grow_mask_by: 12 }));
    });

    it('picks the bypassed node input of the requested type when the one at the same index does not fit', function () {
      // JoinImageWithAlpha bypassed: its output 0 (IMAGE) feeds a MASK socket. Input 0 (IMAGE) does not fit a
      // MASK consumer, so the first input of exactly that type (alpha, index 1) stands in.
      const prompt = convert({
        nodes: [
          node(1, 'LoadImage', {
            outputs: [
              ['IMAGE', 'IMAGE', [1]],
              ['MASK', 'MASK', [2]],
            ],
            widgets: ['a.png', 'image'],
          }),
          node(2, 'JoinImageWithAlpha', {
            mode: 4,
            inputs: [
              ['image', 'IMAGE', null],
              ['alpha', 'MASK', 2],
            ],
            outputs: [['IMAGE', 'IMAGE', [3]]],
          }),
          node(3, 'InvertMask', { inputs: [['mask', 'MASK', 3]] }),
        ],
        links: [
          [2, 1, 1, 2, 1, 'MASK'],
          [3, 2, 0, 3, 0, 'MASK'],
        ],
      });
      assert.deepEqual(prompt['3'].inputs.mask, ['1', 1]);
    });

    it('renumbers a second node with a taken id, as the frontend does on loading; links reach the first', function () {
      const prompt = convert({
        nodes: [
          node(3, 'SaveImage', { inputs: [['images', 'IMAGE', 1]], widgets: ['first'] }),
          node(7, 'LoadImage', { outputs: [['IMAGE', 'IMAGE', [1]]], widgets: ['a.png', 'image'] }),
          node(3, 'SaveImage', { widgets: ['second'] }),
        ],
        links: [[1, 7, 0, 3, 0, 'IMAGE']],
      });
      assert.deepEqual(Object.keys(prompt), ['3', '7', '8']);
      assert.equal(prompt['3'].inputs.filename_prefix, 'first');
      assert.deepEqual(prompt['3'].inputs.images, ['7', 0]);
      assert.equal(prompt['8'].inputs.filename_prefix, 'second');
    });

    it('keeps the places of the audio player and of the audio upload and record buttons, which are not sent', function () {
      const prompt = convert({
        nodes: [
          node(1, 'LoadAudio', { widgets: ['speech.wav', null, ''] }),
          node(2, 'SaveAudioMP3', { inputs: [['audio', 'AUDIO', null]], widgets: ['audio/take', '320k'] }),
          node(3, 'RecordAudio', { widgets: ['recordings/take.wav [temp]', ''] }),
        ],
        links: [],
      });
      assert.equal(asText(prompt['1'].inputs), asText({ audio: 'speech.wav' }));
      assert.equal(asText(prompt['2'].inputs), asText({ filename_prefix: 'audio/take', quality: '320k' }));
      assert.equal(asText(prompt['3'].inputs), asText({ audio: 'recordings/take.wav [temp]' }));
    });

    it('gives a forceInput input no place: its socket sends a link or nothing, and a pre-1.16 place for it is dropped', function () {
      const prompt = convert({
        nodes: [
          node(1, 'WanMoveTracksFromCoords', {
            inputs: [
              ['track_coords', 'STRING', 1],
              ['track_mask', 'MASK', null],
            ],
            widgets: [],
          }),
          node(2, 'WanMoveTracksFromCoords', { inputs: [['track_coords', 'STRING', null]], widgets: ['[[0, 0]]'] }),
          node(3, 'PrimitiveStringMultiline', { outputs: [['STRING', 'STRING', [1]]], widgets: ['[[1, 2]]'] }),
        ],
        links: [[1, 3, 0, 1, 0, 'STRING']],
      });
      assert.equal(asText(prompt['1'].inputs), asText({ track_coords: ['3', 0] }));
      assert.equal(asText(prompt['2'].inputs), asText({}));
    });

    it('keeps the places of a remote combo toggle and refresh button, and of the filter after a combo control', function () {
      // Classes of a newer or custom server (v0.8.0 has no remote combo followed by another widget, nor a combo with a control).
      const custom = new Map(definitions);
      for (const [name, info] of Object.entries({
        RemoteModelLoader: {
          input: { required: { model: [['a', 'b'], { remote: { route: '/models', refresh_button: true } }], strength: ['FLOAT', {}] } },
        },
        RemoteStyle: { input: { required: { style: [['x'], { remote: { route: '/styles' } }], weight: ['FLOAT', {}] } } },
        PickOne: { input: { required: { choice: [['p', 'q'], { control_after_generate: true }], amount: ['INT', {}] } } },
      })) {
        custom.set(name, readNodeDefinition(name, info));
      }
      const prompt = convertUiWorkflow(
        {
          nodes: [
            node(1, 'RemoteModelLoader', { widgets: ['b', false, 'refresh', 0.5] }),
            node(2, 'RemoteStyle', { widgets: ['x', true, 2] }),
            node(3, 'PickOne', { widgets: ['q', 'increment', '', 7] }),
          ],
          links: [],
        },
        custom,
      );
      assert.equal(asText(prompt['1'].inputs), asText({ model: 'b', strength: 0.5 }));
      assert.equal(asText(prompt['2'].inputs), asText({ style: 'x', weight: 2 }));
      assert.equal(asText(prompt['3'].inputs), asText({ choice: 'q', amount: 7 }));
    });

    it('leaves out the nodes of a muted or bypassed subgraph instance, nested too; a bypassed one passes its input on', function () {
      const prompt = convert(fixture('expand-subgraph-modes.json'));
      // As ComfyUI's frontend tests expect of graphToPrompt: no "42:2:1" or "42:3:1", no instance ids either.
      assert.deepEqual(Object.keys(prompt).sort(), ['1', '3', '5', '6', '7']);
      assert.deepEqual(prompt[3].inputs.images, ['1', 0]);
      assert.deepEqual(prompt[6].inputs.images, ['1', 0]);
      assert.equal(prompt[5].inputs.images, undefined);
      assert.equal(prompt[7].inputs.images, undefined);
    });

    it('titles a node by its saved title, else by the display name of its class', function () {
      const prompt = convert({ nodes: [node(1, 'SaveImage', { title: 'Final' }), node(2, 'SaveImage')], links: [] });
      assert.equal(prompt['1']._meta.title, 'Final');
      assert.equal(prompt['2']._meta.title, 'Save Image');
    });

    it('ignores native link reroutes (extra.reroutes, parentId): they are drawing only', function () {
      const workflow = fixture('widgets-as-inputs.ui.json');
      const bare = { ...workflow, extra: {}, links: workflow.links.map(({ parentId: _drop, ...link }) => link) };
      assert.equal(asText(convert(workflow)), asText(convert(bare)));
    });
  });

  describe('values as the frontend serializes them on queueing', function () {
    it('resolves dynamic prompts of text widgets that ask for them: comments removed, one option of each {a|b}', function () {
      const first = () => 0;
      const last = () => 0.999;
      assert.equal(processDynamicPrompt('a {red|blue} car // a comment', first), 'a red car ');
      assert.equal(processDynamicPrompt('a {red|blue} car /* block */!', last), 'a blue car !');
      assert.equal(processDynamicPrompt('{a|{b|c}}', last), 'c');
      assert.equal(processDynamicPrompt('\\{literal\\} {x\\|y|z}', first), '{literal} x|y');
      assert.equal(processDynamicPrompt('no choices', first), 'no choices');
      const workflow = fixture('txt2img-2023.ui.json');
      workflow.nodes.find((entry) => entry.id === 6).widgets_values = ['a {cat|dog} // draft'];
      workflow.nodes.find((entry) => entry.id === 9).widgets_values = ['{not|dynamic}'];
      const prompt = convertUiWorkflow(workflow, definitions, { random: last });
      assert.equal(prompt['6'].inputs.text, 'a dog ');
      assert.equal(prompt['9'].inputs.filename_prefix, '{not|dynamic}', 'filename_prefix has no dynamicPrompts in its spec');
    });

    it('refuses dynamic prompts nested deeper than 64 levels without overflowing the stack', function () {
      expectError('BAD_WORKFLOW', () => processDynamicPrompt('{'.repeat(100000), Math.random), /64 levels/);
      assert.equal(processDynamicPrompt('{'.repeat(60) + 'x' + '}'.repeat(60), Math.random), 'x');
    });

    it('fills %date:…% and %Node.widget% into the file name of save nodes, by "Node name for S&R" or title', function () {
      const workflow = fixture('txt2img-2023.ui.json');
      workflow.nodes.find((entry) => entry.id === 9).widgets_values = [
        '%date:yyyy-MM-dd%/%KSampler.seed%-%Positive.text%-%width%-%Nobody.x%',
      ];
      workflow.nodes.find((entry) => entry.id === 6).widgets_values = ['cats/dogs'];
      const prompt = convertUiWorkflow(workflow, definitions, { now: () => new Date(2026, 0, 2, 3, 4, 5) });
      assert.equal(prompt['9'].inputs.filename_prefix, '2026-01-02/156680208700286-cats_dogs-%width%-%Nobody.x%');
    });
  });

  describe('refusals', function () {
    it('names every class the server lacks, then says how to export in API format', function () {
      const err = expectError('UI_WORKFLOW', () =>
        convert({
          nodes: [
            node(1, 'FancyUpscaler'),
            node(2, 'FancyUpscaler'),
            node(3, 'Mystery Sampler'),
            node(4, 'AlsoMissing', { mode: 2 }),
            node(5, 'Note', { widgets: ['hi'] }),
            node(6, 'Reroute'),
            node(7, 'PrimitiveNode'),
            node(8, 'SaveImage'),
          ],
          links: [],
        }),
      );
      assert.match(err.message, /FancyUpscaler \(#1, #2\)/);
      assert.match(err.message, /Mystery Sampler \(#3\)/);
      assert.doesNotMatch(
        err.message,
        /AlsoMissing|Note|Reroute|PrimitiveNode/,
        'a muted node is not sent, frontend-only nodes are no classes',
      );
      assert.ok(err.message.endsWith(UI_FORMAT_HINT));
    });

    it('refuses what is no UI workflow with BAD_WORKFLOW', function () {
      for (const value of [undefined, null, 'text', 42, [], {}, { nodes: 'x' }])
        expectError('BAD_WORKFLOW', () => convert(value), /no "nodes" list/);
    });

    it('refuses a value JSON cannot carry where it would be sent, and one that throws when read, naming the place', function () {
      const cycle = ['a'];
      cycle.push(cycle);
      expectError(
        'BAD_WORKFLOW',
        () => convert({ nodes: [node(1, 'SaveImage', { widgets: [NaN] })] }),
        /\["1"\]\.inputs\.filename_prefix is NaN/,
      );
      expectError('BAD_WORKFLOW', () => convert({ nodes: [node(1, 'SaveImage', { widgets: [cycle] })] }), /circular/);
      const getter = node(1, 'SaveImage');
      Object.defineProperty(getter, 'widgets_values', {
        enumerable: true,
        get: () => {
          throw new Error('no');
        },
      });
      expectError('BAD_WORKFLOW', () => convert({ nodes: [getter] }), /workflow\.nodes\[0\]\.widgets_values could not be read: no/);
      const trap = new Proxy([], {
        get: () => {
          throw new Error('trap');
        },
      });
      expectError('BAD_WORKFLOW', () => convert({ nodes: trap }), /workflow\.nodes could not be read: trap/);
      // What is not sent (a position, a size) is not read, so NaN there does not matter, as in the frontend.
      assert.equal(convert({ nodes: [{ ...node(1, 'SaveImage'), size: [NaN, 1] }] })['1'].class_type, 'SaveImage');
    });

    it('refuses a circle of Reroutes and a circle of bypassed nodes with BAD_WORKFLOW, and ends', function () {
      expectError(
        'BAD_WORKFLOW',
        () =>
          convert({
            nodes: [
              node(1, 'Reroute', { inputs: [['', '*', 2]], outputs: [['', '*', [1, 3]]] }),
              node(2, 'Reroute', { inputs: [['', '*', 1]], outputs: [['', '*', [2]]] }),
              node(3, 'PreviewImage', { inputs: [['images', 'IMAGE', 3]] }),
            ],
            links: [
              [1, 1, 0, 2, 0, '*'],
              [2, 2, 0, 1, 0, '*'],
              [3, 1, 0, 3, 0, 'IMAGE'],
            ],
          }),
        /circle/,
      );
      expectError('BAD_WORKFLOW', () =>
        convert({
          nodes: [
            node(1, 'ImageInvert', { mode: 4, inputs: [['image', 'IMAGE', 2]], outputs: [['IMAGE', 'IMAGE', [1, 3]]] }),
            node(2, 'ImageInvert', { mode: 4, inputs: [['image', 'IMAGE', 1]], outputs: [['IMAGE', 'IMAGE', [2]]] }),
            node(3, 'PreviewImage', { inputs: [['images', 'IMAGE', 3]] }),
          ],
          links: [
            [1, 1, 0, 2, 0, 'IMAGE'],
            [2, 2, 0, 1, 0, 'IMAGE'],
            [3, 1, 0, 3, 0, 'IMAGE'],
          ],
        }),
      );
    });

    it('never makes a prototype name a key: such node ids and input names are refused, dict values are read as own keys only', function () {
      expectError('BAD_WORKFLOW', () => convert({ nodes: [node('__proto__', 'SaveImage')], links: [] }), /__proto__/);
      expectError(
        'BAD_WORKFLOW',
        () =>
          convert({
            nodes: [
              node(1, 'SaveImage', { inputs: [['constructor', 'IMAGE', 1]] }),
              node(2, 'LoadImage', { outputs: [['IMAGE', 'IMAGE', [1]]] }),
            ],
            links: [[1, 2, 0, 1, 0, 'IMAGE']],
          }),
        /constructor/,
      );
      const prompt = convert(
        JSON.parse('{"nodes":[{"id":1,"type":"SaveImage","mode":0,"widgets_values":{"__proto__":{"polluted":1}}}],"links":[]}'),
      );
      assert.equal(prompt['1'].inputs.filename_prefix, 'ComfyUI', 'the definition default: the dict holds no filename_prefix');
      assert.equal({}.polluted, undefined);
    });
  });

  describe('generated graphs (fast-check)', function () {
    const types = [
      'SaveImage',
      'KSampler',
      'LoadImage',
      'Reroute',
      'PrimitiveNode',
      'Note',
      'ImageInvert',
      'CLIPTextEncode',
      '__proto__',
      'Unknown',
    ];
    const id = fc.oneof(
      fc.integer({ min: -3, max: 12 }),
      fc.constant(Number.MAX_SAFE_INTEGER),
      fc.constantFrom('__proto__', 'constructor', '5:3', ''),
    );
    const slotType = fc.constantFrom('IMAGE', 'MASK', '*', '', 'IMAGE,MASK', 'INT', 'LATENT');
    const value = fc.oneof(
      fc.integer(),
      fc.string({ maxLength: 5 }),
      fc.boolean(),
      fc.constant(null),
      fc.array(fc.integer(), { maxLength: 2 }),
    );
    const slot = fc.record(
      {
        name: fc.constantFrom('image', 'images', 'seed', 'steps', '__proto__', 'toString', ''),
        type: slotType,
        link: fc.oneof(fc.integer({ min: -1, max: 15 }), fc.constant(null)),
        widget: fc.record({ name: fc.constantFrom('seed', 'steps', 'width') }),
      },
      { requiredKeys: ['name', 'type'] },
    );
    const graphNode = fc.record(
      {
        id,
        type: fc.constantFrom(...types),
        mode: fc.constantFrom(0, 0, 2, 4, 1),
        title: fc.string({ maxLength: 4 }),
        inputs: fc.array(slot, { maxLength: 4 }),
        outputs: fc.array(
          fc.record({
            name: fc.string({ maxLength: 3 }),
            type: slotType,
            links: fc.array(fc.integer({ min: -1, max: 15 }), { maxLength: 3 }),
          }),
          { maxLength: 3 },
        ),
        widgets_values: fc.oneof(
          fc.array(value, { maxLength: 9 }),
          fc.dictionary(fc.constantFrom('seed', 'image', '__proto__', 'value'), value),
        ),
      },
      { requiredKeys: ['id', 'type'] },
    );
    const link = fc.oneof(
      fc.tuple(fc.integer({ min: 0, max: 15 }), id, fc.integer({ min: -1, max: 4 }), id, fc.integer({ min: -1, max: 4 }), slotType),
      fc.record({
        id: fc.integer({ min: 0, max: 15 }),
        origin_id: id,
        origin_slot: fc.integer({ min: 0, max: 4 }),
        target_id: id,
        target_slot: fc.integer({ min: 0, max: 4 }),
        type: slotType,
        parentId: fc.integer(),
      }),
    );
    const graph = fc.record({ nodes: fc.array(graphNode, { maxLength: 12 }), links: fc.array(link, { maxLength: 20 }) });

    it('convert or refuse with a ComfyError, always ending, with a plain JSON prompt', function () {
      fc.assert(
        fc.property(graph, (workflow) => {
          let prompt;
          try {
            prompt = convert(workflow);
          } catch (err) {
            if (!(err instanceof ComfyError)) throw err;
            return;
          }
          // plainJson throws on anything JSON cannot carry (undefined, NaN, a non-plain object, a cycle).
          assert.equal(JSON.stringify(plainJson(prompt, 'INTERNAL', 'prompt')), JSON.stringify(prompt));
          for (const nodeId of Object.keys(prompt)) {
            assert.equal(typeof prompt[nodeId].class_type, 'string');
            for (const input of Object.values(prompt[nodeId].inputs)) {
              if (Array.isArray(input)) assert.ok(Object.hasOwn(prompt, input[0]), 'every link names a node that is sent');
            }
          }
        }),
        { numRuns: 400 },
      );
    });
  });
});
