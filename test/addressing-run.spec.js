'use strict';
// Issue 12 §4 over real sockets on 127.0.0.1: the submit node's overrides by class, "Run only"
// (partial_execution_targets) and per-msg bypass/mute, checked in what the simulator was sent and ran.
const assert = require('node:assert/strict');
const { helper, nextMessage, nextError, statusesOf, useSimulator, loadSubmit, waitFor } = require('./support');

describe('comfyui-submit: overrides by class, Run only, bypass and mute', function () {
  const env = useSimulator({ testControls: true });

  const load = (submitProps = {}) =>
    loadSubmit(env, submitProps, [
      { id: 'progress', type: 'comfyui-progress', server: 'srv', scope: 'own', events: ['progress_state'], wires: [['progress-out']] },
      { id: 'progress-out', type: 'helper' },
    ]);

  /** 1 → 2 (blur) → 3 "Save A"; 1 → 4 (blur) → 5 "Save B". */
  function twoSavers() {
    const blur = (radius, title) => ({
      class_type: 'ImageBlur',
      inputs: { image: ['1', 0], blur_radius: radius, sigma: 1 },
      _meta: { title },
    });
    return {
      1: { class_type: 'EmptyImage', inputs: { width: 32, height: 32, batch_size: 1, color: 0x336699 }, _meta: { title: 'Empty' } },
      2: blur(1, 'Blur'),
      3: { class_type: 'SaveImage', inputs: { images: ['2', 0], filename_prefix: 'save_a' }, _meta: { title: 'Save A' } },
      4: blur(3, 'Blur more'),
      5: { class_type: 'SaveImage', inputs: { images: ['4', 0], filename_prefix: 'save_b' }, _meta: { title: 'Save B' } },
    };
  }

  const posted = () => env.sim.requestLog.filter((r) => r.method === 'POST' && r.url === '/prompt').map((r) => JSON.parse(r.body));
  const askedDefinitions = () => env.sim.requestLog.some((r) => r.method === 'GET' && r.url === '/object_info');

  it('sets an input on every node of a class and reports which nodes each override set', async function () {
    // Without the check before submit (which reads the definitions), to see that overrides themselves need none.
    const { sub, out } = await load({ validate: false, overrides: [{ node: 'ImageBlur', input: 'sigma', value: '2', valueType: 'num' }] });
    const got = nextMessage(out);
    sub.receive({ payload: twoSavers(), inputs: { 'SaveImage.filename_prefix': 'by_class', 'Blur more': { blur_radius: 5 } } });
    const { payload } = await got;
    assert.deepEqual(payload.overrides, { ImageBlur: ['2', '4'], 'SaveImage.filename_prefix': ['3', '5'], 'Blur more': ['4'] });
    assert.equal(payload.images.length, 2);
    for (const image of payload.images) assert.match(image.filename, /^by_class_/);
    const [body] = posted();
    assert.deepEqual([body.prompt['2'].inputs.sigma, body.prompt['4'].inputs.sigma, body.prompt['4'].inputs.blur_radius], [2, 2, 5]);
    assert.equal(askedDefinitions(), false, 'overrides need no node definitions');
  });

  it('"Run only" runs just the chosen output: partial_execution_targets is sent and the result has only its images', async function () {
    const { sub, out } = await load({ targets: 'Save B', targetsType: 'str' });
    const got = nextMessage(out);
    sub.receive({ payload: twoSavers() });
    const { payload } = await got;
    assert.deepEqual(posted()[0].partial_execution_targets, ['5']);
    assert.deepEqual(Object.keys(payload.outputs), ['5']);
    assert.equal(payload.images.length, 1);
    assert.match(payload.images[0].filename, /^save_b_/);
    // Progress counts the nodes that run (Empty, Blur more, Save B), not all five.
    const progress = statusesOf(sub)
      .map((status) => status.text)
      .filter((text) => /^\d+\/\d+ /.test(text));
    assert.ok(progress.length > 0, 'a progress status was shown');
    for (const text of progress) assert.match(text, /^[1-3]\/3 /);
    // Again: every node that runs comes from the cache, so the result is cached, though nodes 2 and 3 never ran.
    const again = nextMessage(out);
    sub.receive({ payload: twoSavers() });
    const second = (await again).payload;
    assert.equal(second.cached, true);
    assert.deepEqual(Object.keys(second.outputs), ['5']);
  });

  it('"Run only": the progress node\'s overall reaches 100 % over the nodes that run', async function () {
    const { sub, out } = await load({ targets: '5', targetsType: 'str' });
    const states = [];
    const progressOut = helper.getNode('progress-out');
    progressOut.on('input', (msg) => states.push(msg));
    const got = nextMessage(out);
    sub.receive({ payload: twoSavers() });
    const { prompt_id: promptId } = await got;
    await waitFor(() => states.some((msg) => msg.prompt_id === promptId && msg.overall === 100), 'overall 100');
    const overall = states.filter((msg) => msg.prompt_id === promptId).map((msg) => msg.overall);
    assert.deepEqual(
      [...overall].sort((x, y) => x - y),
      overall,
      'overall only grows',
    );
  });

  it('msg.targets wins over the typed-in setting, and takes a list of ids and titles', async function () {
    const { sub, out } = await load({ targets: 'Save B', targetsType: 'str' });
    const got = nextMessage(out);
    sub.receive({ payload: twoSavers(), targets: ['Save A'] });
    const { payload } = await got;
    assert.deepEqual(posted()[0].partial_execution_targets, ['3']);
    assert.deepEqual(Object.keys(payload.outputs), ['3']);
  });

  it('refuses a target that is not an output node with BAD_INPUT, and an unknown one with UNKNOWN_OVERRIDE; nothing is queued', async function () {
    const { sub } = await load();
    let failed = nextError(sub);
    sub.receive({ payload: twoSavers(), targets: 'Blur more' });
    let err = await failed;
    assert.equal(err.code, 'BAD_INPUT');
    assert.match(err.message, /^msg\.targets names nodes that are not output nodes .*#4 "Blur more" \(ImageBlur\)$/);
    failed = nextError(sub);
    sub.receive({ payload: twoSavers(), targets: 'Save C' });
    err = await failed;
    assert.equal(err.code, 'UNKNOWN_OVERRIDE');
    assert.match(err.message, /No node "Save C" in the workflow/);
    assert.deepEqual(posted(), []);
  });

  it("msg.bypass by title rewires the consumers to the bypassed node's input; the prompt runs", async function () {
    const { sub, out } = await load();
    const got = nextMessage(out);
    sub.receive({ payload: twoSavers(), bypass: 'Blur more' });
    const { payload } = await got;
    const [body] = posted();
    assert.equal(body.prompt['4'], undefined);
    assert.deepEqual(body.prompt['5'].inputs.images, ['1', 0]);
    assert.deepEqual(body.prompt['3'].inputs.images, ['2', 0], 'the other branch is untouched');
    assert.equal(payload.images.length, 2);
    assert.equal(askedDefinitions(), true);
  });

  it('msg.mute by class leaves every such node out, asks no definitions, and its consumers lose the input (ComfyUI then says what is missing)', async function () {
    const { sub } = await load({ validate: false });
    const failed = nextError(sub);
    sub.receive({ payload: twoSavers(), mute: 'ImageBlur' });
    const err = await failed;
    const [body] = posted();
    assert.deepEqual(Object.keys(body.prompt).sort(), ['1', '3', '5']);
    assert.equal(body.prompt['3'].inputs.images, undefined);
    assert.equal(err.code, 'VALIDATION', 'the savers lack their required images');
    assert.equal(askedDefinitions(), false);
  });

  it('with the check before submit (the default), a mute that leaves a saver without its images is refused before anything is queued', async function () {
    const { sub } = await load();
    const failed = nextError(sub);
    sub.receive({ payload: twoSavers(), mute: 'ImageBlur' });
    const err = await failed;
    assert.equal(err.code, 'VALIDATION');
    assert.match(err.message, /Save A.*images/);
    assert.deepEqual(posted(), [], 'nothing was queued');
  });

  it('refuses a run-only target that the same msg bypasses', async function () {
    const { sub } = await load({ bypass: 'Save B', bypassType: 'str' });
    const failed = nextError(sub);
    sub.receive({ payload: twoSavers(), targets: '5' });
    const err = await failed;
    assert.equal(err.code, 'BAD_INPUT');
    assert.match(err.message, /^msg\.targets asks to run #5, which this msg also bypasses or mutes$/);
    assert.deepEqual(posted(), []);
  });
});
