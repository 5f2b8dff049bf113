'use strict';
// Issue 11 §2, the settings side of the limits: the `comfyui-server` properties as the editor saves
// them (text, "" for the default, nothing at all in flows saved before them) become the client's
// limits. The limits themselves, against a hostile server, are test/boundary.spec.js.
const assert = require('node:assert/strict');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const vm = require('node:vm');
const { helper, allNodes, waitFor, nextError, nextMessage, saveImageWorkflow, useSimulator } = require('./support');
const { clientOptionsFrom } = require('../dist/nodes/server-options');
const { defaultHttpLimits } = require('../dist/client/http');
const { defaultSocketOptions } = require('../dist/client/socket');

const MB = 1024 * 1024;
const root = join(__dirname, '..');
const sharedEditorScript = readFileSync(join(root, 'resources', 'comfyui-editor.js'), 'utf8');

/** The documented defaults (README "Limits", the help, the dialog's placeholders). */
const DEFAULTS = { maxFileBytes: 256 * MB, maxJsonBytes: 64 * MB, downloadTimeoutMs: 300_000, maxTextLength: 1000 };
const DEFAULT_FRAME_BYTES = 100 * MB;

/** The limits part of the client options for these server properties. */
function limitsOf(settings) {
  const options = clientOptionsFrom({}, { url: 'http://127.0.0.1:8188', ...settings });
  return { ...options.limits, maxFrameBytes: options.socket.maxFrameBytes };
}

