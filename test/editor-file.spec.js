'use strict';
// The build composes each editor file from what is that node's own (src/tools/editor-file.ts):
// what it writes must be what Node-RED and the Flow Library's checker read, and anything it does
// not know must stop the build.
const assert = require('node:assert/strict');
const { readFileSync, readdirSync, writeFileSync, mkdtempSync, rmSync } = require('node:fs');
const { join } = require('node:path');
const { tmpdir } = require('node:os');
const fc = require('fast-check');
const { composeEditorFile } = require('../dist/tools/editor-file');
const lib = require('./tools/lib');

const root = join(__dirname, '..');
const PACKAGE = require('../package.json').name;
const compose = (source, file = 'nodes/comfyui-x.html') => composeEditorFile(source, file, PACKAGE);

const paletteSource = (own = '', rows = '') => `<script type="text/javascript">
(function () {
    var SHARED = ComfyUIEditor;
    RED.nodes.registerType('comfyui-x', {
        // @comfyui palette-node
        defaults: {
            level: { value: 1 }
        },${own}
        oneditprepare: function () {
            SHARED.runOn.prepare(this);
        }
    });
})();
</script>

<script type="text/html" data-template-name="comfyui-x">
${rows}</script>
`;

/** The definition the Flow Library's checker reads from composed text. */
function definitionOf(html) {
  const dir = mkdtempSync(join(tmpdir(), 'editor-file-'));
  try {
    writeFileSync(join(dir, 'x.html'), html);
    return lib.nodeDefinitions(join(dir, 'x.html'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('editor files composed by the build', function () {
  it('serves every nodes/*.html as composed, with the literals the Flow Library reads', function () {
    for (const file of readdirSync(join(root, 'nodes')).filter((f) => f.endsWith('.html'))) {
      const served = readFileSync(join(root, 'dist', 'nodes', file), 'utf8');
      assert.equal(served, compose(readFileSync(join(root, 'nodes', file), 'utf8'), `nodes/${file}`), `dist/nodes/${file} is the build's`);
      assert.ok(
        served.startsWith(`<script src="resources/${PACKAGE}/comfyui-editor.js"></script>\n`),
        `${file} loads the shared script first`,
      );
      const { defs, errors } = lib.nodeDefinitions(join(root, 'dist', 'nodes', file));
      assert.deepEqual(errors, [], file);
      const [type] = Object.keys(defs);
      assert.equal(file, `${type}.html`);
      if (defs[type].category === 'config') continue;
      assert.deepEqual(
        [defs[type].category, defs[type].color, defs[type].icon, defs[type].inputs, defs[type].outputs],
        ['ComfyUI', '#E6E0F8', `${type}.svg`, 1, 1],
      );
      assert.deepEqual(
        defs[type].defaults.slice(0, 4),
        ['name', 'configVersion', 'server', 'pool'],
        `${type}'s defaults start with the common four`,
      );
    }
  });

  it('writes the palette-node properties the file does not set itself, the common defaults and the common rows', function () {
    const own = compose(
      paletteSource(`
        label: function () {
            return "mine";
        },`),
    );
    assert.equal(own.split('label: function () {').length - 1, 1);
    assert.ok(!own.includes('label: ComfyUIEditor.palette.label,'), 'the file’s own label is kept, not doubled');
    assert.ok(own.includes('paletteLabel: ComfyUIEditor.palette.paletteLabel,'));
    assert.ok(own.includes('oneditsave: ComfyUIEditor.runOn.save,'));
    const { defs, errors } = definitionOf(own);
    assert.deepEqual(errors, []);
    assert.deepEqual(defs['comfyui-x'].defaults, ['name', 'configVersion', 'server', 'pool', 'level']);
    assert.equal(defs['comfyui-x'].icon, 'comfyui-x.svg');
    const template = own.split('data-template-name')[1];
    for (const id of ['node-input-name', 'comfyui-run-on', 'node-input-server', 'node-input-pool'])
      assert.equal(template.split(`id="${id}"`).length - 1, 1, id);
    // Evaluated, the composed script registers a definition whose shared parts are the shared script's.
    let registered;
    const shared = {
      palette: { label: () => 'shared' },
      runOn: { save() {}, validator: () => () => true },
      configVersion: () => ({ value: 1 }),
    };
    new Function('RED', 'ComfyUIEditor', /<script type="text\/javascript">([\s\S]*?)<\/script>/.exec(own)[1])(
      { nodes: { registerType: (type, def) => (registered = def) } },
      shared,
    );
    assert.equal(registered.label(), 'mine');
    assert.equal(registered.oneditsave, shared.runOn.save);
  });

  it('expands a row of each kind into one form row with the field Node-RED reads', function () {
    const kinds = fc.record(
      {
        kind: fc.constantFrom('text', 'typed', 'password', 'select', 'checkbox'),
        field: fc.stringMatching(/^[a-z][A-Za-z0-9]{0,12}$/),
        icon: fc.constantFrom('cube', 'tag', 'folder-open'),
        width: fc.constantFrom('70%', '80px', ''),
        unit: fc.constantFrom('comfyui-x.label.mb'),
        cls: fc.constantFrom('a-row', 'b c'),
      },
      { requiredKeys: ['kind', 'field', 'icon'] },
    );
    fc.assert(
      fc.property(kinds, (row) => {
        const attributes = [`field="${row.field}"`, `icon="${row.icon}"`, `kind="${row.kind}"`];
        if (row.kind === 'select') attributes.push('options="one two"');
        if (row.kind === 'checkbox') attributes.push('check-label="comfyui-x.label.on"');
        if (row.width !== undefined && row.kind !== 'checkbox') attributes.push(`width="${row.width}"`);
        if (row.unit) attributes.push(`unit="${row.unit}"`);
        if (row.cls) attributes.push(`class="${row.cls}"`);
        const html = compose(paletteSource('', `    <comfyui-row ${attributes.join(' ')}></comfyui-row>\n`));
        const template = html.split('data-template-name')[1];
        const id = `node-input-${row.field}`;
        assert.ok(
          template.includes(
            `<label for="${id}"><i class="fa fa-${row.icon}"></i> <span data-i18n="comfyui-x.label.${row.field}"></span></label>`,
          ),
        );
        assert.equal(template.split(`id="${id}"`).length - 1, 1);
        assert.equal(template.split(`id="${id}Type"`).length - 1, row.kind === 'typed' ? 1 : 0);
        if (row.kind === 'select')
          assert.ok(template.includes('<option value="two" data-i18n="comfyui-x.label.' + row.field + 'Two"></option>'));
        if (row.cls) assert.ok(template.includes(`<div class="form-row ${row.cls}">`));
        assert.ok(!template.includes('comfyui-row'));
      }),
    );
  });

  it('writes a config node’s rows as node-config-input fields', function () {
    const html = compose(
      `<script type="text/javascript">
    RED.nodes.registerType('comfyui-x', {
        category: 'config',
        defaults: { limit: { value: 1 } }
    });
</script>
<script type="text/html" data-template-name="comfyui-x">
    <comfyui-row field="limit" icon="cube" hint="256" title="comfyui-x.tip.limit" width="80px"></comfyui-row>
</script>
`,
    );
    assert.ok(
      html.includes(
        '<input type="text" id="node-config-input-limit" style="width: 80px;" placeholder="256" data-i18n="[title]comfyui-x.tip.limit">',
      ),
    );
    assert.ok(!html.includes("category: 'ComfyUI'"), 'a config node gets no palette-node properties');
  });

  it('stops the build at anything it does not know', function () {
    const bad = [
      [paletteSource('', '    <comfyui-row field="a" icon="cube" colour="red"></comfyui-row>\n'), /no attribute "colour"/],
      [paletteSource('', '    <comfyui-row field="a"></comfyui-row>\n'), /needs field and icon/],
      [paletteSource('', '    <comfyui-row field="a" icon="cube" kind="radio"></comfyui-row>\n'), /kind "radio"/],
      [paletteSource('', '    <comfyui-row field="a" icon="cube" kind="select"></comfyui-row>\n'), /options go with kind="select"/],
      [paletteSource('', '    <comfyui-row field="a" icon="cube" kind="checkbox"></comfyui-row>\n'), /check-label/],
      [paletteSource('', '    <div><comfyui-row field="a" icon="cube"></comfyui-row></div>\n'), /does not know/],
      [paletteSource().replace('// @comfyui palette-node', '// @comfyui palette-nodes'), /does not know/],
      [paletteSource().replace('        defaults: {', '        settings: {'), /"defaults: \{" must follow/],
      [paletteSource().replace('data-template-name="comfyui-x"', 'data-template-name="comfyui-y"'), /no dialog template/],
      [`<script src="resources/${PACKAGE}/comfyui-editor.js"></script>\n${paletteSource()}`, /the build adds the shared editor script/],
      [
        paletteSource().replace("registerType('comfyui-x', {", "registerType('comfyui-x', {});\n    RED.nodes.registerType('comfyui-z', {"),
        /expected one/,
      ],
    ];
    for (const [source, message] of bad) assert.throws(() => compose(source), message);
  });
});
