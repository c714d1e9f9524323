import { Injectable } from '@nestjs/common';
import type { Candidate } from '../core/pool.types';
import type { SelectionContext, SelectionStrategy } from '../core/selection-strategy.interface';

/**
 * Each call starts one node further along the candidates (sorted by node id), then
 * wraps around. Ignores load; the rotation is per pool instance.
 */
@Injectable()
export class RoundRobinStrategy implements SelectionStrategy {
  private next = 0;

  order(candidates: readonly Candidate[], _ctx?: SelectionContext): Candidate[] {
    const n = candidates.length;
    if (n === 0) return [];
    const sorted = [...candidates].sort((a, b) => (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
    const start = this.next % n;
    this.next = (this.next + 1) % Number.MAX_SAFE_INTEGER;
    return [...sorted.slice(start), ...sorted.slice(0, start)];
  }
}
