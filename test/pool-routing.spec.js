'use strict';
// The pool's pure parts: which member takes a prompt (pool-routing.ts) and what a member lacks of a prompt (pool-needs.ts).
const assert = require('node:assert/strict');
const fc = require('fast-check');
const { choose } = require('../dist/client/pool-routing');
const { needsOf, missingOn, looksLikeModelFile } = require('../dist/client/pool-needs');
const { readNodeDefinitions } = require('../dist/client/node-definitions');

const names = ['a', 'b', 'c', 'd', 'e'];

/** 1 to 5 members, each healthy or not, lacking something or not, with a load. */
const candidatesArb = fc.integer({ min: 1, max: 5 }).chain((count) =>
  fc.tuple(
    ...names.slice(0, count).map((name) =>
      fc.record({
        name: fc.constant(name),
        healthy: fc.boolean(),
        missing: fc.subarray(['node class X', 'model file m.safetensors']),
        load: fc.nat({ max: 6 }),
      }),
    ),
  ),
);

const asCandidates = (list) =>
  list.map(({ name, healthy, missing, load }) => ({
    name,
    missing,
    load,
    ...(healthy ? {} : { unavailable: 'is not connected (disconnected)' }),
  }));

const eligible = (candidate) => candidate.unavailable === undefined && candidate.missing.length === 0;

describe('pool routing (pure)', function () {
  it('picks an eligible member of least load, or names every member with its reason when none is eligible (fast-check)', function () {
    fc.assert(
      fc.property(candidatesArb, fc.nat({ max: 20 }), (list, turn) => {
        const candidates = asCandidates(list);
        const choice = choose(candidates, turn);
        const ok = candidates.filter(eligible);
        if (ok.length === 0) {
          assert.deepEqual(
            choice.reasons.map((r) => r.server),
            candidates.map((c) => c.name),
          );
          for (const { server, reason } of choice.reasons) {
            const candidate = candidates.find((c) => c.name === server);
            assert.ok(reason.length > 0);
            if (candidate.unavailable) assert.equal(reason, candidate.unavailable);
            else for (const thing of candidate.missing) assert.ok(reason.includes(thing), reason);
          }
          return;
        }
        const picked = candidates[choice.index];
        assert.equal(picked.name, choice.server);
        assert.ok(eligible(picked), `${picked.name} is not eligible`);
        assert.equal(picked.load, Math.min(...ok.map((c) => c.load)));
      }),
      { numRuns: 500 },
    );
  });

  it('goes round in turn among equally loaded members: n choices over n tied members pick each once (fast-check)', function () {
    fc.assert(
      fc.property(candidatesArb, fc.nat({ max: 20 }), (list, start) => {
        const candidates = asCandidates(list).map((c) => ({ ...c, load: 0 }));
        const tied = candidates.filter(eligible);
        fc.pre(tied.length > 0);
        let turn = start;
        const picked = [];
        for (let i = 0; i < tied.length; i += 1) {
          const choice = choose(candidates, turn);
          picked.push(choice.server);
          turn = choice.index + 1;
        }
        assert.deepEqual([...picked].sort(), tied.map((c) => c.name).sort());
      }),
      { numRuns: 300 },
    );
  });

  it('an affinity member wins while it is eligible, whatever its load; otherwise routing is as without it (fast-check)', function () {
    fc.assert(
      fc.property(candidatesArb, fc.nat({ max: 20 }), fc.constantFrom(...names, 'gone'), (list, turn, preferred) => {
        const candidates = asCandidates(list);
        const withKey = choose(candidates, turn, preferred);
        const bound = candidates.find((c) => c.name === preferred);
        if (bound && eligible(bound)) assert.equal(withKey.server, preferred);
        else assert.deepEqual(withKey, choose(candidates, turn));
      }),
      { numRuns: 500 },
    );
  });

  it('a loaded member is passed over for an idle one, and the busiest is never picked while another is eligible', function () {
    const candidates = [
      { name: 'a', missing: [], load: 3 },
      { name: 'b', missing: [], load: 0 },
      { name: 'c', missing: [], load: 1 },
    ];
    assert.equal(choose(candidates, 0).server, 'b');
    assert.equal(choose(candidates, 2).server, 'b');
  });
});

