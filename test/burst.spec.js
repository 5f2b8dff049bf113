'use strict';
// Issue 11 §2: HTTP connections per server are bounded. A burst of 1500 msgs into one submit node,
// in a process limited to 1024 file descriptors, delivers every result: with a socket per request
// it would run out of descriptors (EMFILE) long before.
const assert = require('node:assert/strict');
const { execFile } = require('node:child_process');
const { join } = require('node:path');

describe('a burst of 1500 msgs into submit under ulimit -n 1024', function () {
  this.timeout(300_000);

  it('delivers all 1500, with a handful of connections', async function () {
    const script = join(__dirname, 'tools', 'burst.js');
    const stdout = await new Promise((resolve, reject) => {
      execFile('bash', ['-c', `ulimit -n 1024 && exec node "${script}" 1500`], { maxBuffer: 1024 * 1024 }, (err, out, errOut) => {
        if (err) reject(new Error(`${err.message}\n${errOut}`));
        else resolve(out);
      });
    });
    const result = JSON.parse(stdout.trim().split('\n').pop());
    assert.deepEqual(result.errors, {});
    assert.equal(result.settled, 'all');
    assert.equal(result.delivered, 1500);
    // The API pool (8) and the WebSocket; no download was asked for.
    assert.ok(result.peakConnections > 0 && result.peakConnections <= 9, `${result.peakConnections} connections at once`);
  });
});
