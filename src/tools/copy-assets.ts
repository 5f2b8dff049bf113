/**
 * Node-RED looks for a node's .html, its locales/ and icons/ next to the .js named in
 * package.json, so the build writes the editor files beside the compiled adapters: each composed
 * from the committed one (src/tools/editor-file.ts), the catalogs and icons as they are.
 */
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { composeEditorFile } from './editor-file';

const root = resolve(__dirname, '..', '..');
const target = join(root, 'dist', 'nodes');
const { name } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { name: string };
mkdirSync(target, { recursive: true });

for (const file of readdirSync(join(root, 'nodes'))) {
  if (file.endsWith('.html'))
    writeFileSync(join(target, file), composeEditorFile(readFileSync(join(root, 'nodes', file), 'utf8'), `nodes/${file}`, name));
}
cpSync(join(root, 'nodes', 'locales'), join(target, 'locales'), { recursive: true });
if (existsSync(join(root, 'icons'))) cpSync(join(root, 'icons'), join(target, 'icons'), { recursive: true });
