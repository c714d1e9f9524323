import { candidate } from '../../../test/support/candidates';
import type { Candidate } from '../core/pool.types';
import { WeightedStrategy } from './weighted.strategy';

const cand = (id: string, load: number, weight = 1): Candidate => candidate(id, load, { weight });

describe('WeightedStrategy', () => {
  const s = new WeightedStrategy();

  it('orders by load ÷ weight', () => {
    // 6/3 = 2, 1/1 = 1, 3/1 = 3, 2/4 = 0.5
    const out = s.order([cand('a', 6, 3), cand('b', 1), cand('c', 3), cand('d', 2, 4)], { callId: 'x' });
    expect(out.map((c) => c.nodeId)).toEqual(['d', 'b', 'a', 'c']);
  });

  it('breaks ties towards the heavier node, then by id', () => {
    const out = s.order([cand('b', 0), cand('a', 0), cand('z', 0, 3)], { callId: 'x' });
    expect(out.map((c) => c.nodeId)).toEqual(['z', 'a', 'b']);
  });

  it('gives a node of weight 3 three quarters of sequential placements', () => {
    const nodes = [cand('light', 0, 1), cand('heavy', 0, 3)];
    for (let i = 0; i < 400; i++) {
      const first = s.order(nodes, { callId: `c${i}` })[0];
      first.load++;
    }
    expect(nodes[1].load).toBe(300);
  });

  it('treats a nonsensical weight as 1', () => {
    const out = s.order([cand('a', 2, 0), cand('b', 1, Number.NaN)], { callId: 'x' });
    expect(out.map((c) => c.nodeId)).toEqual(['b', 'a']);
  });
});
