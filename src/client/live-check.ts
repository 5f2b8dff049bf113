/**
 * The prompt check against a live server: its cached node definitions, asked again once when a name
 * is not in a list (a model file added since they were fetched must not be refused), and the
 * refusal as one VALIDATION error that reads like the server's own (validation.ts).
 */
import { ComfyError } from './errors';
import type { NodeDefinition } from './node-definitions';
import { checkPrompt, outputNodes, UNKNOWN_CLASS } from './prompt-check';
import type { CheckOptions } from './prompt-check';
import { describeProblems, nodeProblems } from './validation';
import type { NodeProblem } from './validation';
import type { ApiPrompt, NodeErrors, NodeId } from './types';

/** Where definitions come from: ComfyClient.definitions. */
export interface DefinitionSource {
  definitions(stale?: Map<string, NodeDefinition>): Promise<Map<string, NodeDefinition>>;
}

export interface LiveCheck {
  nodeErrors: Record<NodeId, NodeErrors>;
  problems: NodeProblem[];
  /**
   * Whether the server would refuse the prompt: a node of an unknown class, or every output failing.
   * With some outputs good, it queues the prompt and drops the failing outputs (node_errors on a 200).
   */
  refused: boolean;
}

/** Throws what definitions() throws (the server could not be asked); the caller decides whether that blocks. */
export async function checkOnServer(source: DefinitionSource, prompt: ApiPrompt, options: CheckOptions = {}): Promise<LiveCheck> {
  let definitions = await source.definitions();
  let nodeErrors = checkPrompt(prompt, definitions, options);
  if (missesNames(nodeErrors)) {
    definitions = await source.definitions(definitions);
    nodeErrors = checkPrompt(prompt, definitions, options);
  }
  const failed = new Set(Object.values(nodeErrors).flatMap((entry) => entry.dependent_outputs));
  const unknownClass = Object.values(nodeErrors).some((entry) => entry.errors.some((error) => error.type === UNKNOWN_CLASS));
  const refused = unknownClass || (failed.size > 0 && outputNodes(prompt, definitions, options).every((id) => failed.has(id)));
  return { nodeErrors, problems: nodeProblems(nodeErrors, prompt), refused };
}

function missesNames(nodeErrors: Record<NodeId, NodeErrors>): boolean {
  return Object.values(nodeErrors).some((entry) =>
    entry.errors.some((error) => error.type === 'value_not_in_list' || error.type === UNKNOWN_CLASS),
  );
}

/** The refusal of a prompt that failed the local check; `nodes` as in the server's VALIDATION error. */
export function localValidationError(check: LiveCheck, prompt: ApiPrompt): ComfyError {
  return new ComfyError(
    'VALIDATION',
    `The workflow does not fit this ComfyUI server (checked before sending): ${describeProblems(check.problems, prompt)}`,
    {
      nodes: check.problems,
      // The body ComfyUI itself answers with when it refuses (its 400 to POST /prompt), so a flow reads both the same way.
      body: {
        error: { type: 'prompt_outputs_failed_validation', message: 'Prompt outputs failed validation', details: '', extra_info: {} },
        node_errors: check.nodeErrors,
      },
    },
  );
}
