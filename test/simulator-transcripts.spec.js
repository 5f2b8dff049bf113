'use strict';
// Replays every scenario recorded from a real ComfyUI v0.8.0 (test/fixtures/transcripts) against the
// simulator and compares, request by request and frame by frame, the SHAPE and ORDER of what comes
// back: status codes, headers, JSON bodies (key order, value types, ints vs floats, error texts), the
// WebSocket frames of every socket in order, binary frame layouts. Ids the server generates are mapped
// (prompt ids learned from each POST /prompt answer), timestamps and random names are normalised.
//
// The scenarios run in the recorded order on ONE simulator, like the recording session ran them on
// one server: the queue counter, the history, the cache and the input folder carry over (m lists the
// files k uploaded; n's "latest history item" is k's). The recording session also ran two scenarios
// that are not in the fixtures ("g": two interrupted prompts with queue numbers 24 and 25, "q": two
// prompts numbered 40 and 41), so recorded queue numbers from 26 on are 2 higher (4 from 42 on) and
// the real history held g's entries until i cleared it; the comparison accounts for both.
//
// This file deliberately shares no code with the simulator (it parses JSON with its own number-token
// parser and builds its own PNGs), so a bug in the simulator cannot vouch for itself.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const WebSocket = require('ws');
const { startSimulator } = require('../dist/simulator');
// Our own PNG encoder and multipart bodies, so the test does not trust the simulator's.
const { makePng, multipart } = require('./support');

const DIR = path.join(__dirname, 'fixtures', 'transcripts');
const SCENARIOS = [
  'a_ws_connect',
  'b_save_image',
  'c_preview_image',
  'd_cached_twice',
  'e_invalid_prompts',
  'f_non_json_body',
  'h_queue',
  'i_history',
  'j_view',
  'k_upload_loadimage',
  'l_free',
  'm_info_endpoints',
  'n_api_prefix',
  'o_runtime_error',
  'p_binary_preview_frames',
  'r_prompt_options',
];
/** queue numbers used by the unrecorded scenarios g (24, 25) and q (40, 41) */
const UNRECORDED_NUMBERS = [24, 25, 40, 41];
/** the recorded counter value → the simulator's: minus the unrecorded prompts numbered below it */
function counterShift(v) {
  return UNRECORDED_NUMBERS.filter((n) => n < Math.abs(v)).length;
}
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const TIME_KEYS = new Set(['timestamp', 'create_time', 'execution_start_time', 'execution_end_time']);
const SET_KEYS = new Set(['executed', 'current_outputs']); // Python sets on the real server: order is arbitrary

/* ------------------------------------------------------------------ JSON with number tokens */

/** JSON.parse, but every number becomes {$num: '<token as written>'} so 1.0 and 1 stay different. */
function parseRaw(text) {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const value = () => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const out = {};
      ws();
      if (text[i] === '}') return (i++, out);
      for (;;) {
        ws();
        const k = value();
        ws();
        i++; // :
        Object.defineProperty(out, k, { value: value(), enumerable: true, writable: true, configurable: true });
        ws();
        if (text[i++] === '}') return out;
      }
    }
    if (c === '[') {
      i++;
      const out = [];
      ws();
      if (text[i] === ']') return (i++, out);
      for (;;) {
        out.push(value());
        ws();
        if (text[i++] === ']') return out;
      }
    }
    if (c === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const s = JSON.parse(text.slice(i, j + 1));
      i = j + 1;
      return s;
    }
    for (const [lit, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ]) {
      if (text.startsWith(lit, i)) return ((i += lit.length), v);
    }
    const m = /^(-?(?:Infinity|NaN|\d+(?:\.\d+)?(?:[eE][-+]?\d+)?))/.exec(text.slice(i, i + 64)) || /^NaN/.exec(text.slice(i));
    if (!m) throw new Error(`bad JSON at ${i}: ${text.slice(i, i + 20)}`);
    i += m[0].length;
    return { $num: m[0] };
  };
  const v = value();
  ws();
  if (i !== text.length) throw new Error('trailing data');
  return v;
}
const isNum = (v) => v !== null && typeof v === 'object' && typeof v.$num === 'string';
const num = (v) => (isNum(v) ? Number(v.$num) : v);
const load = (name) => parseRaw(fs.readFileSync(path.join(DIR, `${name}.json`), 'utf8'));

