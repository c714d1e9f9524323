import type { Binding, NodeReport } from '../core/pool.types';
import { MemoryPoolStore } from './memory-pool.store';

const report = (id: string, extra: Partial<NodeReport> = {}): NodeReport => ({
  nodeId: id, controlUrl: `http://${id}`, mediaIp: '', activeLegs: 0, capacity: null, weight: 1, region: null,
  reportedDraining: false, static: false, lastSeen: 1_000, ...extra,
});
const binding = (callId: string, nodeId: string, expiresAt: number): Binding => ({
  callId, nodeId, controlUrl: `http://${nodeId}`, mediaIp: '', mediaPort: 4000, codec: 'PCMU', started: false,
  createdAt: 0, expiresAt,
});

describe('MemoryPoolStore binding expiry', () => {
  let now = 0;
  let store: MemoryPoolStore;
  beforeEach(async () => {
    now = 0;
    store = new MemoryPoolStore(() => now);
    await store.upsertNode(report('n1'));
  });

  it('keeps a binding until its expiry and hides it after', async () => {
    await store.putBinding(binding('c1', 'n1', 5_000), true);
    now = 4_999;
    expect(await store.getBinding('c1')).toMatchObject({ callId: 'c1', nodeId: 'n1' });
    now = 5_000;
    expect(await store.getBinding('c1')).toBeUndefined();
    expect(await store.deleteBinding('c1')).toBeUndefined();
    expect((await store.getNode('n1'))?.boundCalls).toBe(0);
  });

  it('sweeps expired bindings and lowers the bound count', async () => {
    await store.putBinding(binding('c1', 'n1', 5_000), true);
    await store.putBinding(binding('c2', 'n1', 9_000), true);
    expect((await store.getNode('n1'))?.boundCalls).toBe(2);
    expect(await store.sweepBindings(6_000)).toBe(1);
    expect((await store.getNode('n1'))?.boundCalls).toBe(1);
    now = 6_000;
    expect(await store.getBinding('c2')).toBeDefined();
  });

  it('a re-prepare refreshes the expiry without counting the call twice', async () => {
    await store.putBinding(binding('c1', 'n1', 5_000), true);
    await store.putBinding(binding('c1', 'n1', 50_000), false);
    now = 10_000;
    expect(await store.getBinding('c1')).toBeDefined();
    expect((await store.getNode('n1'))?.boundCalls).toBe(1);
    expect((await store.getNode('n1'))?.pendingLegs).toBe(1);
  });

  it('a claim lapses after its TTL', async () => {
    expect(await store.claim('c9', 100, 'A')).toEqual({ claimed: true });
    expect(await store.claim('c9', 100, 'B')).toEqual({ claimed: false, holder: 'A' });
    now = 100;
    expect(await store.claim('c9', 100, 'B')).toEqual({ claimed: true });
  });
});
