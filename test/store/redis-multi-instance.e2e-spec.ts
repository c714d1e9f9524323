import { Redis } from 'ioredis';
import { PoolService } from '../../src/pool/pool.service';
import { POOL_STORE } from '../../src/pool/core/pool-store.interface';
import { RedisPoolStore } from '../../src/pool/store/redis-pool.store';
import { FakeMediaNode } from '../support/fake-media-node';
import { deleteKeys, randomPrefix, TEST_REDIS_URL } from '../support/redis';
import { callJson, createTestApp, type TestApp } from '../support/test-app';

/** Two signaling instances (A, B) on one Redis, one prefix: one pool. */
describe('two instances on one Redis', () => {
  const prefix = randomPrefix('multi');
  const env = { RTP_STORE: 'redis', REDIS_URL: TEST_REDIS_URL, RTP_STORE_PREFIX: prefix, RTP_NODE_TTL_SEC: '1', RTP_CONTROL_TIMEOUT_MS: '3000' };
  let a: TestApp;
  let b: TestApp;
  let n1: FakeMediaNode;
  let n2: FakeMediaNode;

  const call = callJson;
  const register = (t: TestApp, node: FakeMediaNode, extra: object = {}) =>
    call(t, 'POST', '/v1/nodes/register', { node_id: node.nodeId, control_url: node.url, ...extra });
  const enc = encodeURIComponent;

  beforeAll(async () => {
    [n1, n2] = await Promise.all([new FakeMediaNode('n1').start(), new FakeMediaNode('n2').start()]);
    [a, b] = await Promise.all([createTestApp({ env, listen: true }), createTestApp({ env, listen: true })]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close(), n1?.stop(), n2?.stop()]);
    await deleteKeys(TEST_REDIS_URL, prefix);
  });

  it('uses the Redis store on both', () => {
    expect(a.get(POOL_STORE)).toBeInstanceOf(RedisPoolStore);
    expect((a.get(POOL_STORE) as RedisPoolStore).prefix).toBe(prefix);
  });

  it('a node registered on A is listed on B; a drain on B shows on A', async () => {
    expect((await register(a, n1, { capacity: 50, region: 'eu' })).status).toBe(200);
    const list = await call(b, 'GET', '/v1/nodes');
    expect(list.status).toBe(200);
    expect(list.body.nodes).toEqual([expect.objectContaining({ node_id: 'n1', control_url: n1.url, capacity: 50, region: 'eu', static: false })]);
    expect((await call(b, 'POST', '/v1/nodes/n1/drain')).body).toMatchObject({ draining: true });
    expect((await call(a, 'GET', '/v1/nodes/n1')).body).toMatchObject({ draining: true });
    await call(a, 'POST', '/v1/nodes/n1/undrain');
    expect((await call(b, 'GET', '/v1/nodes/n1')).body).toMatchObject({ draining: false });
  });

  it('prepare on A; start and delete on B reach the owning node', async () => {
    await register(b, n2);
    const id = 'call-1@host/x';
    const prep = await call(a, 'POST', '/v1/calls', { call_id: id, offer_sdp: 'v=0' });
    expect(prep.status).toBe(201);
    const owner = prep.body.node_id === 'n1' ? n1 : n2;
    const other = owner === n1 ? n2 : n1;
    expect(owner.legs.has(id)).toBe(true);
    expect((await call(b, 'GET', `/v1/calls/${enc(id)}`)).body).toMatchObject({ call_id: id, node_id: owner.nodeId, started: false });
    const row = (await call(b, 'GET', `/v1/nodes/${owner.nodeId}`)).body;
    expect(row.bound_calls).toBe(1);
    expect(await call(b, 'POST', `/v1/calls/${enc(id)}/start`)).toEqual({ status: 200, body: { call_id: id, node_id: owner.nodeId } });
    expect(owner.legs.get(id)?.started).toBe(true);
    expect((await call(a, 'GET', `/v1/calls/${enc(id)}`)).body.started).toBe(true);
    expect((await call(b, 'DELETE', `/v1/calls/${enc(id)}`)).status).toBe(204);
    expect(owner.legs.has(id)).toBe(false);
    expect(other.requests.filter((r) => r.callId === id || (r.body as { call_id?: string })?.call_id === id)).toEqual([]);
    expect((await call(a, 'GET', `/v1/calls/${enc(id)}`)).status).toBe(404);
    expect((await call(a, 'DELETE', `/v1/calls/${enc(id)}`)).status).toBe(404);
    expect((await call(a, 'GET', `/v1/nodes/${owner.nodeId}`)).body.bound_calls).toBe(0);
  });

  it('50 concurrent prepares of one call id across A and B: one leg, one answer', async () => {
    const id = 'storm-' + Date.now();
    const before = n1.count('prepare') + n2.count('prepare');
    // The node answers slowly, so all 50 overlap the first (a later one would be a re-INVITE).
    n1.delayMs = n2.delayMs = 1_200;
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) =>
      call(i % 2 ? b : a, 'POST', '/v1/calls', { call_id: id, offer_sdp: 'v=0' }))).finally(() => {
      n1.delayMs = n2.delayMs = 0;
    });
    expect(results.map((r) => r.status)).toEqual(Array(50).fill(201));
    const answers = new Set(results.map((r) => JSON.stringify(r.body)));
    expect(answers.size).toBe(1);
    expect(n1.count('prepare') + n2.count('prepare') - before).toBe(1);
    expect(Number(n1.legs.has(id)) + Number(n2.legs.has(id))).toBe(1);
    expect((await call(b, 'DELETE', `/v1/calls/${enc(id)}`)).status).toBe(204);
  });

  it('a prepare costs a fixed, small number of Redis round trips (counted with MONITOR)', async () => {
    const origin = new Redis(TEST_REDIS_URL);
    const mon = await origin.monitor();
    // Other suites share this Redis (two jest workers): a line that arrives right after MONITOR's
    // OK, before ioredis has switched the connection to monitor mode, is refused with an 'error'
    // event ('Command queue state error'). Such a line is another client's, sent before this
    // test's first request; the lines after it are parsed as usual.
    mon.on('error', () => undefined);
    const seen: string[][] = [];
    mon.on('monitor', (_time: string, args: string[], source: string) => {
      // Commands a script runs show up too, with source "lua": they are not round trips.
      if (source !== 'lua' && args.some((x) => typeof x === 'string' && x.includes(prefix))) seen.push(args);
    });
    try {
      const settle = async () => {
        await new Promise((r) => setTimeout(r, 100));
        const n = seen.length;
        seen.length = 0;
        return n;
      };
      await settle();
      const id = 'rt-' + Date.now();
      expect((await call(a, 'POST', '/v1/calls', { call_id: id, offer_sdp: 'v=0' })).status).toBe(201);
      const firstPrepare = await settle();
      expect((await call(a, 'POST', '/v1/calls', { call_id: id, offer_sdp: 'v=0 again' })).status).toBe(201);
      const reinvite = await settle();
      expect((await call(b, 'POST', `/v1/calls/${enc(id)}/start`)).status).toBe(200);
      const start = await settle();
      expect((await call(b, 'DELETE', `/v1/calls/${enc(id)}`)).status).toBe(204);
      const del = await settle();
      expect((await register(b, n1)).status).toBe(200);
      const heartbeat = await settle();
      process.stdout.write(`redis round trips: prepare ${firstPrepare}, re-INVITE ${reinvite}, start ${start}, delete ${del}, register ${heartbeat}\n`);
      expect(heartbeat).toBe(1);
      // A binding write is two single-slot scripts (the call's slot, then the registry's: see
      // redis-pool.scripts.ts), so cluster-correctness costs one round trip on putBinding and
      // on deleteBinding.
      // claim (it answers with the binding when bound), the lightest nodes, bindCall (call + registry).
      expect(firstPrepare).toBe(4);
      // claim (bound: the binding), getNode, bindCall (call + registry).
      expect(reinvite).toBe(4);
      // getBinding, getNode, markStarted.
      expect(start).toBe(3);
      // deleteBinding (call + registry, the call's claim held meanwhile), getNode; the hold given up once the node
      // answered (not waited for by the answer).
      expect(del).toBe(4);
    } finally {
      mon.disconnect();
      origin.disconnect();
    }
  });

  it('A closed and recreated: its bindings are intact', async () => {
    const id = 'survivor';
    const prep = await call(a, 'POST', '/v1/calls', { call_id: id, offer_sdp: 'v=0' });
    expect(prep.status).toBe(201);
    const storeA = a.get(POOL_STORE) as RedisPoolStore;
    await a.close();
    // The store quit the client it created.
    expect(storeA.client.status).toBe('end');
    a = await createTestApp({ env, listen: true });
    const got = await call(a, 'GET', `/v1/calls/${enc(id)}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({ call_id: id, node_id: prep.body.node_id, media_port: prep.body.media_port });
    expect((await call(a, 'GET', '/v1/nodes')).body.nodes.map((n: { node_id: string }) => n.node_id)).toEqual(['n1', 'n2']);
    // A re-INVITE on the new A goes to the same node, no new leg elsewhere.
    const again = await call(a, 'POST', '/v1/calls', { call_id: id, offer_sdp: 'v=0' });
    expect(again.body.node_id).toBe(prep.body.node_id);
    expect((await call(a, 'POST', `/v1/calls/${enc(id)}/start`)).status).toBe(200);
    expect((await call(a, 'DELETE', `/v1/calls/${enc(id)}`)).status).toBe(204);
  });

  it('a node heartbeating only to B is not pruned by A; a silent one is, exactly once', async () => {
    // RTP_NODE_TTL_SEC=1: n1 and n2 fall silent now; 'beating' keeps heartbeating to B.
    const beating = new FakeMediaNode('beating');
    await beating.start();
    try {
      await register(b, beating);
      await new Promise((r) => setTimeout(r, 1_200));
      expect((await register(b, beating)).status).toBe(200);
      const [prunedA, prunedB] = await Promise.all([a.get(PoolService).prune(), b.get(PoolService).prune()]);
      expect([...prunedA, ...prunedB].sort()).toEqual(['n1', 'n2']);
      const listed = (await call(a, 'GET', '/v1/nodes')).body.nodes.map((n: { node_id: string }) => n.node_id);
      expect(listed).toEqual(['beating']);
    } finally {
      await beating.stop();
    }
  });
});
