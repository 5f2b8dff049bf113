'use strict';
// The progress node's coalescer on its own, with a fake clock (no real timers): examples of each
// rule, then generated event sequences (fast-check) checked against the invariants the node promises.
const assert = require('node:assert/strict');
const fc = require('fast-check');
const { ProgressCoalescer } = require('../dist/nodes/progress-coalescer');

/** A clock whose time moves only when told, firing the timers due on the way in order. */
function fakeClock() {
  let now = 0;
  let nextId = 1;
  const timers = new Map();
  return {
    now: () => now,
    setTimer(run, ms) {
      assert.ok(Number.isFinite(ms) && ms >= 0, `timer of ${ms} ms`);
      const id = nextId++;
      timers.set(id, { at: now + ms, run });
      return id;
    },
    clearTimer(id) {
      timers.delete(id);
    },
    advance(to) {
      for (;;) {
        let first;
        for (const entry of timers) if (entry[1].at <= to && (!first || entry[1].at < first[1].at)) first = entry;
        if (!first) break;
        timers.delete(first[0]);
        now = Math.max(now, first[1].at);
        first[1].run();
      }
      now = Math.max(now, to);
    },
    get timers() {
      return timers.size;
    },
  };
}

/**
 * Pushes `events` ({dt, msg}: dt ms after the previous one) through a coalescer and lets every
 * timer run out. Each output records when it was sent and during which push (null: a timer).
 */
function run(events, options) {
  const clock = fakeClock();
  const out = [];
  let during = null;
  const coalescer = new ProgressCoalescer({ ...options, clock, send: (msg) => out.push({ msg, at: clock.now(), during }) });
  let t = 0;
  const inputs = events.map(({ dt, msg }, seq) => {
    t += dt;
    clock.advance(t);
    const input = { ...msg, seq, arrived: t };
    during = input;
    coalescer.push(input);
    during = null;
    return input;
  });
  clock.advance(t + 10 * 60 * 1000);
  return { inputs, out, coalescer, clock };
}

const PACED = new Set(['progress', 'progress_state', 'executing', 'preview', 'status', 'queue_position']);
const isPaced = (m) => PACED.has(m.topic) && (m.topic !== 'executing' || m.node !== undefined);
const isEnd = (m) => ['execution_success', 'execution_interrupted'].includes(m.topic) || (m.topic === 'executing' && m.node === undefined);
const streamOf = (m) => (m.prompt_id === undefined ? `server ${m.server ?? ''}` : `prompt ${m.prompt_id}`);
/** The running node is the value of `executing`; progress and previews have one per node. */
const keyOf = (m) => `${streamOf(m)} ${m.topic} ${m.topic === 'executing' ? '' : (m.node ?? '')}`;
const EPSILON = 1e-6;

