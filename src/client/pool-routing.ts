/**
 * Which server of a pool takes a prompt. Pure: the pool (pool.ts) gathers what it knows of each
 * member and keeps the turn counter and the affinity map; this decides.
 *
 *   1. eligible: healthy (`unavailable` undefined) and lacking nothing the prompt names;
 *   2. the affinity member, when the caller gave a key that is bound to an eligible member;
 *   3. else the least loaded (running + pending); among equally loaded members the first at or
 *      after `turn` in member order, so that ties go round in turn.
 * No eligible member: every member with the reason it cannot take the prompt.
 */

export interface Candidate {
  name: string;
  /** Why the member is out of routing now (down, refused, failing…); undefined when healthy. */
  unavailable?: string;
  /** What it lacks of the prompt (classes, model files); empty when it has everything. */
  missing: readonly string[];
  /** Running + pending prompts on it. */
  load: number;
}

export type Choice = { server: string; index: number } | { reasons: Array<{ server: string; reason: string }> };

export function choose(candidates: readonly Candidate[], turn: number, preferred?: string): Choice {
  const eligible = candidates.map((candidate, index) => ({ candidate, index })).filter(({ candidate }) => isEligible(candidate));
  if (eligible.length === 0) return { reasons: candidates.map((candidate) => ({ server: candidate.name, reason: reasonOf(candidate) })) };
  const bound = preferred === undefined ? undefined : eligible.find(({ candidate }) => candidate.name === preferred);
  if (bound) return { server: bound.candidate.name, index: bound.index };
  const least = Math.min(...eligible.map(({ candidate }) => candidate.load));
  const tied = eligible.filter(({ candidate }) => candidate.load === least);
  const start = ((turn % candidates.length) + candidates.length) % candidates.length;
  const next = tied.find(({ index }) => index >= start) ?? tied[0];
  return { server: next.candidate.name, index: next.index };
}

function isEligible(candidate: Candidate): boolean {
  return candidate.unavailable === undefined && candidate.missing.length === 0;
}

function reasonOf(candidate: Candidate): string {
  if (candidate.unavailable !== undefined) return candidate.unavailable;
  return `lacks ${candidate.missing.join(', ')}`;
}
