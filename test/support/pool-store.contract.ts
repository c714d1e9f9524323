import type { Binding, NodeReport } from '../../src/pool/core/pool.types';
import type { CallStore, LeaseStore, NodeStore, PoolStore, StoreStatus } from '../../src/pool/core/pool-store.interface';
import { sleep } from '../../src/common/sleep';

/** A store under test. */
export interface StoreHarness<S = PoolStore> {
  store: S;
  /** Cleans up after one test (closes clients, deletes keys). */
  dispose(): Promise<void>;
}

/** Builds a fresh, empty store whose clock is `now`: real time plus an offset the suite moves forward. */
export type StoreFactory<S = PoolStore> = (now: () => number) => Promise<StoreHarness<S>>;

/**
 * The store contract (src/pool/core/pool-store.interface.ts), one suite per part, run against
 * every implementation: the memory store is the reference, a shared store must behave the same.
 * A store for PoolModule passes {@link poolStoreContract}, which runs every part.
 */
export function poolStoreContract(name: string, factory: StoreFactory<PoolStore>): void {
  nodeStoreContract(name, factory);
  callStoreContract(name, factory);
  leaseStoreContract(name, factory);
  storeStatusContract(name, factory);
}

/** A fresh store before each test of the calling describe, and builders of reports and bindings on its clock. */
function freshStore<S>(factory: StoreFactory<S>) {
  const t = { offset: 0, store: undefined as unknown as S, h: undefined as StoreHarness<S> | undefined };
  const now = () => Date.now() + t.offset;
  beforeEach(async () => {
    t.offset = 0;
    t.h = await factory(now);
    t.store = t.h.store;
  });
  afterEach(async () => {
    await t.h?.dispose();
  });
  const report = (id: string, over: Partial<NodeReport> = {}): NodeReport => ({
    nodeId: id, controlUrl: `http://127.0.0.1:1/${id}`, mediaIp: '10.0.0.1', activeLegs: 0, capacity: null, weight: 1,
    region: null, reportedDraining: false, static: false, lastSeen: now(), ...over,
  });
  const binding = (callId: string, nodeId: string, over: Partial<Binding> = {}): Binding => ({
    callId, nodeId, controlUrl: `http://127.0.0.1:1/${nodeId}`, mediaIp: '10.0.0.1', mediaPort: 40002, codec: 'PCMU',
    started: false, createdAt: now(), expiresAt: now() + 60_000, ...over,
  });
  return { t, now, report, binding };
}