/* -------------------------------------------------------------------- normalisation */

/**
 * Turns a JSON value into a canonical form for comparison. `side` is 'rec' or 'act': recorded
 * prompt ids are mapped to the ids the simulator gave the same prompts, recorded queue numbers are
 * shifted by the counter offset; random parts (temp names, generated sids, data dir) are masked.
 */
function canon(v, ctx, side, key) {
  if (v === null || typeof v === 'boolean') return v;
  if (isNum(v)) {
    if (TIME_KEYS.has(key)) return '<time>';
    if ((key === 'number' || key === 'priority') && side === 'rec') return ctx.mapNumber(v.$num);
    return v.$num;
  }
  if (typeof v === 'string') return canonString(v, ctx, side);
  if (Array.isArray(v)) {
    const isQueueItem = v.length === 5 && typeof v[1] === 'string' && v[2] && typeof v[2] === 'object' && !Array.isArray(v[2]);
    if (isQueueItem) {
      return [
        canon(v[0], ctx, side, 'number'),
        canon(v[1], ctx, side),
        canon(v[2], ctx, side),
        canon(v[3], ctx, side),
        v[4].map((x) => canon(x, ctx, side)).sort(),
      ];
    }
    const items = v.map((x) => canon(x, ctx, side, key));
    return SET_KEYS.has(key) ? items.sort() : items;
  }
  const out = {};
  for (const [k, x] of Object.entries(v)) out[canonString(k, ctx, side)] = canon(x, ctx, side, k);
  return out;
}

function canonString(s, ctx, side) {
  if (UUID.test(s)) return side === 'rec' ? (ctx.ids.get(s) ?? `<unmapped ${s}>`) : s;
  if (/^[0-9a-f]{32}$/.test(s)) return '<generated sid>';
  s = s.replace(/ComfyUI_temp_[a-z]{5}_/g, 'ComfyUI_temp_?????_');
  if (side === 'act') s = s.split(ctx.dataDir).join('/opt/ComfyUI');
  return s;
}

/** Structure and value types only (for answers whose values depend on the machine). */
function shape(v) {
  if (v === null) return 'null';
  if (isNum(v)) return v.$num.includes('.') ? 'float' : 'int';
  if (typeof v !== 'object') return typeof v;
  if (Array.isArray(v)) return ['array', ...[...new Set(v.map((x) => JSON.stringify(shape(x))))].sort().map((s) => JSON.parse(s))];
  const out = {};
  for (const [k, x] of Object.entries(v)) out[k] = shape(x);
  return out;
}

/** Equal content, then equal key order (deepStrictEqual ignores key order). */
function sameCanon(actual, expected, what) {
  assert.deepStrictEqual(actual, expected, what);
  assert.equal(JSON.stringify(actual), JSON.stringify(expected), `${what}: same content but different key order`);
}

/**
 * Bodies the recording only kept as length + first bytes (k's uploads): rebuilt from the labels.
 * The uploaded pictures are our own PNGs, so sizes of what /view returns for them differ.
 */
