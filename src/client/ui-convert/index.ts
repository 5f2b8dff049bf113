/**
 * A UI-format workflow (what ComfyUI's "Save" writes) as the API prompt the server runs: read the
 * graph, expand its group nodes and subgraphs, then convert it as the frontend would.
 *
 * The value may come from a flow rather than from JSON text, so it may hold what JSON cannot (NaN,
 * a cycle, a getter or a Proxy that throws). Copying the whole workflow as plain JSON first would
 * check that, but costs five times the conversion (positions, sizes and properties are most of a
 * file, and none of them is sent). So the reader reads only what it needs, the prompt is copied as
 * plain JSON at the end (so it holds nothing JSON cannot carry), and only when reading threw is the
 * workflow checked as a whole, to say where it is not JSON.
 */
import { ComfyError, reasonOf } from '../errors';
import type { NodeDefinition } from '../node-definitions';
import { plainJson } from '../plain-json';
import type { ApiPrompt } from '../types';
import { convertGraph } from './convert';
import type { ConvertOptions } from './convert';
import { expandWorkflow } from './expand';

export type { ConvertOptions };

export function convertUiWorkflow(raw: unknown, definitions: ReadonlyMap<string, NodeDefinition>, options: ConvertOptions = {}): ApiPrompt {
  let prompt: ApiPrompt;
  try {
    // Group nodes and subgraphs made flat first: the converter works on one graph of ordinary nodes.
    const graph = expandWorkflow(raw);
    if (!graph) throw new ComfyError('BAD_WORKFLOW', 'The UI workflow has no "nodes" list, so it cannot be converted');
    prompt = convertGraph(graph, definitions, options);
  } catch (err) {
    if (err instanceof ComfyError) throw err;
    // A getter or a Proxy trap of the flow's value threw: the copy names the place (BAD_WORKFLOW).
    plainJson(raw, 'BAD_WORKFLOW', 'workflow');
    // Plain JSON that made the converter throw is a fault of this package.
    throw new ComfyError('INTERNAL', `Converting the UI workflow failed: ${reasonOf(err)}`);
  }
  // As the frontend's queue button, which sends nothing for a graph of notes or muted nodes only.
  if (Object.keys(prompt).length === 0) {
    throw new ComfyError(
      'BAD_WORKFLOW',
      'The UI workflow has no node to run (it is empty, or holds only notes, muted nodes or frontend-only nodes)',
    );
  }
  return plainJson(prompt, 'BAD_WORKFLOW', 'The converted prompt') as unknown as ApiPrompt;
}