/** Definitions as a server reads them from /object_info: a checkpoint loader with `files`, a sampler, a LoRA loader. */
function definitionsWith(files, loras = []) {
  return readNodeDefinitions({
    CheckpointLoaderSimple: { input: { required: { ckpt_name: [files, {}] } }, output: ['MODEL', 'CLIP', 'VAE'] },
    KSampler: { input: { required: { sampler_name: [['euler', 'ddim'], {}], seed: ['INT', {}] } }, output: ['LATENT'] },
    LoraLoader: { input: { required: { lora_name: [loras, {}], strength_model: ['FLOAT', {}] } }, output: ['MODEL'] },
    LoadImage: { input: { required: { image: [['cat.png'], { image_upload: true }] } }, output: ['IMAGE'] },
  });
}

describe('pool needs: what a member lacks of a prompt', function () {
  it('names a missing class and a missing model file, and nothing for what a member has', function () {
    const prompt = {
      1: { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: 'sdxl.safetensors' } },
      2: { class_type: 'KSampler', inputs: { sampler_name: 'euler', seed: 1, model: ['1', 0] } },
      3: { class_type: 'UpscaleModelLoader', inputs: { model_name: 'x4.pth' } },
    };
    const needs = needsOf(prompt);
    assert.deepEqual(missingOn(needs, definitionsWith(['sd15.safetensors'])), [
      'node class UpscaleModelLoader',
      'model file sdxl.safetensors',
    ]);
    delete prompt[3];
    assert.deepEqual(missingOn(needsOf(prompt), definitionsWith(['sd15.safetensors', 'sdxl.safetensors'])), []);
  });

  it('only model files count: a sampler or an uploaded image missing from a list is not a routing criterion', function () {
    const prompt = {
      2: { class_type: 'KSampler', inputs: { sampler_name: 'dpmpp_2m', seed: 1 } },
      4: { class_type: 'LoadImage', inputs: { image: 'dog.png' } },
    };
    assert.deepEqual(missingOn(needsOf(prompt), definitionsWith([])), []);
  });

  it('a file in a model-folder input counts even without an extension (a diffusers folder)', function () {
    assert.ok(looksLikeModelFile('lora_name', 'my-lora'));
    assert.ok(looksLikeModelFile('anything', 'x.GGUF'));
    assert.ok(!looksLikeModelFile('sampler_name', 'euler'));
    const prompt = { 5: { class_type: 'LoraLoader', inputs: { lora_name: 'my-lora', strength_model: 1 } } };
    assert.deepEqual(missingOn(needsOf(prompt), definitionsWith([], ['other'])), ['model file my-lora']);
    assert.deepEqual(missingOn(needsOf(prompt), definitionsWith([], ['my-lora'])), []);
  });

  it('a member lacks exactly the model files of the prompt it does not list (fast-check)', function () {
    const file = fc.constantFrom('a.safetensors', 'b.ckpt', 'c.gguf', 'd.pt', 'e.sft');
    fc.assert(
      fc.property(fc.uniqueArray(file, { maxLength: 5 }), fc.uniqueArray(file, { maxLength: 5 }), (wanted, held) => {
        const prompt = Object.fromEntries(
          wanted.map((name, i) => [String(i + 1), { class_type: 'CheckpointLoaderSimple', inputs: { ckpt_name: name } }]),
        );
        const missing = missingOn(needsOf(prompt), definitionsWith(held));
        assert.deepEqual(
          missing,
          wanted.filter((name) => !held.includes(name)).map((name) => `model file ${name}`),
        );
      }),
      { numRuns: 300 },
    );
  });
});
