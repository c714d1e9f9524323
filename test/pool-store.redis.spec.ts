import { Redis } from 'ioredis';
import { StoreUnavailableException } from '../src/pool/pool.errors';
import { RedisPoolStore } from '../src/pool/store/redis-pool.store';
import { closedPort } from './support/fake-media-node';
import { poolStoreContract } from './support/pool-store.contract';
import { countKeys, deleteKeys, randomPrefix, TEST_REDIS_URL } from './support/redis';

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
        id: 'a', controlUrl: 'http://127.0.0.1:1', mediaIp: '', activeLegs: 0, capacity: null, weight: 1,
        region: null, reportedDraining: false, static: false, lastSeen: Date.now(),
      });
      await store.claimCall('c2', 60_000);
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
        id: 'n', controlUrl: 'http://127.0.0.1:1', mediaIp: '', activeLegs: 0, capacity: null, weight: 1,
        region: null, reportedDraining: false, static: false, lastSeen: Date.now(),
      });
      expect((await b.listNodes()).map((n) => n.id)).toEqual(['n']);
      expect(await other.listNodes()).toEqual([]);
      const claims = await Promise.all([a.claimCall('x', 5_000), b.claimCall('x', 5_000), a.claimCall('x', 5_000), b.claimCall('x', 5_000)]);
      expect(claims.filter(Boolean)).toHaveLength(1);
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
        store.ping(), store.listNodes(), store.getNode('a'), store.claimCall('c', 1000), store.getBinding('c'),
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
