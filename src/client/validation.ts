/**
 * Turns ComfyUI's validation answers (the 400 body of POST /prompt, or `node_errors` on a 200)
 * into one readable error that names every failing node by title and id.
 */
import { ComfyError } from './errors';
import { readPromptRejected } from './answer-shapes';
import { describeNode, nodeOf, titleOf } from './outputs';
import { clip } from './shape';
import type { ApiPrompt, NodeErrors } from './types';

export interface NodeProblem {
  id: string;
  title: string | undefined;
  class_type: string;
  input: string | undefined;
  type: string;
  message: string;
  details: string;
  /** For a name not in the server's list: the nearest names it has (the local check's "did you mean"). */
  suggestions?: string[];
}

export function nodeProblems(nodeErrors: Record<string, NodeErrors>, prompt: ApiPrompt): NodeProblem[] {
  const problems: NodeProblem[] = [];
  for (const [id, entry] of Object.entries(nodeErrors)) {
    for (const error of entry.errors) {
      const input = error.extra_info?.input_name;
      const suggestions = error.extra_info?.suggestions;
      problems.push({
        id,
        title: titleOf(prompt, id),
        class_type: entry.class_type || nodeOf(prompt, id)?.class_type || '?',
        input: typeof input === 'string' ? input : undefined,
        type: error.type,
        message: error.message,
        details: error.details,
        ...(Array.isArray(suggestions) && suggestions.length > 0
          ? { suggestions: suggestions.filter((s): s is string => typeof s === 'string') }
          : {}),
      });
    }
  }
  return problems;
}

export function describeProblems(problems: NodeProblem[], prompt: ApiPrompt): string {
  return problems
    .map((p) => {
      const where = describeNode(prompt, p.id, p.class_type);
      const input = p.input ? ` input "${clip(p.input, 80)}"` : '';
      const details = p.details && p.details !== p.input ? ` (${clip(p.details, PART_CHARS)})` : '';
      return `${where}${input}: ${clip(p.message, PART_CHARS)}${details}`;
    })
    .join('; ');
}

/** Longest part of a server's text put into an error message (the whole message is clipped again). */
const PART_CHARS = 300;

/** The error for a 400 answer to POST /prompt; `body` is whatever came back (a proxy may answer anything). */
export function validationError(status: number, body: unknown, prompt: ApiPrompt, promptId: string): ComfyError {
  const rejected = readPromptRejected(body);
  const top = rejected?.error;
  const topText =
    typeof top === 'string'
      ? top
      : top
        ? [top.message, top.details && top.details !== top.message ? top.details : ''].filter(Boolean).join(': ')
        : typeof body === 'string' && body
          ? body
          : `HTTP ${status}`;
  const problems = rejected ? nodeProblems(rejected.node_errors, prompt) : [];
  const type = top && typeof top === 'object' ? top.type : undefined;
  const message = problems.length
    ? `ComfyUI rejected the workflow: ${describeProblems(problems, prompt)}`
    : `ComfyUI rejected the workflow${type ? ` (${clip(type, 80)})` : ''}: ${clip(topText, PART_CHARS)}`;
  return new ComfyError('VALIDATION', message, { status, body, promptId, nodes: problems });
}