const UPLOAD_A = makePng(4, 4, [0, 128, 255]);
const UPLOAD_B = makePng(4, 4, [255, 128, 0]);
const REBUILT_BODIES = {
  'k_upload_loadimage#3': () => multipart([{ name: 'image', filename: 'peer_upload.png', value: UPLOAD_A }]),
  'k_upload_loadimage#4': () => multipart([{ name: 'image', filename: 'peer_upload.png', value: UPLOAD_A }]),
  'k_upload_loadimage#5': () => multipart([{ name: 'image', filename: 'peer_upload.png', value: UPLOAD_B }]),
  'k_upload_loadimage#6': () =>
    multipart([
      { name: 'image', filename: 'peer_upload.png', value: UPLOAD_A },
      { name: 'overwrite', value: 'true' },
    ]),
  'k_upload_loadimage#7': () =>
    multipart([
      { name: 'image', filename: 'sub.png', value: UPLOAD_A },
      { name: 'subfolder', value: 'peer_sub' },
    ]),
  'k_upload_loadimage#8': () =>
    multipart([
      { name: 'image', filename: 'tmpup.png', value: UPLOAD_B },
      { name: 'type', value: 'temp' },
    ]),
  'k_upload_loadimage#9': () =>
    multipart([
      { name: 'image', filename: 'escape.png', value: UPLOAD_A },
      { name: 'subfolder', value: '../../escape' },
    ]),
};

/**
 * Answers compared by a rule other than "same canonical JSON", each with its reason.
 * - types: the values describe the machine (RAM, paths, logs), only the structure must match;
 * - history-entries / jobs: each listed entry must equal a recorded one; "+g": the real history
 *   also held the two prompts of the unrecorded scenario g (until i cleared it);
 * - any-html: the recording server served its own placeholder page for "/";
 * - checkpoints: the recording server had no models; the simulator offers FAKE_CHECKPOINTS;
 * - object-info: the recording stored only a summary of the 390 kB answer (446 classes; the
 *   simulator serves the 14 classes it implements, each checked against object_info_full.json);
 * - same-bytes: saved PNGs must be byte-identical to the real server's (same encoder settings).
 */
const RULES = {
  'b_save_image#19': 'same-bytes',
  'j_view#18': 'same-bytes',
  'j_view#19': 'same-bytes',
  'j_view#30': 'same-bytes',
  'h_queue#20': 'jobs+g',
  'i_history#33': 'history-entries+g',
  'i_history#37': 'jobs+g',
  'i_history#41': 'history-entries+g',
  'm_info_endpoints#8': 'checkpoints',
  'm_info_endpoints#12': 'types',
  'm_info_endpoints#18': 'types',
  'm_info_endpoints#19': 'types',
  'm_info_endpoints#20': 'types',
  'm_info_endpoints#23': 'any-html',
  'm_info_endpoints#24': 'any-html',
  'm_info_endpoints#26': 'object-info',
  'n_api_prefix#1': 'types',
  'n_api_prefix#10': 'jobs',
  'n_api_prefix#11': 'jobs',
};

/**
 * Requests the real server handled later than the client sent them. In h the client sent POST #13
 * while EmptyImage "1" ran, but the server answered it (status qr 4, #18) only after node 1 finished
 * and node 10 started (#15–#17): a race inside the recording. Sending #13 after frame #17 reproduces
 * the order the server produced.
 */
const SEND_AFTER = { 'h_queue#13': 18 };

/* -------------------------------------------------------------------------- replay */

function frameInfo(data, isBinary) {
  if (!isBinary) return { kind: 'text', raw: data.toString('utf8') };
  const type = data.readUInt32BE(0);
  const info = { kind: 'binary', length: data.length, type };
  if (type === 1) {
    info.imageType = data.readUInt32BE(4);
    info.magic = data.subarray(8, 16).toString('hex');
  } else if (type === 4) {
    const len = data.readUInt32BE(4);
    info.metadataLength = len;
    info.metadata = parseRaw(data.subarray(8, 8 + len).toString('utf8'));
    info.magic = data.subarray(8 + len, 16 + len).toString('hex');
  }
  return info;
}

async function waitUntil(check, ms) {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 5));
  return check();
}

