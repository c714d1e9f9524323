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

/**
 * The memory store's call index: the call ids of each node, and of every call. A binding is
 * listed under its node when the node is known at write time (as the Redis store's per-node
 * index); a node's index outlives the node (its calls stay bound).
 */
export class CallIndex {
  private readonly byNode = new Map<string, SortedIds>();
  private readonly all = new SortedIds();

  add(callId: string, nodeId: string, nodeKnown: boolean): void {
    this.all.add(callId);
    if (!nodeKnown) return;
    let ids = this.byNode.get(nodeId);
    if (!ids) this.byNode.set(nodeId, (ids = new SortedIds()));
    ids.add(callId);
  }

  delete(callId: string, nodeId: string): void {
    const ids = this.byNode.get(nodeId);
    ids?.delete(callId);
    if (ids?.size === 0) this.byNode.delete(nodeId);
    this.all.delete(callId);
  }

  /** How many calls are indexed under a node. */
  sizeOf(nodeId: string): number {
    return this.byNode.get(nodeId)?.size ?? 0;
  }

  /**
   * A page of one node's bindings (or of every call without `nodeId`) after `cursor` (a call
   * id). `live` reads a binding, or undefined for one that expired since it was indexed: it
   * is skipped and the page filled from further on; one id beyond the page tells whether
   * more follow.
   */
  page<B extends { callId: string }>(
    nodeId: string | undefined, limit: number, cursor: string | undefined, live: (callId: string) => B | undefined,
  ): { bindings: B[]; next?: string } {
    const index = nodeId === undefined ? this.all : this.byNode.get(nodeId);
    const bindings: B[] = [];
    let after = cursor;
    while (index) {
      const want = limit - bindings.length;
      const ids = index.page(want + 1, after);
      for (const id of ids) {
        const b = live(id);
        if (!b) continue;
        if (bindings.length === limit) return { bindings, next: bindings[limit - 1].callId };
        bindings.push(b);
      }
      if (ids.length <= want) break;
      after = ids[ids.length - 1];
    }
    return { bindings };
  }
}
