import fc from 'fast-check';
import { byLoadThenId } from '../selection/least-loaded.strategy';
import { candidateOf, effectiveLoad, type Binding, type NodeReport, type NodeState } from '../core/pool.types';
import { MemoryPoolStore } from './memory-pool.store';

const report = (id: string, activeLegs: number, lastSeen: number): NodeReport => ({
  nodeId: id, controlUrl: `http://${id}`, mediaIp: '', activeLegs, capacity: null, weight: 1, region: null,
  reportedDraining: false, static: false, lastSeen,
});
const binding = (callId: string, nodeId: string): Binding => ({
  callId, nodeId, controlUrl: `http://${nodeId}`, mediaIp: '', mediaPort: 4000, codec: 'PCMU', started: false,
  createdAt: 0, expiresAt: Number.MAX_SAFE_INTEGER,
});
/** The model: every node, sorted the least-loaded strategy's way. */
const sorted = (nodes: readonly Readonly<NodeState>[]) =>
  [...nodes].sort((a, b) => byLoadThenId(candidateOf(a, effectiveLoad(a)), candidateOf(b, effectiveLoad(b))));

describe('MemoryPoolStore.nodesByLoad (LoadIndex)', () => {
  it('holds the stored node objects in (effective load, id) order after any sequence of changes', async () => {
    const id = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h');
    const call = fc.integer({ min: 0, max: 30 }).map((n) => `call-${n}`);
    const op = fc.oneof(
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('heartbeat' as const), id, legs: fc.integer({ min: 0, max: 6 }), seen: fc.integer({ min: 0, max: 9 }) }) },
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('bind' as const), id, call }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('unbind' as const), call }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('health' as const), id, healthy: fc.boolean(), legs: fc.option(fc.integer({ min: 0, max: 6 }), { nil: undefined }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('drain' as const), id, on: fc.boolean() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), id }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('prune' as const), cutoff: fc.integer({ min: 0, max: 9 }) }) },
    );
    await fc.assert(fc.asyncProperty(fc.array(op, { maxLength: 120 }), async (ops) => {
      const store = new MemoryPoolStore(() => 0);
      for (const o of ops) {
        if (o.kind === 'heartbeat') await store.upsertNode(report(o.id, o.legs, o.seen));
        else if (o.kind === 'bind') {
          if (await store.getNode(o.id)) await store.putBinding(binding(o.call, o.id), !(await store.getBinding(o.call)));
        } else if (o.kind === 'unbind') await store.deleteBinding(o.call);
        else if (o.kind === 'health') await store.setHealth(o.id, o.healthy, o.legs === undefined ? undefined : { activeLegs: o.legs });
        else if (o.kind === 'drain') await store.setAdminDrain(o.id, o.on);
        else if (o.kind === 'remove') await store.removeNode(o.id);
        else await store.pruneNodes(o.cutoff);
        const byLoad = store.nodesByLoad();
        const expected = sorted(await store.listNodes());
        // The same objects (identity), in the model's order.
        expect(byLoad.length).toBe(expected.length);
        byLoad.forEach((n, i) => expect(n).toBe(expected[i]));
      }
    }), { numRuns: 300 });
  });

  it('moves a node that takes a call behind the nodes it now outweighs', async () => {
    const store = new MemoryPoolStore(() => 0);
    for (const id of ['a', 'b', 'c']) await store.upsertNode(report(id, 1, 0));
    await store.putBinding(binding('x', 'a'), true);
    expect(store.nodesByLoad().map((n) => `${n.nodeId}:${effectiveLoad(n)}`)).toEqual(['b:1', 'c:1', 'a:2']);
    await store.deleteBinding('x');
    expect(store.nodesByLoad().map((n) => n.nodeId)).toEqual(['a', 'b', 'c']);
  });
});
