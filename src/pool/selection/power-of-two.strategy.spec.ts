import { candidate } from '../../../test/support/candidates';
import { PowerOfTwoStrategy } from './power-of-two.strategy';

const cand = candidate;

/** A random source that replays the given values. */
const replay = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length];
};

describe('PowerOfTwoStrategy', () => {
  const nodes = [cand('a', 5), cand('b', 1), cand('c', 9), cand('d', 0), cand('e', 3)];

  it('puts the less loaded of two random picks first, then the rest by load', () => {
    // First pick: index floor(0.45 * 5) = 2 (c, load 9); second: floor(0.3 * 4) = 1 → b (load 1).
    const out = new PowerOfTwoStrategy(replay(0.45, 0.3)).order(nodes);
    expect(out.map((c) => c.nodeId)).toEqual(['b', 'c', 'd', 'e', 'a']);
  });

  it('never picks the same candidate twice', () => {
    // Both draws land on index 0: the second skips over the first.
    const out = new PowerOfTwoStrategy(replay(0, 0)).order(nodes);
    expect(out.slice(0, 2).map((c) => c.nodeId)).toEqual(['b', 'a']);
    expect(new Set(out.map((c) => c.nodeId)).size).toBe(5);
  });

  it('keeps the first pick first on a tie', () => {
    const tied = [cand('a', 1), cand('b', 1), cand('c', 1)];
    expect(new PowerOfTwoStrategy(replay(0.9, 0)).order(tied)[0].nodeId).toBe('c');
  });

  it('survives a random source that returns 1 or garbage', () => {
    expect(new PowerOfTwoStrategy(() => 1).order(nodes)).toHaveLength(5);
    expect(new PowerOfTwoStrategy(() => Number.NaN).order(nodes)).toHaveLength(5);
  });

  it('handles zero and one candidate', () => {
    const s = new PowerOfTwoStrategy(Math.random);
    expect(s.order([])).toEqual([]);
    expect(s.order([cand('a', 0)]).map((c) => c.nodeId)).toEqual(['a']);
  });
});