/** Replays one scenario; returns a list of mismatch descriptions (empty = faithful). */
async function replay(name, sim, ctx) {
  const rec = load(name);
  const problems = [];
  const check = (what, fn) => {
    try {
      fn();
    } catch (e) {
      problems.push(`${what}: ${e.message}`);
    }
  };
  ctx.explicitNumbers = new Set();

  // timeline in recorded order; every recorded frame belongs to the socket last opened with that client id
  const timeline = [...rec.http.map((h) => ({ seq: num(h.seq), http: h })), ...rec.ws.map((w) => ({ seq: num(w.seq), ws: w }))].sort(
    (a, b) => a.seq - b.seq,
  );
  const sockets = []; // { key, expected: [{seq, frame}], got: [], ws }
  const current = new Map();
  for (const ev of timeline) {
    if (!ev.ws) continue;
    if (ev.ws.event === 'open') {
      const key = new URL(ev.ws.url.replace('HOST', 'h')).searchParams.get('clientId');
      const s = { key, openSeq: ev.seq, expected: [], got: [] };
      sockets.push(s);
      current.set(key, s);
      ev.socket = s;
    } else {
      const s = current.get(ev.ws.client_id);
      ev.socket = s;
      if (ev.ws.event === 'text' || ev.ws.event === 'binary') s.expected.push({ seq: ev.seq, frame: ev.ws });
    }
  }
  const httpSeqs = timeline.filter((e) => e.http).map((e) => e.seq);
  const expectedBefore = (s, seq) => s.expected.filter((f) => f.seq < seq).length;
  // Waits for the frames the recording had before `seq` (as soon as they are there); the cap is for a
  // busy machine (CI runs the suite under c8 next to a browser): 5 s once let r_prompt_options ask
  // history before its prompt had finished.
  const waitFrames = async (seq) => {
    await waitUntil(() => sockets.every((s) => !s.ws || s.got.length >= expectedBefore(s, seq)), 20000);
  };

  for (const ev of timeline) {
    if (ev.ws) {
      const s = ev.socket;
      if (ev.ws.event === 'open') {
        s.ws = new WebSocket(ev.ws.url.replace('ws://HOST', sim.url.replace('http://', 'ws://')));
        s.ws.on('message', (data, isBinary) => s.got.push(frameInfo(data, isBinary)));
        await new Promise((resolve, reject) => {
          s.ws.once('open', resolve);
          s.ws.once('error', reject);
        });
      } else if (ev.ws.event === 'sent') {
        s.ws.send(JSON.stringify(plain(ev.ws.data)));
      } else if (ev.ws.event === 'close_by_client') {
        await waitFrames(ev.seq);
        await new Promise((r) => setTimeout(r, 40)); // room for frames that should not come
        s.ws.close();
        await new Promise((r) => s.ws.once('close', r));
        s.ws = undefined;
      }
      continue;
    }
    const h = ev.http;
    const id = `${name}#${ev.seq}`;
    await waitFrames(SEND_AFTER[id] ?? ev.seq);
    // frames recorded after the NEXT request cannot legitimately be here yet
    const nextHttp = httpSeqs.find((q) => q > ev.seq) ?? Infinity;
    for (const s of sockets.filter((x) => x.ws)) {
      check(`${id} (${h.label}) frames before sending`, () =>
        assert.ok(
          s.got.length <= expectedBefore(s, nextHttp),
          `socket ${s.key} already has ${s.got.length} frames, recording had at most ${expectedBefore(s, nextHttp)}`,
        ),
      );
    }
    learnTempNames(sockets, ctx);
    const res = await send(sim, h, id, ctx);
    compareHttp(id, h, res, ctx, check);
  }
  for (const s of sockets) compareFrames(name, s, ctx, check);
  return problems;
}

/** The recorded value with number tokens turned back into numbers (for request bodies). */
function plain(v) {
  if (isNum(v)) return Number(v.$num);
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

/** Recorded prompt ids and random temp names in a request become the simulator's. */
function mapIds(s, ctx) {
  return s
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, (u) => ctx.ids.get(u) ?? u)
    .replace(/ComfyUI_temp_[a-z]{5}_/g, (t) => ctx.temps.get(t) ?? t);
}

