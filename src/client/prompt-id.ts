/**
 * What a prompt id given by a flow may look like. ComfyUI takes any string a client chooses and
 * puts it into URL paths (GET /history/{id}) and JSON bodies; its own ids and ours are UUIDs.
 * Allowing only letters, digits, _ and - keeps every UUID and leaves out dots, slashes and
 * everything else that could walk or break a URL path.
 */
const PROMPT_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** The rule in words, for error messages and help. */
export const PROMPT_ID_RULE = '1 to 128 letters, digits, _ or -';

export function isPromptId(value: unknown): value is string {
  return typeof value === 'string' && PROMPT_ID.test(value);
}
