import { Injectable } from '@nestjs/common';
import { InjectRandom, type RandomSource } from '../core/pool.constants';
import type { Candidate } from '../core/pool.types';
import { byLoadThenId } from './least-loaded.strategy';
import type { SelectionContext, SelectionStrategy } from '../core/selection-strategy.interface';
import { topK } from './top-k';

/**
 * Power of two choices: two candidates drawn at random, the less loaded of them first
 * (the first drawn on a tie), then every other candidate by load. Stays balanced when
 * load information is stale, because concurrent selections do not all herd onto the
 * one node that looked least loaded.
 */
@Injectable()
export class PowerOfTwoStrategy implements SelectionStrategy {
  constructor(@InjectRandom() private readonly random: RandomSource) {}

  order(candidates: readonly Candidate[], ctx?: SelectionContext): Candidate[] {
    const n = candidates.length;
    if (n < 2) return [...candidates];
    const i = this.pick(n);
    let j = this.pick(n - 1);
    if (j >= i) j++;
    const a = candidates[i];
    const b = candidates[j];
    const pair = b.load < a.load ? [b, a] : [a, b];
    const rest = topK(candidates.filter((_, k) => k !== i && k !== j), (ctx?.limit ?? Infinity) - 2, byLoadThenId);
    return [...pair, ...rest];
  }

  /** A uniform index in [0, n), whatever the random source returns. */
  private pick(n: number): number {
    const r = this.random();
    const k = Math.floor((Number.isFinite(r) ? r : 0) * n);
    return Math.min(n - 1, Math.max(0, k));
  }
}
