'use strict';
// The _msgid the progress node gives its msgs itself (src/nodes/msg-id.ts): shaped like Node-RED's, never repeated.
const assert = require('node:assert/strict');
const { nextMsgId } = require('../dist/nodes/msg-id');

describe('msg ids for msgs sent at event rates', function () {
  it('are 16 hex digits, like Node-RED’s own, and never repeat', function () {
    const ids = new Set();
    for (let i = 0; i < 100_000; i += 1) {
      const id = nextMsgId();
      assert.match(id, /^[0-9a-f]{16}$/);
      ids.add(id);
    }
    assert.equal(ids.size, 100_000);
  });
});
