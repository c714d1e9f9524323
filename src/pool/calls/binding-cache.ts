import type { Binding } from '../core/pool.types';

/** What a DELETE needs to reach a call's node without the store. */
export type CachedRoute = Pick<Binding, 'callId' | 'nodeId' | 'controlUrl'>;

/**
 * The node of each call this instance bound or routed lately, so that a BYE still reaches
 * the node while the store stalls (its own answer is then unknown). Bounded: the `max`
 * latest entries stay, the oldest go first. A stale entry costs at most a DELETE that the
 * node answers 404.
 */
export class BindingCache {
  private readonly routes = new Map<string, CachedRoute>();
  /** Entries beyond `max` before the oldest are dropped, all in one pass. */
  private readonly slack: number;

  /** @param max entries kept; 0 keeps none (a store that never stalls needs no cache). */
  constructor(private readonly max = 50_000) {
    this.slack = Math.max(1, max >>> 4);
  }

  put(b: CachedRoute): void {
    if (this.max === 0) return;
    this.routes.delete(b.callId);
    this.routes.set(b.callId, { callId: b.callId, nodeId: b.nodeId, controlUrl: b.controlUrl });
    if (this.routes.size > this.max + this.slack) this.evict();
  }

  get(callId: string): CachedRoute | undefined {
    return this.routes.get(callId);
  }

  delete(callId: string): void {
    this.routes.delete(callId);
  }

  /**
   * Drops the oldest entries down to `max`, in batches: one at a time (`keys().next()` per
   * put) is slow on a large Map, whose deleted slots stay at the front of its table until it
   * rehashes, and each new iterator walks over all of them.
   */
  private evict(): void {
    let n = this.routes.size - this.max;
    for (const id of this.routes.keys()) {
      this.routes.delete(id);
      if (--n === 0) return;
    }
  }
}