/** Learns which random PreviewImage prefix the simulator used where the recording had another. */
function learnTempNames(sockets, ctx) {
  for (const s of sockets) {
    for (let i = 0; i < Math.min(s.got.length, s.expected.length); i++) {
      const rec = s.expected[i].frame;
      const got = s.got[i];
      if (rec.event !== 'text' || got.kind !== 'text') continue;
      const want = JSON.stringify(plain(rec.data)).match(/ComfyUI_temp_[a-z]{5}_/g) ?? [];
      const have = got.raw.match(/ComfyUI_temp_[a-z]{5}_/g) ?? [];
      want.forEach((t, k) => have[k] && ctx.temps.set(t, have[k]));
    }
  }
}

async function send(sim, h, id, ctx) {
  const req = h.request;
  const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
  let body;
  if (REBUILT_BODIES[id]) {
    const built = REBUILT_BODIES[id]();
    body = built.body;
    headers['Content-Type'] = built.contentType;
  } else if (req.body && req.body.json !== undefined) {
    // the raw tokens keep -1000 vs -1000.0 as the client wrote them
    body = mapIds(rawJson(req.body.json), ctx);
    const sentNumber = req.body.json && req.body.json.number;
    if (isNum(sentNumber)) ctx.explicitNumbers.add(Number(sentNumber.$num));
  } else if (req.body && req.body.text !== undefined) {
    body = req.body.text;
  } else if (req.body && req.body.length !== undefined && num(req.body.length) === 0) {
    body = '';
  }
  const res = await fetch(sim.url + mapIds(req.path, ctx), { method: req.method, headers, body });
  const buf = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, body: buf };
}

function rawJson(v) {
  if (isNum(v)) return v.$num;
  if (Array.isArray(v)) return `[${v.map(rawJson).join(', ')}]`;
  if (v && typeof v === 'object')
    return `{${Object.entries(v)
      .map(([k, x]) => `${JSON.stringify(k)}: ${rawJson(x)}`)
      .join(', ')}}`;
  return JSON.stringify(v);
}

