import type { Binding } from '../pool.types';

/** What a DELETE needs to reach a call's node without the store. */
export type CachedRoute = Pick<Binding, 'callId' | 'nodeId' | 'controlUrl'>;

/**
 * The node of each call this instance bound or routed lately, so that a BYE still reaches
 * the node while the store stalls (its own answer is then unknown). Bounded: the oldest
 * entry goes first. A stale entry costs at most a DELETE that the node answers 404.
 */
export class BindingCache {
  private readonly routes = new Map<string, CachedRoute>();

  constructor(private readonly max = 50_000) {}

  put(b: CachedRoute): void {
    this.routes.delete(b.callId);
    this.routes.set(b.callId, { callId: b.callId, nodeId: b.nodeId, controlUrl: b.controlUrl });
    if (this.routes.size > this.max) this.routes.delete(this.routes.keys().next().value as string);
  }

  get(callId: string): CachedRoute | undefined {
    return this.routes.get(callId);
  }

  delete(callId: string): void {
    this.routes.delete(callId);
  }
}
