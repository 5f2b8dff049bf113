'use strict';
// The editor side of pools, evaluated with a stand-in RED and jQuery: the pool dialog's members
// (each once, at least one, moved up on save), its grace and label; every palette node's "Run on"
// (exactly one of server and pool, older flows with only a server unchanged); submit's retries.
// The same files are driven in a real browser by test/browser/editor.spec.js.
const assert = require('node:assert/strict');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const vm = require('node:vm');

const root = join(__dirname, '..');
const PACKAGE = require('../package.json').name;
const PALETTE = ['submit', 'progress', 'images', 'queue', 'interrupt', 'free', 'history', 'info', 'upload'].map((n) => `comfyui-${n}`);
const catalog = (type) => JSON.parse(readFileSync(join(root, 'nodes', 'locales', 'en-US', `${type}.json`), 'utf8'));
const sharedEditorScript = readFileSync(join(root, 'resources', 'comfyui-editor.js'), 'utf8');
const editorScript = (type) =>
  /<script type="text\/javascript">([\s\S]*?)<\/script>/.exec(readFileSync(join(root, 'dist', 'nodes', `${type}.html`), 'utf8'))[1];

/** RED._ over our en-US catalogs; Node-RED's own editor keys come back as `key(prop)`. */
function translate(key, subs = {}) {
  const colon = key.indexOf(':');
  if (colon === -1) return `${key}(${subs.prop})`;
  const namespace = key.slice(0, colon);
  assert.ok(namespace.startsWith(`${PACKAGE}/`), `${key} is in a namespace of ours`);
  const path = key.slice(colon + 1);
  const text = path.split('.').reduce((at, part) => at && at[part], catalog(namespace.slice(PACKAGE.length + 1)));
  assert.equal(typeof text, 'string', `${key} is in the catalog`);
  return text.replace(/__(\w+)__/g, (_, name) => String(subs[name]));
}

/** A dialog as jQuery sees it: element id → {value, attrs}; an empty one is "no dialog open". */
function fakeJQuery(elements = {}) {
  return (selector) => {
    const match = /^#([\w-]+)$/.exec(selector);
    const el = match ? elements[match[1]] : undefined;
    const self = {
      length: el ? 1 : 0,
      val(value) {
        if (value === undefined) return el?.value;
        if (el) el.value = value;
        return self;
      },
      attr(name, value) {
        if (value === undefined) return el?.attrs?.[name];
        if (el) el.attrs = { ...el.attrs, [name]: value };
        return self;
      },
    };
    return self;
  };
}

/** Evaluates an editor file; returns its definition and the context whose `$` a test may swap. */
function loadEditor(type, configNodes) {
  let definition;
  const noop = () => undefined;
  const context = {
    $: fakeJQuery(),
    RED: {
      _: translate,
      nodes: { registerType: (t, def) => (t === type ? (definition = def) : undefined), node: (id) => configNodes[id] ?? null },
      validators: { typedInput: () => () => true, number: () => () => true, regex: () => () => true },
      utils: { validateTypedProperty: () => true },
      events: { on: noop, off: noop },
      comms: { subscribe: noop, unsubscribe: noop },
      settings: {},
    },
  };
  vm.runInNewContext(`${sharedEditorScript}\n${editorScript(type)}`, context);
  assert.ok(definition, `${type} registered itself`);
  return { definition, context };
}

/** Every property's validator on a saved node (no dialog open): property → true or the reason. */
function validate(definition, node) {
  const found = {};
  for (const [property, spec] of Object.entries(definition.defaults)) {
    if (typeof spec.validate !== 'function') continue;
    const value = node[property];
    // As Node-RED does: an empty optional property is valid without asking its validator.
    if (spec.required === false && value === '') continue;
    found[property] = spec.validate.call(node, value, {});
  }
  return found;
}

