import fc from 'fast-check';
import { Redis } from 'ioredis';
import { CircuitBreaker } from '../../src/pool/health/circuit-breaker';
import { type Binding, effectiveLoad, type NodeReport, type NodeState } from '../../src/pool/core/pool.types';
import { CandidateSelector, type Selection } from '../../src/pool/selection/candidate-selector';
import { LeastLoadedStrategy } from '../../src/pool/selection/least-loaded.strategy';
import { RedisPoolStore } from '../../src/pool/store/redis-pool.store';
import { deleteKeys, randomPrefix, TEST_REDIS_URL } from '../support/redis';

const report = (id: string, activeLegs: number, extra: Partial<NodeReport> = {}): NodeReport => ({
  nodeId: id, controlUrl: `http://127.0.0.1:1/${id}`, mediaIp: '', activeLegs, capacity: null, weight: 1, region: null,
  reportedDraining: false, static: false, lastSeen: 1_000, ...extra,
});
const binding = (callId: string, nodeId: string): Binding => ({
  callId, nodeId, controlUrl: `http://127.0.0.1:1/${nodeId}`, mediaIp: '', mediaPort: 4000, codec: 'PCMU', started: false,
  createdAt: 0, expiresAt: Date.now() + 600_000,
});
/** What the index must hold: every node, least-loaded order (effective load, then id). */
const model = (nodes: readonly Readonly<NodeState>[]) => [...nodes]
  .sort((a, b) => effectiveLoad(a) - effectiveLoad(b) || (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0))
  .map((n) => `${n.nodeId}:${effectiveLoad(n)}`);
const shape = (s: Selection) => ({ panic: s.panic, candidates: s.candidates.map((c) => `${c.nodeId}:${c.load}`) });

