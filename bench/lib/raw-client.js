'use strict';
/**
 * The baseline: the least a program must do to run a prompt on ComfyUI and get its outputs —
 * one WebSocket (to be told when a prompt ends), undici POST /prompt with a prompt_id made here
 * (so an `executing {node: null}` that overtakes the POST answer is not missed), then
 * GET /history/{id}. No reconnects, no watchdog, no validation messages, no Node-RED.
 */
const { randomUUID } = require('node:crypto');
const WebSocket = require('ws');
const { Agent, request } = require('undici');

/** `mark(name)`, when given, is called at each step of a prompt (bench/prompt-path.js times them). */
async function connectRawClient(baseUrl, mark = undefined) {
  const clientId = `raw-${randomUUID()}`;
  const agent = new Agent({ keepAliveTimeout: 10_000 });
  const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/ws?clientId=${clientId}`, { perMessageDeflate: false });
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const waiting = new Map();
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    const message = JSON.parse(data.toString('utf8'));
    if (mark && message.type === 'execution_start') mark('started');
    if (message.type !== 'executing' || message.data.node !== null) return;
    if (mark) mark('ended');
    const done = waiting.get(message.data.prompt_id);
    if (done) {
      waiting.delete(message.data.prompt_id);
      done();
    }
  });

  async function run(prompt) {
    const promptId = randomUUID();
    const finished = new Promise((resolve) => waiting.set(promptId, resolve));
    if (mark) mark('post');
    const posted = await request(`${baseUrl}/prompt`, {
      method: 'POST',
      dispatcher: agent,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt, client_id: clientId, prompt_id: promptId }),
    });
    const accepted = await posted.body.json();
    if (mark) mark('posted');
    if (posted.statusCode !== 200) throw new Error(`POST /prompt answered ${posted.statusCode}: ${JSON.stringify(accepted)}`);
    await finished;
    if (mark) mark('history');
    const history = await request(`${baseUrl}/history/${promptId}`, { dispatcher: agent });
    const entry = (await history.body.json())[promptId];
    if (mark) mark('historied');
    return { promptId, entry };
  }

  async function close() {
    ws.close();
    await new Promise((resolve) => ws.once('close', resolve));
    await agent.close();
  }

  return { clientId, run, close, agent };
}

module.exports = { connectRawClient };
