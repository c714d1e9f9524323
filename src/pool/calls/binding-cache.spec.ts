import { BindingCache } from './binding-cache';

const route = (i: number) => ({ callId: `c${i}`, nodeId: `n${i % 3}`, controlUrl: `http://n${i % 3}` });

describe('BindingCache', () => {
  it('keeps the latest `max` routes and drops the oldest first', () => {
    const cache = new BindingCache(100);
    for (let i = 0; i < 1_000; i++) cache.put(route(i));
    const kept = Array.from({ length: 1_000 }, (_, i) => cache.get(`c${i}`) !== undefined);
    expect(kept.slice(900).every(Boolean)).toBe(true);
    // At most a little over `max` (the oldest go in batches), and never a newer one before an older one.
    expect(kept.filter(Boolean).length).toBeLessThanOrEqual(100 + 100 / 16);
    expect(kept.lastIndexOf(false)).toBeLessThan(kept.indexOf(true));
  });

  it('counts a route put again as the latest', () => {
    const cache = new BindingCache(10);
    for (let i = 0; i < 10; i++) cache.put(route(i));
    cache.put(route(0));
    for (let i = 10; i < 19; i++) cache.put(route(i));
    // c0 is among the 10 latest; c1..c9, put before it, are the oldest now.
    expect(cache.get('c0')).toEqual(route(0));
    expect(cache.get('c8')).toBeUndefined();
  });

  it('forgets a deleted route', () => {
    const cache = new BindingCache();
    cache.put(route(1));
    cache.delete('c1');
    expect(cache.get('c1')).toBeUndefined();
  });

  it('keeps nothing with max 0 (a store that never stalls)', () => {
    const cache = new BindingCache(0);
    cache.put(route(1));
    expect(cache.get('c1')).toBeUndefined();
  });
});
