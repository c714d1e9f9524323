import { Inject } from '@nestjs/common';
import type { Candidate } from '../pool.types';

export const SELECTION_STRATEGY = Symbol('RTP_SELECTION_STRATEGY');
/** Injects the active {@link SelectionStrategy}. */
export const InjectSelectionStrategy = () => Inject(SELECTION_STRATEGY);

/** What a strategy knows about the call being placed. */
export interface SelectionContext {
  /** The call id being prepared (trimmed). */
  callId: string;
  /** The caller's preferred region, when it gave one. */
  region?: string;
}

/**
 * Orders candidate nodes for a new call. The pool tries them in the returned order,
 * up to its attempt budget.
 *
 * Candidates are already filtered: healthy, not draining, below capacity, circuit closed.
 * Their `load` is the effective load (last report + legs placed since it + this instance's
 * prepares in flight to the node).
 * Return a new array (or the same candidates reordered); dropping a candidate means
 * it is not tried for this call.
 */
export interface SelectionStrategy {
  order(candidates: readonly Candidate[], ctx: SelectionContext): Candidate[];
}
