import { Injectable } from '@nestjs/common';
import type { Candidate } from '../core/pool.types';
import type { SelectionContext, SelectionStrategy } from '../core/selection-strategy.interface';
import { topK } from './top-k';
import { weightOf } from './weighted.strategy';

/**
 * Rendezvous (highest-random-weight) hashing of the call id: every candidate gets a
 * score from hash(node id, call id), highest first. The same call id maps to the same
 * node while membership is stable, and when a node joins or leaves only the ids that
 * belong to it move (about 1/N). Weights are honoured (weighted rendezvous:
 * score = −weight ÷ ln(u)). Ignores load.
 */
@Injectable()
export class CallHashStrategy implements SelectionStrategy {
  order(candidates: readonly Candidate[], ctx: SelectionContext): Candidate[] {
    const scored = candidates.map((c) => ({ c, score: rendezvousScore(c.nodeId, ctx.callId, weightOf(c)) }));
    return topK(scored, ctx.limit ?? Infinity, (x, y) => y.score - x.score || (x.c.nodeId < y.c.nodeId ? -1 : x.c.nodeId > y.c.nodeId ? 1 : 0))
      .map((x) => x.c);
  }
}

/** The weighted rendezvous score of (node, key): higher wins. */
export function rendezvousScore(nodeId: string, key: string, weight = 1): number {
  const input = `${nodeId}\u0000${key}`;
  // Two independent 32-bit hashes make a 53-bit uniform number in (0, 1).
  const hi = hash32(input, 0x811c9dc5) >>> 11; // 21 bits
  const lo = hash32(input, 0x01000193 ^ 0x5bd1e995); // 32 bits
  const u = (hi * 2 ** 32 + lo + 0.5) / 2 ** 53;
  return -weight / Math.log(u);
}

/** FNV-1a over UTF-16 code units, then murmur3's finalizer for avalanche. */
function hash32(s: string, seed: number): number {
  let h = seed >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
