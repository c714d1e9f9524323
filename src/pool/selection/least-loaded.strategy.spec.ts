import { candidate } from '../../../test/support/candidates';
import { LeastLoadedStrategy } from './least-loaded.strategy';

describe('LeastLoadedStrategy', () => {
  const s = new LeastLoadedStrategy();
  it('orders by effective load, fewest first', () => {
    const out = s.order([candidate('a', 5), candidate('b', 1), candidate('c', 3)]);
    expect(out.map((c) => c.nodeId)).toEqual(['b', 'c', 'a']);
  });
  it('breaks ties by node id, like the Go package', () => {
    const out = s.order([candidate('n3', 2), candidate('n1', 2), candidate('n2', 2), candidate('n0', 7)]);
    expect(out.map((c) => c.nodeId)).toEqual(['n1', 'n2', 'n3', 'n0']);
  });
  it('balances on reported plus pending legs, not on the report alone', () => {
    const busy = candidate('a', 4, { activeLegs: 0, pendingLegs: 4 });
    const idle = candidate('b', 1, { activeLegs: 1, pendingLegs: 0 });
    expect(s.order([busy, idle]).map((c) => c.nodeId)).toEqual(['b', 'a']);
  });
  it('does not mutate its input', () => {
    const input = [candidate('b', 2), candidate('a', 1)];
    s.order(input);
    expect(input.map((c) => c.nodeId)).toEqual(['b', 'a']);
  });
});
