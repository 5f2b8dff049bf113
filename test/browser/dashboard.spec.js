'use strict';
// The dashboard example in a real browser: `COMFYUI_EXAMPLE=dashboard npm start` against a simulator
// this test holds (its test controls pause the worker), Chromium driven by playwright-core, on
// 127.0.0.1 only. Any console error, page error or request leaving 127.0.0.1 fails the step it
// happened in.
//
// When it runs and when it is skipped: ./chromium.js. Screenshots go to a temporary folder that is
// removed after a passing run and kept (with failure.png) after a failing one, or to
// test/browser/screenshots/ (the README's pictures) with COMFYUI_BROWSER_SCREENSHOTS=1.
const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const { mkdtempSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { request } = require('undici');
const { startSimulator } = require('../../dist/simulator');
const { WANTED, missing, launchLocalOnly, waitForOutput, closeBrowserRun, storyInSteps } = require('./chromium');

const root = join(__dirname, '..', '..');
const PROMPT = 'a red fox in the snow, from the kitchen tablet';

describe('the dashboard example in a real browser (Chromium, Dashboard 2)', function () {
  this.timeout(60000);
  const problems = []; // console errors, page errors and requests that tried to leave 127.0.0.1
  let sim;
  let child;
  let output = '';
  let userDir;
  let profileDir;
  let shotDir;
  let scratchDir;
  let context;
  let page;
  let dashboardUrl;

  before(async function () {
    const why = missing();
    if (why) {
      if (WANTED) throw new Error(`COMFYUI_BROWSER_TEST=1 but ${why}`);
      console.log(`      (browser test skipped: ${why}; set COMFYUI_BROWSER_TEST=1 to require it)`);
      this.skip();
    }
    this.timeout(90000);
    // Slow enough steps (20 × 100 ms) that the bar and the preview are seen between start and end.
    sim = await startSimulator({ testControls: true, stepMs: 100 });
    userDir = mkdtempSync(join(tmpdir(), 'comfyui-dashboard-'));
    const env = { ...process.env, PORT: '0', NODE_RED_USER_DIR: userDir, COMFYUI_URL: sim.url, COMFYUI_EXAMPLE: 'dashboard' };
    delete env.HOST;
    child = spawn(process.execPath, [join(root, 'dist', 'start', 'main.js')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    dashboardUrl = (
      await waitForOutput(child, () => output, /Open the dashboard: (http:\/\/127\.0\.0\.1:\d+\/\S+)/, 'dashboard URL', /Started flows/)
    )[1];
    // Dashboard 2 ships its fonts and icons; a request that tries to leave anyway (a CDN, a font service) is refused and counted.
    ({ context, profileDir, scratchDir, shotDir } = await launchLocalOnly(problems, { width: 1400, height: 1000 }));
    page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console error: ${message.text()} (${message.location().url})`);
    });
    page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
    page.on('response', (response) => {
      if (response.status() >= 400) problems.push(`HTTP ${response.status()}: ${response.url()}`);
    });
  });

  after(async function () {
    await closeBrowserRun({ context, child, dirs: [userDir, profileDir], scratchDir, shotDir, failed: story.failed });
    if (sim) await sim.close();
  });

  const story = storyInSteps(problems, async () => {
    if (page) await page.screenshot({ path: join(scratchDir, 'failure.png'), fullPage: true }).catch(() => undefined);
    if (sim) sim.faults.resumeWorker();
  });

  const widget = (id) => page.locator(`#nrdb-ui-widget-${id}`);
  const text = (id) => widget(id).locator('.nrdb-ui-text-value');
  const galleryImages = () => widget('dash-gallery').locator('img[data-prompt]');
  const queueRows = () => widget('dash-queue').locator('tbody tr:has(button)');
  const notification = (pattern) => page.locator('.v-snackbar__content', { hasText: pattern });

  /** The simulator's own queue: [running ids, pending ids]. */
  async function serverQueue() {
    const queue = await (await request(`${sim.url}/queue`)).body.json();
    return [queue.queue_running.map((item) => item[1]), queue.queue_pending.map((item) => item[1])];
  }

  /** Waits until the simulator's queue satisfies `test`. */
  async function serverQueueBecomes(test, what) {
    for (;;) {
      const [running, pending] = await serverQueue();
      if (test(running, pending)) return [running, pending];
      if (story.failed) throw new Error(`the server's queue never ${what}`);
      await page.waitForTimeout(50);
    }
  }

  it("opens the page: the server is connected and the model picker holds the server's checkpoints", async function () {
    await page.goto(dashboardUrl);
    await text('dash-server')
      .filter({ hasText: /^connected$/ })
      .waitFor();
    const models = await (await request(`${sim.url}/models/checkpoints`)).body.json();
    await widget('dash-model')
      .locator('input')
      .and(page.locator(`[value="${models[0]}"]`))
      .waitFor({ state: 'attached' });
    await widget('dash-model').click();
    const listed = await page.locator('.v-overlay-container .v-list-item-title').allInnerTexts();
    assert.deepEqual(listed, models);
    await page.keyboard.press('Escape');
    assert.equal(await galleryImages().count(), 0);
  });

  it('generates: the bar moves to 100%, the step shows, the preview then the result appear, the gallery grows', async function () {
    const prompt = widget('dash-prompt').locator('textarea').first();
    await prompt.fill(PROMPT);
    await prompt.press('Tab'); // sent on blur
    // Every value the bar shows, recorded in the page as it changes (no sampling by time).
    await page.evaluate(() => {
      const bar = document.querySelector('#nrdb-ui-widget-dash-bar [role="progressbar"]');
      window.barValues = [];
      new MutationObserver(() => window.barValues.push(Number(bar.getAttribute('aria-valuenow')))).observe(bar, {
        attributes: true,
        attributeFilter: ['aria-valuenow'],
      });
    });
    await widget('dash-generate').locator('button').click();
    await text('dash-now')
      .filter({ hasText: /^KSampler: step \d+ of 20$/ })
      .waitFor();
    await widget('dash-preview').locator('img[data-prompt]').waitFor();
    await page.screenshot({ path: join(shotDir, 'dashboard-generating.png'), fullPage: true });

    await widget('dash-result').locator('img[data-prompt]').waitFor();
    await text('dash-now')
      .filter({ hasText: /^Done$/ })
      .waitFor();
    await widget('dash-bar').locator('[aria-valuenow="100"]').waitFor();
    const values = await page.evaluate(() => window.barValues);
    assert.ok(
      values.some((v) => v > 0 && v < 100),
      `the bar went straight to the end: ${values}`,
    );
    assert.equal(values.at(-1), 100);
    await galleryImages().first().waitFor();
    assert.equal(await galleryImages().count(), 1);

    // The picture is the prompt's, made with the words typed on the page.
    const promptId = await widget('dash-result').locator('img').getAttribute('data-prompt');
    assert.equal(await galleryImages().first().getAttribute('data-prompt'), promptId);
    const history = await (await request(`${sim.url}/history/${promptId}`)).body.json();
    const texts = Object.values(history[promptId].prompt[2])
      .filter((n) => n.class_type === 'CLIPTextEncode')
      .map((n) => n.inputs.text);
    assert.ok(texts.includes(PROMPT), `the prompt sent was ${JSON.stringify(texts)}`);
    const src = await widget('dash-result').locator('img').getAttribute('src');
    assert.match(src, /^data:image\/png;base64,iVBORw0KGgo/);
    await page.screenshot({ path: join(shotDir, 'dashboard-finished.png'), fullPage: true });
  });

  it('keeps the gallery over a page reload', async function () {
    const before = await galleryImages().first().getAttribute('data-prompt');
    await page.reload();
    await galleryImages().first().waitFor();
    assert.equal(await galleryImages().count(), 1);
    assert.equal(await galleryImages().first().getAttribute('data-prompt'), before);
  });

  it("queues three prompts, lists them, and a Cancel on a row takes that prompt out of the server's queue", async function () {
    sim.faults.pauseWorker();
    for (let i = 1; i <= 3; i++) {
      await widget('dash-generate').locator('button').click();
      await queueRows()
        .nth(i - 1)
        .waitFor(); // one click, one row: no double submit
    }
    const [, pending] = await serverQueueBecomes((running, waiting) => waiting.length === 3, 'held three prompts');
    await widget('dash-queue').locator('tbody tr:has(button)', { hasText: pending[2] }).waitFor();
    const rows = await queueRows().allInnerTexts();
    assert.deepEqual(
      rows.map((row) => row.split(/\s+/).slice(0, 3)),
      pending.map((id, i) => [String(i + 1), id, 'this']),
      'position, prompt id and "this Node-RED" per row',
    );

    const cancelled = pending[1];
    await queueRows().nth(1).locator('button').click();
    await notification('Removed the prompt from the queue').waitFor();
    const [, left] = await serverQueueBecomes((running, waiting) => !waiting.includes(cancelled), 'lost the cancelled prompt');
    assert.deepEqual(left, [pending[0], pending[2]]);
    await page.waitForFunction(
      (id) => ![...document.querySelectorAll('#nrdb-ui-widget-dash-queue tbody tr')].some((row) => row.textContent.includes(id)),
      cancelled,
    );
    await page.screenshot({ path: join(scratchDir, 'dashboard-queue.png'), fullPage: true });

    sim.faults.resumeWorker();
    await page.waitForFunction(() => document.querySelectorAll('#nrdb-ui-widget-dash-gallery img[data-prompt]').length === 3);
    const shown = await galleryImages().evaluateAll((images) => images.map((img) => img.dataset.prompt));
    assert.deepEqual(shown.slice(0, 2), [pending[2], pending[0]], 'newest first');
    assert.ok(!shown.includes(cancelled));
    await queueRows().first().waitFor({ state: 'detached' });
  });

  it('shows the connection going and coming back, and says in words why a model the server no longer has is refused', async function () {
    // ComfyUI restarts without one of its checkpoints; the page still offers it, as a page opened
    // before the change would.
    const { port } = sim;
    const gone = (await (await request(`${sim.url}/models/checkpoints`)).body.json())[0];
    await sim.close();
    await text('dash-server')
      .filter({ hasText: /^disconnected: ComfyUI does not answer/ })
      .waitFor();
    const remaining = ['v1-5-pruned-emaonly.safetensors', 'v1-5-pruned-emaonly-fp16.safetensors'];
    sim = await startSimulator({ testControls: true, stepMs: 100, port, checkpoints: remaining });
    await text('dash-server')
      .filter({ hasText: /^connected$/ })
      .waitFor();

    await widget('dash-model').click();
    await page.locator('.v-overlay-container .v-list-item', { hasText: gone }).click();
    await widget('dash-generate').locator('button').click();
    const shown = notification('Value not in list');
    await shown.waitFor();
    const words = await shown.innerText();
    assert.match(words, /^The workflow does not fit this ComfyUI server/, 'a sentence, not an error class');
    assert.ok(words.includes(`'${gone}' not in`), words);
    assert.doesNotMatch(words, /\n\s*at /, 'no stack trace');
    assert.deepEqual(await serverQueue(), [[], []], 'nothing was queued');
    await page.screenshot({ path: join(scratchDir, 'dashboard-refused.png'), fullPage: true });
  });

  it('frees memory on the server from the Free memory button', async function () {
    await widget('dash-free-button').locator('button').click();
    await notification('Models unloaded and memory freed').waitFor();
  });
});
