import { Redis } from 'ioredis';
import { StoreUnavailableException } from '../../src/pool/core/pool.errors';
import { RedisPoolStore } from '../../src/pool/store/redis-pool.store';
import { closedPort } from '../support/fake-media-node';
import { poolStoreContract } from '../support/pool-store.contract';
import { countKeys, deleteKeys, randomPrefix, RedisChild, TEST_REDIS_URL } from '../support/redis';
import { waitFor } from '../support/redis-topologies';

poolStoreContract('RedisPoolStore', async (now) => {
  const prefix = randomPrefix('contract');
  const store = new RedisPoolStore({ url: TEST_REDIS_URL, prefix, now });
  return {
    store,
    dispose: async () => {
      await store.close();
      await deleteKeys(TEST_REDIS_URL, prefix);
    },
  };
});

describe('RedisPoolStore specifics', () => {
  it('keeps everything under its prefix, with TTLs on claims and bindings', async () => {
    const prefix = randomPrefix('keys');
    const store = new RedisPoolStore({ url: TEST_REDIS_URL, prefix });
    const r = new Redis(TEST_REDIS_URL);
    try {
      await store.upsertNode({
        nodeId: 'a', controlUrl: 'http://127.0.0.1:1', mediaIp: '', activeLegs: 0, capacity: null, weight: 1,
        region: null, reportedDraining: false, static: false, lastSeen: Date.now(),
      });
      await store.claim('c2', 60_000, 'T');
      const now = Date.now();
      await store.putBinding({
        callId: 'c1', nodeId: 'a', controlUrl: 'http://127.0.0.1:1', mediaIp: '', mediaPort: 1, codec: 'PCMU',
        started: false, createdAt: now, expiresAt: now + 30_000,
      }, true);
      const claimTtl = await r.pttl(`{${prefix}call:c2}claim`);
      expect(claimTtl).toBeGreaterThan(50_000);
      expect(claimTtl).toBeLessThanOrEqual(60_000);
      const bindingTtl = await r.pttl(`{${prefix}call:c1}b`);
      expect(bindingTtl).toBeGreaterThan(20_000);
      expect(bindingTtl).toBeLessThanOrEqual(30_000);
      expect(await countKeys(TEST_REDIS_URL, prefix)).toBeGreaterThanOrEqual(7);
    } finally {
      r.disconnect();
      await store.close();
      await deleteKeys(TEST_REDIS_URL, prefix);
    }
    expect(await countKeys(TEST_REDIS_URL, prefix)).toBe(0);
  });

  it('two stores on one prefix are one store; another prefix is another pool', async () => {
    const prefix = randomPrefix('share');
    const a = new RedisPoolStore({ url: TEST_REDIS_URL, prefix });
    const b = new RedisPoolStore({ url: TEST_REDIS_URL, prefix });
    const other = new RedisPoolStore({ url: TEST_REDIS_URL, prefix: randomPrefix('other') });
    try {
      await a.upsertNode({
        nodeId: 'n', controlUrl: 'http://127.0.0.1:1', mediaIp: '', activeLegs: 0, capacity: null, weight: 1,
        region: null, reportedDraining: false, static: false, lastSeen: Date.now(),
      });
      expect((await b.listNodes()).map((n) => n.nodeId)).toEqual(['n']);
      expect(await other.listNodes()).toEqual([]);
      const claims = await Promise.all([a.claim('x', 5_000, 'a1'), b.claim('x', 5_000, 'b1'), a.claim('x', 5_000, 'a2'), b.claim('x', 5_000, 'b2')]);
      expect(claims.filter((c) => c.claimed)).toHaveLength(1);
    } finally {
      await Promise.all([a.close(), b.close(), other.close()]);
      await deleteKeys(TEST_REDIS_URL, prefix);
      await deleteKeys(TEST_REDIS_URL, other.prefix);
    }
  });

  it('Redis unreachable: every method fails fast with StoreUnavailableException', async () => {
    const store = new RedisPoolStore({ url: `redis://127.0.0.1:${await closedPort()}`, commandTimeoutMs: 200 });
    try {
      const t0 = Date.now();
      const calls: Promise<unknown>[] = [
        store.ping(), store.listNodes(), store.getNode('a'), store.claim('c', 1000, 't'), store.getBinding('c'),
        store.deleteBinding('c'), store.sweepBindings(Date.now()), store.pruneNodes(Date.now()), store.setAdminDrain('a', true),
      ];
      for (const c of calls) await expect(c).rejects.toBeInstanceOf(StoreUnavailableException);
      expect(Date.now() - t0).toBeLessThan(1_500);
      await expect(store.ping()).rejects.toMatchObject({ message: 'store unavailable' });
    } finally {
      await store.close();
    }
  });

  it('closes only a client it created', async () => {
    const given = new Redis(TEST_REDIS_URL);
    const withGiven = new RedisPoolStore({ client: given, prefix: randomPrefix('given') });
    const own = new RedisPoolStore({ url: TEST_REDIS_URL, prefix: randomPrefix('own') });
    try {
      await withGiven.ping();
      await own.ping();
      await withGiven.onModuleDestroy();
      await own.onModuleDestroy();
      expect(given.status).toBe('ready');
      await expect(given.ping()).resolves.toBe('PONG');
      expect(own.client.status).toBe('end');
    } finally {
      given.disconnect();
    }
  });
});

