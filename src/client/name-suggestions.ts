/**
 * "Did you mean …": the names a server offers that are nearest to one it does not have. Model and
 * file names go wrong in a few typical ways (a workflow made on another machine): other letter case,
 * the same file in another folder ("SDXL/model.safetensors"), another extension (.ckpt for
 * .safetensors), a shortened name, or a typo. Each way has a rank; the best few names win.
 */

/** Most names suggested at once. */
const MAX_SUGGESTIONS = 3;
/** Longer values are not compared letter by letter (the edit distance is quadratic). */
const MAX_COMPARED_CHARS = 200;
/** Most offered names looked at (a server may list tens of thousands of files). */
const MAX_CANDIDATES = 20000;

export function suggestNames(wanted: string, offered: readonly unknown[]): string[] {
  const target = normalized(wanted);
  if (target.full === '') return [];
  const ranked: Array<{ name: string; score: number }> = [];
  for (const candidate of offered.slice(0, MAX_CANDIDATES)) {
    if (typeof candidate !== 'string' || candidate === wanted) continue;
    const score = scoreOf(target, normalized(candidate));
    if (score !== undefined) ranked.push({ name: candidate, score });
  }
  ranked.sort((a, b) => a.score - b.score || a.name.localeCompare(b.name));
  return ranked.slice(0, MAX_SUGGESTIONS).map((entry) => entry.name);
}

interface Name {
  full: string;
  /** The file name without its folders. */
  base: string;
  /** The file name without its folders and extension. */
  stem: string;
}

function normalized(name: string): Name {
  const full = name.toLowerCase().replace(/\\/g, '/');
  const base = full.slice(full.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return { full, base, stem: dot > 0 ? base.slice(0, dot) : base };
}

/** Lower is nearer; undefined: not worth suggesting. */
function scoreOf(target: Name, candidate: Name): number | undefined {
  if (target.full === candidate.full) return 0;
  if (target.base === candidate.base) return 1;
  if (target.stem === candidate.stem && target.stem !== '') return 2;
  if (
    target.stem.length >= 4 &&
    candidate.stem.length >= 4 &&
    (candidate.stem.includes(target.stem) || target.stem.includes(candidate.stem))
  )
    return 3;
  if (target.base.length > MAX_COMPARED_CHARS || candidate.base.length > MAX_COMPARED_CHARS) return undefined;
  const distance = editDistance(target.base, candidate.base);
  const allowed = Math.max(2, Math.floor(Math.min(target.base.length, candidate.base.length) / 4));
  return distance <= allowed ? 10 + distance : undefined;
}

/** Levenshtein distance, one row at a time. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}
