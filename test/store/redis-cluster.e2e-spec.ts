import { Redis } from 'ioredis';
import { EventFeed } from '../../src/pool/events/event-feed.service';
import { POOL_STORE } from '../../src/pool/core/pool-store.interface';
import { RedisPoolStore } from '../../src/pool/store/redis-pool.store';
import { FakeMediaNode } from '../support/fake-media-node';
import { poolStoreContract } from '../support/pool-store.contract';
import { prefixPatterns, randomPrefix } from '../support/redis';
import { ClusterTopology, scanKeysOn } from '../support/redis-topologies';
import { callJson, createTestApp, type TestApp } from '../support/test-app';

/**
 * Redis Cluster (slow tier): 3 masters on ports of the test's own. Two service instances
 * share one pool through it; the PoolStore contract holds on it as on one server.
 */
const cluster = new ClusterTopology({ masters: 3 });
const nodesOf = () => cluster.nodes.map((n) => ({ host: '127.0.0.1', port: n.port }));

/** Deletes a prefix's keys on every master. */
async function deleteClusterKeys(prefix: string): Promise<void> {
  for (const port of await cluster.masterPorts()) {
    const r = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0 });
    try {
      for (const pattern of prefixPatterns(prefix)) {
        for (const k of await scanKeysOn(port, pattern)) await r.del(k);
      }
    } finally {
      r.disconnect();
    }
  }
}

/** Keys of a prefix per master port. */
async function keysPerMaster(prefix: string): Promise<Map<number, string[]>> {
  const out = new Map<number, string[]>();
  for (const port of await cluster.masterPorts()) {
    const keys: string[] = [];
    for (const pattern of prefixPatterns(prefix)) keys.push(...(await scanKeysOn(port, pattern)));
    out.set(port, keys);
  }
  return out;
}

beforeAll(async () => {
  await cluster.start();
}, 60_000);
afterAll(async () => {
  await cluster.stop();
});

poolStoreContract('RedisPoolStore on a 3-master Cluster', async (now) => {
  const prefix = randomPrefix('cluster-contract');
  const store = new RedisPoolStore({ connection: { clusterNodes: nodesOf() }, prefix, now });
  await store.onModuleInit();
  return {
    store,
    dispose: async () => {
      await store.close();
      await deleteClusterKeys(prefix);
    },
  };
});

