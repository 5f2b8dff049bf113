/**
 * Node-RED looks for a node's .html, its locales/ and icons/ next to the .js named in
 * package.json, so the build copies the committed editor files beside the compiled adapters.
 */
import { cpSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(__dirname, '..', '..');
const target = join(root, 'dist', 'nodes');
mkdirSync(target, { recursive: true });

for (const file of readdirSync(join(root, 'nodes'))) {
  if (file.endsWith('.html')) cpSync(join(root, 'nodes', file), join(target, file));
}
cpSync(join(root, 'nodes', 'locales'), join(target, 'locales'), { recursive: true });
if (existsSync(join(root, 'icons'))) cpSync(join(root, 'icons'), join(target, 'icons'), { recursive: true });
