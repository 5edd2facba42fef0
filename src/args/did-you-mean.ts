/**
 * "Did you mean …?" suggestions for misspelled names (override keys, option names).
 *
 * @module
 */

/**
 * Levenshtein edit distance (insertions, deletions, substitutions) between two strings,
 * counted in Unicode code points so that one emoji or accented letter is one edit.
 */
export function levenshtein(a: string, b: string): number {
  const s = [...a];
  const t = [...b];
  if (s.length === 0) return t.length;
  if (t.length === 0) return s.length;
  // One row of the DP table is enough: names are short and this runs per candidate.
  let prev = Array.from({ length: t.length + 1 }, (_, j) => j);
  let cur = new Array<number>(t.length + 1).fill(0);
  for (let i = 1; i <= s.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
    }
    [prev, cur] = [cur, prev];
  }
  return prev[t.length]!;
}

/**
 * A name with case and word separators removed: `Args/model_id`, `args/model-id`, `ArgsModelId`
 * and `args/modelId` all become `args/modelid`. Names equal under this differ only in spelling
 * convention (camelCase, snake_case, kebab-case, SHOUTING).
 */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_\s]/g, "");
}

/**
 * The candidate closest to `input`, if it is close enough to be a plausible typo. A candidate that
 * differs from `input` only in case or word separators (`MODEL_ID`, `model-id` → `modelId`) wins
 * outright; otherwise the nearest within an edit distance of `max(2, floor(len / 3))`, where `len`
 * is `input`'s length in code points (short names tolerate two typos, long ones proportionally
 * more). Ties go to the earliest candidate.
 *
 * @returns the suggestion, or `undefined` when no candidate is close enough.
 */
export function didYouMean(input: string, candidates: Iterable<string>): string | undefined {
  const list = [...candidates];
  const normalized = normalizeName(input);
  if (list.includes(input)) return input;
  const sameName = list.find((c) => normalizeName(c) === normalized);
  if (sameName !== undefined) return sameName;
  const limit = Math.max(2, Math.floor([...input].length / 3));
  let best: string | undefined;
  let bestDistance = limit + 1;
  for (const candidate of list) {
    const distance = levenshtein(input, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}