function compareHttp(id, h, res, ctx, check) {
  const want = h.response;
  const rule = RULES[id];
  const what = `${id} ${h.request.method} ${h.request.path} (${h.label})`;
  check(`${what} status`, () => assert.equal(res.status, num(want.status)));
  const wantType = want.headers['content-type'];
  check(`${what} content-type`, () => assert.equal(res.headers.get('content-type'), wantType ?? null));
  check(`${what} server header`, () => assert.equal(res.headers.get('server'), want.headers.server));
  if (want.headers['content-disposition']) {
    check(`${what} content-disposition`, () =>
      assert.equal(
        canonString(res.headers.get('content-disposition') ?? '', ctx, 'act'),
        canonString(want.headers['content-disposition'], ctx, 'rec'),
      ),
    );
  }
  const body = want.body;
  if (body.length !== undefined && num(body.length) === 0) {
    check(`${what} empty body`, () => assert.equal(res.body.length, 0));
    check(`${what} content-length`, () => assert.equal(res.headers.get('content-length'), '0'));
    return;
  }
  if (body.binary) {
    const magic = res.body.subarray(0, 8).toString('hex');
    const wantMagic = body.first8bytes_hex;
    if (wantType === 'image/webp')
      check(`${what} RIFF/WEBP`, () =>
        assert.equal(magic.slice(0, 8) + res.body.subarray(8, 12).toString('latin1'), wantMagic.slice(0, 8) + 'WEBP'),
      );
    else check(`${what} magic`, () => assert.equal(magic, wantMagic));
    if (rule === 'same-bytes') {
      check(`${what} bytes`, () =>
        assert.equal(crypto.createHash('sha256').update(res.body).digest('hex'), body.sha256, "the PNG differs from the real server's"),
      );
    }
    return;
  }
  if (body.text !== undefined) {
    if (rule === 'any-html') check(`${what} html`, () => assert.match(res.body.toString(), /^<!doctype html>/i));
    else check(`${what} text`, () => assert.equal(res.body.toString('utf8'), body.text));
    return;
  }
  let actual;
  try {
    actual = parseRaw(res.body.toString('utf8'));
  } catch (e) {
    check(`${what} JSON`, () => assert.fail(`not JSON: ${res.body.toString('utf8').slice(0, 200)}`));
    return;
  }
  // learn the ids the simulator gave each recorded prompt from the POST /prompt answers
  if (
    h.request.path.endsWith('/prompt') &&
    h.request.method === 'POST' &&
    body.json &&
    typeof body.json.prompt_id === 'string' &&
    actual.prompt_id
  ) {
    ctx.ids.set(body.json.prompt_id, actual.prompt_id);
  }
  if (rule === 'types') {
    check(`${what} shape`, () => sameCanon(shape(actual), shape(body.json), what));
    return;
  }
  if (rule === 'checkpoints') {
    check(`${what} checkpoints`, () => assert.ok(Array.isArray(actual) && actual.length > 0 && actual.every((x) => typeof x === 'string')));
    return;
  }
  if (rule === 'object-info') {
    check(`${what} object_info`, () => compareObjectInfo(actual, body, ctx));
    return;
  }
  const missing = rule && rule.endsWith('+g') ? 2 : 0;
  if (rule && rule.startsWith('history-entries')) {
    check(`${what} history`, () => compareEntries(Object.values(actual), Object.values(body.json), ctx, missing, what));
    return;
  }
  if (rule && rule.startsWith('jobs')) {
    check(`${what} jobs`, () => {
      const limited = !isNum(body.json.pagination.limit) ? false : true;
      compareEntries(actual.jobs, body.json.jobs, ctx, limited ? 0 : missing, what);
      const wantPage = canon(body.json.pagination, ctx, 'rec');
      wantPage.total = String(Number(wantPage.total) - missing);
      sameCanon(canon(actual.pagination, ctx, 'act'), wantPage, `${what} pagination`);
    });
    return;
  }
  check(`${what} body`, () => sameCanon(canon(actual, ctx, 'act'), canon(body.json, ctx, 'rec'), what));
  // Python's formatting (", " separators, 1.0 floats) gives the same byte count for the same content;
  // not comparable where the recorder shortened paths to /opt/... (see the fixtures' README)
  if (!JSON.stringify(canon(body.json, ctx, 'rec')).includes('<unmapped') && !JSON.stringify(plain(body.json)).includes('/opt/')) {
    check(`${what} content-length`, () => assert.equal(res.headers.get('content-length'), want.headers['content-length']));
  }
}

/** Each actual entry must match a recorded one; counts differ only by the unrecorded scenario g. */
function compareEntries(actual, recorded, ctx, missing, what) {
  const rec = recorded.map((x) => JSON.stringify(canon(x, ctx, 'rec')));
  for (const a of actual) {
    const c = JSON.stringify(canon(a, ctx, 'act'));
    assert.ok(rec.includes(c), `${what}: entry not in the recording:\n${c}\nrecorded entries:\n${rec.join('\n')}`);
  }
  assert.equal(actual.length, recorded.length - missing, `${what}: entry count`);
}

/** GET /object_info: every class the simulator serves equals the real definition from object_info_full.json. */
function compareObjectInfo(actual, summary, ctx) {
  const full = parseRaw(fs.readFileSync(path.join(DIR, 'object_info_full.json'), 'utf8'));
  assert.equal(num(summary.node_count), Object.keys(full).length);
  const classes = Object.keys(actual);
  assert.ok(classes.length >= 12, 'the simulator serves at least the classes it implements');
  for (const cls of classes) {
    const want = JSON.parse(JSON.stringify(full[cls]));
    assert.ok(want, `${cls} is a real ComfyUI class`);
    const got = JSON.parse(JSON.stringify(actual[cls]));
    // the two file combos are filled from the server's folders (the recording server had no models)
    if (cls === 'CheckpointLoaderSimple') want.input.required.ckpt_name[0] = got.input.required.ckpt_name[0];
    sameCanon(got, want, cls);
  }
  sameCanon(canon(actual.SaveImage, ctx, 'act'), canon(summary.json_excerpt.SaveImage, ctx, 'rec'), 'SaveImage excerpt');
}

