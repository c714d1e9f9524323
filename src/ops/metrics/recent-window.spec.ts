import { RecentWindow } from './recent-window';

describe('RecentWindow', () => {
  it('counts over the last N seconds and forgets older ones', () => {
    let now = 1_000_000;
    const w = new RecentWindow(10, () => now);
    w.add();
    w.add(2);
    now += 4_000;
    w.add();
    expect(w.sum()).toBe(4);
    expect(w.rate()).toBeCloseTo(0.4);
    now += 6_000; // the first second is now 10 s old: out
    expect(w.sum()).toBe(1);
    now += 60_000;
    expect(w.sum()).toBe(0);
    w.add(); // a reused bucket starts from 0
    expect(w.sum()).toBe(1);
  });
});
