import { Inject } from '@nestjs/common';
import type { Candidate } from './pool.types';

export const SELECTION_STRATEGY = Symbol('RTP_SELECTION_STRATEGY');
/** Injects the active {@link SelectionStrategy}. */
export const InjectSelectionStrategy = () => Inject(SELECTION_STRATEGY);

/** What a strategy knows about the call being placed. */
export interface SelectionContext {
  /** The call id being prepared (trimmed). */
  callId: string;
  /** The caller's preferred region; absent or null when it gave none. */
  region?: string | null;
  /**
   * How many candidates the pool will try at most (its attempt budget), when it knows.
   * A strategy may return only the first `limit` of its order — the built-ins then pick
   * them in one pass instead of sorting every node (see `topK`). Returning more is fine.
   */
  limit?: number;
}

/**
 * Orders candidate nodes for a new call. The pool tries them in the returned order,
 * up to its attempt budget.
 *
 * Candidates are already filtered: healthy, not draining, below capacity, circuit closed.
 * Their `load` is the effective load (last report + legs placed since it + this instance's
 * prepares in flight to the node).
 * Return a new array (or the same candidates reordered); dropping a candidate means
 * it is not tried for this call. Do not keep or mutate the candidate objects: the pool
 * reuses them from one call to the next.
 */
export interface SelectionStrategy {
  order(candidates: readonly Candidate[], ctx: SelectionContext): Candidate[];
}