/** Every invariant of the coalescer over one run; `realistic` runs send nothing of a prompt after its end. */
function checkInvariants({ inputs, out, coalescer, clock }, { perSecond, previewsPerSecond }, { realistic = false } = {}) {
  const interval = perSecond > 0 ? 1000 / perSecond : 0;
  const previewInterval = previewsPerSecond > 0 ? 1000 / previewsPerSecond : 0;
  const index = new Map();
  out.forEach((o, i) => {
    assert.ok(inputs.includes(o.msg), 'only msgs that were pushed');
    assert.ok(!index.has(o.msg), `msg ${o.msg.seq} sent twice`);
    index.set(o.msg, i);
  });

  // Must-keep msgs: every one, at once, during its own push, in the order they came.
  const kept = inputs.filter((m) => !isPaced(m));
  for (const m of kept) {
    assert.ok(index.has(m), `must-keep ${m.topic} #${m.seq} lost`);
    const o = out[index.get(m)];
    assert.equal(o.during, m, `must-keep #${m.seq} sent during its own push`);
    assert.equal(o.at, m.arrived);
  }
  assert.deepEqual(
    out.filter((o) => !isPaced(o.msg)).map((o) => o.msg.seq),
    kept.map((m) => m.seq),
  );

  // Per key: older values never after newer ones, and the newest value always arrives.
  const lastOfKey = new Map();
  for (const m of inputs) if (isPaced(m)) lastOfKey.set(keyOf(m), m);
  for (const m of lastOfKey.values()) assert.ok(index.has(m), `last value of ${keyOf(m)} (#${m.seq}) lost`);
  const sentOfKey = new Map();
  for (const o of out) {
    if (!isPaced(o.msg)) continue;
    const k = keyOf(o.msg);
    assert.ok((sentOfKey.get(k) ?? -1) < o.msg.seq, `${k}: #${o.msg.seq} after a newer value`);
    sentOfKey.set(k, o.msg.seq);
    assert.ok(o.at >= o.msg.arrived);
  }

  // Before a must-keep msg of a stream, the newest value of each of its keys so far has been sent.
  for (const k of kept) {
    const latest = new Map();
    for (const m of inputs) if (m.seq < k.seq && isPaced(m) && streamOf(m) === streamOf(k)) latest.set(keyOf(m), m);
    for (const m of latest.values()) {
      assert.ok(index.has(m) && index.get(m) < index.get(k), `#${m.seq} ${keyOf(m)} not sent before must-keep #${k.seq} ${k.topic}`);
    }
  }

  // The final preview of a node: sent no later than the first msg of its prompt about another node.
  for (const p of inputs.filter((m) => m.topic === 'preview')) {
    const next = inputs.find(
      (m) =>
        m.seq > p.seq &&
        streamOf(m) === streamOf(p) &&
        ((m.topic === 'preview' && m.node === p.node) || (m.node !== undefined && m.node !== p.node) || !isPaced(m)),
    );
    if (next === undefined || (next.topic === 'preview' && next.node === p.node)) continue;
    assert.ok(index.has(p), `final preview #${p.seq} of node ${p.node} lost`);
    assert.ok(out[index.get(p)].at <= next.arrived, `final preview #${p.seq} held back behind #${next.seq}`);
    if (index.has(next)) assert.ok(index.get(p) < index.get(next), `final preview #${p.seq} sent after #${next.seq}`);
  }

  // The rest at most N a second per stream (and previews at most their own rate): a send from a slot
  // (a timer, or a msg sent as it came) is an interval after the stream's previous paced send.
  const lastPaced = new Map();
  const lastPreview = new Map();
  for (const o of out) {
    if (!isPaced(o.msg)) continue;
    const s = streamOf(o.msg);
    const fromSlot = o.during === null || o.during === o.msg;
    const isPreview = o.msg.topic === 'preview';
    if (fromSlot && lastPaced.has(s))
      assert.ok(o.at - lastPaced.get(s) >= interval - EPSILON, `${s}: sends ${o.at - lastPaced.get(s)} ms apart`);
    if (fromSlot && isPreview && lastPreview.has(s))
      assert.ok(o.at - lastPreview.get(s) >= previewInterval - EPSILON, `${s}: previews too close`);
    if (!fromSlot) {
      // Sent early only for a must-keep msg or a node change of the same stream.
      const by = o.during;
      assert.equal(streamOf(by), s);
      assert.ok(!isPaced(by) || by.node !== undefined || by.topic === 'preview', `#${o.msg.seq} flushed early by #${by.seq} ${by.topic}`);
    }
    if (interval > 0 || isPreview) lastPaced.set(s, o.at);
    if (isPreview) lastPreview.set(s, o.at);
  }

  // Nothing of a prompt after its end.
  if (realistic) {
    for (const end of inputs.filter(isEnd)) {
      for (const o of out.slice(index.get(end) + 1)) {
        assert.ok(!(streamOf(o.msg) === streamOf(end) && isPaced(o.msg)), `${o.msg.topic} #${o.msg.seq} after the end #${end.seq}`);
      }
    }
  }

  // Bounded memory: when every timer has run, nothing is left.
  assert.equal(coalescer.size, 0, 'streams left');
  assert.equal(clock.timers, 0, 'timers left');
}

/* ---- generators ---- */

