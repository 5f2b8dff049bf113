'use strict';
/**
 * The images node's "to files" mode over real sockets against the simulator: files streamed into
 * a directory under templated names, the "if the file exists" rule, every way a name could leave
 * the directory (the template, ComfyUI's own names from the wire, symbolic links), and downloads
 * that fail or are stopped part way leaving no file behind.
 */
const assert = require('node:assert/strict');
const {
  mkdtempSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  openSync,
  closeSync,
  ftruncateSync,
} = require('node:fs');
const { tmpdir } = require('node:os');
const { basename, join, sep } = require('node:path');
const {
  helper,
  allNodes,
  nextMessage,
  nextError,
  collectMessages,
  saveImageWorkflow,
  isPng,
  makePng,
  noisyPng,
  useSimulator,
  startSimulator,
  waitFor,
} = require('./support');

/** Every file below `dir`, as paths relative to it (folders end in /). */
function listTree(dir) {
  const out = [];
  const walk = (rel) => {
    for (const entry of readdirSync(join(dir, rel), { withFileTypes: true })) {
      const path = rel ? `${rel}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        out.push(`${path}/`);
        walk(path);
      } else out.push(path);
    }
  };
  walk('');
  return out.sort();
}

/** A history answer with these outputs (what a hostile or broken server could send). */
function historyOf(promptId, outputs) {
  return JSON.stringify({
    [promptId]: {
      prompt: [0, promptId, {}, {}, Object.keys(outputs)],
      outputs,
      status: { status_str: 'success', completed: true, messages: [] },
      meta: {},
    },
  });
}

describe('comfyui-images to files', function () {
  const env = useSimulator({ testControls: true });
  let root; // a scratch folder per test: the directory lives in it, and so does what must stay outside
  let dir;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'comfyui-files-spec-'));
    dir = join(root, 'out');
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  async function load(props = {}, server = {}) {
    const flow = [
      { id: 'tab', type: 'tab' },
      { id: 'srv', type: 'comfyui-server', url: env.sim.url, timeout: 5, ...server },
      { id: 'sub', z: 'tab', type: 'comfyui-submit', server: 'srv', workflow: '', mode: 'wait', wires: [['img']] },
      {
        id: 'img',
        z: 'tab',
        type: 'comfyui-images',
        server: 'srv',
        output: 'files',
        directory: dir,
        directoryType: 'str',
        ...props,
        wires: [['out']],
      },
      { id: 'out', z: 'tab', type: 'helper' },
    ];
    await helper.load(allNodes, flow);
    return { sub: helper.getNode('sub'), img: helper.getNode('img'), out: helper.getNode('out') };
  }

  /** The bytes /view answers for a ref, fetched on their own (not through the node). */
  async function viewBytes(ref) {
    const url = new URL('/view', env.sim.url);
    for (const key of ['filename', 'subfolder', 'type']) url.searchParams.set(key, ref[key]);
    return Buffer.from(await (await fetch(url)).arrayBuffer());
  }

  it('streams every file of a prompt to the directory: msg.payload the path, with filename, size, contentType and parts', async function () {
    const { sub, out } = await load({ template: '{prompt_id}/{node}-{index}-{filename}' });
    const got = collectMessages(out, 2);
    sub.receive({ payload: saveImageWorkflow({ width: 40, height: 24, batch: 2, prefix: 'disk' }) });
    const msgs = await got;
    for (const [index, msg] of msgs.entries()) {
      assert.equal(msg.payload, join(dir, msg.prompt_id, `2-${index}-${msg.image.filename}`));
      assert.equal(msg.filename, msg.payload);
      assert.equal(msg.contentType, 'image/png');
      const written = readFileSync(msg.payload);
      assert.ok(isPng(written));
      assert.equal(msg.size, written.length);
      assert.deepEqual(written, await viewBytes(msg.image), 'the same bytes as /view');
      assert.deepEqual(msg.parts, { id: msgs[0].parts.id, index, count: 2, type: 'array' });
    }
    // Nothing else: no temporary file left next to them.
    assert.deepEqual(
      listTree(dir),
      [`${msgs[0].prompt_id}/`, ...msgs.map((m) => `${m.prompt_id}/2-${m.parts.index}-${m.image.filename}`)].sort(),
    );
  });

  it('writes the outputs the client already holds too: SaveImageWebsocket images and a text, without /view', async function () {
    const { sub, out } = await load({ template: '{prompt_id}/{filename}' });
    env.sim.faults.failRoute('GET', '/view', 500, 'no /view expected');
    const got = collectMessages(out, 3);
    sub.receive({
      payload: {
        1: { class_type: 'EmptyImage', inputs: { width: 20, height: 10, batch_size: 2, color: 0x00ff00 } },
        2: { class_type: 'SaveImageWebsocket', inputs: { images: ['1', 0] } },
        3: { class_type: 'PrimitiveString', inputs: { value: 'a caption' } },
        4: { class_type: 'PreviewAny', inputs: { source: ['3', 0] } },
      },
    });
    const msgs = await got;
    const byKind = (kind) => msgs.filter((m) => m.kind === kind);
    assert.equal(byKind('image').length, 2);
    for (const msg of byKind('image')) {
      assert.equal(msg.payload, join(dir, msg.prompt_id, basename(msg.payload)));
      assert.match(basename(msg.payload), /^websocket_2_[01]\.png$/);
      const written = readFileSync(msg.payload);
      assert.ok(isPng(written));
      assert.equal(msg.size, written.length);
    }
    const [text] = byKind('text');
    assert.equal(readFileSync(text.payload, 'utf8'), 'a caption');
    assert.equal(text.size, Buffer.byteLength('a caption'));
  });

  it('reads the directory from msg, env, flow or global per msg (a TypedInput)', async function () {
    process.env.COMFYUI_FILES_SPEC_DIR = join(root, 'from-env');
    try {
      const { sub, img, out } = await load({ directory: 'target', directoryType: 'msg', template: 'x.{ext}', existing: 'overwrite' });
      const first = nextMessage(out);
      sub.receive({ payload: saveImageWorkflow({ prefix: 'typed' }), target: join(root, 'from-msg') });
      const msg = await first;
      assert.equal(msg.payload, join(root, 'from-msg', 'x.png'));
      assert.ok(isPng(readFileSync(msg.payload)));
      await helper.unload();
      await load({ directory: 'COMFYUI_FILES_SPEC_DIR', directoryType: 'env', template: 'y.{ext}' });
      const again = nextMessage(helper.getNode('out'));
      helper.getNode('img').receive({ payload: { images: [msg.image] } });
      assert.equal((await again).payload, join(root, 'from-env', 'y.png'));
      assert.ok(img, 'the first flow had its node');
    } finally {
      delete process.env.COMFYUI_FILES_SPEC_DIR;
    }
  });

  describe('when the file exists', function () {
    async function twice(existing) {
      const { sub, img, out } = await load({ template: 'same.png', existing });
      const first = nextMessage(out);
      sub.receive({ payload: saveImageWorkflow({ prefix: 'twice', color: 0x00ff00 }) });
      const one = await first;
      const before = readFileSync(one.payload);
      const ref = one.image;
      return { img, out, one, before, ref };
    }

    it('keeps both by default, numbering the new one', async function () {
      const { img, out, one, ref } = await twice(undefined);
      const next = collectMessages(out, 2);
      img.receive({ payload: { images: [ref, ref] } });
      const [two, three] = await next;
      assert.equal(one.payload, join(dir, 'same.png'));
      assert.equal(two.payload, join(dir, 'same (1).png'));
      assert.equal(three.payload, join(dir, 'same (2).png'));
      assert.deepEqual(listTree(dir), ['same (1).png', 'same (2).png', 'same.png']);
    });

    it('overwrites it when set to', async function () {
      const { img, out, ref } = await twice('overwrite');
      writeFileSync(join(dir, 'same.png'), 'old');
      const next = nextMessage(out);
      img.receive({ payload: { images: [ref] } });
      const msg = await next;
      assert.equal(msg.payload, join(dir, 'same.png'));
      assert.ok(isPng(readFileSync(msg.payload)), 'the old content was replaced');
      assert.deepEqual(listTree(dir), ['same.png']);
    });

    it('fails with FILE_EXISTS when set to, leaving the old file as it was', async function () {
      const { img, ref } = await twice('fail');
      writeFileSync(join(dir, 'same.png'), 'old');
      const failed = nextError(img);
      img.receive({ payload: { images: [ref] } });
      const err = await failed;
      assert.equal(err.code, 'FILE_EXISTS');
      assert.match(err.message, /same\.png exists/);
      assert.equal(readFileSync(join(dir, 'same.png'), 'utf8'), 'old');
      assert.deepEqual(listTree(dir), ['same.png']);
    });
  });

  describe('never writes outside the directory', function () {
    for (const template of [
      '../{filename}',
      'a/../../{filename}',
      '/etc/{filename}',
      'C:\\x\\{filename}',
      '{nope}.png',
      'a//b.png',
      'CON',
      'nul.png',
      'x\u0000.png',
      '.. /x.png',
      'a:b.png',
    ]) {
      it(`refuses the template ${JSON.stringify(template)} with BAD_INPUT before fetching anything`, async function () {
        const { img } = await load({ template });
        const failed = nextError(img);
        const views = env.sim.requestLog.filter((r) => r.url.startsWith('/view')).length;
        img.receive({ payload: { images: [{ filename: 'a.png', subfolder: '', type: 'output' }] } });
        const err = await failed;
        assert.equal(err.code, 'BAD_INPUT');
        assert.match(err.message, /The File name setting/);
        assert.equal(env.sim.requestLog.filter((r) => r.url.startsWith('/view')).length, views, 'no /view request');
        assert.deepEqual(listTree(root), [], 'nothing written anywhere, not even the directory');
      });
    }

    it('refuses a relative or missing directory', async function () {
      const { img } = await load({ directory: 'relative/dir' });
      const failed = nextError(img);
      img.receive({ payload: { images: [{ filename: 'a.png', subfolder: '', type: 'output' }] } });
      const err = await failed;
      assert.equal(err.code, 'BAD_INPUT');
      assert.match(err.message, /must be an absolute path/);
      await helper.unload();
      const again = await load({ directory: 'nowhere', directoryType: 'msg' });
      const missing = nextError(again.img);
      again.img.receive({ payload: { images: [{ filename: 'a.png', subfolder: '', type: 'output' }] } });
      assert.match((await missing).message, /msg\.nowhere is not set/);
    });

    it("makes ComfyUI's names from the wire safe: a hostile history's file names and node ids stay inside", async function () {
      const promptId = 'hostile-history';
      const outputs = {
        '../../up': { images: [{ filename: 'CON.png', subfolder: '', type: 'output' }] },
        '/abs': { images: [{ filename: 'a<b>|c?*.png', subfolder: '', type: 'output' }] },
        'C:': { images: [{ filename: 'dots. . ', subfolder: '', type: 'output' }] },
        // A name that is a path never even becomes a ref (outputs.ts leaves it out at the boundary).
        9: { images: [{ filename: '../../../escape.png', subfolder: '../..', type: 'output' }] },
      };
      env.sim.faults.failRoute('GET', `/history/${promptId}`, 200, historyOf(promptId, outputs), 'application/json');
      // Whatever is asked for, /view answers with a PNG: the server is the one being hostile here.
      env.sim.faults.streamRoute('GET', '/view', { contentType: 'image/png', chunk: makePng(4, 4), everyMs: 1, count: 1 });
      const { img, out } = await load({ template: '{node}/{filename}' });
      const got = collectMessages(out, 3);
      img.receive({ prompt_id: promptId });
      const msgs = await got;
      for (const msg of msgs) {
        assert.ok(msg.payload.startsWith(dir + sep), `${msg.payload} is inside ${dir}`);
        assert.ok(isPng(readFileSync(msg.payload)));
      }
      assert.deepEqual(
        msgs.map((m) => m.payload.slice(dir.length + 1)).sort(),
        ['.._.._up/_CON.png', '_abs/a_b__c__.png', 'C_/dots'].map((p) => p.split('/').join(sep)).sort(),
      );
      assert.deepEqual(
        listTree(root),
        ['out/', 'out/.._.._up/', 'out/.._.._up/_CON.png', 'out/C_/', 'out/C_/dots', 'out/_abs/', 'out/_abs/a_b__c__.png'].sort(),
      );
    });

    it('refuses a folder that a symbolic link leads outside, creating nothing there', async function () {
      const outside = join(root, 'outside');
      mkdirSync(outside);
      mkdirSync(dir);
      symlinkSync(outside, join(dir, 'link'), 'dir');
      const { img } = await load({ template: 'link/deeper/{filename}' });
      const failed = nextError(img);
      img.receive({ payload: { images: [{ filename: 'a.png', subfolder: '', type: 'output' }] } });
      const err = await failed;
      assert.equal(err.code, 'BAD_INPUT');
      assert.match(err.message, /leads outside the directory/);
      assert.deepEqual(readdirSync(outside), [], 'not even the folder was created outside');
    });

    it('follows a symbolic link that stays inside the directory', async function () {
      mkdirSync(join(dir, 'real'), { recursive: true });
      symlinkSync(join(dir, 'real'), join(dir, 'alias'), 'dir');
      const { sub, out } = await load({ template: 'alias/{filename}' });
      const got = nextMessage(out);
      sub.receive({ payload: saveImageWorkflow({ prefix: 'linked' }) });
      const msg = await got;
      assert.equal(msg.payload, join(dir, 'real', msg.image.filename), 'the real path');
      assert.ok(isPng(readFileSync(msg.payload)));
    });
  });

  describe('a download that does not complete leaves no file', function () {
    const ref = { filename: 'big.png', subfolder: '', type: 'output' };
    /** /view answers with a PNG head and then drips forever. */
    function dripForever() {
      env.sim.faults.streamRoute('GET', '/view', { contentType: 'image/png', chunk: makePng(64, 64), everyMs: 5, count: Infinity });
    }

    it('when the node is closed part way (the temporary file is removed)', async function () {
      dripForever();
      const { img } = await load();
      img.receive({ payload: { images: [ref] } });
      // The download has started writing: its temporary file is there.
      await waitFor(() => listTree(root).some((p) => p.endsWith('.part')), 'the temporary file');
      await helper.unload();
      await waitFor(() => listTree(root).join() === 'out/', 'the temporary file to be removed');
      assert.deepEqual(listTree(root), ['out/']);
    });

    it('when the server goes away part way (NETWORK "cut off", not FILE_WRITE; not retried once writing began)', async function () {
      dripForever();
      const { img } = await load();
      const failed = nextError(img, 15000);
      img.receive({ payload: { images: [ref] } });
      await waitFor(() => listTree(root).some((p) => p.endsWith('.part')), 'the temporary file');
      await env.sim.faults.restart(); // every connection of the server ends, the download's too
      const err = await failed;
      assert.equal(err.code, 'NETWORK');
      assert.match(err.message, /cut off/);
      await waitFor(() => listTree(root).join() === 'out/', 'the temporary file to be removed');
    });

    it('when it takes longer than the download time limit (TIMEOUT)', async function () {
      dripForever();
      const { img } = await load({}, { downloadTimeout: 1 });
      const failed = nextError(img, 15000);
      img.receive({ payload: { images: [ref] } });
      const err = await failed;
      assert.equal(err.code, 'TIMEOUT');
      assert.deepEqual(listTree(root), ['out/']);
    });

    it('when it grows past the Largest file setting (TOO_LARGE), even without a Content-Length', async function () {
      env.sim.faults.streamRoute('GET', '/view', {
        contentType: 'image/png',
        chunk: noisyPng(128, 128),
        everyMs: 0,
        count: 100,
      });
      const { img } = await load({}, { maxFileMB: 1 });
      const failed = nextError(img);
      img.receive({ payload: { images: [ref] } });
      const err = await failed;
      assert.equal(err.code, 'TOO_LARGE');
      assert.match(err.message, /Largest file/);
      assert.deepEqual(listTree(root), ['out/']);
    });

    it('when ComfyUI answers an error or an HTML page instead (nothing is even opened)', async function () {
      env.sim.faults.failRoute('GET', '/view', 500, 'boom', 'text/plain', 1);
      const { img } = await load();
      const failed = nextError(img);
      img.receive({ payload: { images: [ref] } });
      const err = await failed;
      assert.equal(err.code, 'HTTP');
      assert.equal(err.status, 500);
      env.sim.faults.failRoute('GET', '/view', 200, '<!doctype html><title>Login</title>', 'text/html', 1);
      const html = nextError(img);
      img.receive({ payload: { images: [ref] } });
      assert.equal((await html).code, 'BAD_RESPONSE');
      assert.deepEqual(listTree(root), ['out/']);
    });

    it('when the directory cannot be written (FILE_WRITE)', async function () {
      mkdirSync(dir);
      writeFileSync(join(dir, 'blocker'), 'a file where a folder should be');
      const { sub, img } = await load({ template: 'blocker/{filename}' });
      const failed = nextError(img);
      sub.receive({ payload: saveImageWorkflow({ prefix: 'blocked' }) });
      const err = await failed;
      assert.equal(err.code, 'FILE_WRITE');
      assert.match(err.message, /The folder .*blocker cannot be created: a file has that name/);
      assert.deepEqual(listTree(root), ['out/', 'out/blocker']);
    });
  });
});

describe('comfyui-images to files: a file larger than memory should hold', function () {
  // The simulator serves a sparse file from its own folder (streamed from disk), so neither side holds it.
  const SIZE = 384 * 1024 * 1024;
  let dataDir;
  let sim;
  before(async function () {
    await helper.startServer();
    dataDir = mkdtempSync(join(tmpdir(), 'comfyui-files-large-'));
    mkdirSync(join(dataDir, 'output'), { recursive: true });
    const fd = openSync(join(dataDir, 'output', 'huge.bin'), 'w');
    ftruncateSync(fd, SIZE);
    closeSync(fd);
    sim = await startSimulator({ dataDir });
  });
  after(async function () {
    await helper.unload();
    await sim.close();
    await helper.stopServer();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('streams 384 MB to disk while the process grows by far less than the file', async function () {
    this.timeout(120000);
    const target = join(dataDir, 'copies');
    await helper.load(allNodes, [
      { id: 'srv', type: 'comfyui-server', url: sim.url, maxFileMB: 512 },
      { id: 'img', type: 'comfyui-images', server: 'srv', output: 'files', directory: target, wires: [['out']] },
      { id: 'out', type: 'helper' },
    ]);
    global.gc?.();
    const before = process.memoryUsage.rss();
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage.rss())), 5);
    const got = nextMessage(helper.getNode('out'), 110000);
    helper.getNode('img').receive({ payload: { images: [{ filename: 'huge.bin', subfolder: '', type: 'output' }] } });
    const msg = await got;
    clearInterval(sampler);
    assert.equal(msg.size, SIZE);
    assert.equal(statSync(msg.payload).size, SIZE);
    assert.equal(msg.contentType, 'application/octet-stream');
    // A Buffer of the file would be 384 MB; streaming keeps the growth to buffers in flight (and GC slack).
    assert.ok(peak - before < SIZE / 4, `the process grew by ${Math.round((peak - before) / 1048576)} MB`);
  });
});

describe('comfyui-images to files: names (property-based)', function () {
  const fc = require('fast-check');
  const { resolve, relative, isAbsolute } = require('node:path');
  const { expandTemplate, safeName, isSafeName, numberedName, templateProblem, TEMPLATE_FIELDS } = require('../dist/nodes/file-target.js');
  const ROOT = resolve(tmpdir(), 'comfyui-names-root');
  const RESERVED = /^(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³])(\..*)?$/i;

  /** Pieces that make names dangerous, mixed with ordinary text and any Unicode. */
  const hostile = fc
    .array(
      fc.oneof(
        fc.constantFrom(
          '..',
          '.',
          '/',
          '\\',
          ':',
          '\u0000',
          '\n',
          ' ',
          'C:',
          'CON',
          'nul.txt',
          'com1',
          '<',
          '|',
          '?',
          '*',
          '"',
          '~',
          '%2e%2e',
          '\uD800',
        ),
        fc.constantFrom(...TEMPLATE_FIELDS.map((f) => `{${f}}`), '{', '}', '{x}'),
        fc.string({ unit: 'binary', maxLength: 8 }),
        fc.string({ minLength: 200, maxLength: 300 }),
      ),
      { maxLength: 12 },
    )
    .map((pieces) => pieces.join(''));
  const fields = fc.record(Object.fromEntries(TEMPLATE_FIELDS.map((f) => [f, fc.oneof(hostile, fc.string({ unit: 'binary' }))])));

  /** What every name that reaches the disk must be. */
  function assertUsableName(name) {
    assert.ok(name.length > 0, 'not empty');
    // eslint-disable-next-line no-control-regex
    assert.ok(!/[\u0000-\u001f\u007f<>:"/\\|?*]/.test(name), `no separator or character a file system refuses: ${JSON.stringify(name)}`);
    assert.ok(name !== '.' && name !== '..', 'not . or ..');
    assert.ok(!/[. ]$/.test(name), 'no trailing dot or space (Windows drops them)');
    assert.ok(!RESERVED.test(name), `not a Windows device name: ${name}`);
    assert.ok(Buffer.byteLength(name, 'utf8') <= 255, 'at most 255 bytes');
    assert.ok(!/\p{Cs}/u.test(name), 'no lone surrogate');
  }

  it('safeName gives a usable name for any text, and leaves a usable one as it is', function () {
    fc.assert(
      fc.property(fc.oneof(hostile, fc.string({ unit: 'binary' })), (value) => {
        const name = safeName(value);
        assertUsableName(name);
        assert.equal(safeName(name), name, 'idempotent');
        assert.ok(isSafeName(name));
      }),
      { numRuns: 2000 },
    );
  });

  it('a template is refused, or every file it names for any values lies strictly inside the directory', function () {
    fc.assert(
      fc.property(hostile, fields, (template, values) => {
        if (templateProblem(template) !== undefined) return;
        const segments = expandTemplate(template, values);
        segments.forEach(assertUsableName);
        const target = resolve(ROOT, ...segments);
        const rel = relative(ROOT, target);
        assert.ok(rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel), `${target} is inside ${ROOT}`);
        assert.equal(rel.split(sep).length, segments.length, 'no segment was resolved away');
      }),
      { numRuns: 3000 },
    );
  });

  it('refuses templates that could leave the directory', function () {
    for (const template of [
      '..',
      '../x',
      'a/../b',
      '/x',
      '\\x',
      'C:x',
      'a/./b',
      'x/',
      'a//b',
      '.. /x',
      'x\u0000',
      'CON',
      'Lpt1.txt',
      'x:y',
    ]) {
      assert.ok(templateProblem(template), `${JSON.stringify(template)} is refused`);
    }
    assert.equal(templateProblem('{prompt_id}/{node}_{index}.{ext}'), undefined);
  });

  it('numberedName keeps the extension and stays a usable name', function () {
    fc.assert(
      fc.property(fc.oneof(hostile, fc.string()), fc.integer({ min: 1, max: 10000 }), (value, n) => {
        const name = safeName(value);
        const numbered = numberedName(name, n);
        assertUsableName(numbered);
        assert.ok(numbered.includes(`(${n})`), `${numbered} has its number`);
      }),
      { numRuns: 1000 },
    );
    assert.equal(numberedName('a.png', 2), 'a (2).png');
  });
});
