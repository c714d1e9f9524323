import type { TestingModule } from '@nestjs/testing';
import type { ManualClock } from '../../testing/manual-clock';
import { CircuitBreaker } from '../health/circuit-breaker';
import { createTestingPool } from '../../testing/testing-pool';
import { NodeRegistry, type RegisterNodeInput } from '../registry/node-registry';
import { POOL_STORE, type PoolStore } from '../store/pool-store.interface';
import { CandidateSelector } from './candidate-selector';
import type { SelectionStrategy } from './selection-strategy.interface';

describe('CandidateSelector', () => {
  let m: TestingModule;
  let clock: ManualClock;
  let selector: CandidateSelector;
  let store: PoolStore;
  const add = (nodeId: string, extra: Partial<RegisterNodeInput> = {}) =>
    m.get(NodeRegistry).register({ nodeId, controlUrl: `http://127.0.0.1:1/${nodeId}`, ...extra });
  const ids = async (callId = 'c', region?: string) => (await selector.candidates(callId, { region })).map((c) => c.id);

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
    expect([first.id, first.load, second.id, second.load]).toEqual(['b', 0, 'a', 2]);
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
    expect([panic.panic, panic.candidates.map((c) => c.id)]).toEqual([true, ['a', 'b']]);
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
