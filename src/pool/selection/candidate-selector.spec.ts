import type { TestingModule } from '@nestjs/testing';
import type { ManualClock } from '../../testing/manual-clock';
import { CircuitBreaker } from '../health/circuit-breaker';
import { createTestingPool } from '../../testing/testing-pool';
import { NodeRegistry, type RegisterNodeInput } from '../registry/node-registry';
import { POOL_STORE, type PoolStore } from '../core/pool-store.interface';
import fc from 'fast-check';
import type { Candidate, NodeReport } from '../core/pool.types';
import { MemoryPoolStore } from '../store/memory-pool.store';
import { CandidateSelector, type Selection } from './candidate-selector';
import { LeastLoadedStrategy } from './least-loaded.strategy';
import { RoundRobinStrategy } from './round-robin.strategy';
import type { SelectionStrategy } from '../core/selection-strategy.interface';

describe('CandidateSelector', () => {
  let m: TestingModule;
  let clock: ManualClock;
  let selector: CandidateSelector;
  let store: PoolStore;
  const add = (nodeId: string, extra: Partial<RegisterNodeInput> = {}) =>
    m.get(NodeRegistry).register({ nodeId, controlUrl: `http://127.0.0.1:1/${nodeId}`, ...extra });
  const ids = async (callId = 'c', region?: string) => (await selector.candidates(callId, { region })).map((c) => c.nodeId);

  beforeEach(async () => {
    ({ module: m, clock } = await createTestingPool({ pool: { circuitResetMs: 1_000 } }));
    selector = m.get(CandidateSelector);
    store = m.get(POOL_STORE);
  });
  afterEach(() => m.close());

  it('orders by effective load (least-loaded), ties by node id', async () => {
    await add('b', { activeLegs: 1 });
    await add('a', { activeLegs: 1 });
    await add('c', { activeLegs: 0 });
    expect(await ids()).toEqual(['c', 'a', 'b']);
  });

  it('leaves out unhealthy, draining and full nodes', async () => {
    await add('sick');
    await store.setHealth('sick', false);
    await add('draining', { draining: true });
    await add('full', { activeLegs: 2, capacity: 2 });
    await add('ok', { activeLegs: 5, capacity: 6 });
    expect(await ids()).toEqual(['ok']);
  });

  it('counts reserved (in-flight) prepares as load until released', async () => {
    await add('a');
    await add('b');
    selector.reserve('a');
    selector.reserve('a');
    const [first, second] = await selector.candidates('c');
    expect([first.nodeId, first.load, second.nodeId, second.load]).toEqual(['b', 0, 'a', 2]);
    selector.release('a');
    selector.release('a');
    expect((await selector.candidates('c')).map((c) => c.load)).toEqual([0, 0]);
  });

  it('skips an open circuit until its reset time (on the injected clock); panic mode when every circuit is open', async () => {
    await add('a');
    await add('b', { activeLegs: 3 });
    const circuit = m.get(CircuitBreaker);
    circuit.recordFailure('a', 'boom');
    expect(await ids()).toEqual(['b']);
    circuit.recordFailure('b', 'boom');
    const panic = selector.select(await store.listNodes(), 'c');
    expect([panic.panic, panic.candidates.map((c) => c.nodeId)]).toEqual([true, ['a', 'b']]);
    clock.advance(1_000);
    expect(selector.select(await store.listNodes(), 'c').panic).toBe(false);
  });

  it('puts the caller\'s region first, keeping the strategy order inside each group', async () => {
    await add('us1', { region: 'us' });
    await add('eu1', { region: 'eu', activeLegs: 4 });
    await add('eu2', { region: 'eu', activeLegs: 2 });
    expect(await ids('c', 'eu')).toEqual(['eu2', 'eu1', 'us1']);
    expect(await ids('c', 'ap')).toEqual(['us1', 'eu2', 'eu1']);
  });

  it('hands the limit to the strategy, but not with a region (the whole order is needed then)', async () => {
    const limits: (number | undefined)[] = [];
    const recording: SelectionStrategy = { order: (c, ctx) => (limits.push(ctx.limit), [...c]) };
    const own = await createTestingPool({ pool: { strategy: recording } });
    try {
      const sel = own.module.get(CandidateSelector);
      await own.module.get(NodeRegistry).register({ nodeId: 'a', controlUrl: 'http://127.0.0.1:1' });
      const nodes = await own.module.get<PoolStore>(POOL_STORE).listNodes();
      sel.select(nodes, 'c', {}, 2);
      sel.select(nodes, 'c', { region: 'eu' }, 2);
      expect(limits).toEqual([2, undefined]);
    } finally {
      await own.module.close();
    }
  });
});

