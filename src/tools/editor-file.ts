/**
 * Composes an editor file (nodes/<type>.html) from what is that node's own.
 *
 * The Flow Library's checker (node-red-dev) reads each registerType call as written: category,
 * colour, icon and ports must be literals and `defaults` an inline object with every key, so
 * what all palette nodes have in common cannot be shared by reference there. Each committed
 * editor file therefore names it once with a marker, and the build writes it out in full:
 *
 * - `// @comfyui palette-node` inside the registerType object: category, colour, icon, ports,
 *   labels and the Run on save step (each one the file does not set itself); at the start of
 *   `defaults`, Name, configVersion, server and pool; at the start of the dialog template, the
 *   Name and Run on rows;
 * - `<comfyui-row field="…" …></comfyui-row>` in the dialog template: one form row (label, icon,
 *   input of its kind), see `row` below;
 * - before everything, the shared editor script (resources/comfyui-editor.js).
 *
 * Anything the build does not know (a marker, a row attribute) fails the build rather than
 * reaching the editor.
 */

import { join } from 'node:path';

const SHARED_SCRIPT = 'comfyui-editor.js';
/** The shared editor script's rule for a choice's catalog key, so a select row and a choiceInput name choices alike. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
const shared = require(join(__dirname, '..', '..', 'resources', SHARED_SCRIPT)) as {
  optionKey(type: string, field: string, value: string, optionKeys?: string): string;
};
const PALETTE_MARKER = /^( *)\/\/ @comfyui palette-node\b.*\n/m;
const ROW = /^( *)<comfyui-row\b([^>]*)><\/comfyui-row>\n/gm;

interface FileContext {
  readonly type: string;
  /** Config nodes' dialog fields are `node-config-input-*`, every other node's `node-input-*`. */
  readonly fieldPrefix: string;
  readonly file: string;
}

