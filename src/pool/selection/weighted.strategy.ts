import { Injectable } from '@nestjs/common';
import type { Candidate } from '../core/pool.types';
import type { SelectionContext, SelectionStrategy } from '../core/selection-strategy.interface';
import { topK } from './top-k';

/**
 * Effective load ÷ weight, lowest first: a node of weight 3 takes three times the legs
 * of a node of weight 1. Ties go to the heavier node, then by node id.
 */
@Injectable()
export class WeightedStrategy implements SelectionStrategy {
  order(candidates: readonly Candidate[], ctx?: SelectionContext): Candidate[] {
    return topK(candidates, ctx?.limit ?? Infinity, (a, b) => {
      const d = a.load / weightOf(a) - b.load / weightOf(b);
      if (d !== 0) return d;
      return weightOf(b) - weightOf(a) || (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0);
    });
  }
}

/** A node's weight; anything not a positive finite number counts as 1. */
export function weightOf(c: Pick<Candidate, 'weight'>): number {
  return Number.isFinite(c.weight) && c.weight > 0 ? c.weight : 1;
}
