#!/usr/bin/env node
'use strict';
/**
 * Job — ui-convert. A generated UI-format workflow of 1 002 nodes converted to an API prompt N times
 * (convertUiWorkflow: the plain-JSON copy, reading the graph, and the conversion), against the
 * definitions of a real ComfyUI v0.8.0. The graph has what makes conversion work: 91 blocks of a
 * PrimitiveNode seed through a Reroute, two prompts fed through a Reroute, a bypassed LoraLoader
 * chained from block to block (so the model input of the last KSampler resolves through 91
 * bypassed nodes), a sampler, a decoder, a save node (every fifth muted) and a Note.
 * No baseline: the goal is absolute (a user's largest workflows convert well within a submit).
 */
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { quick, check, finish, main, median, ms, verdict } = require('./lib/common');
const { convertUiWorkflow } = require('../dist/client/ui-convert/index');
const { readNodeDefinitions } = require('../dist/client/node-definitions');

const BLOCKS = 91;
const RUNS = quick ? 30 : 300;
const WARMUP = 20;
const GOAL_MS = 20;

function generateWorkflow() {
  const nodes = [];
  const links = [];
  let nextNode = 1;
  let nextLink = 1;
  const add = (type, extra = {}) => {
    const node = {
      id: nextNode++,
      type,
      pos: [0, 0],
      size: [200, 100],
      flags: {},
      order: nodes.length,
      mode: 0,
      inputs: [],
      outputs: [],
      properties: {},
      ...extra,
    };
    nodes.push(node);
    return node;
  };
  const output = (node, name, type) => node.outputs.push({ name, type, links: [] }) - 1;
  const input = (node, name, type, widget) =>
    node.inputs.push({ name, type, link: null, ...(widget ? { widget: { name: widget } } : {}) }) - 1;
  const connect = (from, fromSlot, to, toSlot) => {
    const id = nextLink++;
    from.outputs[fromSlot].links.push(id);
    to.inputs[toSlot].link = id;
    links.push([id, from.id, fromSlot, to.id, toSlot, to.inputs[toSlot].type]);
  };

  const checkpoint = add('CheckpointLoaderSimple', { widgets_values: ['model.safetensors'] });
  for (const [name, type] of [
    ['MODEL', 'MODEL'],
    ['CLIP', 'CLIP'],
    ['VAE', 'VAE'],
  ])
    output(checkpoint, name, type);
  let model = { node: checkpoint, slot: 0 };
  for (let block = 0; block < BLOCKS; block += 1) {
    const lora = add('LoraLoader', { mode: 4, widgets_values: ['style.safetensors', 1, 1] });
    input(lora, 'model', 'MODEL');
    input(lora, 'clip', 'CLIP');
    output(lora, 'MODEL', 'MODEL');
    output(lora, 'CLIP', 'CLIP');
    connect(model.node, model.slot, lora, 0);
    connect(checkpoint, 1, lora, 1);
    model = { node: lora, slot: 0 };

    const clipReroute = add('Reroute');
    input(clipReroute, '', '*');
    output(clipReroute, '', 'CLIP');
    connect(lora, 1, clipReroute, 0);
    const prompts = [`block ${block}, a lighthouse`, 'blurry'].map((text) => {
      const encode = add('CLIPTextEncode', { widgets_values: [text] });
      input(encode, 'clip', 'CLIP');
      output(encode, 'CONDITIONING', 'CONDITIONING');
      connect(clipReroute, 0, encode, 0);
      return encode;
    });

    const seed = add('PrimitiveNode', { widgets_values: [block, 'fixed'] });
    output(seed, 'INT', 'INT');
    const seedReroute = add('Reroute');
    input(seedReroute, '', '*');
    output(seedReroute, '', 'INT');
    connect(seed, 0, seedReroute, 0);

    const latent = add('EmptyLatentImage', { widgets_values: [512, 512, 1] });
    output(latent, 'LATENT', 'LATENT');
    const sampler = add('KSampler', { widgets_values: [0, 'randomize', 20, 7, 'euler', 'normal', 1] });
    for (const [name, type] of [
      ['model', 'MODEL'],
      ['positive', 'CONDITIONING'],
      ['negative', 'CONDITIONING'],
      ['latent_image', 'LATENT'],
    ])
      input(sampler, name, type);
    input(sampler, 'seed', 'INT', 'seed');
    output(sampler, 'LATENT', 'LATENT');
    connect(model.node, model.slot, sampler, 0);
    connect(prompts[0], 0, sampler, 1);
    connect(prompts[1], 0, sampler, 2);
    connect(latent, 0, sampler, 3);
    connect(seedReroute, 0, sampler, 4);

    const decode = add('VAEDecode');
    input(decode, 'samples', 'LATENT');
    input(decode, 'vae', 'VAE');
    output(decode, 'IMAGE', 'IMAGE');
    connect(sampler, 0, decode, 0);
    connect(checkpoint, 2, decode, 1);
    const save = add('SaveImage', { mode: block % 5 === 4 ? 2 : 0, widgets_values: [`block-${block}`, ''] });
    input(save, 'images', 'IMAGE');
    connect(decode, 0, save, 0);
    add('Note', { widgets_values: [`block ${block}`] });
  }
  return { last_node_id: nextNode - 1, last_link_id: nextLink - 1, nodes, links, groups: [], config: {}, extra: {}, version: 0.4 };
}

main(async () => {
  const definitions = readNodeDefinitions(
    JSON.parse(readFileSync(join(__dirname, '..', 'test', 'fixtures', 'transcripts', 'object_info_full.json'), 'utf8')),
  );
  const workflow = generateWorkflow();
  // Sent: the checkpoint, and per block two prompts, the latent, the sampler, the decoder, and the save unless muted.
  const expectedNodes = 1 + BLOCKS * 6 - workflow.nodes.filter((node) => node.type === 'SaveImage' && node.mode === 2).length;
  const first = convertUiWorkflow(workflow, definitions);
  check(Object.keys(first).length === expectedNodes, `the prompt has ${Object.keys(first).length} nodes, not ${expectedNodes}`);
  const last = first[String(workflow.nodes.filter((node) => node.type === 'KSampler').pop().id)];
  check(
    JSON.stringify(last.inputs.model) === '["1",0]',
    `the last sampler's model resolves to ${JSON.stringify(last.inputs.model)}, not the checkpoint through every bypassed LoRA`,
  );
  check(last.inputs.seed === BLOCKS - 1, `the last sampler's seed is ${last.inputs.seed}, not its PrimitiveNode's value`);

  // Unmeasured warm-up, as in the other jobs: the first conversions run before V8 has optimized the code.
  for (let run = 0; run < WARMUP; run += 1) convertUiWorkflow(workflow, definitions);
  const times = [];
  for (let run = 0; run < RUNS; run += 1) {
    const started = performance.now();
    convertUiWorkflow(workflow, definitions);
    times.push(performance.now() - started);
  }
  const middle = median(times);
  console.log(`${workflow.nodes.length} UI nodes, ${workflow.links.length} links → ${expectedNodes} API nodes; ${RUNS} conversions`);
  console.log(`fastest ${ms(Math.min(...times))}, median ${ms(middle)}, slowest ${ms(Math.max(...times))}`);
  finish(
    `ui-convert: ${workflow.nodes.length}-node UI workflow, median ${ms(middle)} per conversion; goal < ${GOAL_MS} ms: ${verdict(middle, GOAL_MS, true)}`,
  );
});
