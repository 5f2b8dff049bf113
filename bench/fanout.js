#!/usr/bin/env node
'use strict';
/**
 * Fan-out: 20 comfyui-progress nodes on one config node, N `progress` frames of one prompt.
 * Every frame must be read once from the one socket and decoded once, and enriched once, however
 * many nodes listen; each of the 20 nodes then sends its own msg. Counted by wrapping the client's
 * text-frame decoder (src/client/frames.ts) and JSON.parse for the frames' text while they arrive
 * (progress frames as ComfyUI formats them take the decoder's fast path: no JSON.parse at all, and
 * never more than one), and by the client's `frame` and `event` emissions; the msgs are counted at
 * one sink all 20 nodes are wired to.
 */
const { request } = require('undici');
const { quick, check, finish, main, ms, tinyWorkflow, waitFor } = require('./lib/common');
const runtime = require('./lib/runtime');
const { spawnSimulator } = require('./lib/sim');

const NODES = 20;
const COUNT = quick ? 2_000 : 10_000;

main(async () => {
  const sim = await spawnSimulator({ stepMs: 0, nodeMs: 0 });
  const flow = [
    { id: 'tab', type: 'tab' },
    { id: 'srv', type: 'comfyui-server', url: sim.url, timeout: 30, stall: 60 },
    { id: 'sub', z: 'tab', type: 'comfyui-submit', server: 'srv', workflow: '', mode: 'wait', wires: [['done']] },
    { id: 'done', z: 'tab', type: 'helper' },
    { id: 'sink', z: 'tab', type: 'helper' },
  ];
  for (let i = 0; i < NODES; i += 1) {
    flow.push({
      id: `prog${i}`,
      z: 'tab',
      type: 'comfyui-progress',
      server: 'srv',
      scope: 'own',
      events: ['progress'],
      previewRate: 0,
      wires: [['sink']],
    });
  }
  const helper = await runtime.load(flow);
  const client = helper.getNode('srv').client;
  await waitFor(() => client.state === 'connected', 'the config node to connect');
  await sim.call('pause');
  const finished = new Promise((resolve) => helper.getNode('done').once('input', resolve));
  helper.getNode('sub').receive({ payload: tinyWorkflow(1) });
  const promptId = await waitFor(async () => {
    const queue = await (await request(`${sim.url}/queue`)).body.json();
    return queue.queue_pending[0] && queue.queue_pending[0][1];
  }, 'the prompt to be queued');

  let parsed = 0;
  let decoded = 0;
  let frames = 0;
  // socket.js calls the decoder through the module's exports object, so replacing it there counts every call.
  const framesModule = require('../dist/client/frames');
  const decode = framesModule.decodeTextFrame;
  framesModule.decodeTextFrame = function (text) {
    if (typeof text === 'string' && text.startsWith('{"type": "progress"')) decoded += 1;
    return decode(text);
  };
  let events = 0;
  const parse = JSON.parse;
  JSON.parse = function (text, reviver) {
    if (typeof text === 'string' && text.startsWith('{"type": "progress"')) parsed += 1;
    return parse(text, reviver);
  };
  const onFrame = (frame) => {
    if (frame.kind === 'message' && frame.message.type === 'progress') frames += 1;
  };
  const onEvent = (event) => {
    if (event.type === 'progress') events += 1;
  };
  client.on('frame', onFrame);
  client.on('event', onEvent);
  const sink = runtime.sinkCounter(helper.getNode('sink'), COUNT * NODES);
  const started = performance.now();
  await sim.call('blast', { promptId, node: '2', count: COUNT, clientId: client.clientId });
  await Promise.race([sink.done, waitFor(() => false, 'the msgs at the sink', 60_000, 500)]).catch(() => undefined);
  const elapsed = performance.now() - started;
  JSON.parse = parse;
  framesModule.decodeTextFrame = decode;
  client.off('frame', onFrame);
  client.off('event', onEvent);
  await sim.call('resume');
  await finished;
  await runtime.unload();
  await runtime.stop();
  await sim.close();

  check(sink.received === COUNT * NODES, `${sink.received} of ${COUNT * NODES} msgs reached the sink`);
  check(frames === COUNT, `the client reported ${frames} progress frames for ${COUNT} sent`);
  check(decoded === COUNT, `the frames' text was decoded ${decoded} times for ${COUNT} frames (must be once each)`);
  check(parsed <= COUNT, `the frames' text went through JSON.parse ${parsed} times for ${COUNT} frames (at most once each)`);
  check(events === COUNT, `the client emitted ${events} events for ${COUNT} frames (must be once each)`);
  finish(
    `fan-out: ${NODES} progress nodes on one config node, ${COUNT} frames: decoded ${decoded} = ${(decoded / COUNT).toFixed(2)} per frame (of them through JSON.parse ${parsed}), ` +
      `frame events ${frames}, enriched events ${events}, msgs delivered ${sink.received} = ${(sink.received / COUNT).toFixed(0)} per frame, in ${ms(elapsed)} (goal: each frame decoded once)`,
    [decoded === COUNT],
  );
});