describe('RedisPoolStore load index (the `load` zset, lightestNodes)', () => {
  const stores: { store: RedisPoolStore; prefix: string }[] = [];
  const open = (now: () => number = Date.now) => {
    const prefix = randomPrefix('load');
    const store = new RedisPoolStore({ url: TEST_REDIS_URL, prefix, now });
    stores.push({ store, prefix });
    return { store, prefix };
  };
  afterAll(async () => {
    for (const { store, prefix } of stores) {
      await store.close();
      await deleteKeys(TEST_REDIS_URL, prefix);
    }
  });

  it('reads the nodes in least-loaded order after any sequence of heartbeats, bindings, deletes, moves, health, drains, removals and prunes', async () => {
    const id = fc.constantFrom('a', 'b', 'c');
    const call = fc.constantFrom('x', 'y', 'z');
    const op = fc.oneof(
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('heartbeat' as const), id, legs: fc.integer({ min: 0, max: 2 }), seen: fc.integer({ min: 1, max: 9 }) }) },
      { weight: 4, arbitrary: fc.record({ kind: fc.constant('bind' as const), id, call }) },
      { weight: 3, arbitrary: fc.record({ kind: fc.constant('unbind' as const), call }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('move' as const), id, call }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('health' as const), id, healthy: fc.boolean(), legs: fc.option(fc.integer({ min: 0, max: 2 }), { nil: undefined }) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('drain' as const), id, on: fc.boolean() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), id }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('prune' as const), cutoff: fc.integer({ min: 1, max: 9 }) }) },
    );
    await fc.assert(fc.asyncProperty(fc.array(op, { maxLength: 30 }), async (ops) => {
      const { store } = open();
      for (const o of ops) {
        if (o.kind === 'heartbeat') await store.upsertNode(report(o.id, o.legs, { lastSeen: o.seen }));
        else if (o.kind === 'bind') {
          if (await store.getNode(o.id)) await store.putBinding(binding(o.call, o.id), !(await store.getBinding(o.call)));
        } else if (o.kind === 'unbind') await store.deleteBinding(o.call);
        else if (o.kind === 'move') {
          const b = await store.getBinding(o.call);
          if (b && b.nodeId !== o.id && (await store.getNode(o.id))) await store.swapBinding(o.call, b.nodeId, { ...b, nodeId: o.id, controlUrl: `http://127.0.0.1:1/${o.id}` });
        } else if (o.kind === 'health') await store.setHealth(o.id, o.healthy, o.legs === undefined ? undefined : { activeLegs: o.legs });
        else if (o.kind === 'drain') await store.setAdminDrain(o.id, o.on);
        else if (o.kind === 'remove') await store.removeNode(o.id);
        else await store.pruneNodes(o.cutoff);
        const all = await store.listNodes();
        const page = await store.lightestNodes(10);
        expect(page.complete).toBe(true);
        expect(page.nodes.map((n) => `${n.nodeId}:${effectiveLoad(n)}`)).toEqual(model(all));
        // A shorter page: the same prefix, and it says whether it holds every node.
        const two = await store.lightestNodes(2);
        expect(two.nodes.map((n) => n.nodeId)).toEqual(page.nodes.slice(0, 2).map((n) => n.nodeId));
        expect(two.complete).toBe(all.length <= 2);
      }
    }), { numRuns: 200 });
  });

  it('moves a node on a binding, its delete and a migration, as its pending legs move', async () => {
    const { store } = open();
    for (const id of ['a', 'b', 'c']) await store.upsertNode(report(id, 1));
    const order = async () => (await store.lightestNodes(10)).nodes.map((n) => `${n.nodeId}:${effectiveLoad(n)}`);
    await store.putBinding(binding('x', 'a'), true);
    expect(await order()).toEqual(['b:1', 'c:1', 'a:2']);
    await store.swapBinding('x', 'a', { ...binding('x', 'b'), createdAt: 1 });
    expect(await order()).toEqual(['a:1', 'c:1', 'b:2']);
    await store.deleteBinding('x');
    expect(await order()).toEqual(['a:1', 'b:1', 'c:1']);
    await store.setHealth('b', true, { activeLegs: 0 });
    expect(await order()).toEqual(['b:0', 'a:1', 'c:1']);
  });

  it('rebuilds an index that misses nodes (a store written by a version without it)', async () => {
    const { store, prefix } = open();
    for (const [i, legs] of [3, 0, 2, 1].entries()) await store.upsertNode(report(`n${i}`, legs));
    const r = new Redis(TEST_REDIS_URL);
    try {
      await r.del(`{${prefix}}load`);
      await r.zrem(`{${prefix}}load`, 'n0');
      expect((await store.lightestNodes(10)).nodes.map((n) => n.nodeId)).toEqual(['n1', 'n3', 'n2', 'n0']);
      expect(await r.zcard(`{${prefix}}load`)).toBe(4);
    } finally {
      r.disconnect();
    }
  });

  it('lets least-loaded selection read a page instead of every node, with the same answer', async () => {
    const node = fc.record({
      legs: fc.integer({ min: 0, max: 4 }),
      capacity: fc.option(fc.integer({ min: 0, max: 5 }), { nil: null }),
      draining: fc.boolean(),
      healthy: fc.boolean(),
      tripped: fc.boolean(),
      placing: fc.integer({ min: 0, max: 2 }),
    });
    await fc.assert(fc.asyncProperty(
      fc.dictionary(fc.constantFrom(...'abcdefghij'), node, { minKeys: 1, maxKeys: 10 }),
      fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 8 }),
      async (nodes, limit, pageSize) => {
        const { store } = open();
        const circuit = new CircuitBreaker(60_000);
        const selector = new CandidateSelector(store, new LeastLoadedStrategy(), circuit);
        for (const [id, n] of Object.entries(nodes)) {
          await store.upsertNode(report(id, n.legs, { capacity: n.capacity, reportedDraining: n.draining }));
          if (!n.healthy) await store.setHealth(id, false);
          if (n.tripped) circuit.recordFailure(id, 'boom');
          for (let i = 0; i < n.placing; i++) selector.reserve(id);
        }
        const full = shape(selector.select(await store.listNodes(), 'call', {}, limit));
        const page = await store.lightestNodes(pageSize);
        const fromPage = selector.selectLightest('call', {}, limit, page);
        // A page either settles the answer (the same as over every node) or says it cannot.
        if (fromPage) expect(shape(fromPage)).toEqual(full);
        else expect(page.complete).toBe(false);
        // The whole index always settles it.
        expect(shape(selector.selectLightest('call', {}, limit, await store.lightestNodes(20))!)).toEqual(full);
      },
    ), { numRuns: 60 });
  });
});
