/**
 * A set of ids kept in UTF-16 code-unit order, paged from an exclusive "after" id: the
 * memory store's per-node and all-calls indexes (as a Redis sorted set paged with
 * ZRANGEBYLEX is the Redis store's). A page costs a binary search plus the page, never a
 * scan; an insert or delete a binary search and one splice.
 */
export class SortedIds {
  private readonly ids: string[] = [];

  get size(): number {
    return this.ids.length;
  }

  add(id: string): void {
    const i = this.lowerBound(id);
    if (this.ids[i] !== id) this.ids.splice(i, 0, id);
  }

  delete(id: string): void {
    const i = this.lowerBound(id);
    if (this.ids[i] === id) this.ids.splice(i, 1);
  }

  /** Up to `limit` ids after `after` (exclusive; from the start without it). */
  page(limit: number, after?: string): string[] {
    let i = after === undefined ? 0 : this.lowerBound(after);
    if (after !== undefined && this.ids[i] === after) i++;
    return this.ids.slice(i, i + limit);
  }

  /** First index whose id is >= `id`. */
  private lowerBound(id: string): number {
    let lo = 0;
    let hi = this.ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ids[mid] < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
