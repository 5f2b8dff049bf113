'use strict';
// Upload from anywhere (issue 14 §4): file paths inside "Files from", http(s) URLs (off by default,
// public addresses only unless allowed), the content-hash cache per server and max_upload_size.
// Every socket here is on 127.0.0.1: the refusals of loopback are what is tested against it.
const assert = require('node:assert/strict');
const http = require('node:http');
const { BlockList } = require('node:net');
const { execFileSync } = require('node:child_process');
const { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const fc = require('fast-check');
const {
  helper,
  allNodes,
  nextMessage,
  nextError,
  lastStatus,
  statusesOf,
  useSimulator,
  startSimulator,
  makePng,
  noisyPng,
  waitFor,
} = require('./support');
const { addressRefusal } = require('../dist/client/address-policy');
const { fetchRemoteFile } = require('../dist/client/remote-file');
const { UploadCache } = require('../dist/client/upload-cache');

/** A local file server that records what it was asked; routes: path → (req, res) handler. */
async function startFileServer(routes) {
  const requests = [];
  const server = http.createServer((req, res) => {
    requests.push({ url: req.url, headers: req.headers, rawHeaders: req.rawHeaders });
    const route = routes[req.url.split('?')[0]];
    if (!route) {
      res.writeHead(404).end('no such file');
      return;
    }
    route(req, res);
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    port,
    url: (path) => `http://127.0.0.1:${port}${path}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const allowAll = () => undefined;

describe('upload sources: the address policy (fast-check)', function () {
  // An independent table of the non-public IPv4 ranges (IANA special-purpose registry), checked by Node's BlockList.
  const special4 = new BlockList();
  for (const [net, prefix] of [
    ['0.0.0.0', 8],
    ['10.0.0.0', 8],
    ['100.64.0.0', 10],
    ['127.0.0.0', 8],
    ['169.254.0.0', 16],
    ['172.16.0.0', 12],
    ['192.0.0.0', 24],
    ['192.0.2.0', 24],
    ['192.88.99.0', 24],
    ['192.168.0.0', 16],
    ['198.18.0.0', 15],
    ['198.51.100.0', 24],
    ['203.0.113.0', 24],
    ['224.0.0.0', 4],
    ['240.0.0.0', 4],
  ]) {
    special4.addSubnet(net, prefix, 'ipv4');
  }
  const hex = (n) => n.toString(16);
  const v4Groups = (a) => {
    const [p, q, r, s] = a.split('.').map(Number);
    return [hex((p << 8) | q), hex((r << 8) | s)];
  };
  const groups = (first, rest) => [first, ...rest].map(hex).join(':');
  const group = fc.integer({ min: 0, max: 0xffff });

  it('refuses an IPv4 address exactly when it lies in a special-purpose range', function () {
    fc.assert(
      fc.property(fc.ipV4(), (a) => {
        assert.equal(addressRefusal(a) !== undefined, special4.check(a, 'ipv4'), a);
      }),
      { numRuns: 5000 },
    );
    for (const a of [
      '127.0.0.1',
      '10.1.2.3',
      '172.31.255.255',
      '192.168.1.1',
      '100.64.0.1',
      '169.254.169.254',
      '0.0.0.0',
      '255.255.255.255',
    ]) {
      assert.notEqual(addressRefusal(a), undefined, a);
    }
    for (const a of ['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '93.184.216.34']) assert.equal(addressRefusal(a), undefined, a);
  });

  it('judges IPv4 inside IPv6 (mapped, translated, NAT64, 6to4), in every spelling, as the IPv4 address', function () {
    fc.assert(
      fc.property(fc.ipV4(), (a) => {
        const refused = addressRefusal(a) !== undefined;
        const [hi, lo] = v4Groups(a);
        for (const form of [
          `::ffff:${a}`,
          `::ffff:${hi}:${lo}`,
          `0:0:0:0:0:ffff:${hi}:${lo}`,
          `::FFFF:${a}`,
          `::ffff:0:${a}`,
          `64:ff9b::${a}`,
          `2002:${hi}:${lo}::1`,
        ]) {
          assert.equal(addressRefusal(form) !== undefined, refused, `${form} (${a})`);
          // The URL parser's normal form of the same address, as a host of a URL.
          const normal = new URL(`http://[${form}]/`).hostname;
          assert.equal(addressRefusal(normal) !== undefined, refused, `${normal} (${a})`);
        }
      }),
      { numRuns: 1500 },
    );
  });

  it('refuses every address of the IPv6 loopback, unspecified, unique-local, link-local and multicast ranges', function () {
    const under = (prefixBits, prefixValue) =>
      fc.tuple(group, fc.array(group, { minLength: 7, maxLength: 7 })).map(([g0, rest]) => {
        const keep = 16 - prefixBits;
        return groups(((prefixValue >> keep) << keep) | (g0 & ((1 << keep) - 1)), rest);
      });
    fc.assert(
      fc.property(fc.oneof(under(7, 0xfc00), under(10, 0xfe80), under(8, 0xff00)), (a) => {
        assert.notEqual(addressRefusal(a), undefined, a);
        assert.notEqual(addressRefusal(`[${a}]`), undefined, a);
        assert.notEqual(addressRefusal(`${a}%eth0`), undefined, `${a} with a zone`);
      }),
      { numRuns: 3000 },
    );
    for (const a of [
      '::1',
      '::',
      '0:0:0:0:0:0:0:1',
      'fd00:ec2::254',
      'fe80::1',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::127.0.0.1',
      '2001:db8::1',
      '2001::1',
    ]) {
      assert.notEqual(addressRefusal(a), undefined, a);
    }
  });

  it('allows global unicast IPv6 outside the special prefixes, and refuses what is no address at all', function () {
    const special = new Set([0x2001, 0x2002, 0x3fff]);
    fc.assert(
      fc.property(fc.integer({ min: 0x2000, max: 0x3fff }), fc.array(group, { minLength: 7, maxLength: 7 }), (g0, rest) => {
        fc.pre(!special.has(g0));
        assert.equal(addressRefusal(groups(g0, rest)), undefined, groups(g0, rest));
      }),
      { numRuns: 3000 },
    );
    fc.assert(
      fc.property(fc.string(), (text) => {
        const reason = addressRefusal(text);
        if (require('node:net').isIP(text.replace(/^\[|\]$/g, '')) === 0) assert.equal(reason, 'not an IP address');
      }),
      { numRuns: 2000 },
    );
    assert.equal(addressRefusal('localhost'), 'not an IP address');
  });
});

