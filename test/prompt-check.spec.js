'use strict';
// The local prompt check (src/client/prompt-check.ts) against the node definitions of a real ComfyUI
// v0.8.0 (fixtures/transcripts/object_info_full.json): the server's own answers where it recorded them,
// each check by hand, no false errors on the V3 and dynamic shapes, and generated input.
const assert = require('node:assert/strict');
const fc = require('fast-check');
const { checkPrompt } = require('../dist/client/prompt-check');
const { checkOnServer } = require('../dist/client/live-check');
const { readNodeDefinitions } = require('../dist/client/node-definitions');
const { suggestNames } = require('../dist/client/name-suggestions');
const objectInfo = require('./fixtures/transcripts/object_info_full.json');
const recorded = require('./fixtures/transcripts/e_invalid_prompts.json');
const { textToImageWorkflow } = require('./support');

/** The recorded server had no model files: these are ours, in the shapes real model folders have. */
const CHECKPOINTS = [
  'sd_xl_base_1.0.safetensors',
  'SDXL/juggernautXL_v9.safetensors',
  'v1-5-pruned-emaonly.ckpt',
  'dreamshaper_8.safetensors',
];
const LORAS = ['detail_tweaker.safetensors', 'styles/pixel-art-xl.safetensors'];

function definitionsWith(extra = {}) {
  const info = structuredClone(objectInfo);
  info.CheckpointLoaderSimple.input.required.ckpt_name[0] = [...CHECKPOINTS];
  info.LoraLoader.input.required.lora_name[0] = [...LORAS];
  return readNodeDefinitions({ ...info, ...extra });
}
const definitions = definitionsWith();

/** Loader → sampler → decode → save: the usual text-to-image prompt, valid on these definitions. */
function textToImage() {
  const prompt = textToImageWorkflow({ steps: 20 });
  prompt['4'].inputs.ckpt_name = 'sd_xl_base_1.0.safetensors';
  return prompt;
}

/** The one error of the one failing node, after asserting there is exactly that. */
function onlyError(result, id) {
  assert.deepEqual(Object.keys(result), [id], JSON.stringify(result));
  assert.equal(result[id].errors.length, 1, JSON.stringify(result[id].errors));
  return result[id].errors[0];
}

