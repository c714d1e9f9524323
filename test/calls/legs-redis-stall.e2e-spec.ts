import { POOL_STORE, type PoolStore } from '../../src/pool/core/pool-store.interface';
import { runConcurrent } from '../support/concurrency';
import { expectConverged } from '../support/converged';
import { OFFER } from '../support/e2e-fixture';
import { FakeMediaNode } from '../support/fake-media-node';
import { randomPrefix, RedisChild } from '../support/redis';
import { createTestApp, type TestApp } from '../support/test-app';

/**
 * Issue 12, reproduction 1, on a redis-server of this suite's own (never the shared one):
 * Redis frozen (SIGSTOP) for 2.5 s while 40 calls send DELETE and 20 prepares are between
 * their node's answer and their binding. Redis runs the queued commands when it resumes;
 * the pool must converge anyway: every BYE reached its node, every failed prepare's late
 * binding is undone and its leg deleted.
 */
describe('no leg left behind: Redis stall (SIGSTOP) during BYEs and prepares', () => {
  const redis = new RedisChild();
  let t: TestApp;
  let node: FakeMediaNode;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(t.url + path, {
      method, headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };

  beforeAll(async () => {
    await redis.start();
    node = await new FakeMediaNode('n1').start();
    t = await createTestApp({ env: { RTP_STORE: 'redis', REDIS_URL: redis.url, RTP_STORE_PREFIX: randomPrefix('stall') }, listen: true });
    expect((await call('POST', '/v1/nodes/register', { node_id: 'n1', control_url: node.url })).status).toBe(200);
  });
  afterAll(async () => {
    redis.thaw();
    await t?.close();
    await node?.stop();
    await redis.kill();
  });

  it('#1 40 BYEs and 20 prepares during a 2.5 s freeze: every BYE reaches the node, no late binding survives, legs ⇔ bindings', async () => {
    const live = Array.from({ length: 40 }, (_, i) => `bye-${i}`);
    const late = Array.from({ length: 20 }, (_, i) => `prep-${i}`);
    // Set-up, before any freeze: a caller retries a 503 (a Redis command past its 250 ms timeout on a busy CI machine).
    const placed = async (id: string) => {
      for (let attempt = 1; ; attempt++) {
        const { status } = await call('POST', '/v1/calls', { call_id: id, offer_sdp: OFFER });
        if (status !== 503 || attempt === 3) return status;
      }
    };
    await runConcurrent(live.length, 10, async (i) => expect(await placed(live[i])).toBe(201));
    expect(node.legs.size).toBe(40);

    node.prepareDelayMs = 300; // the prepares claim now, their node answers while Redis is frozen
    const prepares = Promise.all(late.map((id) => call('POST', '/v1/calls', { call_id: id, offer_sdp: OFFER })));
    await new Promise((r) => setTimeout(r, 100));
    redis.freeze();
    const frozenAt = Date.now();
    const byes = await Promise.all(live.map((id) => call('DELETE', `/v1/calls/${id}`)));
    const prep = await prepares;
    // This instance bound those calls: their BYEs reach the node without the store.
    expect(byes.map((r) => r.status)).toEqual(live.map(() => 204));
    expect(live.filter((id) => node.legs.has(id))).toEqual([]);
    expect(prep.map((r) => r.status)).toEqual(late.map(() => 503));
    await new Promise((r) => setTimeout(r, Math.max(0, 2_500 - (Date.now() - frozenAt))));
    redis.thaw();

    const store = t.get<PoolStore>(POOL_STORE);
    const ms = await expectConverged(store, { n1: node }, [...live, ...late], 10_000);
    process.stdout.write(`converged ${Math.round(ms)} ms after SIGCONT\n`);
    expect(node.legs.size).toBe(0);
    for (const id of [...live, ...late]) expect(await store.getBinding(id)).toBeUndefined();
    // A caller's retried BYE now gets 404 — and the node had its DELETE all the same.
    expect((await call('DELETE', '/v1/calls/bye-0')).status).toBe(404);
  });
});

/**
 * A BYE on an instance that never saw the call (no route cached) while Redis is frozen: it
 * answers 503 and finishes its store half when Redis answers. Redis ran its first DELETE on
 * resuming (binding gone, tombstone naming the node), so the retry finds only the claim of a
 * new prepare of the call id — and must still learn the node whose leg the first one removed
 * the binding of (the two-instance legs property found this leg left behind).
 */
describe('no leg left behind: a BYE on the other instance during a freeze, retried while a new prepare holds the claim', () => {
  const redis = new RedisChild();
  const apps: TestApp[] = [];
  const nodes: FakeMediaNode[] = [];
  const call = async (app: TestApp, method: string, path: string, body?: unknown) => {
    const res = await fetch(app.url + path, {
      method, headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return res.status;
  };

  beforeAll(async () => {
    await redis.start();
    nodes.push(await new FakeMediaNode('n1').start(), await new FakeMediaNode('n2').start());
    const env = { RTP_STORE: 'redis', REDIS_URL: redis.url, RTP_STORE_PREFIX: randomPrefix('stall2') };
    apps.push(await createTestApp({ env, listen: true }), await createTestApp({ env, listen: true }));
    for (const n of nodes) expect(await call(apps[0], 'POST', '/v1/nodes/register', { node_id: n.nodeId, control_url: n.url })).toBe(200);
  });
  afterAll(async () => {
    redis.thaw();
    await Promise.all(apps.map((a) => a.close()));
    await Promise.all(nodes.map((n) => n.stop()));
    await redis.kill();
  });

  it('#12 the retried store half reports the earlier DELETE\'s node: its leg is deleted, whatever the new prepare got', async () => {
    const [a, b] = apps;
    const store = a.get<PoolStore>(POOL_STORE);
    expect(await call(a, 'POST', '/v1/calls', { call_id: 'x', offer_sdp: OFFER })).toBe(201);
    const first = nodes.find((n) => n.legs.has('x'))!;
    const other = nodes.find((n) => n !== first)!;
    redis.freeze();
    expect(await call(b, 'DELETE', '/v1/calls/x')).toBe(503); // b never saw the call: its store half waits for Redis
    redis.thaw();
    // A new prepare of the call id, around b's first retry (200 ms): the claim is held (by the first try's hold, then by
    // the prepare, which the first node refuses and the other answers late), so the retry finds a claim, not the binding.
    first.mode = 'full';
    other.prepareDelayMs = 400;
    // 201 when the retry ran before the prepare claimed, 409 when it overtook the prepare.
    expect([201, 409]).toContain(await call(a, 'POST', '/v1/calls', { call_id: 'x', offer_sdp: OFFER }));
    first.mode = 'ok';
    await expectConverged(store, { n1: nodes[0], n2: nodes[1] }, ['x'], 5_000);
    expect(first.legs.has('x')).toBe(false);
  });
});
