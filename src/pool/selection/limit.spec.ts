import fc from 'fast-check';
import { candidate } from '../../../test/support/candidates';
import { CallHashStrategy } from './call-hash.strategy';
import { LeastLoadedStrategy } from './least-loaded.strategy';
import { PowerOfTwoStrategy } from './power-of-two.strategy';
import type { SelectionStrategy } from '../core/selection-strategy.interface';
import { WeightedStrategy } from './weighted.strategy';

// `limit` lets a built-in pick its first few candidates without sorting all of them:
// the result must be exactly the head of the full order.
describe('SelectionContext.limit', () => {
  const nodes = fc.array(
    fc.record({ load: fc.integer({ min: 0, max: 5 }), weight: fc.integer({ min: 1, max: 3 }) }),
    { minLength: 0, maxLength: 40 },
  ).map((rows) => rows.map((r, i) => candidate(`n${String(i).padStart(2, '0')}`, r.load, { weight: r.weight })));

  const deterministic: [string, () => SelectionStrategy][] = [
    ['least-loaded', () => new LeastLoadedStrategy()],
    ['weighted', () => new WeightedStrategy()],
    ['call-hash', () => new CallHashStrategy()],
  ];

  it.each(deterministic)('%s: the first `limit` of the full order', (_name, make) => {
    fc.assert(
      fc.property(nodes, fc.integer({ min: 1, max: 5 }), fc.string(), (cs, limit, callId) => {
        const full = make().order(cs, { callId }).map((c) => c.nodeId);
        const head = make().order(cs, { callId, limit }).map((c) => c.nodeId);
        expect(head).toEqual(full.slice(0, limit));
      }),
      { numRuns: 300 },
    );
  });

  it('power-of-two: the same two random picks, then the least loaded of the rest', () => {
    fc.assert(
      fc.property(nodes, fc.integer({ min: 1, max: 5 }), fc.double({ min: 0, max: 0.999, noNaN: true }), (cs, limit, r) => {
        const full = new PowerOfTwoStrategy(() => r).order(cs, { callId: 'c' }).map((c) => c.nodeId);
        const head = new PowerOfTwoStrategy(() => r).order(cs, { callId: 'c', limit }).map((c) => c.nodeId);
        expect(head).toEqual(full.slice(0, Math.max(limit, Math.min(2, cs.length))));
      }),
      { numRuns: 300 },
    );
  });
});