export function composeEditorFile(source: string, file: string, packageName: string): string {
  const types = [...source.matchAll(/RED\.nodes\.registerType\('([^']+)'/g)].map((m) => m[1]);
  if (types.length !== 1) throw new Error(`${file}: expected one RED.nodes.registerType('<type>', …), found ${types.length}`);
  if (new RegExp(`<script[^>]*${SHARED_SCRIPT}`).test(source))
    throw new Error(`${file}: the build adds the shared editor script; remove its <script src>`);
  const context: FileContext = {
    type: types[0],
    fieldPrefix: /\bcategory: 'config'/.test(source) ? 'node-config-input-' : 'node-input-',
    file,
  };
  let html = expandPaletteNode(source, context);
  html = html.replace(ROW, (_, indent: string, attributes: string) => indented(row(parseAttributes(attributes, context), context), indent));
  const left = /@comfyui|<comfyui-|data-comfyui-rows/.exec(html);
  if (left) throw new Error(`${file}: "${left[0]}" the build does not know (markers stand on a line of their own)`);
  return `<script src="resources/${packageName}/${SHARED_SCRIPT}"></script>\n${html}`;
}

function indented(lines: readonly string[], indent: string): string {
  return lines.map((line) => `${indent}${line}\n`).join('');
}

// ---- the registerType object ----

function expandPaletteNode(source: string, context: FileContext): string {
  const marker = PALETTE_MARKER.exec(source);
  if (!marker) return source;
  const indent = marker[1];
  // The object's own keys: its lines at the marker's indentation, up to the call's closing line.
  const start = source.lastIndexOf('RED.nodes.registerType(', marker.index);
  const end = source.indexOf(`\n${indent.slice(4)}});`, marker.index);
  if (start === -1 || end === -1)
    throw new Error(`${context.file}: the palette-node marker stands inside RED.nodes.registerType('<type>', {…});`);
  const own = new Set([...source.slice(start, end).matchAll(new RegExp(`^${indent}(\\w+):`, 'gm'))].map((m) => m[1]));
  const shared = 'ComfyUIEditor';
  const properties: [string, string][] = [
    ['category', "'ComfyUI'"],
    ['color', "'#E6E0F8'"],
    ['icon', `'${context.type}.svg'`],
    ['inputs', '1'],
    ['outputs', '1'],
    ['paletteLabel', `${shared}.palette.paletteLabel`],
    ['label', `${shared}.palette.label`],
    ['labelStyle', `${shared}.palette.labelStyle`],
    ['inputLabels', `${shared}.palette.inputLabels`],
    ['outputLabels', `${shared}.palette.outputLabels`],
    ['oneditsave', `${shared}.runOn.save`],
  ];
  const lines = properties.filter(([key]) => !own.has(key)).map(([key, value]) => `${key}: ${value},`);
  const defaultsLine = new RegExp(`^${indent}defaults: \\{\\n`, 'm');
  const afterMarker = source.slice(marker.index + marker[0].length);
  if (!defaultsLine.test(afterMarker))
    throw new Error(`${context.file}: "defaults: {" must follow the palette-node marker in the same object`);
  const runOn = [
    'name: { value: "" },',
    `configVersion: ${shared}.configVersion('${context.type}'),`,
    `server: { value: "", type: "comfyui-server", validate: ${shared}.runOn.validator("server") },`,
    `pool: { value: "", type: "comfyui-pool", validate: ${shared}.runOn.validator("pool") },`,
  ];
  const template = `<script type="text/html" data-template-name="${context.type}">\n`;
  if (!afterMarker.includes(template)) throw new Error(`${context.file}: no dialog template ${template.trim()}`);
  return (
    source.slice(0, marker.index) +
    indented(lines, indent) +
    afterMarker
      .replace(defaultsLine, (line) => line + indented(runOn, `${indent}    `))
      .replace(template, template + indented(commonRows(), '    '))
  );
}

// ---- dialog rows ----

const RUN_ON = '@comfy-red/node-red-comfyui/comfyui-pool:comfyui-pool.runOn';

/** Name, Run on and the server or pool picker: the rows every palette node's dialog starts with. */
function commonRows(): string[] {
  return [
    '<div class="form-row">',
    '    <label for="node-input-name"><i class="fa fa-tag"></i> <span data-i18n="node-red:common.label.name"></span></label>',
    '    <input type="text" id="node-input-name" data-i18n="[placeholder]node-red:common.label.name">',
    '</div>',
    '<div class="form-row">',
    `    <label for="comfyui-run-on"><i class="fa fa-globe"></i> <span data-i18n="${RUN_ON}.label"></span></label>`,
    '    <select id="comfyui-run-on" style="width: 70%;">',
    `        <option value="server" data-i18n="${RUN_ON}.server"></option>`,
    `        <option value="pool" data-i18n="${RUN_ON}.pool"></option>`,
    '    </select>',
    '</div>',
    '<div class="form-row comfyui-run-on-server">',
    `    <label for="node-input-server"><i class="fa fa-server"></i> <span data-i18n="${RUN_ON}.serverLabel"></span></label>`,
    '    <input type="text" id="node-input-server">',
    '</div>',
    '<div class="form-row comfyui-run-on-pool">',
    `    <label for="node-input-pool"><i class="fa fa-sitemap"></i> <span data-i18n="${RUN_ON}.poolLabel"></span></label>`,
    '    <input type="text" id="node-input-pool">',
    '</div>',
  ];
}

/**
 * A row's attributes. `field` and `icon` (a Font Awesome 4 name without "fa-") are required
 * (a checkbox without an icon stands under the row above it, unlabelled).
 * - `kind`: text (default), typed (a TypedInput: the text input and its hidden type field),
 *   password, checkbox (`check-label`: the catalog key of the text beside the box), select
 *   (`options`: values separated by spaces, each under the key ComfyUIEditor.optionKey gives:
 *   `<option-keys>.<value>`, else `<type>.label.<field><Value>`)
 * - `label`: the label's catalog key (default `<type>.label.<field>`; "" for a text the dialog's code writes)
 * - `placeholder`, `title`: catalog keys; `hint`: a literal placeholder
 * - `width` of the input (default 70%, "" for none), `label-width`, `unit` (a catalog key shown after)
 * - `class` (added to form-row), `row-id`
 */
const ROW_ATTRIBUTES = [
  'field',
  'icon',
  'kind',
  'options',
  'option-keys',
  'label',
  'placeholder',
  'title',
  'hint',
  'width',
  'label-width',
  'unit',
  'check-label',
  'class',
  'row-id',
] as const;
type RowAttributes = Partial<Record<(typeof ROW_ATTRIBUTES)[number], string>> & { field: string };
const KINDS = ['text', 'typed', 'password', 'select', 'checkbox'];

function parseAttributes(text: string, context: FileContext): RowAttributes {
  const attributes: Record<string, string> = {};
  const rest = text.replace(/\s*([\w-]+)="([^"]*)"/g, (_, name: string, value: string) => {
    if (!(ROW_ATTRIBUTES as readonly string[]).includes(name)) throw new Error(`${context.file}: comfyui-row has no attribute "${name}"`);
    attributes[name] = value;
    return '';
  });
  if (rest.trim() !== '') throw new Error(`${context.file}: comfyui-row attributes are name="value" pairs, not "${rest.trim()}"`);
  const { field } = attributes;
  // A checkbox may stand under the row above it, without a label of its own.
  if (!field || (!attributes.icon && attributes.kind !== 'checkbox')) throw new Error(`${context.file}: comfyui-row needs field and icon`);
  if ((attributes.kind === 'checkbox') !== (attributes['check-label'] !== undefined))
    throw new Error(`${context.file}: comfyui-row ${field}: check-label goes with kind="checkbox" and it needs one`);
  if (attributes.kind !== undefined && !KINDS.includes(attributes.kind))
    throw new Error(`${context.file}: comfyui-row kind "${attributes.kind}"`);
  if ((attributes.kind === 'select') !== (attributes.options !== undefined))
    throw new Error(`${context.file}: comfyui-row ${field}: options go with kind="select" and it needs them`);
  return { ...attributes, field };
}

