import { Injectable } from '@nestjs/common';
import type { Candidate } from '../core/pool.types';
import type { SelectionContext, SelectionStrategy } from '../core/selection-strategy.interface';
import { topK } from './top-k';

/** Compares by effective load, then node id: the Go package's order. */
export const byLoadThenId = (a: Candidate, b: Candidate): number =>
  a.load - b.load || (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0);

/** Fewest effective legs first; ties broken by node id. The default. */
@Injectable()
export class LeastLoadedStrategy implements SelectionStrategy {
  order(candidates: readonly Candidate[], ctx?: SelectionContext): Candidate[] {
    return topK(candidates, ctx?.limit ?? Infinity, byLoadThenId);
  }
}