/** The registry: nodes, health, drain. */
export function nodeStoreContract(name: string, factory: StoreFactory<NodeStore>): void {
  describe(`NodeStore contract: ${name}`, () => {
    const { t, now, report } = freshStore(factory);
    let store: NodeStore;
    beforeEach(() => {
      store = t.store;
    });

    it('upserts: created, then updated; every reported field replaced, state kept', async () => {
      const t = now();
      expect(await store.upsertNode(report('a', { activeLegs: 3, capacity: 10, weight: 2.5, region: 'eu', reportedDraining: true, lastSeen: t }))).toBe('created');
      await store.setHealth('a', false);
      await store.setAdminDrain('a', true);
      const first = (await store.getNode('a'))!;
      expect(first).toEqual({
        nodeId: 'a', controlUrl: 'http://127.0.0.1:1/a', mediaIp: '10.0.0.1', activeLegs: 3, capacity: 10, weight: 2.5,
        region: 'eu', reportedDraining: true, static: false, lastSeen: t, healthy: false, adminDrained: true, drainDeadline: null,
        pendingLegs: 0, boundCalls: 0, seq: first.seq,
      });
      expect(await store.upsertNode(report('a', { controlUrl: 'http://127.0.0.1:2', mediaIp: '', region: '', lastSeen: t + 1000 }))).toBe('updated');
      const second = (await store.getNode('a'))!;
      expect(second).toMatchObject({
        controlUrl: 'http://127.0.0.1:2', mediaIp: '', activeLegs: 0, capacity: null, weight: 1, region: '',
        reportedDraining: false, healthy: false, adminDrained: true, seq: first.seq,
      });
      expect(second.lastSeen).toBe(t + 1000);
      expect(await store.getNode('nope')).toBeUndefined();
    });

    it('lists in registration order, re-registration keeps the place', async () => {
      for (const id of ['c', 'a', 'b']) await store.upsertNode(report(id));
      await store.upsertNode(report('a', { activeLegs: 9 }));
      const list = await store.listNodes();
      expect(list.map((n) => n.nodeId)).toEqual(['c', 'a', 'b']);
      expect(list[0].seq).toBeLessThan(list[1].seq);
      expect(list[1].seq).toBeLessThan(list[2].seq);
      expect(list[1].activeLegs).toBe(9);
    });

    it('listNodes gives back every field as stored: non-ASCII, quotes, slashes, big numbers, and an empty list', async () => {
      expect(await store.listNodes()).toEqual([]);
      await store.upsertNode(report('x', {
        controlUrl: 'https://rtp.example.com:8443/pool/a', mediaIp: '2001:db8::7', activeLegs: 9_999_999, capacity: 10_000_000,
        weight: 2.5, region: 'ü-région/东 "q" \\ \u00e9', reportedDraining: true,
      }));
      const [n] = await store.listNodes();
      expect(n).toEqual(await store.getNode('x'));
      expect(n).toMatchObject({
        controlUrl: 'https://rtp.example.com:8443/pool/a', mediaIp: '2001:db8::7', activeLegs: 9_999_999, capacity: 10_000_000,
        weight: 2.5, region: 'ü-région/东 "q" \\ \u00e9', reportedDraining: true,
      });
    });

    it('a static seed id cannot be taken: conflict, nothing changed; static reports are never full', async () => {
      expect(await store.upsertNode(report('seed-1', { static: true }), 0)).toBe('created');
      expect(await store.upsertNode(report('seed-1', { controlUrl: 'http://evil' }))).toBe('conflict');
      expect((await store.getNode('seed-1'))!.controlUrl).toBe('http://127.0.0.1:1/seed-1');
      expect(await store.upsertNode(report('seed-1', { static: true, activeLegs: 2 }), 0)).toBe('updated');
      expect((await store.getNode('seed-1'))!).toMatchObject({ static: true, activeLegs: 2 });
    });

    it('full: a new dynamic node beyond maxNodes is refused, an existing one still refreshes', async () => {
      await store.upsertNode(report('seed-1', { static: true }));
      expect(await store.upsertNode(report('a'), 2)).toBe('created');
      expect(await store.upsertNode(report('b'), 2)).toBe('created');
      expect(await store.upsertNode(report('c'), 2)).toBe('full');
      expect(await store.getNode('c')).toBeUndefined();
      expect(await store.upsertNode(report('a'), 2)).toBe('updated');
      expect(await store.removeNode('b')).toBe('removed');
      expect(await store.upsertNode(report('c'), 2)).toBe('created');
    });

    it('full is decided atomically: 20 concurrent new nodes, maxNodes 5 → exactly 5 created', async () => {
      const out = await Promise.all(Array.from({ length: 20 }, (_, i) => store.upsertNode(report(`n${i}`), 5)));
      expect(out.filter((o) => o === 'created')).toHaveLength(5);
      expect(out.filter((o) => o === 'full')).toHaveLength(15);
      expect(await store.listNodes()).toHaveLength(5);
    });

    it('removeNode: removed, not-found, static', async () => {
      await store.upsertNode(report('a'));
      await store.upsertNode(report('s', { static: true }));
      expect(await store.removeNode('a')).toBe('removed');
      expect(await store.removeNode('a')).toBe('not-found');
      expect(await store.removeNode('s')).toBe('static');
      expect((await store.listNodes()).map((n) => n.nodeId)).toEqual(['s']);
    });

    it('prunes silent dynamic nodes only, returns them as they were, once', async () => {
      const t0 = now();
      await store.upsertNode(report('old', { lastSeen: t0 - 10_000, activeLegs: 4 }));
      await store.upsertNode(report('edge', { lastSeen: t0 - 5_000 }));
      await store.upsertNode(report('fresh', { lastSeen: t0 }));
      await store.upsertNode(report('seed', { static: true, lastSeen: t0 - 99_000 }));
      const removed = await store.pruneNodes(t0 - 5_000);
      expect(removed.map((n) => n.nodeId)).toEqual(['old']);
      expect(removed[0]).toMatchObject({ lastSeen: t0 - 10_000, activeLegs: 4 });
      expect((await store.listNodes()).map((n) => n.nodeId).sort()).toEqual(['edge', 'fresh', 'seed']);
      expect(await store.pruneNodes(t0 - 5_000)).toEqual([]);
    });

    it('concurrent prunes remove each silent node exactly once', async () => {
      const t = now();
      for (let i = 0; i < 10; i++) await store.upsertNode(report(`n${i}`, { lastSeen: t - 10_000 }));
      const runs = await Promise.all(Array.from({ length: 4 }, () => store.pruneNodes(t)));
      expect(runs.flat().map((n) => n.nodeId).sort()).toEqual(Array.from({ length: 10 }, (_, i) => `n${i}`).sort());
      expect(await store.listNodes()).toEqual([]);
    });

    it('setHealth: flag, a report refreshes fields; unknown id is a no-op', async () => {
      await store.upsertNode(report('a', { capacity: 5 }));
      await store.setHealth('a', false, { mediaIp: '10.0.0.9' });
      expect(await store.getNode('a')).toMatchObject({ healthy: false, mediaIp: '10.0.0.9', capacity: 5 });
      await store.setHealth('a', true, { activeLegs: 7, capacity: null, reportedDraining: true });
      expect(await store.getNode('a')).toMatchObject({ healthy: true, activeLegs: 7, capacity: null, reportedDraining: true });
      await store.setHealth('ghost', false, { activeLegs: 1 });
      expect(await store.getNode('ghost')).toBeUndefined();
    });

    it('setAdminDrain: true for a known node, survives heartbeats; false for an unknown one', async () => {
      await store.upsertNode(report('a'));
      expect(await store.setAdminDrain('a', true)).toBe(true);
      await store.upsertNode(report('a'));
      expect((await store.getNode('a'))!.adminDrained).toBe(true);
      expect(await store.setAdminDrain('a', false)).toBe(true);
      expect((await store.getNode('a'))!.adminDrained).toBe(false);
      expect(await store.setAdminDrain('ghost', true)).toBe(false);
    });

    it('setAdminDrain keeps a deadline until undrained; heartbeats keep it', async () => {
      await store.upsertNode(report('a'));
      const at = now() + 30_000;
      expect(await store.setAdminDrain('a', true, at)).toBe(true);
      expect(await store.getNode('a')).toMatchObject({ adminDrained: true, drainDeadline: at });
      await store.upsertNode(report('a'));
      expect(await store.getNode('a')).toMatchObject({ adminDrained: true, drainDeadline: at });
      await store.setAdminDrain('a', false);
      expect(await store.getNode('a')).toMatchObject({ adminDrained: false, drainDeadline: null });
      expect(await store.setAdminDrain('zz', true, at)).toBe(false);
    });
  });
}

