/**
 * "Did you mean": the closest known word to a mistyped one, by edit distance (Levenshtein with
 * adjacent transpositions). Used for CLI commands and options and change spec fields. Pure.
 */

/** The number of single-character insertions, deletions, substitutions and swaps from `a` to `b`. */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/**
 * The known word closest to `typed` (case-insensitive), when it is close enough to be a typo:
 * at most 1 edit for words up to 4 characters, 2 up to 8, 3 beyond. Undefined otherwise.
 */
export function closest(typed: string, known: readonly string[]): string | undefined {
  const t = typed.toLowerCase();
  const limit = t.length <= 4 ? 1 : t.length <= 8 ? 2 : 3;
  let best: { word: string; d: number } | undefined;
  for (const word of known) {
    const d = editDistance(t, word.toLowerCase());
    if (d <= limit && (!best || d < best.d)) best = { word, d };
  }
  return best?.word;
}

/** ` (did you mean "x"?)` for the closest known word, or "" when none is close. */
export function didYouMean(typed: string, known: readonly string[], quote = (w: string) => `"${w}"`): string {
  const w = closest(typed, known);
  return w ? ` (did you mean ${quote(w)}?)` : "";
}