describe('CandidateSelector.selectLightest (the store\'s load index)', () => {
  const report = (id: string, n: { legs: number; capacity: number | null; draining: boolean }): NodeReport => ({
    nodeId: id, controlUrl: `http://127.0.0.1:1/${id}`, mediaIp: '', activeLegs: n.legs, capacity: n.capacity, weight: 1,
    region: null, reportedDraining: n.draining, static: false, lastSeen: 0,
  });
  const node = fc.record({
    legs: fc.integer({ min: 0, max: 5 }),
    capacity: fc.option(fc.integer({ min: 0, max: 6 }), { nil: null }),
    draining: fc.boolean(),
    healthy: fc.boolean(),
    circuit: fc.constantFrom('closed', 'open', 'due', 'trial'),
    placing: fc.integer({ min: 0, max: 3 }),
  });
  const shape = (s: Selection) => ({ panic: s.panic, candidates: s.candidates.map((c) => `${c.nodeId}:${c.load}`) });

  it('gives what select() gives over every node, whatever the loads, health, drains, capacities, circuits and prepares in flight', async () => {
    await fc.assert(fc.asyncProperty(
      fc.dictionary(fc.constantFrom(...'abcdefghijkl'), node, { minKeys: 0, maxKeys: 12 }),
      fc.integer({ min: 1, max: 5 }),
      async (nodes, limit) => {
        let now = 10_000;
        const store = new MemoryPoolStore(() => now);
        const circuit = new CircuitBreaker(1_000, undefined, () => now);
        const selector = new CandidateSelector(store, new LeastLoadedStrategy(), circuit);
        for (const [id, n] of Object.entries(nodes)) {
          await store.upsertNode(report(id, n));
          if (!n.healthy) await store.setHealth(id, false);
          for (let i = 0; i < n.placing; i++) selector.reserve(id);
          if (n.circuit !== 'closed') circuit.recordFailure(id, 'boom');
        }
        // 'due': open, its reset time over; 'trial': its half-open trial running; 'open': failed just now.
        now += 1_000;
        for (const [id, n] of Object.entries(nodes)) {
          if (n.circuit === 'open') circuit.recordFailure(id, 'again');
          if (n.circuit === 'trial') circuit.tryPass(id);
        }
        const lightest = selector.selectLightest('call', {}, limit);
        expect(lightest).toBeDefined();
        expect(shape(lightest!)).toEqual(shape(selector.select(await store.listNodes(), 'call', {}, limit)));
      },
    ), { numRuns: 500 });
  });

  it('reads past the limit while a later node can still come first: prepares in flight and ids break ties', async () => {
    const store = new MemoryPoolStore();
    await store.upsertNode(report('b', { legs: 0, capacity: null, draining: false }));
    await store.upsertNode(report('a', { legs: 1, capacity: null, draining: false }));
    await store.upsertNode(report('c', { legs: 1, capacity: null, draining: false }));
    const selector = new CandidateSelector(store, new LeastLoadedStrategy(), new CircuitBreaker(1_000));
    selector.reserve('b'); // b: 0 reported + 1 in flight, as heavy as a and c, and a's id comes first
    expect(store.nodesByLoad().map((n) => n.nodeId)).toEqual(['b', 'a', 'c']);
    expect(shape(selector.selectLightest('call', {}, 1)!)).toEqual({ panic: false, candidates: ['a:1'] });
    expect(shape(selector.selectLightest('call', {}, 2)!)).toEqual({ panic: false, candidates: ['a:1', 'b:1'] });
  });

  it('steps aside for a region, no limit, another strategy, and a store without an index', async () => {
    const store = new MemoryPoolStore();
    await store.upsertNode(report('a', { legs: 0, capacity: null, draining: false }));
    const circuit = new CircuitBreaker(1_000);
    const selector = new CandidateSelector(store, new LeastLoadedStrategy(), circuit);
    expect(selector.selectLightest('c', {}, 2)?.candidates.map((c) => c.nodeId)).toEqual(['a']);
    expect(selector.selectLightest('c', { region: 'eu' }, 2)).toBeUndefined();
    expect(selector.selectLightest('c', {}, undefined)).toBeUndefined();
    class Reversed extends LeastLoadedStrategy {
      override order(c: readonly Candidate[]): Candidate[] {
        return [...c].reverse();
      }
    }
    expect(new CandidateSelector(store, new Reversed(), circuit).selectLightest('c', {}, 2)).toBeUndefined();
    expect(new CandidateSelector(store, new RoundRobinStrategy(), circuit).selectLightest('c', {}, 2)).toBeUndefined();
    const unindexed = Object.assign(Object.create(store) as PoolStore, { nodesByLoad: undefined });
    expect(new CandidateSelector(unindexed, new LeastLoadedStrategy(), circuit).selectLightest('c', {}, 2)).toBeUndefined();
  });
});