describe('prompt check (local validation against /object_info)', function () {
  it('passes a valid text-to-image prompt', function () {
    assert.deepEqual(checkPrompt(textToImage(), definitions), {});
  });

  describe("the server's own answers (e_invalid_prompts.json)", function () {
    const recordedDefinitions = readNodeDefinitions(objectInfo);
    const rejections = recorded.http.filter(
      (h) => h.response.status === 400 && Object.keys(h.response.body.json?.node_errors ?? {}).length > 0,
    );

    it('has recorded rejections to compare with', function () {
      assert.ok(rejections.length >= 8, `only ${rejections.length}`);
    });

    for (const exchange of rejections) {
      it(`${exchange.label}: the same nodes, types, and for value checks the same error`, function () {
        const prompt = exchange.request.body.json.prompt;
        const expected = exchange.response.body.json.node_errors;
        const got = checkPrompt(prompt, recordedDefinitions);
        for (const [id, entry] of Object.entries(expected)) {
          const error = entry.errors[0];
          if (error.type === 'custom_validation_failed') {
            // LoadImage's own VALIDATE_INPUTS checks the file: upload combos are left to the server.
            assert.equal(got[id], undefined);
            continue;
          }
          assert.ok(got[id], `node ${id} not reported: ${JSON.stringify(got)}`);
          assert.equal(got[id].class_type, entry.class_type);
          assert.deepEqual(
            got[id].errors.map((e) => e.type),
            entry.errors.map((e) => e.type),
          );
          if (!error.type.startsWith('exception_')) assert.deepEqual(got[id].errors, entry.errors);
        }
      });
    }

    it('reports an unknown class as the server does, on the node, wherever it is', function () {
      const prompt = { 1: { class_type: 'NoSuchNodeXYZ', inputs: {} } };
      const error = onlyError(checkPrompt(prompt, recordedDefinitions), '1');
      assert.deepEqual(error, {
        type: 'invalid_prompt',
        message: 'Cannot execute because node NoSuchNodeXYZ does not exist.',
        details: "Node ID '#1'",
        extra_info: {},
      });
    });
  });

  describe('each check', function () {
    it('a required input that is missing', function () {
      const prompt = textToImage();
      delete prompt['3'].inputs.steps;
      const error = onlyError(checkPrompt(prompt, definitions), '3');
      assert.deepEqual(error, {
        type: 'required_input_missing',
        message: 'Required input is missing',
        details: 'steps',
        extra_info: { input_name: 'steps' },
      });
      assert.deepEqual(checkPrompt(prompt, definitions)['3'].dependent_outputs, ['9']);
    });

    it('numbers below min and above max, in the server words', function () {
      const prompt = textToImage();
      prompt['3'].inputs.steps = 0;
      prompt['3'].inputs.cfg = 1000;
      const errors = checkPrompt(prompt, definitions)['3'].errors;
      assert.deepEqual(
        errors.map((e) => [e.type, e.message, e.details]),
        [
          ['value_smaller_than_min', 'Value 0 smaller than min of 1', 'steps'],
          ['value_bigger_than_max', 'Value 1000.0 bigger than max of 100.0', 'cfg'],
        ],
      );
      assert.equal(errors[0].extra_info.received_value, 0);
    });

    it('converts as the server converts: numeric text and fractions for INT, "false" for BOOLEAN pass; text that is no number fails', function () {
      const prompt = textToImage();
      prompt['3'].inputs.steps = ' 12 ';
      prompt['3'].inputs.seed = 3.7;
      prompt['3'].inputs.cfg = '6.5';
      prompt['3'].inputs.denoise = '1e-1';
      prompt['1'] = { class_type: 'SaveImage', inputs: { images: ['8', 0], filename_prefix: 7 } };
      assert.deepEqual(checkPrompt(prompt, definitions), {});

      prompt['3'].inputs.steps = '1.5';
      prompt['3'].inputs.cfg = 'seven';
      prompt['3'].inputs.seed = null;
      const errors = checkPrompt(prompt, definitions)['3'].errors;
      assert.deepEqual(
        errors.map((e) => [e.extra_info.input_name, e.type, e.details]),
        [
          [
            'seed',
            'invalid_input_type',
            "seed, None, int() argument must be a string, a bytes-like object or a real number, not 'NoneType'",
          ],
          ['steps', 'invalid_input_type', "steps, 1.5, invalid literal for int() with base 10: '1.5'"],
          ['cfg', 'invalid_input_type', "cfg, seven, could not convert string to float: 'seven'"],
        ],
      );
      assert.equal(errors[1].message, 'Failed to convert an input value to a INT value');
    });

    it('a BOOLEAN takes any value, as bool() does on the server', function () {
      const info = {
        ...objectInfo.SaveImage,
        input: { required: { images: ['IMAGE', {}], flag: ['BOOLEAN', { default: false }] } },
        input_order: undefined,
      };
      const own = definitionsWith({ FlagSave: { ...info, name: 'FlagSave' } });
      const prompt = { ...textToImage(), 9: { class_type: 'FlagSave', inputs: { images: ['8', 0], flag: 'false' } } };
      assert.deepEqual(checkPrompt(prompt, own), {});
    });

    it('a name not in the list, with the nearest names on this server: other case, other folder, other extension, a typo', function () {
      const cases = [
        ['SD_XL_BASE_1.0.safetensors', 'sd_xl_base_1.0.safetensors'],
        ['juggernautXL_v9.safetensors', 'SDXL/juggernautXL_v9.safetensors'],
        ['v1-5-pruned-emaonly.safetensors', 'v1-5-pruned-emaonly.ckpt'],
        ['dreamshaper_7.safetensors', 'dreamshaper_8.safetensors'],
      ];
      for (const [given, suggested] of cases) {
        const prompt = textToImage();
        prompt['4'].inputs.ckpt_name = given;
        const error = onlyError(checkPrompt(prompt, definitions), '4');
        assert.equal(error.type, 'value_not_in_list');
        assert.equal(error.extra_info.suggestions[0], suggested, given);
        assert.match(error.message, /^Value not in list; did you mean '/);
        assert.ok(error.message.includes(`'${suggested}'`), error.message);
        assert.equal(error.details, `ckpt_name: '${given}' not in ${pythonList(CHECKPOINTS)}`);
        assert.deepEqual(error.extra_info.input_config, [CHECKPOINTS, { tooltip: 'The name of the checkpoint (model) to load.' }]);
      }
    });

    it('a long list is described by its length and input_config is null, as the server does; no suggestion when nothing is near', function () {
      const prompt = textToImage();
      prompt['3'].inputs.sampler_name = 'euler_a';
      const error = onlyError(checkPrompt(prompt, definitions), '3');
      const length = objectInfo.KSampler.input.required.sampler_name[0].length;
      assert.equal(error.details, `sampler_name: 'euler_a' not in (list of length ${length})`);
      assert.equal(error.extra_info.input_config, null);
      assert.ok(error.extra_info.suggestions.includes('euler_ancestral'), error.extra_info.suggestions);

      prompt['3'].inputs.sampler_name = 'zzzzzzzzzzzzzzzzzzz';
      const far = onlyError(checkPrompt(prompt, definitions), '3');
      assert.deepEqual(far.extra_info.suggestions, []);
      assert.equal(far.message, 'Value not in list');
    });

    it('links: to a missing node, to an output the node lacks, with a wrong index type, of the wrong length, between mismatched types', function () {
      const prompt = textToImage();
      prompt['8'].inputs.vae = ['99', 2];
      prompt['3'].inputs.positive = ['6', 3];
      prompt['3'].inputs.negative = ['7', 'x'];
      prompt['3'].inputs.latent_image = ['5'];
      prompt['9'].inputs.images = ['5', 0];
      const result = checkPrompt(prompt, definitions);
      const types = (id) => result[id].errors.map((e) => [e.extra_info.input_name, e.type, e.extra_info.exception_type]);
      assert.deepEqual(types('9'), [['images', 'return_type_mismatch', undefined]]);
      assert.equal(result['9'].errors[0].details, 'images, received_type(LATENT) mismatch input_type(IMAGE)');
      // 8 and 3 are no longer reached from the output (its link now comes from 5): mend that link to see them.
      prompt['9'].inputs.images = ['8', 0];
      const reached = checkPrompt(prompt, definitions);
      assert.deepEqual(
        reached['8'].errors.map((e) => [e.type, e.extra_info.exception_type]),
        [['exception_during_inner_validation', 'KeyError']],
      );
      assert.match(reached['8'].errors[0].details, /vae: links to node '99', which is not in the workflow/);
      assert.deepEqual(
        reached['3'].errors.map((e) => [e.extra_info.input_name, e.type, e.extra_info.exception_type]),
        [
          ['positive', 'exception_during_inner_validation', 'IndexError'],
          ['negative', 'exception_during_inner_validation', 'TypeError'],
          ['latent_image', 'bad_linked_input', undefined],
        ],
      );
      assert.match(reached['3'].errors[0].details, /output 3 of node '6' \(CLIPTextEncode\), which has 1 output/);
    });

    it('a broken link on an output node itself is an exception_during_validation, as the server reports it', function () {
      const prompt = textToImage();
      prompt['9'].inputs.images = ['77', 0];
      const error = onlyError(checkPrompt(prompt, definitions), '9');
      assert.equal(error.type, 'exception_during_validation');
      assert.equal(error.message, 'Exception when validating node');
      assert.equal(error.extra_info.exception_message, "'77'");
    });

    it('checks only what the output nodes reach (the server ignores an unconnected broken node), but any unknown class', function () {
      const prompt = textToImage();
      prompt['20'] = { class_type: 'EmptyLatentImage', inputs: { width: 'wide', batch_size: 1 } };
      prompt['21'] = { class_type: 'KSampler', inputs: { model: ['404', 0] } };
      assert.deepEqual(checkPrompt(prompt, definitions), {});
      prompt['22'] = { class_type: 'SomeCustomNode', inputs: {} };
      assert.deepEqual(Object.keys(checkPrompt(prompt, definitions)), ['22']);
    });

    it('with requested outputs, only what they reach', function () {
      const prompt = textToImage();
      prompt['10'] = { class_type: 'SaveImage', inputs: { images: ['11', 0], filename_prefix: 'other' } };
      prompt['11'] = { class_type: 'EmptyImage', inputs: { width: 0, height: 8, batch_size: 1, color: 0 } };
      assert.deepEqual(Object.keys(checkPrompt(prompt, definitions)), ['11']);
      assert.deepEqual(checkPrompt(prompt, definitions, { outputs: ['9'] }), {});
      assert.deepEqual(checkPrompt(prompt, definitions, { outputs: ['10'] })['11'].dependent_outputs, ['10']);
    });

    it('reads the prompt as the server will: through JSON (NaN is null, an undefined input is missing)', function () {
      const prompt = textToImage();
      prompt['3'].inputs.cfg = NaN;
      prompt['3'].inputs.steps = undefined;
      const errors = checkPrompt(prompt, definitions)['3'].errors;
      assert.deepEqual(
        errors.map((e) => [e.extra_info.input_name, e.type]),
        [
          ['steps', 'required_input_missing'],
          ['cfg', 'invalid_input_type'],
        ],
      );
    });
  });

  describe('no false errors', function () {
    it('"*" inputs take any link (PreviewAny)', function () {
      const prompt = { ...textToImage(), 30: { class_type: 'PreviewAny', inputs: { source: ['5', 0] } } };
      assert.deepEqual(checkPrompt(prompt, definitions), {});
    });

    it('V3 autogrow inputs ("images.image0"), match-type templates and dynamic combos', function () {
      const prompt = {
        ...textToImage(),
        40: { class_type: 'BatchImagesNode', inputs: { 'images.image0': ['8', 0], 'images.image1': ['8', 0] } },
        41: {
          class_type: 'ResizeImageMaskNode',
          inputs: { input: ['40', 0], resize_type: 'scale by multiplier', 'resize_type.multiplier': 1.5, scale_method: 'area' },
        },
        42: { class_type: 'SaveImage', inputs: { images: ['41', 0], filename_prefix: 'v3' } },
        43: { class_type: 'ComfySwitchNode', inputs: { switch: true, on_false: ['8', 0], on_true: ['41', 0] } },
        44: { class_type: 'PreviewImage', inputs: { images: ['43', 0] } },
      };
      const result = checkPrompt(prompt, definitions);
      assert.deepEqual(result, {}, JSON.stringify(result));
    });

    it('inputs the definition does not list (a custom node taking dynamic inputs) are left alone', function () {
      const prompt = textToImage();
      prompt['3'].inputs.extra_thing = ['nowhere', 9];
      prompt['3'].inputs['lora.1.strength'] = 'whatever';
      assert.deepEqual(checkPrompt(prompt, definitions), {});
    });

    it('a combo fed by a link takes whatever the link brings', function () {
      const prompt = textToImage();
      prompt['50'] = { class_type: 'PrimitiveString', inputs: { value: 'euler' } };
      prompt['3'].inputs.sampler_name = ['50', 0];
      assert.deepEqual(checkPrompt(prompt, definitions), {});
    });

    it('upload and remote combos are judged by the server (a file just uploaded, a subfolder, "x.png [output]")', function () {
      for (const image of ['just-uploaded.png', 'sub/x.png', 'x.png [output]']) {
        const prompt = {
          1: { class_type: 'LoadImage', inputs: { image } },
          2: { class_type: 'LoadImageOutput', inputs: { image } },
          3: { class_type: 'SaveImage', inputs: { images: ['1', 0], filename_prefix: 'a' } },
          4: { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: 'b' } },
        };
        assert.deepEqual(checkPrompt(prompt, definitions), {});
      }
    });

    it('a multiselect combo takes a wrapped list of offered choices, and names the ones that are not', function () {
      const tags = {
        input: { required: { images: ['IMAGE', {}], tags: ['COMBO', { multiselect: true, options: ['red', 'green', 'blue'] }] } },
        output: [],
        output_node: true,
        name: 'TagSave',
      };
      const own = definitionsWith({ TagSave: tags });
      const prompt = {
        ...textToImage(),
        60: { class_type: 'TagSave', inputs: { images: ['8', 0], tags: { __value__: ['red', 'blue'] } } },
      };
      assert.deepEqual(checkPrompt(prompt, own), {});
      prompt['60'].inputs.tags = { __value__: ['red', 'Blue'] };
      const error = onlyError(checkPrompt(prompt, own), '60');
      assert.equal(error.type, 'value_not_in_list');
      assert.deepEqual(error.extra_info.suggestions, ['blue']);
    });

    it('every class of the real server with its widgets at their defaults: only the inputs left out come back', function () {
      // Each class alone (fed to a PreviewAny when it is no output node), its links left out.
      let checked = 0;
      for (const [name, definition] of definitions) {
        const inputs = {};
        for (const input of definition.inputs) {
          if ('default' in input.config) inputs[input.name] = input.config.default;
          else if (input.choices && input.choices.length > 0) inputs[input.name] = input.choices[0];
        }
        const prompt = { 1: { class_type: name, inputs } };
        if (!definition.outputNode) {
          if (definition.outputs.length === 0) continue;
          prompt['2'] = { class_type: 'PreviewAny', inputs: { source: ['1', 0] } };
        }
        checked++;
        for (const error of checkPrompt(prompt, definitions)['1']?.errors ?? []) {
          const input = error.extra_info.input_name;
          // Links and empty file lists (no model files on the recording server) are the inputs left out.
          assert.ok(error.type === 'required_input_missing' && !(input in inputs), `${name}: ${JSON.stringify(error)}`);
        }
      }
      assert.ok(checked > 400, `only ${checked} classes checked`);
    });
  });

  describe('suggestions', function () {
    it('ranks case, folder, extension, then typos; at most three', function () {
      const offered = [
        'b/Model.safetensors',
        'model.safetensors',
        'model.ckpt',
        'modle.safetensors',
        'other.safetensors',
        'modelx.safetensors',
      ];
      assert.deepEqual(suggestNames('MODEL.safetensors', offered), ['model.safetensors', 'b/Model.safetensors', 'model.ckpt']);
      assert.deepEqual(suggestNames('', offered), []);
      assert.deepEqual(suggestNames('x', [1, null, 'y']), ['y']);
    });
  });

  describe('against a live source (checkOnServer)', function () {
    it('asks again once for definitions a name was missing from, and then finds it', async function () {
      const stale = definitions;
      const fresh = definitionsWith();
      fresh.get('CheckpointLoaderSimple').inputs[0].choices = [...CHECKPOINTS, 'added-today.safetensors'];
      const asked = [];
      const source = {
        async definitions(staleMap) {
          asked.push(staleMap);
          return staleMap ? fresh : stale;
        },
      };
      const prompt = textToImage();
      prompt['4'].inputs.ckpt_name = 'added-today.safetensors';
      const check = await checkOnServer(source, prompt);
      assert.deepEqual(check.problems, []);
      assert.equal(check.refused, false);
      assert.deepEqual(asked, [undefined, stale]);
    });

    it('is refused only when every output fails or a class is unknown (the server drops failing outputs otherwise)', async function () {
      const source = { definitions: async () => definitions };
      const prompt = textToImage();
      prompt['10'] = { class_type: 'SaveImage', inputs: { images: ['11', 0], filename_prefix: 'other' } };
      prompt['11'] = { class_type: 'EmptyImage', inputs: { width: 0, height: 8, batch_size: 1, color: 0 } };
      const partly = await checkOnServer(source, prompt);
      assert.equal(partly.refused, false);
      assert.deepEqual(
        partly.problems.map((p) => [p.id, p.type, p.input]),
        [['11', 'value_smaller_than_min', 'width']],
      );
      prompt['3'].inputs.steps = -1;
      assert.equal((await checkOnServer(source, prompt)).refused, true);
      delete prompt['3'].inputs.steps;
      prompt['3'].inputs.steps = 20;
      prompt['12'] = { class_type: 'Unheard', inputs: {} };
      assert.equal((await checkOnServer(source, prompt)).refused, true);
    });
  });

  describe('generated input (fast-check)', function () {
    const json = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.constant(null),
        fc.boolean(),
        fc.double(),
        fc.integer(),
        fc.string(),
        tie('list'),
        tie('object'),
      ),
      list: fc.array(tie('value'), { maxLength: 3 }),
      object: fc.dictionary(fc.string(), tie('value'), { maxKeys: 3 }),
    })).value;
    const ids = fc.constantFrom('1', '2', '3', '4', '9', '99', '__proto__', 'constructor');
    const classes = fc.constantFrom(
      'KSampler',
      'SaveImage',
      'EmptyImage',
      'CheckpointLoaderSimple',
      'BatchImagesNode',
      'PreviewAny',
      'Nope',
      'LoadImage',
    );
    const inputValue = fc.oneof(json, fc.tuple(ids, fc.oneof(fc.integer({ min: -3, max: 5 }), json)), fc.array(json, { maxLength: 3 }));
    const node = fc.record({
      class_type: fc.oneof(classes, fc.string()),
      inputs: fc.dictionary(fc.constantFrom('images', 'width', 'seed', 'model', 'steps', 'ckpt_name', 'x', 'images.image0'), inputValue),
    });
    // Mostly nodes, sometimes anything at all where a node should be.
    const prompt = fc.dictionary(ids, fc.oneof({ weight: 4, arbitrary: node }, { weight: 1, arbitrary: json }));

    function assertMapping(result) {
      assert.equal(typeof result, 'object');
      for (const entry of Object.values(result)) {
        assert.ok(Array.isArray(entry.errors) && entry.errors.length > 0);
        assert.ok(Array.isArray(entry.dependent_outputs));
        assert.equal(typeof entry.class_type, 'string');
        for (const error of entry.errors) {
          for (const field of ['type', 'message', 'details']) assert.equal(typeof error[field], 'string');
          JSON.stringify(error.extra_info);
        }
      }
    }

    it('an output node without an inputs object, or a prototype name as node id, gives no throw', function () {
      assertMapping(checkPrompt({ 1: { class_type: 'SaveImage', inputs: 5 } }, definitions));
      const prompt = JSON.parse('{"__proto__": {"class_type": "SaveImage", "inputs": {"images": ["constructor", 0]}}}');
      const result = checkPrompt(prompt, definitions);
      assert.deepEqual(Object.keys(result), ['__proto__']);
      assert.equal(result['__proto__'].errors[0].extra_info.exception_type, 'KeyError');
    });

    it('random prompts on the real definitions never throw and always give a node_errors mapping', function () {
      fc.assert(
        fc.property(prompt, (p) => assertMapping(checkPrompt(p, definitions))),
        { numRuns: 300 },
      );
    });

    it('a prompt is checked as the server reads it: the same answer as for its copy through JSON text', function () {
      // Values JSON text changes or drops, beside the plain ones: the check reads a plain prompt as it is.
      const odd = fc.constantFrom(undefined, NaN, Infinity, -0, new Date(0), () => 1);
      const value = fc.oneof(json, odd, fc.array(fc.oneof(json, odd), { maxLength: 3 }));
      const oddNode = fc.record({
        class_type: classes,
        inputs: fc.dictionary(
          fc.constantFrom('images', 'width', 'height', 'seed', 'steps', 'color', 'batch_size'),
          fc.oneof(value, inputValue),
        ),
      });
      fc.assert(
        fc.property(fc.dictionary(ids, fc.oneof({ weight: 4, arbitrary: oddNode }, { weight: 1, arbitrary: node })), (p) => {
          // Received values may keep the prompt's own null-prototype objects: the same JSON, so prototypes are evened out first.
          assert.deepStrictEqual(withPrototypes(checkPrompt(p, definitions)), checkPrompt(JSON.parse(JSON.stringify(p)), definitions));
        }),
        { numRuns: 300 },
      );
    });

    it('random definitions (any object_info a custom node may send) never throw either', function () {
      const spec = fc.oneof(
        json,
        fc.tuple(
          fc.oneof(fc.constantFrom('INT', 'FLOAT', 'STRING', 'BOOLEAN', 'COMBO', 'IMAGE', '*', 'COMFY_AUTOGROW_V3'), fc.array(json)),
          json,
        ),
      );
      const info = fc.record({
        input: fc.oneof(
          json,
          fc.record({ required: fc.dictionary(fc.constantFrom('images', 'width', 'seed', 'x'), spec), optional: json }),
        ),
        output: fc.oneof(json, fc.array(fc.oneof(fc.string(), fc.array(fc.string())))),
        output_node: fc.oneof(fc.boolean(), json),
      });
      fc.assert(
        fc.property(fc.dictionary(classes, info), prompt, (all, p) => assertMapping(checkPrompt(p, readNodeDefinitions(all)))),
        { numRuns: 300 },
      );
    });
  });
});

/** A deep copy with every object an ordinary one (null-prototype ones too); values as they are, NaN and -0 included. */
function withPrototypes(value) {
  if (Array.isArray(value)) return value.map(withPrototypes);
  if (typeof value !== 'object' || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, withPrototypes(item)]));
}

/** str() of a Python list of strings. */
function pythonList(items) {
  return `[${items.map((item) => `'${item}'`).join(', ')}]`;
}
