import fc from 'fast-check';
import { topK } from './top-k';

describe('topK', () => {
  const byValue = (a: { v: number }, b: { v: number }) => a.v - b.v;

  it('equals a stable full sort cut to k, for any input and k', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 80 }), fc.integer({ min: -1, max: 90 }), (values, k) => {
        const items = values.map((v, i) => ({ v, i }));
        const expected = [...items].sort(byValue).slice(0, Math.max(0, k));
        expect(topK(items, k, byValue)).toEqual(expected);
      }),
      { numRuns: 500 },
    );
  });

  it('keeps input order among equals (the same ties a stable sort keeps)', () => {
    const items = [{ v: 1, id: 'x' }, { v: 0, id: 'y' }, { v: 1, id: 'z' }, { v: 1, id: 'w' }];
    expect(topK(items, 3, byValue).map((i) => i.id)).toEqual(['y', 'x', 'z']);
  });

  it('does not mutate its input', () => {
    const items = [{ v: 3 }, { v: 1 }, { v: 2 }];
    topK(items, 2, byValue);
    expect(items).toEqual([{ v: 3 }, { v: 1 }, { v: 2 }]);
  });
});
