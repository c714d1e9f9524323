import fc from 'fast-check';
import { SortedIds } from './sorted-ids';

/** The model: a plain sorted array (what SortedIds was before it was chunked). */
function modelPage(ids: readonly string[], limit: number, after?: string): string[] {
  const from = after === undefined ? 0 : ids.findIndex((x) => x > after);
  return from < 0 ? [] : ids.slice(from, from + limit);
}

describe('SortedIds', () => {
  it('agrees with a sorted array on any sequence of adds, deletes and pages, across chunk splits', () => {
    const id = fc.oneof(fc.integer({ min: 0, max: 3000 }).map((n) => `c${n}`), fc.string({ maxLength: 6 }));
    const op = fc.oneof(
      { weight: 5, arbitrary: fc.record({ kind: fc.constant('add' as const), id }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), id }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('page' as const), id: fc.option(id, { nil: undefined }), limit: fc.integer({ min: 1, max: 700 }) }) },
    );
    fc.assert(fc.property(fc.array(op, { maxLength: 2500 }), (ops) => {
      const s = new SortedIds();
      const model = new Set<string>();
      for (const o of ops) {
        if (o.kind === 'add') {
          s.add(o.id);
          model.add(o.id);
        } else if (o.kind === 'delete') {
          s.delete(o.id);
          model.delete(o.id);
        } else {
          const sorted = [...model].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
          expect(s.page(o.limit, o.id)).toEqual(modelPage(sorted, o.limit, o.id));
        }
        expect(s.size).toBe(model.size);
      }
      const sorted = [...model].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      expect(s.page(model.size + 1)).toEqual(sorted);
    }), { numRuns: 60 });
  });

  it('pages 10,000 ids in order, 100 at a time, from each page\'s last id', () => {
    const s = new SortedIds();
    const ids = Array.from({ length: 10_000 }, (_, i) => `call-${(i * 7919) % 10_000}`);
    for (const x of ids) s.add(x);
    const seen: string[] = [];
    let after: string | undefined;
    for (;;) {
      const page = s.page(100, after);
      if (page.length === 0) break;
      seen.push(...page);
      after = page[page.length - 1];
    }
    expect(seen).toEqual([...ids].sort());
    for (const x of ids.slice(0, 9_990)) s.delete(x);
    expect(s.size).toBe(10);
    expect(s.page(100)).toEqual(ids.slice(9_990).sort());
  });
});
