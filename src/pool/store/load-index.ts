import { effectiveLoad, type NodeState } from '../core/pool.types';

/** (effective load, id) order: the least-loaded strategy's (`byLoadThenId`), on stored nodes. */
function before(a: Readonly<NodeState>, b: Readonly<NodeState>): boolean {
  const la = effectiveLoad(a);
  const lb = effectiveLoad(b);
  return la < lb || (la === lb && a.nodeId < b.nodeId);
}

/**
 * The memory store's nodes, lightest first: effective load, then id. Kept as the store
 * replaces nodes, so a least-loaded prepare reads the first few nodes instead of every
 * one (docs/performance.md, figures behind the code).
 *
 * One sorted array: a change is a binary search for the node's old place and one for its
 * new place, and a splice out and in (a memmove, under a microsecond at 10,000 nodes).
 */
export class LoadIndex {
  private readonly order: Readonly<NodeState>[] = [];

  /** Lightest first. The index's own array: read it, do not keep it across an await. */
  get nodes(): readonly Readonly<NodeState>[] {
    return this.order;
  }

  /** `next` replaces `prev` (the stored object of the same node), or is new. */
  put(prev: Readonly<NodeState> | undefined, next: Readonly<NodeState>): void {
    const o = this.order;
    const i = prev ? this.indexOf(prev) : -1;
    if (i >= 0) {
      // Same place (a heartbeat that reports the same load, a health change): no move.
      if ((i === 0 || before(o[i - 1], next)) && (i === o.length - 1 || before(next, o[i + 1]))) {
        o[i] = next;
        return;
      }
      o.splice(i, 1);
    }
    o.splice(this.placeOf(next), 0, next);
  }

  /** `n` (the stored object) is gone. */
  delete(n: Readonly<NodeState>): void {
    const i = this.indexOf(n);
    if (i >= 0) this.order.splice(i, 1);
  }

  /** Where the stored object `n` is, or -1. */
  private indexOf(n: Readonly<NodeState>): number {
    const i = this.placeOf(n);
    return this.order[i] === n ? i : -1;
  }

  /** The first slot whose node does not sort before `n` (binary search). */
  private placeOf(n: Readonly<NodeState>): number {
    const o = this.order;
    let lo = 0;
    let hi = o.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (before(o[mid], n)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