/**
 * Bindings, claims, tombstones, migrations. The calls' counters live on the nodes, so a call
 * store is also the node store.
 */
export function callStoreContract(name: string, factory: StoreFactory<NodeStore & CallStore>): void {
  describe(`CallStore contract: ${name}`, () => {
    const { t, now, report, binding } = freshStore(factory);
    let store: NodeStore & CallStore;
    beforeEach(() => {
      store = t.store;
    });
    /** Who holds the call's claim, seen through `claim` (taken and given back when free). */
    const holder = async (callId: string): Promise<string | undefined> => {
      const r = await store.claim(callId, 60_000, 'probe');
      if (r.claimed) {
        await store.giveUpClaim(callId, 'probe');
        return undefined;
      }
      return 'holder' in r ? r.holder : 'bound';
    };

    describe('node counters', () => {
      it('a pruned node is returned with its counts; its binding outlives it', async () => {
        const t0 = now();
        await store.upsertNode(report('old', { lastSeen: t0 - 10_000 }));
        await store.putBinding(binding('c1', 'old'), true);
        const removed = await store.pruneNodes(t0 - 5_000);
        expect(removed[0]).toMatchObject({ nodeId: 'old', boundCalls: 1, pendingLegs: 1 });
        // start/delete still reach its last URL
        expect((await store.getBinding('c1'))?.nodeId).toBe('old');
      });

      it('setHealth with activeLegs resets pending, keeps bound', async () => {
        await store.upsertNode(report('a'));
        await store.putBinding(binding('c1', 'a'), true);
        await store.putBinding(binding('c2', 'a'), true);
        expect((await store.getNode('a'))!.pendingLegs).toBe(2);
        await store.setHealth('a', false, { mediaIp: '10.0.0.9' });
        expect((await store.getNode('a'))!.pendingLegs).toBe(2);
        await store.setHealth('a', true, { activeLegs: 7 });
        expect(await store.getNode('a')).toMatchObject({ activeLegs: 7, pendingLegs: 0, boundCalls: 2 });
      });

      it('a heartbeat resets pending, keeps bound calls', async () => {
        await store.upsertNode(report('a'));
        await store.putBinding(binding('c1', 'a'), true);
        await store.upsertNode(report('a', { activeLegs: 1 }));
        expect(await store.getNode('a')).toMatchObject({ activeLegs: 1, pendingLegs: 0, boundCalls: 1 });
      });
    });

    describe('claims and bindings', () => {
      it('claim: exactly one of concurrent claimants, the others told its token; given up; lapses after its ttl', async () => {
        const got = await Promise.all(Array.from({ length: 10 }, (_, i) => store.claim('x', 60_000, `t${i}`)));
        const won = got.flatMap((r, i) => (r.claimed ? [`t${i}`] : []));
        expect(won).toHaveLength(1);
        expect(got.filter((r) => !r.claimed)).toEqual(Array.from({ length: 9 }, () => ({ claimed: false, holder: won[0] })));
        await store.giveUpClaim('x', won[0]);
        expect(await holder('x')).toBeUndefined();
        expect(await store.claim('x', 30, 'L')).toEqual({ claimed: true });
        await sleep(80);
        expect(await store.claim('x', 60_000, 'M')).toEqual({ claimed: true });
      });

      it('a bound call cannot be claimed (the cross-instance claim-after-bind race); an expired one can', async () => {
        await store.upsertNode(report('a'));
        await store.putBinding(binding('c1', 'a', { expiresAt: now() + 1_000 }), true);
        expect(await store.claim('c1', 60_000, 'A')).toMatchObject({ claimed: false, bound: true });
        t.offset += 2_000;
        expect(await store.claim('c1', 60_000, 'A')).toEqual({ claimed: true });
      });

      it('putBinding writes it, releases the claim, counts pending and bound once', async () => {
        await store.upsertNode(report('a'));
        expect(await store.claim('c1', 60_000, 'A')).toEqual({ claimed: true });
        const b = binding('c1 @x/%y', 'a', { createdAt: 1_700_000_000_123 });
        await store.putBinding({ ...b, callId: 'c1' }, true);
        expect(await store.getBinding('c1')).toEqual({ ...b, callId: 'c1' });
        await store.putBinding(b, true);
        expect(await store.getBinding(b.callId)).toEqual(b);
        expect(await store.getNode('a')).toMatchObject({ pendingLegs: 2, boundCalls: 2 });
        expect(await store.getBinding('nope')).toBeUndefined();
        await store.deleteBinding('c1');
        expect(await holder('c1')).toBeUndefined();
      });

      it('a re-INVITE (isNew false) replaces the answer without counting; moving nodes moves the bound count', async () => {
        await store.upsertNode(report('a'));
        await store.upsertNode(report('b'));
        const b = binding('c1', 'a');
        await store.putBinding(b, true);
        await store.markStarted('c1');
        await store.putBinding({ ...b, mediaPort: 40010, started: false, expiresAt: b.expiresAt + 1000 }, false);
        expect(await store.getBinding('c1')).toMatchObject({ mediaPort: 40010, started: false, expiresAt: b.expiresAt + 1000 });
        expect(await store.getNode('a')).toMatchObject({ pendingLegs: 1, boundCalls: 1 });
        await store.putBinding({ ...b, nodeId: 'b' }, false);
        expect(await store.getNode('a')).toMatchObject({ pendingLegs: 1, boundCalls: 0 });
        expect(await store.getNode('b')).toMatchObject({ pendingLegs: 0, boundCalls: 1 });
      });

      it('a binding to an unknown node is kept, and counts nothing', async () => {
        await store.putBinding(binding('c1', 'ghost'), true);
        expect((await store.getBinding('c1'))?.nodeId).toBe('ghost');
        await store.upsertNode(report('ghost'));
        expect(await store.getNode('ghost')).toMatchObject({ pendingLegs: 0, boundCalls: 0 });
      });

      it('markStarted marks and returns it; undefined when unbound', async () => {
        await store.upsertNode(report('a'));
        await store.putBinding(binding('c1', 'a'), true);
        expect(await store.markStarted('c1')).toMatchObject({ callId: 'c1', started: true });
        expect((await store.getBinding('c1'))!.started).toBe(true);
        expect(await store.markStarted('nope')).toBeUndefined();
      });

      it('markStarted with an expectation marks only that binding (node, and version when given)', async () => {
        await store.upsertNode(report('a'));
        await store.putBinding(binding('c1', 'a', { version: 'v2' }), true);
        expect(await store.markStarted('c1', { nodeId: 'b' })).toBeUndefined();
        expect(await store.markStarted('c1', { nodeId: 'a', version: 'v1' })).toBeUndefined();
        expect((await store.getBinding('c1'))!.started).toBe(false);
        expect(await store.markStarted('c1', { nodeId: 'a', version: 'v2' })).toMatchObject({ callId: 'c1', started: true });
        await store.putBinding(binding('c2', 'a'), true);
        expect(await store.markStarted('c2', { nodeId: 'a' })).toMatchObject({ callId: 'c2', started: true });
      });

      it('deleteBinding returns it once, lowers pending and bound', async () => {
        await store.upsertNode(report('a'));
        await store.putBinding(binding('c1', 'a'), true);
        await store.putBinding(binding('c2', 'a'), true);
        const got = await Promise.all([store.deleteBinding('c1'), store.deleteBinding('c1'), store.deleteBinding('c1')]);
        expect(got.filter(Boolean)).toHaveLength(1);
        expect(got.find(Boolean)).toMatchObject({ callId: 'c1', nodeId: 'a' });
        expect(await store.getBinding('c1')).toBeUndefined();
        expect(await store.getNode('a')).toMatchObject({ pendingLegs: 1, boundCalls: 1 });
        expect(await store.deleteBinding('nope')).toBeUndefined();
      });

      it('expired bindings are invisible, cannot be started or deleted, and sweep drops them and their counts', async () => {
        await store.upsertNode(report('a'));
        await store.putBinding(binding('short1', 'a', { expiresAt: now() + 1_000 }), true);
        await store.putBinding(binding('short2', 'a', { expiresAt: now() + 2_000 }), true);
        await store.putBinding(binding('long', 'a', { expiresAt: now() + 600_000 }), true);
        expect((await store.getNode('a'))!.boundCalls).toBe(3);
        t.offset += 5_000;
        expect(await store.sweepBindings(now())).toBe(2);
        expect(await store.getBinding('short1')).toBeUndefined();
        expect(await store.markStarted('short2')).toBeUndefined();
        expect(await store.deleteBinding('short2')).toBeUndefined();
        expect(await store.getNode('a')).toMatchObject({ boundCalls: 1 });
        expect(await store.sweepBindings(now())).toBe(0);
        expect((await store.getBinding('long'))?.callId).toBe('long');
      });

      it('an expired binding is replaced by a new prepare as a new call', async () => {
        await store.upsertNode(report('a'));
        await store.putBinding(binding('c1', 'a', { expiresAt: now() + 1_000 }), true);
        t.offset += 2_000;
        expect(await store.getBinding('c1')).toBeUndefined();
        await store.putBinding(binding('c1', 'a'), false);
        expect((await store.getBinding('c1'))?.callId).toBe('c1');
        expect((await store.getNode('a'))!.boundCalls).toBe(1);
      });
    });

    describe('no leg left behind (CONTRACT §7)', () => {
      it('claim by token: the holder is named; giving up records a failure only the waiter of that holder sees', async () => {
        expect(await store.claim('c1', 5_000, 'A')).toEqual({ claimed: true });
        expect(await store.claim('c1', 5_000, 'B')).toEqual({ claimed: false, holder: 'A' });
        await store.giveUpClaim('c1', 'B', { code: 'RTP_NODE_FAILED', message: 'x' }); // not B's: no-op
        expect(await holder('c1')).toBe('A');
        await store.giveUpClaim('c1', 'A', { code: 'RTP_OFFER_REFUSED', message: 'node at capacity' }, 5_000);
        expect(await store.claim('c1', 5_000, 'B', 'A')).toEqual({ claimed: false, failure: { code: 'RTP_OFFER_REFUSED', message: 'node at capacity' } });
        // A fresh prepare (no holder awaited) claims again: a retry after a failure works.
        expect(await store.claim('c1', 5_000, 'C')).toEqual({ claimed: true });
      });

      it('the failure of the holder waited for is shared even while another holds the claim (a left leg\'s delete)', async () => {
        await store.claim('c1', 5_000, 'A');
        await store.giveUpClaim('c1', 'A', { code: 'RTP_NODE_FAILED', message: 'every node failed' }, 5_000);
        expect(await store.claim('c1', 5_000, 'L')).toEqual({ claimed: true });
        expect(await store.claim('c1', 5_000, 'B', 'A')).toEqual({ claimed: false, failure: { code: 'RTP_NODE_FAILED', message: 'every node failed' } });
        expect(await store.claim('c1', 5_000, 'C')).toEqual({ claimed: false, holder: 'L' });
      });

      it('a DELETE that removes a binding with a hold leaves the call claimed under the hold\'s token until given up', async () => {
        await store.upsertNode(report('a'));
        await store.claim('c1', 5_000, 'A');
        await store.bindCall(binding('c1', 'a', { version: 'A' }), { claim: 'A' });
        expect((await store.deleteCall('c1', 60_000, { token: 'D', ttlMs: 5_000 })).binding).toMatchObject({ nodeId: 'a' });
        expect(await store.claim('c1', 5_000, 'B')).toEqual({ claimed: false, holder: 'D' });
        await store.giveUpClaim('c1', 'D');
        expect(await store.claim('c1', 5_000, 'B', 'D')).toEqual({ claimed: true });
        // Nothing removed, nothing held: a DELETE of an unbound call takes no claim.
        await store.deleteCall('c2', 60_000, { token: 'E', ttlMs: 5_000 });
        expect(await holder('c2')).toBeUndefined();
      });

      it('a bound call is not claimed: the claim answers with the live binding, whoever holds a claim', async () => {
        await store.upsertNode(report('a'));
        const b = binding('c1', 'a', { version: 'A', mediaPort: 40010, started: true });
        await store.claim('c1', 5_000, 'A');
        await store.bindCall(b, { claim: 'A' });
        const r = await store.claim('c1', 5_000, 'B');
        expect(r).toEqual({ claimed: false, bound: true, binding: await store.getBinding('c1') });
        expect(r).toMatchObject({ binding: { callId: 'c1', nodeId: 'a', version: 'A', mediaPort: 40010, started: true } });
        // Neither the bind nor the refused claim left a claim behind: with the binding gone, the call is free.
        await store.deleteBinding('c1');
        expect(await holder('c1')).toBeUndefined();
        // Bound while another prepare's claim is held: the binding is still the answer.
        await store.putBinding(binding('c2', 'a'), true);
        await store.claim('c3', 5_000, 'C');
        await store.putBinding(binding('c3', 'a', { version: 'v3' }), true);
        expect(await store.claim('c3', 5_000, 'D', 'C')).toMatchObject({ claimed: false, bound: true, binding: { callId: 'c3', version: 'v3' } });
        // A binding that lapsed by this store's clock does not stop a claim.
        await store.putBinding(binding('c4', 'a', { expiresAt: now() - 1 }), true);
        expect(await store.claim('c4', 5_000, 'E')).toEqual({ claimed: true });
      });

      it('bindCall under the claim binds once; a DELETE that overtook the claim makes it "deleted"', async () => {
        await store.upsertNode(report('a'));
        await store.claim('c1', 5_000, 'A');
        expect(await store.bindCall(binding('c1', 'a', { version: 'A' }), { claim: 'A' })).toBe('bound');
        expect((await store.getBinding('c1'))?.version).toBe('A');
        expect((await store.getNode('a'))!.boundCalls).toBe(1);
        await store.deleteBinding('c1');
        expect(await holder('c1')).toBeUndefined(); // the bind dropped the claim
        await store.claim('c2', 5_000, 'B');
        const d = await store.deleteCall('c2', 60_000);
        expect(d).toEqual({ overtookClaim: true });
        expect(await store.bindCall(binding('c2', 'a'), { claim: 'B' })).toBe('deleted');
        expect(await store.getBinding('c2')).toBeUndefined();
        expect(await store.bindCall(binding('c3', 'a'), { claim: 'nobody' })).toBe('lost');
      });

      it('a re-INVITE binds only while the same binding is there; deleteCall leaves the node in a tombstone', async () => {
        await store.upsertNode(report('a'));
        const b = binding('c1', 'a');
        await store.claim('c1', 5_000, 'A');
        await store.bindCall(b, { claim: 'A' });
        expect(await store.bindCall({ ...b, mediaPort: 5 }, { nodeId: 'a', createdAt: b.createdAt })).toBe('bound');
        expect((await store.getBinding('c1'))?.mediaPort).toBe(5);
        const d = await store.deleteCall('c1', 60_000);
        expect(d.binding).toMatchObject({ callId: 'c1', nodeId: 'a', mediaPort: 5 });
        expect(d.overtookClaim).toBe(false);
        expect((await store.getNode('a'))!.boundCalls).toBe(0);
        expect(await store.bindCall({ ...b, mediaPort: 6 }, { nodeId: 'a', createdAt: b.createdAt })).toBe('deleted');
        const again = await store.deleteCall('c1', 60_000);
        expect(again.binding).toBeUndefined();
        expect(again.earlier).toMatchObject({ callId: 'c1', nodeId: 'a', controlUrl: b.controlUrl });
        expect(await store.deleteCall('never', 60_000)).toEqual({ overtookClaim: false });
      });

      it('a DELETE that overtakes a claim after an earlier DELETE reports that one\'s node, and its tombstone keeps it', async () => {
        await store.upsertNode(report('a'));
        const b = binding('c1', 'a');
        await store.claim('c1', 5_000, 'A');
        await store.bindCall(b, { claim: 'A' });
        expect((await store.deleteCall('c1', 60_000)).binding).toMatchObject({ nodeId: 'a' });
        await store.claim('c1', 5_000, 'B'); // a new prepare of the call id
        const d = await store.deleteCall('c1', 60_000);
        expect(d.overtookClaim).toBe(true);
        expect(d.binding).toBeUndefined();
        expect(d.earlier).toMatchObject({ callId: 'c1', nodeId: 'a', controlUrl: b.controlUrl });
        const again = await store.deleteCall('c1', 60_000);
        expect(again.earlier).toMatchObject({ callId: 'c1', nodeId: 'a', controlUrl: b.controlUrl, claim: 'B' });
        expect(await store.bindCall(binding('c1', 'a', { version: 'B' }), { claim: 'B' })).toBe('deleted');
      });

      it('unbindIf is a compare-and-delete on node, createdAt and version', async () => {
        await store.upsertNode(report('a'));
        const b = binding('c1', 'a', { version: 'v1' });
        await store.putBinding(b, true);
        expect(await store.unbindIf('c1', { nodeId: 'a', createdAt: b.createdAt, version: 'v2' })).toBe(false);
        expect(await store.unbindIf('c1', { nodeId: 'b', createdAt: b.createdAt })).toBe(false);
        expect(await store.unbindIf('c1', { nodeId: 'a', createdAt: b.createdAt, version: 'v1' })).toBe(true);
        expect(await store.getBinding('c1')).toBeUndefined();
        expect((await store.getNode('a'))!.boundCalls).toBe(0);
        expect(await store.unbindIf('c1', { nodeId: 'a', createdAt: b.createdAt })).toBe(false);
      });

      it('bindingsOfNode pages through one node\'s bindings', async () => {
        await store.upsertNode(report('a'));
        await store.upsertNode(report('b'));
        for (let i = 0; i < 7; i++) await store.putBinding(binding(`a${i}`, 'a'), true);
        await store.putBinding(binding('b0', 'b'), true);
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await store.bindingsOfNode('a', 3, cursor);
          expect(page.bindings.length).toBeLessThanOrEqual(3);
          seen.push(...page.bindings.map((x) => x.callId));
          cursor = page.next;
        } while (cursor !== undefined);
        expect(seen.sort()).toEqual(['a0', 'a1', 'a2', 'a3', 'a4', 'a5', 'a6']);
        expect((await store.bindingsOfNode('b', 10)).bindings.map((x) => x.callId)).toEqual(['b0']);
      });
    });

    describe('live calls (CONTRACT §5)', () => {
      const ids = (bs: Binding[]) => bs.map((b) => b.callId);
      /** Every page of a node (or all), following next. */
      const all = async (nodeId: string | undefined, limit: number) => {
        const out: string[] = [];
        let cursor: string | undefined;
        for (let i = 0; i < 50; i++) {
          const page = await store.bindingsOfNode(nodeId, limit, cursor);
          expect(page.bindings.length).toBeLessThanOrEqual(limit);
          out.push(...ids(page.bindings));
          if (!page.next) return out;
          cursor = page.next;
        }
        throw new Error('too many pages');
      };

      it('bindingsOfNode pages one node\'s live calls, or all, each once; deletions between pages skip nothing', async () => {
        await store.upsertNode(report('a'));
        await store.upsertNode(report('b'));
        for (const id of ['c1', 'c2', 'c3', 'c4', 'c5']) await store.putBinding(binding(id, 'a'), true);
        await store.putBinding(binding('d1', 'b'), true);
        expect((await all('a', 2)).sort()).toEqual(['c1', 'c2', 'c3', 'c4', 'c5']);
        expect(await all('b', 100)).toEqual(['d1']);
        expect((await all(undefined, 4)).sort()).toEqual(['c1', 'c2', 'c3', 'c4', 'c5', 'd1']);
        expect(await store.bindingsOfNode('zz', 10)).toEqual({ bindings: [] });
        const first = await store.bindingsOfNode('a', 2);
        expect(first.next).toBeDefined();
        for (const b of first.bindings) await store.deleteBinding(b.callId);
        const rest = [];
        let cursor = first.next;
        while (cursor) {
          const p = await store.bindingsOfNode('a', 2, cursor);
          rest.push(...ids(p.bindings));
          cursor = p.next;
        }
        expect(rest.length).toBe(3);
        expect(rest.filter((r) => ids(first.bindings).includes(r))).toEqual([]);
        // expired bindings are not listed
        await store.putBinding(binding('e1', 'b', { expiresAt: now() + 50 }), true);
        await sleep(80);
        expect(await all('b', 10)).toEqual(['d1']);
      });

      it('swapBinding: compare-and-set on the node; counts and index move; started false stays as given', async () => {
        await store.upsertNode(report('a'));
        await store.upsertNode(report('b'));
        await store.putBinding(binding('m1', 'a', { started: true }), true);
        const next = binding('m1', 'b', { controlUrl: 'http://127.0.0.1:1/b', mediaPort: 40010, expiresAt: now() + 120_000 });
        expect(await store.swapBinding('m1', 'b', next)).toBe(false);
        expect(await store.swapBinding('nope', 'a', { ...next, callId: 'nope' })).toBe(false);
        expect(await store.getBinding('m1')).toMatchObject({ nodeId: 'a', started: true });
        expect(await store.swapBinding('m1', 'a', next)).toBe(true);
        expect(await store.swapBinding('m1', 'a', next)).toBe(false);
        expect(await store.getBinding('m1')).toMatchObject({ nodeId: 'b', mediaPort: 40010, started: false });
        expect((await store.getNode('a'))!.boundCalls).toBe(0);
        expect((await store.getNode('b'))!.boundCalls).toBe(1);
        expect(ids((await store.bindingsOfNode('a', 10)).bindings)).toEqual([]);
        expect(ids((await store.bindingsOfNode('b', 10)).bindings)).toEqual(['m1']);
        expect(ids((await store.bindingsOfNode(undefined, 10)).bindings)).toEqual(['m1']);
        const swaps = await Promise.all([store.swapBinding('m1', 'b', binding('m1', 'a')), store.swapBinding('m1', 'b', binding('m1', 'a'))]);
        expect(swaps.filter(Boolean)).toHaveLength(1);
      });

      it('claimMigration: one of concurrent claimants until released or lapsed', async () => {
        const got = await Promise.all([store.claimMigration('x', 5_000), store.claimMigration('x', 5_000)]);
        expect(got.filter(Boolean)).toHaveLength(1);
        await store.releaseMigration('x');
        expect(await store.claimMigration('x', 50)).toBe(true);
        await sleep(80);
        t.offset += 100;
        expect(await store.claimMigration('x', 50)).toBe(true);
      });
    });
  });
}

