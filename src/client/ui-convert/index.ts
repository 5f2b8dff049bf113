/**
 * A UI-format workflow (what ComfyUI's "Save" writes) as the API prompt the server runs: read the
 * graph, then convert it as the frontend would. The value is copied as plain JSON first, so a getter,
 * a Proxy or a non-JSON value in a flow's object fails here with BAD_WORKFLOW and never reaches the prompt.
 */
import { ComfyError } from '../errors';
import type { NodeDefinition } from '../node-definitions';
import { plainJson } from '../plain-json';
import type { ApiPrompt } from '../types';
import { convertGraph } from './convert';
import { readUiGraph } from './ui-graph';

export function convertUiWorkflow(raw: unknown, definitions: ReadonlyMap<string, NodeDefinition>): ApiPrompt {
  const copy = plainJson(raw, 'BAD_WORKFLOW', 'workflow');
  const graph = readUiGraph(copy);
  if (!graph) throw new ComfyError('BAD_WORKFLOW', 'The UI workflow has no "nodes" list, so it cannot be converted');
  return convertGraph(graph, definitions);
}
