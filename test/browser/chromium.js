'use strict';
// What every real-browser test shares: which Chromium, its flags, what counts as local, and why the
// test cannot run here.
//
// A test runs when COMFYUI_BROWSER_TEST=1 or when /usr/bin/chromium exists (COMFYUI_CHROMIUM names
// another binary); otherwise it says why it is skipped. With COMFYUI_BROWSER_TEST=1 a missing
// browser is a failure, not a skip.
const { existsSync } = require('node:fs');

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

module.exports = { CHROMIUM, WANTED, CHROMIUM_ARGS, LOCAL, missing };