const configNodes = {
  srv: { id: 'srv', type: 'comfyui-server' },
  srv2: { id: 'srv2', type: 'comfyui-server' },
  broken: { id: 'broken', type: 'comfyui-server', valid: false },
  pl: { id: 'pl', type: 'comfyui-pool' },
  badpool: { id: 'badpool', type: 'comfyui-pool', valid: false },
};
const runOnText = catalog('comfyui-pool')['comfyui-pool'].runOn;

describe('pools in the editor (nodes/*.html, evaluated with a stand-in RED)', function () {
  describe('every palette node runs on a server or a pool, exactly one', function () {
    for (const type of PALETTE) {
      describe(type, function () {
        const { definition, context } = loadEditor(type, configNodes);
        const both = (node) => {
          const all = validate(definition, node);
          return { server: all.server, pool: all.pool };
        };
        afterEach(() => (context.$ = fakeJQuery()));

        it('has a pool property of type comfyui-pool; neither server nor pool is required', function () {
          const { server, pool } = definition.defaults;
          assert.deepEqual([server.type, server.value, 'required' in server], ['comfyui-server', '', false]);
          assert.deepEqual([pool.type, pool.value, 'required' in pool], ['comfyui-pool', '', false]);
        });

        it('an older flow with only a server stays valid; a pool alone is valid', function () {
          assert.deepEqual(both({ id: 'n1', server: 'srv' }), { server: true, pool: true });
          assert.deepEqual(both({ id: 'n1', server: 'srv', pool: '' }), { server: true, pool: true });
          assert.deepEqual(both({ id: 'n1', server: '', pool: 'pl' }), { server: true, pool: true });
        });

        it('neither is said once (by the server); both is said by the pool', function () {
          assert.deepEqual(both({ id: 'n1', server: '', pool: '' }), { server: runOnText.neither, pool: true });
          assert.deepEqual(both({ id: 'n1' }), { server: runOnText.neither, pool: true });
          assert.deepEqual(both({ id: 'n1', server: 'srv', pool: 'pl' }), { server: true, pool: runOnText.both });
        });

        it('a configuration that does not exist or is invalid is said in Node-RED words', function () {
          assert.deepEqual(both({ id: 'n1', server: 'gone' }), { server: 'validator.errors.missing-config(server)', pool: true });
          assert.deepEqual(both({ id: 'n1', server: 'broken' }), { server: 'validator.errors.invalid-config(server)', pool: true });
          assert.deepEqual(both({ id: 'n1', pool: 'gone' }), { server: true, pool: 'validator.errors.missing-config(pool)' });
          assert.deepEqual(both({ id: 'n1', pool: 'badpool' }), { server: true, pool: 'validator.errors.invalid-config(pool)' });
        });

        it('in its open dialog only the picker Run on shows counts, and the hidden one is cleared on save', function () {
          const node = { id: 'n1', server: 'srv', pool: '' };
          const dialog = {
            'comfyui-run-on': { value: 'server', attrs: { 'data-node-id': 'n1' } },
            'node-input-server': { value: 'srv' },
            'node-input-pool': { value: '_ADD_' },
          };
          context.$ = fakeJQuery(dialog);
          const live = () => ({
            server: definition.defaults.server.validate.call(node, dialog['node-input-server'].value, {}),
            pool: definition.defaults.pool.validate.call(node, dialog['node-input-pool'].value, {}),
          });
          assert.deepEqual(live(), { server: true, pool: true });
          // Switched to a pool, none chosen yet: the pool picker says so; the server it hides does not count.
          dialog['comfyui-run-on'].value = 'pool';
          assert.deepEqual(live(), { server: true, pool: runOnText.neither });
          dialog['node-input-pool'].value = 'pl';
          assert.deepEqual(live(), { server: true, pool: true });
          // Another node's dialog is open: this node is judged as saved.
          dialog['comfyui-run-on'].attrs = { 'data-node-id': 'other' };
          assert.equal(definition.defaults.pool.validate.call({ id: 'n2', server: 'srv', pool: 'pl' }, 'pl', {}), runOnText.both);
        });

        it('prepares Run on first thing in oneditprepare and clears the hidden picker first thing in oneditsave', function () {
          assert.match(String(definition.oneditprepare), /^function \(\) \{\s*SHARED\.runOn\.prepare\(this\);/);
          // The build's shared step, or a node's own save that starts with it.
          const save = definition.oneditsave;
          assert.ok(
            save === context.ComfyUIEditor.runOn.save || /^function \(\) \{\s*SHARED\.runOn\.save\(\);/.test(String(save)),
            `${type}'s oneditsave clears the hidden picker first`,
          );
        });
      });
    }

    it('the Run on rule is written once, in resources/comfyui-editor.js, and every palette file gets it from the build', function () {
      assert.ok(/\n +var runOn = \{/.test(sharedEditorScript), 'the shared script has the Run on block');
      for (const type of PALETTE) {
        const source = readFileSync(join(root, 'nodes', `${type}.html`), 'utf8');
        assert.ok(
          !/runOn\.validator|var RUN_ON|\.attr\("data-node-id"|id="comfyui-run-on"/.test(source),
          `nodes/${type}.html has no Run on code or rows of its own`,
        );
        assert.ok(source.includes('// @comfyui palette-node'), `nodes/${type}.html is a palette node`);
        const served = readFileSync(join(root, 'dist', 'nodes', `${type}.html`), 'utf8');
        for (const use of ['ComfyUIEditor.runOn.validator("server")', 'ComfyUIEditor.runOn.validator("pool")'])
          assert.equal(served.split(use).length - 1, 1, `the served ${type}.html uses ${use} once`);
        const template = served.split('data-template-name')[1];
        assert.equal(template.split('id="comfyui-run-on"').length - 1, 1, `${type}'s served template has the Run on row once`);
        assert.ok(template.indexOf('id="node-input-name"') < template.indexOf('id="comfyui-run-on"'), 'Name, then Run on');
      }
    });

    it('saving sets the picker Run on hides to none, whichever it is', function () {
      const dialog = {
        'comfyui-run-on': { value: 'pool' },
        'node-input-server': { value: 'srv' },
        'node-input-pool': { value: 'pl' },
      };
      const runOn = vm.runInNewContext(`${sharedEditorScript}; ComfyUIEditor.runOn`, {
        $: fakeJQuery(dialog),
        RED: { events: { on: () => undefined } },
      });
      runOn.save();
      assert.deepEqual([dialog['node-input-server'].value, dialog['node-input-pool'].value], ['_ADD_', 'pl']);
      Object.assign(dialog, { 'comfyui-run-on': { value: 'server' }, 'node-input-server': { value: 'srv' } });
      runOn.save();
      assert.deepEqual([dialog['node-input-server'].value, dialog['node-input-pool'].value], ['srv', '_ADD_']);
    });
  });

  describe('submit: affinity and retries', function () {
    const { definition } = loadEditor('comfyui-submit', configNodes);

    it('affinity is a TypedInput, empty text by default; retries 0 by default', function () {
      const { affinity, affinityType, retries } = definition.defaults;
      assert.deepEqual([affinity.value, affinityType.value, retries.value], ['', 'str', 0]);
    });

    it('retries must be a whole number from 0 to 10 (empty, and flows from before it, mean 0)', function () {
      const check = (v) => definition.defaults.retries.validate.call({}, v, {});
      for (const ok of [0, 10, '3', ' 2 ', '', undefined]) assert.equal(check(ok), true, `${JSON.stringify(ok)} is accepted`);
      const said = catalog('comfyui-submit')['comfyui-submit'].errors['invalid-retries'];
      for (const bad of [-1, 11, '1.5', 'x', 'NaN']) assert.equal(check(bad), said, `${JSON.stringify(bad)} is refused`);
    });
  });

  describe('the pool configuration', function () {
    const { definition, context } = loadEditor('comfyui-pool', configNodes);
    const text = catalog('comfyui-pool')['comfyui-pool'];
    const members = (...ids) => Object.fromEntries(ids.map((id, i) => [`server${i + 1}`, id]));
    afterEach(() => (context.$ = fakeJQuery()));

    it('is a config node with eight server slots (the first required), grace 10 s and a job store', function () {
      assert.equal(definition.category, 'config');
      const slots = Object.keys(definition.defaults).filter((k) => /^server\d$/.test(k));
      assert.deepEqual(slots, ['server1', 'server2', 'server3', 'server4', 'server5', 'server6', 'server7', 'server8']);
      for (const slot of slots) {
        assert.equal(definition.defaults[slot].type, 'comfyui-server');
        assert.equal(definition.defaults[slot].required, slot === 'server1');
      }
      assert.deepEqual([definition.defaults.grace.value, definition.defaults.jobStore.value], [10, '']);
    });

    it('is labelled by its name, else "pool of N"', function () {
      assert.equal(definition.label.call({ name: 'gpus', ...members('srv', 'srv2') }), 'gpus');
      assert.equal(definition.label.call(members('srv', 'srv2')), 'pool of 2');
      assert.equal(definition.label.call({}), 'pool of 0');
    });

    it('refuses a server chosen twice, a configuration that does not exist or is invalid; accepts distinct ones', function () {
      const node = { id: 'p1', grace: 10, ...members('srv', 'srv2', '', '', '', '', '', '') };
      assert.deepEqual(Object.values(validate(definition, node)), [true, true, true]);
      assert.deepEqual(
        validate(definition, { ...node, server3: 'srv' }).server3,
        'Server 3 is the same as server 1: choose each server once',
      );
      assert.deepEqual(
        validate(definition, { ...node, server2: 'gone' }).server2,
        'Server 2: the chosen server configuration does not exist',
      );
      assert.deepEqual(
        validate(definition, { ...node, server2: 'broken' }).server2,
        'Server 2: the chosen server configuration is not valid',
      );
    });

    it('grace is a number of seconds from 1 to 3600', function () {
      const check = (v) => definition.defaults.grace.validate.call({}, v, {});
      for (const ok of [1, 10, '2.5', 3600]) assert.equal(check(ok), true, `${ok} is accepted`);
      for (const bad of [0, 3601, '', 'x', -5]) assert.equal(check(bad), text.errors['invalid-grace'], `${JSON.stringify(bad)} is refused`);
    });

    it('in its dialog: no server at all is said by slot 1, a gap is fine, and save moves the servers up in their order', function () {
      const node = { id: 'p1', ...members('srv', '', 'srv2') };
      const dialog = { 'comfyui-pool-members': { attrs: { 'data-node-id': 'p1' } } };
      for (let i = 1; i <= 8; i++) dialog[`node-config-input-server${i}`] = { value: node[`server${i}`] || '_ADD_' };
      context.$ = fakeJQuery(dialog);
      const slot = (n) => definition.defaults[`server${n}`].validate.call(node, dialog[`node-config-input-server${n}`].value, {});
      dialog['node-config-input-server1'].value = '_ADD_';
      assert.equal(slot(1), true, 'an empty first slot is fine while another is set');
      dialog['node-config-input-server3'].value = '_ADD_';
      assert.equal(slot(1), text.errors['no-member']);
      dialog['node-config-input-server3'].value = 'srv2';
      dialog['node-config-input-server5'].value = 'srv';
      definition.oneditsave.call(node);
      const saved = Array.from({ length: 8 }, (_, i) => dialog[`node-config-input-server${i + 1}`].value);
      assert.deepEqual(saved, ['srv2', 'srv', '_ADD_', '_ADD_', '_ADD_', '_ADD_', '_ADD_', '_ADD_']);
    });
  });
});