describe('RedisPoolStore with RTP_REDIS_WAIT_REPLICAS', () => {
  const lonely = new RedisChild();
  const report = {
    nodeId: 'a', controlUrl: 'http://127.0.0.1:1', mediaIp: '', activeLegs: 0, capacity: null, weight: 1,
    region: null, reportedDraining: false, static: false, lastSeen: Date.now(),
  };
  const binding = (callId: string) => {
    const now = Date.now();
    return { callId, nodeId: 'a', controlUrl: 'http://127.0.0.1:1', mediaIp: '', mediaPort: 1, codec: 'PCMU', started: false, createdAt: now, expiresAt: now + 30_000 };
  };
  beforeAll(async () => {
    await lonely.start();
  });
  afterAll(async () => {
    await lonely.kill();
  });

  it('too few replicas: a first binding is refused with 503 and undone; the node counts nothing', async () => {
    const prefix = randomPrefix('wait');
    const plain = new RedisPoolStore({ url: lonely.url, prefix });
    const waiting = new RedisPoolStore({ url: lonely.url, prefix, waitReplicas: 1, waitTimeoutMs: 50 });
    try {
      await plain.upsertNode(report);
      await expect(waiting.putBinding(binding('w1'), true)).rejects.toBeInstanceOf(StoreUnavailableException);
      expect(await plain.getBinding('w1')).toBeUndefined();
      expect(await plain.getNode('a')).toMatchObject({ pendingLegs: 0, boundCalls: 0 });
      expect(waiting.describe()).toMatchObject({ waitReplicas: 1, replicasAcknowledging: false });
    } finally {
      await Promise.all([plain.close(), waiting.close()]);
    }
  });

  it('too few replicas: a delete is refused with 503 and the binding put back (a retried BYE finds it)', async () => {
    const prefix = randomPrefix('wait');
    const plain = new RedisPoolStore({ url: lonely.url, prefix });
    const waiting = new RedisPoolStore({ url: lonely.url, prefix, waitReplicas: 1, waitTimeoutMs: 50 });
    try {
      await plain.upsertNode(report);
      await plain.putBinding(binding('w2'), true);
      await expect(waiting.deleteBinding('w2')).rejects.toBeInstanceOf(StoreUnavailableException);
      expect((await plain.getBinding('w2'))?.nodeId).toBe('a');
      expect(await plain.getNode('a')).toMatchObject({ pendingLegs: 1, boundCalls: 1 });
      expect(await plain.deleteBinding('w2')).toMatchObject({ callId: 'w2' });
    } finally {
      await Promise.all([plain.close(), waiting.close()]);
    }
  });

  it('with a replica that acknowledges: writes go through, WAIT on a connection of its own', async () => {
    const replica = new RedisChild();
    await replica.start();
    const prefix = randomPrefix('wait');
    const waiting = new RedisPoolStore({ url: lonely.url, prefix, waitReplicas: 1, waitTimeoutMs: 2_000 });
    const admin = new Redis(replica.url);
    try {
      await admin.replicaof('127.0.0.1', lonely.port);
      await waitFor('replica in sync', async () => (await admin.info('replication')).includes('master_link_status:up'));
      await waiting.upsertNode(report);
      await waiting.putBinding(binding('w3'), true);
      expect((await waiting.getBinding('w3'))?.nodeId).toBe('a');
      expect(await admin.exists(`{${prefix}call:w3}b`)).toBe(1);
      expect(await waiting.deleteBinding('w3')).toMatchObject({ callId: 'w3' });
      expect(waiting.describe()).toMatchObject({ replicasAcknowledging: true, ackConnection: 'ready' });
    } finally {
      admin.disconnect();
      await waiting.close();
      await replica.kill();
    }
  });
});
