/**
 * "Did you mean ...?" for names a user typed: config keys, rule names in a tuning file.
 * Bounded: names longer than MAX_NAME are compared by their normalised form only.
 */

const MAX_NAME = 200;

function normalised(text: string): string {
  return text.toLowerCase().replace(/[-_\s]/g, '');
}

/** Levenshtein distance, stopping early once it exceeds `limit` (then returns limit + 1). */
export function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a.charCodeAt(i - 1) === b.charCodeAt(j - 1) ? 0 : 1;
      const value = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + cost);
      current.push(value);
      if (value < best) best = value;
    }
    if (best > limit) return limit + 1;
    previous = current;
  }
  return previous[b.length] as number;
}

/** Close enough to be a typo: one edit apart, or the same letters ignoring case, '-', '_' and spaces. */
export function isTypoOf(candidate: string, typed: string): boolean {
  if (normalised(candidate) === normalised(typed)) return true;
  if (candidate.length > MAX_NAME || typed.length > MAX_NAME) return false;
  return editDistance(candidate, typed, 1) <= 1;
}

/**
 * The candidate closest to what was typed, when one is close enough to be what was meant: within
 * a third of the name's length in edits (at least 2, at most 4), or equal once case and separators are ignored.
 */
export function closestName(candidates: Iterable<string>, typed: string): string | undefined {
  const limit = Math.min(4, Math.max(2, Math.floor(typed.length / 3)));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of candidates) {
    if (normalised(candidate) === normalised(typed)) return candidate;
    if (candidate.length > MAX_NAME || typed.length > MAX_NAME) continue;
    const distance = editDistance(candidate, typed, limit);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}
