/**
 * Node types that exist only in ComfyUI's frontend: the server has no class for them and they never
 * appear in an API prompt. A workflow holding one is not missing a class.
 */

/** Forwards its input 0 to its output 0 (rerouteNode.ts); the frontend follows it upstream. */
export const REROUTE = 'Reroute';
/** Holds one widget value and writes it into every widget input it feeds (widgetInputs.ts). */
export const PRIMITIVE = 'PrimitiveNode';

/** Every frontend-only (virtual) node type of the core frontend: notes are dropped, the others resolved away. */
const FRONTEND_ONLY: ReadonlySet<string> = new Set([REROUTE, PRIMITIVE, 'Note', 'MarkdownNote']);

export function isFrontendOnly(type: string): boolean {
  return FRONTEND_ONLY.has(type);
}
