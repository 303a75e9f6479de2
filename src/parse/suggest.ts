/**
 * Nearest names for did-you-mean messages: unknown functions here, unknown
 * commands and options in the CLI. It lives in the parse layer because the
 * parser and the lowerer need it and may not import from the CLI.
 */

/**
 * The optimal-string-alignment distance: insertions, deletions, substitutions
 * and transpositions of neighbours each count 1 (`sinn` → `sin` is 1, `tna` → `tan` is 1).
 */
export function editDistance(a: string, b: string): number {
  let before = new Array<number>(b.length + 1).fill(0);
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, before[j - 2]! + 1);
      current.push(best);
    }
    before = previous;
    previous = current;
  }
  return previous[b.length]!;
}

/** How many edits still read as a slip of the keyboard: 1 for short words, more for long ones. */
const tolerance = (word: string): number => (word.length <= 3 ? 1 : word.length <= 6 ? 2 : 3);

const commonPrefix = (a: string, b: string): number => {
  let k = 0;
  while (k < a.length && k < b.length && a[k] === b[k]) k++;
  return k;
};

/**
 * The candidates a mistyped `word` most likely meant, best first, at most
 * `limit`: one that differs only in case, else the nearest of those within a
 * few edits (ignoring case) or that start with the word (3 characters at least).
 */
export function nearestNames(word: string, candidates: Iterable<string>, limit = 3): string[] {
  const lower = word.toLowerCase();
  const scored: { name: string; distance: number; prefix: number }[] = [];
  for (const name of candidates) {
    const candidate = name.toLowerCase();
    if (candidate === lower) return [name];
    const distance = editDistance(lower, candidate);
    const startsWithWord = lower.length >= 3 && candidate.startsWith(lower);
    if (distance <= tolerance(lower) || startsWithWord)
      scored.push({ name, distance: startsWithWord ? 1 : distance, prefix: commonPrefix(lower, candidate) });
  }
  const best = Math.min(...scored.map((s) => s.distance));
  return scored
    .filter((s) => s.distance === best)
    .sort(
      (p, q) =>
        p.distance - q.distance || q.prefix - p.prefix || p.name.length - q.name.length || p.name.localeCompare(q.name),
    )
    .slice(0, limit)
    .map((s) => s.name);
}

/** "a", "a or b", "a, b or c". */
export function orList(names: readonly string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} or ${names.at(-1)!}`;
}
