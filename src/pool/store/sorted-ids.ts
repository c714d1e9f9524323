/** Most ids in one chunk of {@link SortedIds}; a fuller chunk is split in two. */
const CHUNK = 512;

/**
 * A set of ids kept in UTF-16 code-unit order, paged from an exclusive "after" id: the
 * memory store's per-node and all-calls indexes (as a Redis sorted set paged with
 * ZRANGEBYLEX is the Redis store's). Sorted chunks of at most {@link CHUNK} ids: an insert or
 * delete is a binary search over the chunks, one within a chunk and a splice of at most
 * CHUNK ids, however many calls are live (one flat array's splice grew with them); a page is
 * a binary search plus the page.
 */
export class SortedIds {
  private readonly chunks: string[][] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(id: string): void {
    if (this.chunks.length === 0) {
      this.chunks.push([id]);
      this.count = 1;
      return;
    }
    const c = Math.min(this.chunkFor(id), this.chunks.length - 1);
    const chunk = this.chunks[c];
    const i = lowerBound(chunk, id);
    if (chunk[i] === id) return;
    chunk.splice(i, 0, id);
    this.count++;
    if (chunk.length > CHUNK) this.chunks.splice(c + 1, 0, chunk.splice(chunk.length >>> 1));
  }

  delete(id: string): void {
    const c = this.chunkFor(id);
    const chunk = this.chunks[c];
    if (!chunk) return;
    const i = lowerBound(chunk, id);
    if (chunk[i] !== id) return;
    chunk.splice(i, 1);
    this.count--;
    if (chunk.length === 0) this.chunks.splice(c, 1);
  }

  /** Up to `limit` ids after `after` (exclusive; from the start without it). */
  page(limit: number, after?: string): string[] {
    const out: string[] = [];
    let c = after === undefined ? 0 : this.chunkFor(after);
    let i = after === undefined || c >= this.chunks.length ? 0 : lowerBound(this.chunks[c], after);
    if (after !== undefined && this.chunks[c]?.[i] === after) i++;
    for (; c < this.chunks.length && out.length < limit; c++, i = 0) {
      const chunk = this.chunks[c];
      while (i < chunk.length && out.length < limit) out.push(chunk[i++]);
    }
    return out;
  }

  /** The first chunk whose last id is >= `id` (chunks.length when none is). */
  private chunkFor(id: string): number {
    let lo = 0;
    let hi = this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const chunk = this.chunks[mid];
      if (chunk[chunk.length - 1] < id) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** First index of a sorted array whose id is >= `id`. */
function lowerBound(ids: readonly string[], id: string): number {
  let lo = 0;
  let hi = ids.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ids[mid] < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
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