describe('two instances on a Redis Cluster', () => {
  jest.setTimeout(30_000);
  const prefix = randomPrefix('cluster');
  let a: TestApp;
  let b: TestApp;
  let n1: FakeMediaNode;
  let n2: FakeMediaNode;

  const call = callJson;
  const enc = encodeURIComponent;

  beforeAll(async () => {
    [n1, n2] = await Promise.all([new FakeMediaNode('n1').start(), new FakeMediaNode('n2').start()]);
    const env = { RTP_STORE: 'redis', REDIS_CLUSTER_NODES: cluster.nodeList, RTP_STORE_PREFIX: prefix, RTP_CONTROL_TIMEOUT_MS: '3000' };
    [a, b] = await Promise.all([createTestApp({ env, listen: true }), createTestApp({ env, listen: true })]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close(), n1?.stop(), n2?.stop()]);
    await deleteClusterKeys(prefix);
  });

  it('uses a Cluster client; readiness says so', async () => {
    expect((a.get(POOL_STORE) as RedisPoolStore).describe().topology).toBe('cluster');
    const ready = await call(b, 'GET', '/health/ready');
    expect(ready.status).toBe(200);
    expect(ready.body).toMatchObject({ info: { store: { status: 'up', topology: 'cluster', connected: true } } });
  });

  it('the registry is shared: registered on A, listed on B; a drain on B shows on A', async () => {
    expect((await call(a, 'POST', '/v1/nodes/register', { node_id: 'n1', control_url: n1.url })).status).toBe(200);
    expect((await call(b, 'POST', '/v1/nodes/register', { node_id: 'n2', control_url: n2.url })).status).toBe(200);
    expect((await call(b, 'GET', '/v1/nodes')).body.nodes.map((n: { node_id: string }) => n.node_id)).toEqual(['n1', 'n2']);
    expect((await call(b, 'POST', '/v1/nodes/n1/drain')).body).toMatchObject({ draining: true });
    expect((await call(a, 'GET', '/v1/nodes/n1')).body).toMatchObject({ draining: true });
    await call(a, 'POST', '/v1/nodes/n1/undrain');
  });

  it('bindings are visible across instances: prepare on A, read/start/delete on B', async () => {
    const id = 'cl-1@host/x';
    const prep = await call(a, 'POST', '/v1/calls', { call_id: id, offer_sdp: 'v=0' });
    expect(prep.status).toBe(201);
    expect((await call(b, 'GET', `/v1/calls/${enc(id)}`)).body).toMatchObject({ call_id: id, node_id: prep.body.node_id });
    expect((await call(b, 'POST', `/v1/calls/${enc(id)}/start`)).status).toBe(200);
    expect((await call(b, 'DELETE', `/v1/calls/${enc(id)}`)).status).toBe(204);
    expect((await call(a, 'GET', `/v1/calls/${enc(id)}`)).status).toBe(404);
  });

  it('live calls on the cluster: calls by node and migrate on A, the event on B once, the index follows the call', async () => {
    const id = 'cl-move@host';
    const prep = await call(a, 'POST', '/v1/calls', { call_id: id, offer_sdp: 'v=0' });
    expect(prep.status).toBe(201);
    const from = prep.body.node_id as string;
    const to = from === 'n1' ? 'n2' : 'n1';
    const listed = await call(b, 'GET', `/v1/calls?node_id=${from}&limit=1000`);
    expect(listed.body.calls.map((c: { call_id: string }) => c.call_id)).toContain(id);
    const moved = await call(a, 'POST', `/v1/calls/${enc(id)}/migrate`, { offer_sdp: 'v=0', node_id: to });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ node_id: to, previous_node_id: from });
    expect((await call(b, 'GET', `/v1/calls?node_id=${to}&limit=1000`)).body.calls.map((c: { call_id: string }) => c.call_id)).toContain(id);
    expect((await call(b, 'GET', `/v1/calls?node_id=${from}&limit=1000`)).body.calls.map((c: { call_id: string }) => c.call_id)).not.toContain(id);
    // One stream for the whole pool: B sees A's call_migrated, once.
    const seen = async () => (await b.get(EventFeed).recent(100)).filter((e) => e.event === 'call_migrated' && (e.data as { call_id: string }).call_id === id);
    for (let i = 0; i < 50 && (await seen()).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect((await seen()).map((e) => e.data)).toEqual([{ call_id: id, from_node_id: from, to_node_id: to }]);
    expect((await call(b, 'DELETE', `/v1/calls/${enc(id)}`)).status).toBe(204);
  });

  it('20 concurrent prepares of one call id across both instances make exactly one leg', async () => {
    const id = 'cl-race';
    const before = n1.count('prepare') + n2.count('prepare');
    // The nodes answer slowly, so all 20 arrive while the first placement is in flight (a
    // prepare that arrives after the binding exists is a re-INVITE, by design).
    n1.delayMs = n2.delayMs = 300;
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => call(i % 2 ? a : b, 'POST', '/v1/calls', { call_id: id, offer_sdp: 'v=0' })))
      .finally(() => { n1.delayMs = n2.delayMs = 0; });
    expect(answers.filter((r) => r.status !== 201)).toEqual([]);
    expect(new Set(answers.map((r) => `${r.body.node_id}:${r.body.media_port}`)).size).toBe(1);
    expect(n1.count('prepare') + n2.count('prepare') - before).toBe(1);
    expect([...n1.legs.keys(), ...n2.legs.keys()].filter((k) => k === id)).toHaveLength(1);
  });

  it("the pool's keys sit on more than one master: calls spread, the registry on one", async () => {
    await Promise.all(Array.from({ length: 30 }, (_, i) => call(i % 2 ? a : b, 'POST', '/v1/calls', { call_id: `spread-${i}`, offer_sdp: 'v=0' })));
    const perMaster = await keysPerMaster(prefix);
    const withCalls = [...perMaster.values()].filter((keys) => keys.some((k) => k.includes('call:spread-')));
    const withRegistry = [...perMaster.values()].filter((keys) => keys.some((k) => k === `{${prefix}}nodes`));
    process.stdout.write(`cluster keys per master: ${[...perMaster].map(([p, k]) => `${p}=${k.length}`).join(' ')}\n`);
    expect(withCalls.length).toBeGreaterThan(1);
    expect(withRegistry).toHaveLength(1);
    // Every registry key on that one master.
    const regMaster = withRegistry[0];
    const allReg = [...perMaster.values()].flat().filter((k) => k.startsWith(`{${prefix}}`));
    expect(allReg.every((k) => regMaster.includes(k))).toBe(true);
  });
});