function compareFrames(name, s, ctx, check) {
  const what = `${name} socket ${s.key ?? '(no clientId)'}`;
  const got = s.got.map((f) => describeFrame(f, ctx, 'act'));
  const want = s.expected.map(({ frame }) => describeFrame(frame, ctx, 'rec'));
  check(`${what} frame types in order`, () =>
    assert.deepStrictEqual(
      got.map((f) => f.label),
      want.map((f) => f.label),
    ),
  );
  for (let i = 0; i < Math.min(got.length, want.length); i++) {
    check(`${what} frame ${i} (${want[i].label}, recorded seq ${s.expected[i].seq})`, () => sameCanon(got[i].body, want[i].body, 'frame'));
  }
}

function describeFrame(f, ctx, side) {
  if (side === 'act' && f.kind === 'text') {
    const data = parseRaw(f.raw);
    return { label: data.type, body: canon(data, ctx, 'act') };
  }
  if (side === 'rec' && f.event === 'text') return { label: f.data.type, body: canon(f.data, ctx, 'rec') };
  // binary: event type, image format word or metadata, image magic, exact length
  if (side === 'act') {
    const body = { type: String(f.type), length: String(f.length), magic: f.magic };
    if (f.type === 1) body.imageType = String(f.imageType);
    if (f.type === 4) Object.assign(body, { metadataLength: String(f.metadataLength), metadata: canon(f.metadata, ctx, 'act') });
    return { label: `binary/${f.type}`, body };
  }
  const type = num(f.event_type_u32be);
  const body = { type: String(type), length: String(num(f.length)), magic: f.image_magic_hex };
  if (type === 1) body.imageType = String(num(f.image_type_u32be));
  if (type === 4) Object.assign(body, { metadataLength: String(num(f.metadata_length)), metadata: canon(f.metadata_json, ctx, 'rec') });
  return { label: `binary/${type}`, body };
}

/* --------------------------------------------------------------------------- tests */

describe('simulator vs recorded ComfyUI v0.8.0 traffic', function () {
  this.timeout(20000);
  let sim;
  let dataDir;
  const ctx = { ids: new Map(), temps: new Map(), dataDir: '' };

  before(async function () {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sim-transcripts-'));
    ctx.dataDir = dataDir;
    ctx.mapNumber = (token) => {
      const v = Number(token);
      if (ctx.explicitNumbers.has(v) || token.includes('.')) return token; // client-chosen numbers come back as floats
      return String(v >= 0 ? v - counterShift(v) : v + counterShift(v)); // `front` numbers are the negated counter
    };
    // Timings stand in for the recording CPU: its ImageBlur of 320×320 took ~10 s (h and r queue more
    // prompts and interrupt while it runs; 1 s is plenty here), and its EmptyImage of 320×320 took
    // ~5 ms, long enough that h's next two POSTs were answered while it ran (300 ms keeps that order even on a busy machine).
    sim = await startSimulator({ testControls: true, dataDir, stepMs: 2, nodeMs: 1, nodeMsByClass: { ImageBlur: 1000, EmptyImage: 300 } });
  });

  after(async function () {
    try {
      await sim?.close();
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  for (const name of SCENARIOS) {
    it(`replays ${name}`, async function () {
      this.timeout(120000);
      const problems = await replay(name, sim, ctx);
      if (problems.length > 0) assert.fail(`${problems.length} difference(s) from the recording:\n\n${problems.join('\n\n')}`);
    });
  }

  it('covers every recorded scenario file', function () {
    const files = fs
      .readdirSync(DIR)
      .filter((f) => /^[a-z]_.*\.json$/.test(f))
      .map((f) => f.replace(/\.json$/, ''));
    assert.deepEqual(files.sort(), [...SCENARIOS].sort());
  });

  it('left no server-side socket open', async function () {
    assert.ok(await waitUntil(() => sim.openSocketCount() === 0, 2000));
  });
});

module.exports = { parseRaw, canon, replay };
