'use strict';
// What every real-browser test shares: which Chromium, its flags, what counts as local, and why the
// test cannot run here.
//
// A test runs when COMFYUI_BROWSER_TEST=1 or when /usr/bin/chromium exists (COMFYUI_CHROMIUM names
// another binary); otherwise it says why it is skipped. With COMFYUI_BROWSER_TEST=1 a missing
// browser is a failure, not a skip.
const { existsSync, mkdirSync, mkdtempSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const CHROMIUM = process.env.COMFYUI_CHROMIUM || '/usr/bin/chromium';
const WANTED = process.env.COMFYUI_BROWSER_TEST === '1';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
/** Requests the page may make; anything else is refused and counted as a problem. */
const LOCAL = /^(http|ws):\/\/127\.0\.0\.1(:\d+)?\//;

/** Why the browser test cannot run here, or undefined when it can. */
function missing() {
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set COMFYUI_CHROMIUM)`;
  try {
    require.resolve('playwright-core');
  } catch {
    return 'playwright-core is not installed (npm install)';
  }
  return undefined;
}

/**
 * Headless Chromium with a fresh profile, refusing (and adding to `problems`) every request that
 * leaves 127.0.0.1. Screenshots go to test/browser/screenshots when COMFYUI_BROWSER_SCREENSHOTS=1,
 * else to a scratch folder that also takes the failure screenshot.
 */
async function launchLocalOnly(problems, viewport) {
  const scratchDir = mkdtempSync(join(tmpdir(), 'comfyui-screenshots-'));
  let shotDir = scratchDir;
  if (process.env.COMFYUI_BROWSER_SCREENSHOTS === '1') {
    shotDir = join(__dirname, 'screenshots');
    mkdirSync(shotDir, { recursive: true });
  }
  const profileDir = mkdtempSync(join(tmpdir(), 'comfyui-chromium-'));
  const { chromium } = require('playwright-core');
  const context = await chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport,
    locale: 'en-US',
  });
  await context.route(
    (url) => !LOCAL.test(url.href) && !url.href.startsWith('data:'),
    (route) => {
      problems.push(`request outside 127.0.0.1: ${route.request().url()}`);
      return route.abort();
    },
  );
  return { context, profileDir, scratchDir, shotDir };
}

/** Resolves with the match of `pattern` once `output()` has it (and `ready` when given); fails when the process exits or after 40 s. */
async function waitForOutput(child, output, pattern, what, ready = /./) {
  const started = Date.now();
  for (;;) {
    const match = pattern.exec(output());
    if (match && ready.test(output())) return match;
    if (child.exitCode !== null) throw new Error(`npm start exited early:\n${output()}`);
    if (Date.now() - started > 40000) throw new Error(`no ${what} printed:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * After a browser test: the browser and `npm start` stopped, the profile and user folders removed,
 * the scratch screenshots removed after a pass and kept (and named) after a failure.
 */
async function closeBrowserRun({ context, child, dirs, scratchDir, shotDir, failed }) {
  if (context) await context.close().catch(() => undefined);
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  for (const dir of dirs) if (dir) rmSync(dir, { recursive: true, force: true });
  if (scratchDir && failed) console.log(`      screenshots kept for the failure: ${scratchDir}`);
  else if (scratchDir) rmSync(scratchDir, { recursive: true, force: true });
  if (shotDir && shotDir !== scratchDir) console.log(`      screenshots: ${shotDir}`);
}

/**
 * One story in steps (call inside the describe): after a failed step the later ones are skipped, not
 * failed in a cascade, and `onFailure` runs once for the failed step (a screenshot). Problems the
 * browser reported (console errors, requests leaving 127.0.0.1) fail the step they came in.
 * Returns the story's state: `failed` tells the teardown to keep its screenshots.
 */
function storyInSteps(problems, onFailure) {
  const story = { failed: false };
  beforeEach(function () {
    if (story.failed) this.skip();
  });
  afterEach(async function () {
    if (this.currentTest && this.currentTest.state === 'failed') {
      story.failed = true;
      await onFailure();
    }
    if (problems.length > 0) {
      story.failed = true;
      const found = problems.splice(0);
      throw new Error(`the browser reported problems:\n${found.join('\n')}`);
    }
  });
  return story;
}

module.exports = { CHROMIUM, WANTED, CHROMIUM_ARGS, LOCAL, missing, launchLocalOnly, waitForOutput, closeBrowserRun, storyInSteps };