describe('comfyui-server limits as the editor saves them', function () {
  describe('the settings become the client limits', function () {
    it('the documented defaults are the runtime defaults', function () {
      for (const [key, value] of Object.entries(DEFAULTS)) assert.equal(defaultHttpLimits[key], value, key);
      assert.equal(defaultSocketOptions.maxFrameBytes, DEFAULT_FRAME_BYTES);
    });

    it('text from the dialog ("1", " 2.5 ", "45") is read as a number of MB, seconds or characters', function () {
      assert.deepEqual(limitsOf({ maxFileMB: '1', maxAnswerMB: ' 2.5 ', maxFrameMB: '3', downloadTimeout: '45', maxText: '120' }), {
        maxFileBytes: 1 * MB,
        maxJsonBytes: 2.5 * MB,
        maxFrameBytes: 3 * MB,
        downloadTimeoutMs: 45_000,
        maxTextLength: 120,
      });
      // Numbers (a flow written by hand or by a script) mean the same.
      assert.deepEqual(
        limitsOf({ maxFileMB: 1, maxAnswerMB: 2.5, maxFrameMB: 3, downloadTimeout: 45, maxText: 120 }),
        limitsOf({
          maxFileMB: '1',
          maxAnswerMB: '2.5',
          maxFrameMB: '3',
          downloadTimeout: '45',
          maxText: '120',
        }),
      );
    });

    const defaults = { ...DEFAULTS, maxFrameBytes: DEFAULT_FRAME_BYTES };
    const fallbacks = [
      ['absent (a flow saved before the settings)', undefined],
      ['empty', ''],
      ['blank', '  '],
      ['not a number', 'abc'],
      ['negative', '-1'],
      ['zero', '0'],
      ['infinite', 'Infinity'],
      ['a number with a unit', '5 MB'],
    ];
    for (const [name, value] of fallbacks) {
      it(`${name}: every limit falls back to its default`, function () {
        const settings = { maxFileMB: value, maxAnswerMB: value, maxFrameMB: value, downloadTimeout: value, maxText: value };
        assert.deepEqual(limitsOf(settings), defaults);
      });
    }

    it('the error text is never cut below 80 characters', function () {
      assert.equal(limitsOf({ maxText: '2' }).maxTextLength, 80);
      assert.equal(limitsOf({ maxText: '80' }).maxTextLength, 80);
      assert.equal(limitsOf({ maxText: '80.6' }).maxTextLength, 81);
    });

    it('a time beyond what a timer can wait (about 24.8 days) means the longest wait, not an instant timeout', function () {
      // setTimeout fires after 1 ms for any delay above 2^31 - 1 ms: a download limit of 35 days
      // would have failed every download at once.
      const longest = 2 ** 31 - 1;
      const options = clientOptionsFrom({}, { url: 'http://127.0.0.1:8188', downloadTimeout: '3000000', timeout: '3000000', stall: 3e6 });
      assert.equal(options.limits.downloadTimeoutMs, longest);
      assert.equal(options.timeoutMs, longest);
      assert.equal(options.tracker.watchdogMs, longest);
      assert.equal(clientOptionsFrom({}, { url: 'http://127.0.0.1:8188', downloadTimeout: '2000000' }).limits.downloadTimeoutMs, 2e9);
    });
  });

  describe('the dialog', function () {
    const html = readFileSync(join(root, 'dist', 'nodes', 'comfyui-server.html'), 'utf8');
    const catalogs = ['en-US', 'ko'].map((lang) => [
      lang,
      JSON.parse(readFileSync(join(root, 'nodes', 'locales', lang, 'comfyui-server.json'), 'utf8'))['comfyui-server'],
    ]);

    it('shows the runtime defaults as the placeholders of the limit fields', function () {
      const placeholderOf = (field) => new RegExp(`id="node-config-input-${field}"[^>]*placeholder="([^"]*)"`).exec(html)?.[1];
      assert.deepEqual(
        {
          maxFileMB: placeholderOf('maxFileMB'),
          maxAnswerMB: placeholderOf('maxAnswerMB'),
          maxFrameMB: placeholderOf('maxFrameMB'),
          downloadTimeout: placeholderOf('downloadTimeout'),
          maxText: placeholderOf('maxText'),
        },
        {
          maxFileMB: String(defaultHttpLimits.maxFileBytes / MB),
          maxAnswerMB: String(defaultHttpLimits.maxJsonBytes / MB),
          maxFrameMB: String(defaultSocketOptions.maxFrameBytes / MB),
          downloadTimeout: String(defaultHttpLimits.downloadTimeoutMs / 1000),
          maxText: String(defaultHttpLimits.maxTextLength),
        },
      );
    });

    for (const [lang, catalog] of catalogs) {
      it(`validates the number settings with the ${lang} messages (a stand-in RED runs the editor script)`, function () {
        const translate = (key) => {
          const text = key
            .split(':')[1]
            .split('.')
            .slice(1)
            .reduce((at, part) => at && at[part], catalog);
          assert.equal(typeof text, 'string', `${key} is in the ${lang} catalog`);
          return text;
        };
        let definition;
        const script = /<script type="text\/javascript">([\s\S]*?)<\/script>/.exec(html)[1];
        vm.runInNewContext(`${sharedEditorScript}\n${script}`, {
          RED: { nodes: { registerType: (type, def) => (definition = def) }, events: { on: () => undefined }, _: translate },
          URL,
        });
        const verdicts = (field, values) => values.map((value) => definition.defaults[field].validate.call({}, value, {}));
        const limits = ['maxFileMB', 'maxAnswerMB', 'maxFrameMB', 'downloadTimeout'];
        for (const field of limits) {
          assert.equal(definition.defaults[field].value, '', `${field} starts empty: the default`);
          assert.deepEqual(verdicts(field, ['', undefined, null, ' ', '2', ' 2 ', '0.5', 2]), Array(8).fill(true), field);
          const message = catalog.errors[`invalid-${field}`];
          assert.deepEqual(verdicts(field, ['abc', '-1', '0', '5 MB', 'Infinity']), Array(5).fill(message), field);
        }
        assert.deepEqual(verdicts('maxText', ['', undefined, '80', '1000']), [true, true, true, true]);
        assert.deepEqual(verdicts('maxText', ['abc', '-1', '2', '79']), Array(4).fill(catalog.errors['invalid-maxText']));
        // The settings that were there before keep their meaning: the timeout is required, the stall check is not.
        assert.deepEqual(verdicts('timeout', ['', '0.5', '30']), [
          catalog.errors['invalid-timeout'],
          catalog.errors['invalid-timeout'],
          true,
        ]);
        assert.deepEqual(verdicts('stall', ['', undefined, '0', '60']), [true, true, catalog.errors['invalid-stall'], true]);
      });
    }

    it('the en-US labels are the names the runtime quotes in its error messages', function () {
      const en = catalogs[0][1].label;
      assert.deepEqual(
        [en.maxFileMB, en.maxAnswerMB, en.maxFrameMB, en.downloadTimeout, en.maxText],
        ['Largest file', 'Largest answer', 'Largest frame', 'Download time limit', 'Longest error text'],
      );
    });
  });

  describe('a deployed configuration with the settings as text', function () {
    const env = useSimulator({ testControls: true, stepMs: 10 });
    const ref = { filename: 'x.png', subfolder: '', type: 'output' };

    async function load(serverProps) {
      await helper.load(allNodes, [
        { id: 'srv', type: 'comfyui-server', url: env.sim.url, timeout: '5', ...serverProps },
        { id: 'sub', type: 'comfyui-submit', server: 'srv', workflow: '', mode: 'wait', wires: [['out']] },
        { id: 'img', type: 'comfyui-images', server: 'srv', output: 'buffer', wires: [['out']] },
        { id: 'queue', type: 'comfyui-queue', server: 'srv', action: 'get', wires: [['out']] },
        { id: 'out', type: 'helper' },
      ]);
      await waitFor(() => env.sim.openSocketCount() === 1, 'the socket');
      const problems = [];
      helper.getNode('srv').client.on('problem', (p) => problems.push(p));
      return problems;
    }

    /** The error of one images request while /view answers with `stream`. */
    async function downloadError(stream) {
      env.sim.faults.streamRoute('GET', '/view', { contentType: 'image/png', ...stream }, 1);
      const img = helper.getNode('img');
      const failed = nextError(img, 10000);
      img.receive({ payload: { images: [ref] } });
      return failed;
    }

    it('maxFileMB "1": a download above 1 MB fails with TOO_LARGE naming "Largest file"', async function () {
      await load({ maxFileMB: '1' });
      const err = await downloadError({ chunk: Buffer.alloc(64 * 1024, 1), everyMs: 1, count: Infinity });
      assert.equal(err.code, 'TOO_LARGE');
      assert.match(
        err.message,
        /x\.png is over 1 MB, more than the limit of 1 MB \(the "Largest file" setting of the server configuration\)/,
      );
    });

    for (const [name, props] of [
      ['absent', {}],
      ['""', { maxFileMB: '' }],
      ['"abc"', { maxFileMB: 'abc' }],
      ['"-1"', { maxFileMB: '-1' }],
    ]) {
      it(`maxFileMB ${name}: the default of 256 MB applies`, async function () {
        await load(props);
        const err = await downloadError({ chunk: 'x', everyMs: 1000, count: 1, contentLength: 300 * MB });
        assert.equal(err.code, 'TOO_LARGE');
        assert.match(err.message, /x\.png is 300 MB, more than the limit of 256 MB \(the "Largest file" setting/);
      });
    }

    it('maxAnswerMB "1": a 2 MB queue answer fails with TOO_LARGE naming "Largest answer"; "" takes it', async function () {
      const bigQueue = JSON.stringify({ queue_running: [], queue_pending: [], pad: 'x'.repeat(2 * MB) });
      await load({ maxAnswerMB: '1' });
      env.sim.faults.failRoute('GET', '/queue', 200, bigQueue, 'application/json', 1);
      const failed = nextError(helper.getNode('queue'));
      helper.getNode('queue').receive({});
      const err = await failed;
      assert.equal(err.code, 'TOO_LARGE');
      assert.match(err.message, /more than the limit of 1 MB \(the "Largest answer" setting of the server configuration\)/);

      await helper.unload();
      await load({ maxAnswerMB: '' });
      env.sim.faults.failRoute('GET', '/queue', 200, bigQueue, 'application/json', 1);
      const got = nextMessage(helper.getNode('out'));
      helper.getNode('queue').receive({});
      assert.equal((await got).payload.queue_remaining, 0);
    });

    it('downloadTimeout "1": a trickling download fails with TIMEOUT naming "Download time limit"', async function () {
      await load({ downloadTimeout: '1' });
      const err = await downloadError({ chunk: 'x', everyMs: 100, count: Infinity });
      assert.equal(err.code, 'TIMEOUT');
      assert.match(
        err.message,
        /the download of x\.png took longer than 1 s \(the "Download time limit" setting of the server configuration\)/,
      );
    });

    it('maxFrameMB "1": a frame above 1 MB is refused, the connection opened again, and prompts still complete', async function () {
      await load({ maxFrameMB: '1' });
      const warnings = [];
      helper.getNode('srv').client.on('warning', (text) => warnings.push(text));
      env.sim.faults.sendRaw(JSON.stringify({ type: 'custom.blob', data: 'x'.repeat(1.5 * MB) }), false);
      await waitFor(() => env.sim.connectionLog.length === 2 && env.sim.openSocketCount() === 1, 'the reconnect');
      assert.ok(
        warnings.some((w) => /larger than 1 MB \(the "Largest frame" setting/.test(w)),
        warnings.join('\n'),
      );
      const got = nextMessage(helper.getNode('out'));
      helper.getNode('sub').receive({ payload: saveImageWorkflow({ prefix: 'after-frame' }) });
      assert.match((await got).payload.images[0].filename, /^after-frame_/);
    });

    /** The error a prompt ends with when ComfyUI reports an exception of 2 MB. */
    async function hugeExecutionError() {
      env.sim.faults.pauseWorker();
      helper.getNode('sub').receive({ payload: saveImageWorkflow({ prefix: 'held' }) });
      const id = await waitFor(async () => {
        const queue = await helper.getNode('srv').client.http.queue();
        return queue.queue_pending[0] && queue.queue_pending[0].prompt_id;
      }, 'the prompt queued');
      const failed = nextError(helper.getNode('sub'));
      const data = {
        prompt_id: id,
        node_id: '2',
        node_type: 'SaveImage',
        exception_message: 'x'.repeat(2 * MB),
        exception_type: 'E',
        traceback: [],
      };
      env.sim.faults.sendRaw(JSON.stringify({ type: 'execution_error', data }), false);
      const err = await failed;
      env.sim.faults.resumeWorker();
      assert.equal(err.code, 'EXECUTION');
      return err.message;
    }

    it('maxText "100": a 2 MB exception message is cut to 100 characters with an ellipsis', async function () {
      await load({ maxText: '100' });
      const message = await hugeExecutionError();
      assert.equal(message.length, 100);
      assert.match(message, /SaveImage.*xxx…$/);
    });

    it('maxText "abc": the same text as a configuration without the setting (the default, not cut to nothing)', async function () {
      await load({ maxText: 'abc' });
      const message = await hugeExecutionError();
      await helper.unload();
      await load({});
      const usual = await hugeExecutionError();
      assert.ok(usual.length > 100, `the usual message has ${usual.length} characters`);
      assert.equal(message.length, usual.length);
      assert.match(message, /SaveImage.*failed: E: xxx/);
    });
  });
});