function row(a: RowAttributes, context: FileContext): string[] {
  const id = context.fieldPrefix + a.field;
  const kind = a.kind ?? 'text';
  const width = a.width ?? '70%';
  const style = width === '' ? '' : ` style="width: ${width};"`;
  const labelStyle = a['label-width'] ? ` style="width: ${a['label-width']};"` : '';
  const rowId = a['row-id'] ? ` id="${a['row-id']}"` : '';
  const label = a.label ?? `${context.type}.label.${a.field}`;
  const lines = [
    `<div class="form-row${a.class ? ` ${a.class}` : ''}"${rowId}>`,
    a.icon
      ? `    <label for="${id}"${labelStyle}><i class="fa fa-${a.icon}"></i> <span${label === '' ? '' : ` data-i18n="${label}"`}></span></label>`
      : '    <label>&nbsp;</label>',
  ];
  if (kind === 'checkbox') {
    lines.push(`    <input type="checkbox" id="${id}" style="display: inline-block; width: auto; vertical-align: top;">`);
    lines.push(`    <label for="${id}" style="width: auto;" data-i18n="${a['check-label'] ?? ''}"></label>`);
  } else if (kind === 'select') {
    lines.push(`    <select id="${id}"${style}>`);
    for (const value of (a.options ?? '').split(' ').filter(Boolean)) {
      const key = shared.optionKey(context.type, a.field, value, a['option-keys']);
      lines.push(`        <option value="${value}" data-i18n="${key}"></option>`);
    }
    lines.push('    </select>');
  } else {
    const i18n = [a.placeholder && `[placeholder]${a.placeholder}`, a.title && `[title]${a.title}`].filter(Boolean).join(';');
    const hint = a.hint !== undefined ? ` placeholder="${a.hint}"` : '';
    lines.push(
      `    <input type="${kind === 'password' ? 'password' : 'text'}" id="${id}"${style}${hint}${i18n ? ` data-i18n="${i18n}"` : ''}>`,
    );
    if (kind === 'typed') lines.push(`    <input type="hidden" id="${id}Type">`);
  }
  if (a.unit) lines.push(`    <span data-i18n="${a.unit}"></span>`);
  lines.push('</div>');
  return lines;
}
