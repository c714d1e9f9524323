/**
 * The first `k` items of `items` in `cmp` order, as `[...items].sort(cmp).slice(0, k)`
 * would give them (ties keep input order), without sorting everything: O(n·k) with an
 * insertion buffer. A prepare tries at most a few nodes (`RTP_MAX_ATTEMPTS`), so with
 * 1,000 nodes this replaces a full sort by one pass.
 */
export function topK<T>(items: readonly T[], k: number, cmp: (a: T, b: T) => number): T[] {
  if (!(k < items.length) || k > 16) return [...items].sort(cmp).slice(0, Math.max(0, k));
  if (k <= 0) return [];
  const out: T[] = [];
  for (const item of items) {
    if (out.length === k && cmp(item, out[k - 1]) >= 0) continue;
    let i = out.length < k ? out.length : k - 1;
    while (i > 0 && cmp(item, out[i - 1]) < 0) {
      out[i] = out[i - 1];
      i--;
    }
    out[i] = item;
  }
  return out;
}