/** Named leases: one holder at a time. */
export function leaseStoreContract(name: string, factory: StoreFactory<LeaseStore>): void {
  describe(`LeaseStore contract: ${name}`, () => {
    const { t } = freshStore(factory);

    it('a lease has one holder at a time, is renewed by it, lapses, and is released', async () => {
      expect(await t.store.acquireLease('r', 'A', 300)).toBe(true);
      expect(await t.store.acquireLease('r', 'B', 300)).toBe(false);
      expect(await t.store.acquireLease('r', 'A', 300)).toBe(true);
      await t.store.releaseLease('r', 'B');
      expect(await t.store.acquireLease('r', 'B', 300)).toBe(false);
      await t.store.releaseLease('r', 'A');
      expect(await t.store.acquireLease('r', 'B', 300)).toBe(true);
      t.offset += 1_000;
      await sleep(350); // Redis expires by its own clock
      expect(await t.store.acquireLease('r', 'A', 300)).toBe(true);
    });
  });
}

/** Readiness. */
export function storeStatusContract(name: string, factory: StoreFactory<StoreStatus>): void {
  describe(`StoreStatus contract: ${name}`, () => {
    const { t } = freshStore(factory);

    it('ping resolves', async () => {
      await expect(t.store.ping()).resolves.toBeUndefined();
    });
  });
}
