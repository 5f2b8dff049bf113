/**
 * Config versions: every node's config carries `configVersion`, and a flow saved by an earlier
 * release (a lower version, or none) is upgraded by its type's migrations before the adapter reads
 * it, so an adapter reads every setting as the current editor saves it. The migrations live once,
 * in resources/comfyui-editor.js, which the editor runs too (on every node it loads or imports).
 */
import { join } from 'node:path';

/** A node's config as Node-RED hands it to the constructor. */
type Config = { type: string; configVersion?: unknown };

interface Migrations {
  /** The config at the current version of its type, as a new object. */
  migrate<T extends Config>(config: T): T & { configVersion: number };
  /** The current version of a node type. */
  versionOf(type: string): number;
}

// Two levels up from src/nodes and from dist/nodes alike: the package's own resources/ folder.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const shared = require(join(__dirname, '..', '..', 'resources', 'comfyui-editor.js')) as Migrations;

/** `config` upgraded to the current version of its type. */
export function upgradeConfig<T extends Config>(config: T): T & { configVersion: number } {
  return shared.migrate(config);
}

/** The config version the current release saves for `type`. */
export function configVersionOf(type: string): number {
  return shared.versionOf(type);
}