const dtArb = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 30 }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 1500 }) },
);
const ratesArb = fc
  .record({ perSecond: fc.constantFrom(0, 1, 3, 4, 10, 2.5), previewsPerSecond: fc.constantFrom(0, 0, 1, 2, 7) })
  .filter((r) => r.perSecond > 0 || r.previewsPerSecond > 0);

/** One prompt as ComfyUI runs it: queued, started, nodes with steps and previews, an end (or none seen). */
function scriptArb(promptId) {
  const nodeArb = fc.record({
    node: fc.constantFrom('3', '4', '8', '9'),
    steps: fc.nat({ max: 15 }),
    previews: fc.boolean(),
    snapshots: fc.boolean(),
    output: fc.boolean(),
  });
  return fc
    .record({
      queued: fc.nat({ max: 3 }),
      nodes: fc.array(nodeArb, { maxLength: 4 }),
      end: fc.constantFrom('execution_success', 'execution_error', 'execution_interrupted', 'none'),
      server: fc.constantFrom(undefined, 'a'),
    })
    .map(({ queued, nodes, end, server }) => {
      const base = { prompt_id: promptId, ...(server === undefined ? {} : { server }) };
      const msgs = [];
      for (let i = 0; i < queued; i++) msgs.push({ ...base, topic: 'queue_position', position: queued - i });
      msgs.push({ ...base, topic: 'execution_start' }, { ...base, topic: 'execution_cached' });
      for (const { node, steps, previews, snapshots, output } of nodes) {
        if (snapshots) msgs.push({ ...base, topic: 'progress_state' });
        msgs.push({ ...base, topic: 'executing', node });
        for (let value = 1; value <= steps; value++) {
          if (previews) msgs.push({ ...base, topic: 'preview', node });
          if (snapshots) msgs.push({ ...base, topic: 'progress_state' });
          msgs.push({ ...base, topic: 'progress', node, value, max: steps });
        }
        if (output) msgs.push({ ...base, topic: 'executed', node });
      }
      if (end !== 'none')
        msgs.push({ ...base, topic: end, ...(end === 'execution_success' ? {} : { node: '3' }) }, { ...base, topic: 'executing' });
      return msgs;
    });
}

/** A few prompts and the queue status of two servers, interleaved in any order, each keeping its own order. */
const realisticArb = fc
  .record({
    scripts: fc.tuple(scriptArb('p1'), scriptArb('p2'), scriptArb('p3')),
    statuses: fc.array(fc.constantFrom(undefined, 'a'), { maxLength: 8 }),
    picks: fc.array(fc.nat({ max: 99 }), { maxLength: 300 }),
    dts: fc.array(dtArb, { maxLength: 300 }),
  })
  .map(({ scripts, statuses, picks, dts }) => {
    const lists = [...scripts, statuses.map((server) => ({ topic: 'status', ...(server === undefined ? {} : { server }) }))];
    const events = [];
    for (let i = 0; lists.some((l) => l.length > 0); i++) {
      const open = lists.filter((l) => l.length > 0);
      const msg = open[(picks[i] ?? i) % open.length].shift();
      events.push({ dt: dts[i] ?? 5, msg });
    }
    return events;
  });

/** Anything in any order: every topic, prompt, node and server, paced or not. */
const chaoticArb = fc.array(
  fc.record({
    dt: dtArb,
    msg: fc
      .record({
        topic: fc.constantFrom(
          'progress',
          'progress',
          'progress_state',
          'preview',
          'preview',
          'executing',
          'status',
          'queue_position',
          'execution_start',
          'execution_cached',
          'executed',
          'execution_success',
          'execution_error',
          'execution_interrupted',
          'something_custom',
        ),
        prompt_id: fc.constantFrom(undefined, 'p1', 'p2'),
        node: fc.constantFrom(undefined, '1', '2'),
        server: fc.constantFrom(undefined, 'a', 'b'),
      })
      .map((m) => Object.fromEntries(Object.entries(m).filter(([, v]) => v !== undefined))),
  }),
  { maxLength: 120 },
);

/* ---- examples ---- */

