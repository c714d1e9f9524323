import { candidate } from '../../../test/support/candidates';
import type { Candidate } from '../core/pool.types';
import { CallHashStrategy } from './call-hash.strategy';

const cand = (id: string, load = 0, weight = 1): Candidate => candidate(id, load, { weight });

const nodes = (n: number) => Array.from({ length: n }, (_, i) => cand(`node-${i + 1}`));
const ids = Array.from({ length: 1000 }, (_, i) => `${i}-a84f@sip.example.com`);

describe('CallHashStrategy', () => {
  const s = new CallHashStrategy();
  const firstOf = (cs: Candidate[], callId: string) => s.order(cs, { callId })[0].nodeId;

  it('maps the same call id to the same node, whatever the candidates order or load', () => {
    const ten = nodes(10);
    const shuffled = [...ten].reverse().map((c, i) => ({ ...c, load: i * 7 }));
    for (const id of ids.slice(0, 200)) expect(firstOf(shuffled, id)).toBe(firstOf(ten, id));
  });

  it('spreads ids across nodes', () => {
    const counts = new Map<string, number>();
    for (const id of ids) counts.set(firstOf(nodes(10), id), (counts.get(firstOf(nodes(10), id)) ?? 0) + 1);
    expect(counts.size).toBe(10);
    for (const c of counts.values()) expect(c).toBeGreaterThan(50);
  });

  it('moves about 1/11 of ids when an 11th node joins, and only onto it', () => {
    const ten = nodes(10);
    const eleven = nodes(11);
    let moved = 0;
    for (const id of ids) {
      const before = firstOf(ten, id);
      const after = firstOf(eleven, id);
      if (before !== after) {
        moved++;
        expect(after).toBe('node-11');
      }
    }
    expect(moved / ids.length).toBeGreaterThanOrEqual(0.05);
    expect(moved / ids.length).toBeLessThanOrEqual(0.15);
  });

  it('moves only the leaving node\'s ids when a node leaves', () => {
    const ten = nodes(10);
    const nine = ten.filter((c) => c.nodeId !== 'node-4');
    for (const id of ids) {
      const before = firstOf(ten, id);
      if (before !== 'node-4') expect(firstOf(nine, id)).toBe(before);
    }
  });

  it('the fallback order is stable too: the second choice is where the id goes if the first is unavailable', () => {
    const ten = nodes(10);
    for (const id of ids.slice(0, 100)) {
      const [first, second] = s.order(ten, { callId: id });
      expect(firstOf(ten.filter((c) => c.nodeId !== first.nodeId), id)).toBe(second.nodeId);
    }
  });

  it('honours weights: a node of weight 3 among weight-1 nodes takes about 3 shares', () => {
    const cs = [cand('a'), cand('b'), cand('heavy', 0, 3)];
    const heavy = ids.filter((id) => firstOf(cs, id) === 'heavy').length;
    expect(heavy / ids.length).toBeGreaterThan(0.5);
    expect(heavy / ids.length).toBeLessThan(0.7);
  });
});