describe('upload sources: fetching a URL (client level, 127.0.0.1 only)', function () {
  let files;
  const png = makePng(3, 2);
  beforeEach(async () => {
    let loops = 0;
    files = await startFileServer({
      '/cat.png': (req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(png),
      '/hop': (req, res) => res.writeHead(302, { location: '/cat.png' }).end(),
      '/loop': (req, res) => res.writeHead(302, { location: `/loop?${++loops}` }).end(),
      '/to-v6-loopback': (req, res) => res.writeHead(301, { location: `http://[::1]:${files.port}/cat.png` }).end(),
      '/to-other-loopback': (req, res) => res.writeHead(307, { location: `http://127.0.0.2:${files.port}/cat.png` }).end(),
      '/to-file': (req, res) => res.writeHead(302, { location: 'file:///etc/passwd' }).end(),
      '/endless': (req, res) => {
        res.writeHead(200, { 'content-type': 'application/octet-stream' });
        const chunk = Buffer.alloc(16 * 1024, 7);
        const pump = () => {
          while (res.write(chunk));
        };
        res.on('drain', pump);
        pump();
      },
      '/declared-large': (req, res) => res.writeHead(200, { 'content-length': '5000000' }).end(),
      '/silent': () => undefined,
    });
  });
  afterEach(() => files.close());

  const options = (extra = {}) => ({
    refuse: addressRefusal,
    maxBytes: 64 * 1024,
    limitText: 'the limit of the test',
    timeoutMs: 10_000,
    ...extra,
  });

  it('refuses 127.0.0.1, localhost (its resolved address, checked at connect time) and IPv4-mapped spellings by default, before any request', async function () {
    for (const [url, shown] of [
      [files.url('/cat.png'), /127\.0\.0\.1, loopback/],
      [`http://localhost:${files.port}/cat.png`, /localhost resolves to (127\.0\.0\.1|::1), loopback/],
      [`http://[::ffff:127.0.0.1]:${files.port}/cat.png`, /IPv4-mapped form of 127\.0\.0\.1/],
      [`http://2130706433:${files.port}/cat.png`, /127\.0\.0\.1, loopback/],
      [`http://0x7f.1:${files.port}/cat.png`, /127\.0\.0\.1, loopback/],
    ]) {
      const err = await fetchRemoteFile(new URL(url), options()).then(
        () => assert.fail(`${url} was fetched`),
        (e) => e,
      );
      assert.equal(err.code, 'NOT_ALLOWED', url);
      assert.match(err.message, shown);
    }
    assert.deepEqual(files.requests, [], 'nothing reached the server');
  });

  it('with everything allowed: fetches the bytes, follows a redirect, stops after 3 redirects', async function () {
    const got = await fetchRemoteFile(new URL(files.url('/cat.png')), options({ refuse: allowAll }));
    assert.deepEqual(got.bytes, png);
    const hopped = await fetchRemoteFile(new URL(`http://localhost:${files.port}/hop`), options({ refuse: allowAll }));
    assert.deepEqual(hopped.bytes, png);
    assert.equal(hopped.url.pathname, '/cat.png');
    const err = await fetchRemoteFile(new URL(files.url('/loop')), options({ refuse: allowAll })).catch((e) => e);
    assert.equal(err.code, 'HTTP');
    assert.match(err.message, /redirects more than 3 times/);
    assert.equal(files.requests.filter((r) => r.url.startsWith('/loop')).length, 4, 'the first request and 3 redirects');
  });

  it('checks every redirect hop: to another address, to IPv6 loopback, to a file: URL', async function () {
    // Only 127.0.0.1 is allowed here, so the first hop goes through and the next one is judged on its own.
    const only = (address) => (address === '127.0.0.1' ? undefined : 'not 127.0.0.1');
    for (const [path, code, shown] of [
      ['/to-v6-loopback', 'NOT_ALLOWED', /::1, not 127\.0\.0\.1/],
      ['/to-other-loopback', 'NOT_ALLOWED', /127\.0\.0\.2, not 127\.0\.0\.1/],
      ['/to-file', 'NOT_ALLOWED', /Only http and https URLs are fetched; got a file: URL/],
    ]) {
      const err = await fetchRemoteFile(new URL(files.url(path)), options({ refuse: only })).catch((e) => e);
      assert.equal(err.code, code, path);
      assert.match(err.message, shown);
    }
    assert.deepEqual(
      files.requests.map((r) => r.url),
      ['/to-v6-loopback', '/to-other-loopback', '/to-file'],
      'no hop after a refused one was requested',
    );
  });

  it('stops an endless body at the cap, refuses a declared length above it, and fails a silent server with TIMEOUT', async function () {
    const endless = await fetchRemoteFile(new URL(files.url('/endless')), options({ refuse: allowAll })).catch((e) => e);
    assert.equal(endless.code, 'TOO_LARGE');
    assert.match(endless.message, /is more than 65536 bytes \(the download was stopped there\); the limit of the test/);
    const declared = await fetchRemoteFile(new URL(files.url('/declared-large')), options({ refuse: allowAll })).catch((e) => e);
    assert.equal(declared.code, 'TOO_LARGE');
    assert.match(declared.message, /is 5000000 bytes; the limit of the test/);
    const silent = await fetchRemoteFile(new URL(files.url('/silent')), options({ refuse: allowAll, timeoutMs: 300 })).catch((e) => e);
    assert.equal(silent.code, 'TIMEOUT');
    assert.match(silent.message, /took longer than 300 ms/);
  });

  it('a caller abort ends the fetch with CLOSED; a 404 is HTTP with its status; credentials in the URL are refused; the query is never shown', async function () {
    const controller = new AbortController();
    const pending = fetchRemoteFile(new URL(files.url('/silent')), options({ refuse: allowAll, signal: controller.signal }));
    await waitFor(() => files.requests.some((r) => r.url === '/silent'), 'the request');
    controller.abort();
    assert.equal((await pending.catch((e) => e)).code, 'CLOSED');
    const missing = await fetchRemoteFile(new URL(files.url('/gone.png?sig=S3CRET')), options({ refuse: allowAll })).catch((e) => e);
    assert.equal(missing.code, 'HTTP');
    assert.equal(missing.status, 404);
    assert.doesNotMatch(missing.message, /S3CRET/);
    const before = files.requests.length;
    const userinfo = await fetchRemoteFile(new URL(`http://me:pw@127.0.0.1:${files.port}/cat.png`), options({ refuse: allowAll })).catch(
      (e) => e,
    );
    assert.equal(userinfo.code, 'NOT_ALLOWED');
    assert.doesNotMatch(userinfo.message, /pw/);
    assert.equal(files.requests.length, before);
  });
});

describe('upload sources: the content-hash cache (UploadCache)', function () {
  const result = (name) => ({ name, subfolder: '', type: 'input' });

  it('sends the same bytes once, also when asked twice at once, and again after forget()', async function () {
    const cache = new UploadCache();
    let sent = 0;
    const send = () => new Promise((resolve) => setImmediate(() => resolve(result(`n${++sent}.png`))));
    const bytes = Buffer.from('the same bytes');
    const [a, b] = await Promise.all([cache.upload({ bytes, filename: 'x.png' }, send), cache.upload({ bytes, filename: 'x.png' }, send)]);
    assert.equal(sent, 1);
    assert.deepEqual([a.reused, b.reused], [false, true]);
    assert.equal(b.name, a.name);
    assert.equal((await cache.upload({ bytes, filename: 'x.png', subfolder: 'other' }, send)).reused, false, 'another subfolder');
    assert.equal((await cache.upload({ bytes, filename: 'y.png' }, send)).reused, false, 'another name asked for');
    cache.forget();
    assert.equal((await cache.upload({ bytes, filename: 'x.png' }, send)).reused, false);
    assert.equal(sent, 4);
  });

  it('is bounded (least recently used first), does not keep failures, and forgets a name that now holds other bytes', async function () {
    const cache = new UploadCache(2);
    const send = (name) => () => Promise.resolve(result(name));
    const one = Buffer.from('one');
    await cache.upload({ bytes: one, filename: 'a.png' }, send('a.png'));
    await cache.upload({ bytes: Buffer.from('two'), filename: 'b.png' }, send('b.png'));
    await cache.upload({ bytes: one, filename: 'a.png' }, send('unused')); // a is now the most recent
    await cache.upload({ bytes: Buffer.from('three'), filename: 'c.png' }, send('c.png'));
    assert.equal(cache.size, 2);
    assert.equal((await cache.upload({ bytes: one, filename: 'a.png' }, send('again'))).reused, true, 'a was kept');
    assert.equal((await cache.upload({ bytes: Buffer.from('two'), filename: 'b.png' }, send('b.png'))).reused, false, 'b was evicted');

    const failing = new UploadCache();
    await assert.rejects(
      failing.upload({ bytes: one, filename: 'f.png' }, () => Promise.reject(new Error('boom'))),
      /boom/,
    );
    assert.equal(failing.size, 0);

    const named = new UploadCache();
    await named.upload({ bytes: one, filename: 'x.png' }, send('x.png'));
    await named.upload({ bytes: Buffer.from('other'), filename: 'x.png', overwrite: true }, send('x.png'));
    assert.equal(
      (await named.upload({ bytes: one, filename: 'x.png' }, send('x (1).png'))).name,
      'x (1).png',
      'x.png no longer holds "one"',
    );
  });
});

describe('upload sources: the upload node', function () {
  const env = useSimulator({ testControls: true });
  let dir;
  let inside;
  let outside;
  const cat = makePng(4, 4, [10, 20, 30, 255]);
  const dog = makePng(5, 5, [40, 50, 60, 255]);

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'comfyui-upload-sources-'));
    inside = join(dir, 'inside');
    outside = join(dir, 'outside');
    mkdirSync(join(inside, 'sub'), { recursive: true });
    mkdirSync(join(inside, 'folder'));
    mkdirSync(outside);
    writeFileSync(join(inside, 'cat.png'), cat);
    writeFileSync(join(inside, 'sub', 'dog.png'), dog);
    writeFileSync(join(inside, 'notes.txt'), 'not an image');
    writeFileSync(join(inside, 'empty.png'), '');
    writeFileSync(join(inside, 'big.png'), noisyPng(40, 40));
    writeFileSync(join(outside, 'secret.png'), makePng(2, 2));
    symlinkSync(join(outside, 'secret.png'), join(inside, 'link-out.png'));
    symlinkSync(join(inside, 'sub', 'dog.png'), join(inside, 'link-in.png'));
    symlinkSync(outside, join(inside, 'linkdir'));
    execFileSync('mkfifo', [join(inside, 'pipe.png')]);
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const defaults = {
    kind: 'image',
    folder: 'input',
    filename: '',
    subfolder: '',
    overwrite: false,
    original: '',
    target: 'Load Image',
    targetInput: 'image',
  };

  async function load(settings = {}, credentials = undefined) {
    const flow = [
      { id: 'tab', type: 'tab' },
      { id: 'srv', type: 'comfyui-server', url: env.sim.url, timeout: 5 },
      { id: 'up', z: 'tab', type: 'comfyui-upload', server: 'srv', ...defaults, ...settings, wires: [['out']] },
      { id: 'out', z: 'tab', type: 'helper' },
    ];
    await helper.load(allNodes, flow, credentials ? { srv: credentials } : undefined);
    return { up: helper.getNode('up'), out: helper.getNode('out') };
  }

  async function upload(up, out, msg) {
    const got = nextMessage(out);
    up.receive(msg);
    return got;
  }

  async function failure(up, msg) {
    const failed = nextError(up);
    up.receive(msg);
    return failed;
  }

  async function stored({ name, subfolder = '', type = 'input' }) {
    const response = await fetch(`${env.sim.url}/view?${new URLSearchParams({ filename: name, subfolder, type })}`);
    return response.status === 200 ? Buffer.from(await response.arrayBuffer()) : undefined;
  }

  const uploads = () => env.sim.requestLog.filter((r) => r.method === 'POST' && r.url.startsWith('/upload/'));

  describe('file paths', function () {
    it('reads a relative path, an absolute one inside, a file: URL and a link that stays inside, under their own names', async function () {
      const { up, out } = await load({ filesFrom: inside });
      const relative = await upload(up, out, { payload: 'cat.png' });
      assert.deepEqual(relative.payload, { name: 'cat.png', subfolder: '', type: 'input' });
      assert.deepEqual(relative.inputs, { 'Load Image': { image: 'cat.png' } });
      assert.deepEqual(await stored(relative.payload), cat);
      const absolute = await upload(up, out, { payload: join(inside, 'sub', 'dog.png') });
      assert.equal(absolute.payload.name, 'dog.png');
      assert.deepEqual(await stored(absolute.payload), dog);
      const link = await upload(up, out, { payload: `  link-in.png\n`, filename: 'named.png' });
      assert.equal(link.payload.name, 'named.png', 'msg.filename still names it');
      assert.deepEqual(await stored(link.payload), dog);
      writeFileSync(join(inside, 'url.png'), makePng(6, 6));
      const fileUrl = await upload(up, out, { payload: `file://${join(inside, 'url.png')}` });
      assert.equal(fileUrl.payload.name, 'url.png');
      assert.equal(uploads().length, 4);
    });

    for (const [what, path, code, shown] of [
      ['a ".." folder', '../outside/secret.png', 'NOT_ALLOWED', /contains a "\.\." folder/],
      ['a ".." folder that comes back inside', 'sub/../cat.png', 'NOT_ALLOWED', /contains a "\.\." folder/],
      ['an absolute path outside', () => join(outside, 'secret.png'), 'NOT_ALLOWED', /leads outside/],
      ['a missing file outside (refused, not reported missing)', () => join(outside, 'nothing.png'), 'NOT_ALLOWED', /leads outside/],
      ['a link inside that points outside', 'link-out.png', 'NOT_ALLOWED', /leads outside/],
      ['a path through a linked folder that leads outside', 'linkdir/secret.png', 'NOT_ALLOWED', /leads outside/],
      ['a NUL character', 'cat.png\u0000.txt', 'BAD_INPUT', /contains a NUL character/],
      ['a directory', 'folder', 'BAD_INPUT', /is a directory/],
      ['a named pipe', 'pipe.png', 'BAD_INPUT', /is not a regular file/],
      ['a missing file', 'missing.png', 'NOT_FOUND', /There is no file "missing\.png" in /],
      ['a file that is not an image', 'notes.txt', 'BAD_INPUT', /the file "notes\.txt" \(12 bytes\) that is not an image ComfyUI reads/],
      ['an empty file', 'empty.png', 'BAD_INPUT', /is empty/],
    ]) {
      it(`refuses ${what} with ${code} and sends nothing`, async function () {
        const { up } = await load({ filesFrom: inside });
        const err = await failure(up, { payload: typeof path === 'function' ? path() : path });
        assert.equal(err.code, code);
        assert.match(err.message, shown);
        assert.match(err.message, /Nothing was uploaded\.$/);
        assert.deepEqual(uploads(), []);
        assert.deepEqual(lastStatus(up), { fill: 'red', shape: 'ring', text: 'comfyui-upload.status.error' });
      });
    }

    it('without "Files from" no path is read: relative, absolute or file: URL', async function () {
      const { up } = await load();
      for (const payload of ['cat.png', join(inside, 'cat.png'), `file://${join(inside, 'cat.png')}`]) {
        const err = await failure(up, { payload });
        assert.equal(err.code, 'BAD_INPUT', payload);
        assert.match(err.message, /or a file path \(with the "Files from" setting\)/);
      }
      assert.deepEqual(uploads(), []);
    });

    it('base64 text of an image stays base64 with "Files from" set', async function () {
      const { up, out } = await load({ filesFrom: inside });
      const msg = await upload(up, out, { payload: dog.toString('base64'), filename: 'b64.png' });
      assert.deepEqual(await stored(msg.payload), dog);
    });

    it('reads a file only up to max_upload_size: TOO_LARGE with both sizes, nothing sent', async function () {
      await env.sim.close();
      env.sim = await startSimulator({ testControls: true, maxUploadSize: 1000 });
      const { up } = await load({ filesFrom: inside });
      const err = await failure(up, { payload: 'big.png' });
      assert.equal(err.code, 'TOO_LARGE');
      assert.match(
        err.message,
        new RegExp(`"big\\.png" is ${noisyPng(40, 40).length} bytes; this ComfyUI accepts at most 1000 bytes \\(--max-upload-size\\)`),
      );
      assert.deepEqual(uploads(), []);
    });
  });

  describe('URLs', function () {
    let files;
    beforeEach(async () => {
      files = await startFileServer({
        '/cat.png': (req, res) => res.writeHead(200, { 'content-type': 'image/png' }).end(cat),
        '/pictures/': (req, res) => res.writeHead(200).end(dog),
        '/big.png': (req, res) => res.writeHead(200, { 'content-length': String(noisyPng(40, 40).length) }).end(noisyPng(40, 40)),
      });
    });
    afterEach(() => files.close());

    it('are refused while "Fetch URLs" is off (the default), without a request', async function () {
      const { up } = await load();
      const err = await failure(up, { payload: files.url('/cat.png') });
      assert.equal(err.code, 'NOT_ALLOWED');
      assert.match(err.message, /does not fetch URLs \(its "Fetch URLs" setting is off\)/);
      assert.deepEqual(files.requests, []);
      assert.deepEqual(uploads(), []);
    });

    it('reach no loopback address unless private addresses are allowed: 127.0.0.1, localhost, ::ffff:127.0.0.1', async function () {
      const { up } = await load({ fetchUrls: true });
      for (const url of [
        files.url('/cat.png'),
        `http://localhost:${files.port}/cat.png`,
        `http://[::ffff:127.0.0.1]:${files.port}/cat.png`,
      ]) {
        const err = await failure(up, { payload: url });
        assert.equal(err.code, 'NOT_ALLOWED', url);
        assert.match(err.message, /loopback/);
        assert.match(err.message, /also private addresses/);
      }
      assert.deepEqual(files.requests, []);
      assert.deepEqual(uploads(), []);
    });

    it("with private addresses allowed: fetch, upload under the URL's name, and send none of the server's credentials there", async function () {
      const secrets = { user: 'someone', password: 'PW-S3CRET-1', token: 'TOKEN-S3CRET-2', headers: '{"X-Api-Key": "HDR-S3CRET-3"}' };
      const { up, out } = await load({ fetchUrls: true, privateAddresses: true }, secrets);
      const msg = await upload(up, out, { payload: files.url('/cat.png') });
      assert.deepEqual(msg.payload, { name: 'cat.png', subfolder: '', type: 'input' });
      assert.deepEqual(msg.inputs, { 'Load Image': { image: 'cat.png' } });
      assert.deepEqual(await stored(msg.payload), cat);
      assert.ok(
        statusesOf(up).some((s) => s.text === 'comfyui-upload.status.fetching'),
        'the status said fetching',
      );
      const nameless = await upload(up, out, { payload: files.url('/pictures/') });
      assert.match(nameless.payload.name, /^node-red-\d+\.png$/, 'a URL without a file name gets a generated one');
      assert.equal(files.requests.length, 2);
      for (const request of files.requests) {
        const raw = request.rawHeaders.join('\n');
        for (const secret of ['PW-S3CRET-1', 'TOKEN-S3CRET-2', 'HDR-S3CRET-3', Buffer.from('someone:PW-S3CRET-1').toString('base64')]) {
          assert.equal(raw.includes(secret) || request.url.includes(secret), false, `${secret} reached the URL`);
        }
        assert.equal(request.headers.authorization, undefined);
        assert.equal(request.headers['x-api-key'], undefined);
      }
    });

    it('a URL answer above max_upload_size is TOO_LARGE with both sizes, nothing sent; a 404 is HTTP', async function () {
      await env.sim.close();
      env.sim = await startSimulator({ testControls: true, maxUploadSize: 1000 });
      const { up } = await load({ fetchUrls: true, privateAddresses: true });
      const err = await failure(up, { payload: files.url('/big.png') });
      assert.equal(err.code, 'TOO_LARGE');
      assert.match(err.message, new RegExp(`big\\.png is ${noisyPng(40, 40).length} bytes; this ComfyUI accepts at most 1000 bytes`));
      const missing = await failure(up, { payload: files.url('/nothing.png') });
      assert.equal(missing.code, 'HTTP');
      assert.match(missing.message, /answered 404 instead of the file/);
      assert.deepEqual(uploads(), []);
    });
  });

  describe('the same bytes once', function () {
    it('a second upload of the same bytes sends nothing and gives the same payload and inputs', async function () {
      const { up, out } = await load({ filesFrom: inside });
      const first = await upload(up, out, { payload: cat, filename: 'same.png', keep: 1 });
      const second = await upload(up, out, { payload: 'cat.png', filename: 'same.png', keep: 2 });
      assert.deepEqual(second.payload, first.payload);
      assert.deepEqual(second.inputs, first.inputs);
      assert.equal(second.keep, 2);
      assert.deepEqual(lastStatus(up), { fill: 'green', shape: 'dot', text: 'comfyui-upload.status.reused' });
      const generated = await upload(up, out, { payload: dog });
      const generatedAgain = await upload(up, out, { payload: dog });
      assert.equal(generatedAgain.payload.name, generated.payload.name, 'a generated name is not part of the key');
      assert.equal(uploads().length, 2);
      await upload(up, out, { payload: cat, filename: 'same.png', subfolder: 'elsewhere' });
      assert.equal(uploads().length, 3, 'another subfolder is another upload');
    });

    it('forgets after a reconnect (the server may have restarted): uploads again and reads max_upload_size again', async function () {
      const { up, out } = await load();
      const client = helper.getNode('srv').client;
      await waitFor(() => client.state === 'connected', 'the socket');
      await upload(up, out, { payload: cat, filename: 'again.png' });
      await upload(up, out, { payload: cat, filename: 'again.png' });
      assert.equal(uploads().length, 1);
      const features = () => env.sim.requestLog.filter((r) => r.url === '/features').length;
      assert.equal(features(), 1);
      const connections = env.sim.connectionLog.length;
      env.sim.faults.dropSockets();
      await waitFor(() => env.sim.connectionLog.length > connections && client.state === 'connected', 'the reconnect');
      const after = await upload(up, out, { payload: cat, filename: 'again.png' });
      assert.equal(after.payload.name, 'again.png');
      assert.equal(uploads().length, 2);
      assert.equal(features(), 2);
    });

    it('masks are always sent', async function () {
      const { up, out } = await load({ kind: 'mask', original: 'orig.png' });
      const original = new FormData();
      original.append('image', new Blob([makePng(4, 4)]), 'orig.png');
      await fetch(`${env.sim.url}/upload/image`, { method: 'POST', body: original });
      const mask = makePng(4, 4, [0, 0, 0, 128]);
      await upload(up, out, { payload: mask, filename: 'mask.png' });
      await upload(up, out, { payload: mask, filename: 'mask.png' });
      assert.equal(uploads().filter((r) => r.url === '/upload/mask').length, 2);
    });
  });
});
