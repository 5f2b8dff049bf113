/**
 * Which input of a bypassed node (mode 4) stands in for one of its outputs: the rule of ComfyUI's
 * frontend (`ExecutableNodeDTO._getBypassSlotIndex`), kept in one place so the UI-format converter and
 * the per-msg bypass of an API prompt rewire the same way.
 */

/** LiteGraph's `isValidConnection`: "" and "*" match anything; otherwise case-insensitive equality, with comma-separated multi-type slots matched pairwise. */
export function typesConnect(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined || a === '' || a === '*' || b === '' || b === '*') return true;
  const left = a.toLowerCase();
  const right = b.toLowerCase();
  if (left === right) return true;
  if (!left.includes(',') && !right.includes(',')) return false;
  const rights = right.split(',');
  return left.split(',').some((x) => rights.some((y) => x === y));
}

/**
 * The index of the input that replaces output `slot` (of type `outputType`) for a consumer whose input
 * has type `targetType`, or -1 when none fits (the consumer then gets nothing from this link).
 * Order: an untyped target takes the same index (or input 0); the input at the same index when it fits
 * both types; the first input of exactly the target type; the first input that fits both.
 */
export function bypassInputIndex(
  inputTypes: readonly string[],
  slot: number,
  outputType: string | undefined,
  targetType: string | undefined,
): number {
  if (targetType === undefined || targetType === '' || targetType === '*') return slot < inputTypes.length ? slot : 0;
  const fits = (type: string): boolean => typesConnect(type, outputType) && typesConnect(type, targetType);
  if (slot < inputTypes.length && fits(inputTypes[slot])) return slot;
  const exact = inputTypes.indexOf(targetType);
  if (exact !== -1) return exact;
  return inputTypes.findIndex(fits);
}
