import { candidate } from '../../../test/support/candidates';
import type { Candidate } from '../core/pool.types';
import { RoundRobinStrategy } from './round-robin.strategy';

const cand = (id: string, load = 0): Candidate => candidate(id, load);

describe('RoundRobinStrategy', () => {
  it('rotates the starting node on every call, ignoring load', () => {
    const s = new RoundRobinStrategy();
    const nodes = [cand('c', 0), cand('a', 9), cand('b', 5)];
    const firsts = Array.from({ length: 6 }, () => s.order(nodes, { callId: 'x' }));
    expect(firsts.map((o) => o[0].nodeId)).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
    expect(firsts[1].map((c) => c.nodeId)).toEqual(['b', 'c', 'a']);
  });

  it('keeps going when membership changes', () => {
    const s = new RoundRobinStrategy();
    s.order([cand('a'), cand('b')], { callId: 'x' });
    expect(s.order([cand('a'), cand('b'), cand('c')], { callId: 'y' })[0].nodeId).toBe('b');
    expect(s.order([], { callId: 'z' })).toEqual([]);
  });
});
