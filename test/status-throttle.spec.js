'use strict';
// The status throttle (src/nodes/status.ts) on a fake clock (@sinonjs/fake-timers: Date.now() reads
// each timer's own time while it runs, which node:test's mock timers on Node 20 do not): generated
// sequences of pushes, cancels and waits, checked against what the submit and progress nodes rely on.
const assert = require('node:assert/strict');
const FakeTimers = require('@sinonjs/fake-timers');
const fc = require('fast-check');
const { Throttle } = require('../dist/nodes/status');

const INTERVAL = 250;

/** Runs `steps` on a Throttle under the fake clock; returns every apply as {at, value}. */
function run(steps) {
  const clock = FakeTimers.install({ now: 1_000_000, toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  try {
    const applied = [];
    // Pushes, cancels and applies in the order they happened (several can share a millisecond).
    const log = [];
    const throttle = new Throttle(INTERVAL, (value) => {
      applied.push({ at: Date.now(), value });
      log.push({ applied: value });
    });
    let serial = 0;
    for (const step of steps) {
      if (step.kind === 'push') {
        serial += 1;
        log.push({ value: serial });
        throttle.push(serial);
      } else if (step.kind === 'cancel') {
        log.push({ cancel: true });
        throttle.cancel();
      } else clock.tick(step.ms);
    }
    clock.tick(INTERVAL * 2); // whatever still waits is applied now
    const settled = applied.splice(0);
    // Then a node closes with a value waiting (two pushes within the interval: the second waits).
    throttle.push(serial + 1);
    throttle.push(serial + 2);
    const beforeStop = applied.length;
    throttle.stop();
    const timersAfterStop = clock.countTimers();
    clock.tick(INTERVAL * 2);
    return { applied: settled, log, afterStop: applied.length - beforeStop, timersAfterStop };
  } finally {
    clock.uninstall();
  }
}

const steps = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: fc.constant({ kind: 'push' }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'cancel' }) },
    { weight: 3, arbitrary: fc.integer({ min: 1, max: 400 }).map((ms) => ({ kind: 'wait', ms })) },
  ),
  { maxLength: 60 },
);

describe('status throttle', function () {
  it('applies at most once an interval, never a value pushed before a cancel, and the last pushed value in the end', function () {
    fc.assert(
      fc.property(steps, (list) => {
        const { applied, log } = run(list);
        for (let i = 1; i < applied.length; i += 1) {
          assert.ok(applied[i].at - applied[i - 1].at >= INTERVAL, `two applies ${applied[i].at - applied[i - 1].at} ms apart`);
        }
        // Values in order, each applied at most once.
        for (let i = 1; i < applied.length; i += 1) assert.ok(applied[i].value > applied[i - 1].value);
        // A value is applied only if no cancel came after it and before its apply.
        for (const { value } of applied) {
          const from = log.findIndex((p) => p.value === value);
          const to = log.findIndex((p) => p.applied === value);
          assert.ok(!log.slice(from, to).some((p) => p.cancel), `value ${value} applied after a cancel`);
        }
        // The last push, unless cancelled after it, is applied (the node's status ends on the newest value).
        const lastPush = log.findLastIndex((p) => p.value !== undefined);
        if (lastPush >= 0 && !log.slice(lastPush).some((p) => p.cancel)) {
          assert.equal(applied.at(-1)?.value, log[lastPush].value);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('applies nothing after stop() and leaves no timer', function () {
    fc.assert(
      fc.property(steps, (list) => {
        const { afterStop, timersAfterStop } = run(list);
        assert.equal(afterStop, 0, 'applied after stop()');
        // A closed node leaves no timer behind (cancel() may: it finds nothing to apply).
        assert.equal(timersAfterStop, 0, 'a timer left after stop()');
      }),
      { numRuns: 100 },
    );
  });

  it('a push after a cancel, within the interval, is applied when the interval is over (not lost, not early)', function () {
    const { applied } = run([
      { kind: 'push' },
      { kind: 'wait', ms: 10 },
      { kind: 'push' },
      { kind: 'cancel' },
      { kind: 'wait', ms: 100 },
      { kind: 'push' },
    ]);
    assert.deepEqual(
      applied.map((a) => [a.at - 1_000_000, a.value]),
      [
        [0, 1],
        [250, 3],
      ],
    );
  });
});