const p = (topic, extra = {}) => ({ dt: 0, msg: { topic, prompt_id: 'p', ...extra } });
const at = (dt, event) => ({ ...event, dt });
const summary = (out) =>
  out.map((o) => `${o.at} ${o.msg.topic}${o.msg.node ? ` ${o.msg.node}` : ''}${o.msg.value ? ` ${o.msg.value}` : ''}`);

describe('progress coalescer', function () {
  it('a burst of progress: the first at once, then one per interval, always the newest, the last one last', function () {
    const events = [];
    for (let value = 1; value <= 20; value++) events.push(at(value === 1 ? 0 : 50, p('progress', { node: '3', value })));
    const result = run(events, { perSecond: 4, previewsPerSecond: 0 });
    // Steps every 50 ms from 0 to 950; slots every 250 ms (a slot's timer runs before a step that comes at the same time).
    assert.deepEqual(summary(result.out), [
      '0 progress 3 1',
      '250 progress 3 5',
      '500 progress 3 10',
      '750 progress 3 15',
      '1000 progress 3 20',
    ]);
    checkInvariants(result, { perSecond: 4, previewsPerSecond: 0 });
  });

  it('keeps the newest per topic and node; a key updated on every step still gets its turn', function () {
    // Each step: preview, snapshot, progress (ComfyUI's order); progress is always the newest.
    const events = [];
    for (let value = 1; value <= 12; value++) {
      events.push(
        at(value === 1 ? 0 : 100, p('preview', { node: '3', value })),
        p('progress_state', { value }),
        p('progress', { node: '3', value }),
      );
    }
    const result = run(events, { perSecond: 10, previewsPerSecond: 0 });
    const progress = result.out.filter((o) => o.msg.topic === 'progress');
    assert.ok(progress.length >= 3, summary(result.out).join('\n'));
    assert.ok(progress[1].at < 1100, 'progress is sent while the steps go on, not only at the end');
    assert.deepEqual(
      ['preview', 'progress_state', 'progress'].map((topic) => result.out.filter((o) => o.msg.topic === topic).at(-1).msg.value),
      [12, 12, 12],
    );
    checkInvariants(result, { perSecond: 10, previewsPerSecond: 0 });
  });

  it("flushes a prompt's waiting msgs before its end, and sends nothing of it after", function () {
    const result = run(
      [
        p('execution_start'),
        p('progress', { node: '3', value: 1 }),
        at(10, p('progress', { node: '3', value: 2 })),
        p('progress_state'),
        at(10, p('execution_success')),
        p('executing'),
      ],
      { perSecond: 1, previewsPerSecond: 0 },
    );
    assert.deepEqual(summary(result.out), [
      '0 execution_start',
      '0 progress 3 1',
      '20 progress 3 2',
      '20 progress_state',
      '20 execution_success',
      '20 executing',
    ]);
    checkInvariants(result, { perSecond: 1, previewsPerSecond: 0 }, { realistic: true });
  });

  it("sends a node's last preview as soon as the prompt moves to another node; the node running now replaces the one before", function () {
    const result = run(
      [
        p('preview', { node: '3', value: 1 }),
        at(10, p('preview', { node: '3', value: 2 })),
        at(10, p('executing', { node: '8' })),
        at(10, p('executing', { node: '9' })),
      ],
      { perSecond: 2, previewsPerSecond: 0 },
    );
    assert.deepEqual(summary(result.out), ['0 preview 3 1', '20 preview 3 2', '520 executing 9']);
    checkInvariants(result, { perSecond: 2, previewsPerSecond: 0 });
  });

  it('previews alone can have a lower rate; without a msg rate everything else passes at once', function () {
    const events = [];
    for (let value = 1; value <= 10; value++)
      events.push(at(value === 1 ? 0 : 100, p('preview', { node: '3', value })), p('progress', { node: '3', value }));
    const result = run(events, { perSecond: 0, previewsPerSecond: 2 });
    assert.equal(result.out.filter((o) => o.msg.topic === 'progress').length, 10);
    assert.deepEqual(
      result.out.filter((o) => o.msg.topic === 'preview').map((o) => `${o.at} ${o.msg.value}`),
      ['0 1', '500 5', '1000 10'],
    );
    checkInvariants(result, { perSecond: 0, previewsPerSecond: 2 });

    const both = run(events, { perSecond: 10, previewsPerSecond: 1 });
    const previews = both.out.filter((o) => o.msg.topic === 'preview');
    assert.deepEqual(
      previews.map((o) => o.msg.value),
      [1, 10],
    );
    checkInvariants(both, { perSecond: 10, previewsPerSecond: 1 });
  });

  it('paces each prompt, and the msgs without a prompt of each server, on their own', function () {
    const events = [
      { dt: 0, msg: { topic: 'progress', prompt_id: 'a', node: '3', value: 1 } },
      { dt: 0, msg: { topic: 'progress', prompt_id: 'b', node: '3', value: 1 } },
      { dt: 0, msg: { topic: 'status', value: 1 } },
      { dt: 0, msg: { topic: 'status', server: 'm1', value: 1 } },
      { dt: 0, msg: { topic: 'status', server: 'm2', value: 1 } },
      { dt: 0, msg: { topic: 'status', server: 'm2', value: 2 } },
    ];
    const result = run(events, { perSecond: 1, previewsPerSecond: 0 });
    assert.deepEqual(
      result.out.map((o) => `${o.at} ${o.msg.prompt_id ?? o.msg.server ?? '-'} ${o.msg.value}`),
      ['0 a 1', '0 b 1', '0 - 1', '0 m1 1', '0 m2 1', '1000 m2 2'],
    );
    checkInvariants(result, { perSecond: 1, previewsPerSecond: 0 });
  });

  it('close stops every timer and sends nothing more', function () {
    const clock = fakeClock();
    const out = [];
    const coalescer = new ProgressCoalescer({ perSecond: 1, previewsPerSecond: 0, clock, send: (msg) => out.push(msg) });
    coalescer.push({ topic: 'progress', prompt_id: 'p', node: '3', value: 1 });
    coalescer.push({ topic: 'progress', prompt_id: 'p', node: '3', value: 2 });
    coalescer.push({ topic: 'status' });
    assert.equal(clock.timers, 2);
    coalescer.close();
    assert.equal(clock.timers, 0);
    assert.equal(coalescer.size, 0);
    coalescer.push({ topic: 'execution_success', prompt_id: 'p' });
    clock.advance(5000);
    assert.deepEqual(
      out.map((m) => m.value ?? m.topic),
      [1, 'status'],
    );
  });

  it('follows at most maxStreams prompts: the oldest is dropped after sending what it held', function () {
    const events = [
      p('progress', { prompt_id: 'a', node: '3', value: 1 }),
      p('progress', { prompt_id: 'a', node: '3', value: 2 }),
      p('progress', { prompt_id: 'b', node: '3', value: 1 }),
      p('progress', { prompt_id: 'c', node: '3', value: 1 }),
    ];
    const clock = fakeClock();
    const out = [];
    const coalescer = new ProgressCoalescer({ perSecond: 1, previewsPerSecond: 0, clock, maxStreams: 2, send: (msg) => out.push(msg) });
    for (const { msg } of events) coalescer.push(msg);
    assert.equal(coalescer.size, 2);
    assert.deepEqual(
      out.map((m) => `${m.prompt_id} ${m.value}`),
      ['a 1', 'b 1', 'a 2', 'c 1'],
    );
    clock.advance(5000);
    assert.equal(coalescer.size, 0);
    assert.equal(clock.timers, 0);
  });

  it('holds the invariants on generated runs of prompts as ComfyUI sends them (fast-check)', function () {
    fc.assert(
      fc.property(realisticArb, ratesArb, (events, rates) => {
        checkInvariants(run(events, rates), rates, { realistic: true });
      }),
      { numRuns: 300 },
    );
  });

  it('holds the invariants on generated runs of any msgs in any order (fast-check)', function () {
    fc.assert(
      fc.property(chaoticArb, ratesArb, (events, rates) => {
        checkInvariants(run(events, rates), rates);
      }),
      { numRuns: 300 },
    );
  });
});
