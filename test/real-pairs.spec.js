'use strict';
// Our UI → API conversion against ComfyUI's own, on pairs of real files (a ComfyUI-made PNG/WebP holds
// both its UI `workflow` and its API `prompt`). The pairs come from public repositories and are never
// committed, so this runs only where they are: COMFYUI_REAL_PAIRS=<dir of X.ui.json + X.api.json>.
// Pairs needing group-node or subgraph expansion are reported apart and do not fail this spec.
const assert = require('node:assert/strict');
const { comparePairs, summarize } = require('./tools/real-pairs');

const dir = process.env.COMFYUI_REAL_PAIRS;
const title = 'real pairs: our conversion equals the one ComfyUI made';

if (dir) {
  describe(title, function () {
    it(`every flat pair in ${dir} converts to exactly the frontend's prompt`, function () {
      const summary = summarize(comparePairs(dir));
      assert.ok(summary.compared > 0, `no X.ui.json + X.api.json pairs in ${dir}`);
      assert.equal(summary.equal, summary.compared, summary.text);
    });
  });
} else {
  describe.skip(`${title} (skipped: set COMFYUI_REAL_PAIRS to a directory of X.ui.json + X.api.json pairs; they are not committed)`, function () {
    it('compares every pair', function () {});
  });
}
