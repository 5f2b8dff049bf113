/**
 * The submit node's check before POST /prompt: the prompt against the server's node definitions
 * (client/live-check.ts). When the definitions cannot be had, a real submit goes ahead unchecked (the
 * server validates anyway) and the node says so once, not for every msg; a dry run cannot answer
 * without them and fails.
 */
import type { Node } from 'node-red';
import { reasonOf } from '../client/errors';
import { checkOnServer, localValidationError } from '../client/live-check';
import type { DefinitionSource } from '../client/live-check';
import type { ApiPrompt } from '../client/types';
import type { NodeProblem } from '../client/validation';

export interface SubmitCheck {
  /** The problems ComfyUI would refuse the prompt for; a dry run's answer. Throws when the definitions cannot be had. */
  problems(client: DefinitionSource, prompt: ApiPrompt, targets?: string[]): Promise<NodeProblem[]>;
  /** Throws VALIDATION when the server would refuse the prompt; passes unchecked when the definitions cannot be had. */
  beforeSubmit(client: DefinitionSource, prompt: ApiPrompt, targets?: string[]): Promise<void>;
}

export function submitCheck(node: Node): SubmitCheck {
  let warned = false;
  return {
    // With "Run only", ComfyUI validates only the chosen outputs and what they need: so does the check.
    async problems(client, prompt, targets) {
      return (await checkOnServer(client, prompt, { outputs: targets })).problems;
    },
    async beforeSubmit(client, prompt, targets) {
      let check;
      try {
        check = await checkOnServer(client, prompt, { outputs: targets });
      } catch (err) {
        if (!warned) node.warn(`Submitting without checking the workflow first: the node definitions (GET /object_info) could not be read: ${reasonOf(err)}`);
        warned = true;
        return;
      }
      warned = false; // the definitions came: a later outage is worth saying again
      // Outputs that fail while others pass are the server's to drop (node_errors on its 200), as without the check.
      if (check.refused) throw localValidationError(check, prompt);
    },
  };
}
