import { POOL_STORE, type PoolStore } from '../../src/pool/core/pool-store.interface';
import { waitUntil } from '../support/concurrency';
import { expectConverged } from '../support/converged';
import { OFFER, useE2eFixture } from '../support/e2e-fixture';
import { FakeMediaNode } from '../support/fake-media-node';
import { deleteKeys, randomPrefix, TEST_REDIS_URL } from '../support/redis';
import { createTestApp, type TestApp } from '../support/test-app';

/**
 * Migrates that race each other or a start (CONTRACT §5), each ending in the CONTRACT §7
 * invariant: a node holds a leg of the call iff the call is bound there. On the memory store
 * and on Redis (one instance each); RTP_CONTROL_TIMEOUT_MS is 500 (TEST_ENV).
 */
describe.each([
  ['memory', {}],
  ['redis', { RTP_STORE: 'redis', REDIS_URL: TEST_REDIS_URL }],
] as const)('migrate races (%s store)', (kind, storeEnv) => {
  const prefix = randomPrefix(`mig-${kind}`);
  const { nodes, t, http, boot, register, prepare } = useE2eFixture({ nodes: 3 });
  const store = () => t.get<PoolStore>(POOL_STORE);
  const byId = () => ({ a: nodes[0], b: nodes[1], c: nodes[2] });
  const migrate = (callId: string, body: object = {}) =>
    http.post(`/v1/calls/${encodeURIComponent(callId)}/migrate`).send({ offer_sdp: OFFER, ...body }).then((r) => r);
  const prepares = (n: FakeMediaNode, callId: string) =>
    n.requests.filter((r) => r.method === 'POST' && r.rawPath === '/v1/legs' && (r.body as { call_id?: string })?.call_id === callId).length;

  /** The app on this store, node a only while `ids` are placed, then b and c. */
  const placeOnA = async (...ids: string[]) => {
    await boot({ env: { ...storeEnv, RTP_STORE_PREFIX: prefix } });
    await register('a', nodes[0].url);
    for (const id of ids) await prepare(id).expect(201);
    await register('b', nodes[1].url);
    await register('c', nodes[2].url);
  };
  afterAll(async () => {
    if (kind === 'redis') await deleteKeys(TEST_REDIS_URL, prefix);
  });

  it('two identical migrates sent at once share one attempt: one move, one answer, bound where it answered', async () => {
    const ids = ['twin-1', 'twin-2', 'twin-3', 'twin-4', 'twin-5'];
    await placeOnA(...ids);
    const moved: string[] = [];
    for (const id of ids) {
      const [r1, r2] = await Promise.all([migrate(id), migrate(id)]);
      expect([r1.status, r2.status]).toEqual([200, 200]);
      expect(r2.body).toEqual(r1.body);
      expect(r1.body.previous_node_id).toBe('a');
      // One new leg in all: the call moved once.
      expect(prepares(nodes[1], id) + prepares(nodes[2], id)).toBe(1);
      expect((await store().getBinding(id))?.nodeId).toBe(r1.body.node_id);
      moved.push(r1.body.node_id);
    }
    await expectConverged(store(), byId(), ids, 3_000);
    expect(moved.every((n) => n === 'b' || n === 'c')).toBe(true);
  });

  it('the same migrate again while the first one still deletes the old leg: the same answer, no second move', async () => {
    await placeOnA('again');
    nodes[0].deleteDelayMs = 300; // the first migration holds its claim until a answers its DELETE
    const first = await migrate('again');
    expect(first.status).toBe(200);
    const second = await migrate('again');
    expect([second.status, second.body]).toEqual([200, first.body]);
    expect(prepares(nodes[1], 'again') + prepares(nodes[2], 'again')).toBe(1);
    expect(prepares(nodes[0], 'again')).toBe(1); // the first prepare only: the call did not come back
    await new Promise((r) => setTimeout(r, 400)); // past a's late DELETE
    await expectConverged(store(), byId(), ['again'], 3_000);
    expect((await store().getBinding('again'))?.nodeId).toBe(first.body.node_id);
  });

  it('away and straight back while the old node acts on its DELETE 300 ms late: bound to a, a holds the leg, b none', async () => {
    await placeOnA('back');
    nodes[0].deleteDelayMs = 300;
    const away = await migrate('back', { node_id: 'b' });
    expect([away.status, away.body.node_id]).toEqual([200, 'b']);
    // Sent at once: a is still to act on the first migration's DELETE.
    const back = await migrate('back', { node_id: 'a' });
    expect([back.status, back.body.node_id, back.body.previous_node_id]).toEqual([200, 'a', 'b']);
    await new Promise((r) => setTimeout(r, 400)); // past a's late DELETE: whatever it removes is gone by now
    await expectConverged(store(), byId(), ['back'], 3_000);
    expect((await store().getBinding('back'))?.nodeId).toBe('a');
    expect([nodes[0].legs.has('back'), nodes[1].legs.has('back')]).toEqual([true, false]);
    // a got the leg after it had carried out the DELETE of the first migration.
    expect(nodes[0].legs.get('back')?.port).toBe(back.body.media_port);
  });

  it('away and back sent together (different bodies): the second runs after the first, and the call ends where it asked', async () => {
    await placeOnA('both');
    nodes[0].deleteDelayMs = 300;
    const [away, back] = await Promise.all([migrate('both', { node_id: 'b' }), migrate('both', { node_id: 'a' })]);
    expect([away.status, away.body.node_id]).toEqual([200, 'b']);
    expect([back.status, back.body.node_id]).toEqual([200, 'a']);
    await new Promise((r) => setTimeout(r, 400)); // past a's late DELETE
    await expectConverged(store(), byId(), ['both'], 3_000);
    expect((await store().getBinding('both'))?.nodeId).toBe('a');
  });

  it('a start racing a migrate: the start marks only the binding it went by; the migrated one stays started: false', async () => {
    await placeOnA('race');
    nodes[0].delayMs = 200; // the start is in flight at a while the call moves to b
    const started = http.post('/v1/calls/race/start').then((r) => r);
    await waitUntil(() => nodes[0].count('start') === 1, 1_000);
    const moved = await migrate('race', { node_id: 'b' });
    expect([moved.status, moved.body.node_id]).toEqual([200, 'b']);
    const s = await started;
    expect([s.status, s.body.node_id]).toEqual([200, 'a']);
    const b = await store().getBinding('race');
    expect([b?.nodeId, b?.started]).toEqual(['b', false]);
    expect(nodes[1].legs.get('race')?.started).toBe(false);
    nodes[0].delayMs = 0;
    await expectConverged(store(), byId(), ['race'], 3_000);
    // Its own start marks it.
    expect((await http.post('/v1/calls/race/start')).status).toBe(200);
    expect((await store().getBinding('race'))?.started).toBe(true);
  });
});

/** Across instances (Redis): one migration claim; the other instance answers 409 and makes no leg. */
describe('migrate races: two instances (Redis)', () => {
  const prefix = randomPrefix('mig2');
  let a: TestApp;
  let b: TestApp;
  const nodes: FakeMediaNode[] = [];
  const call = async (app: TestApp, path: string, body: object) => {
    const res = await fetch(`${app.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as { node_id?: string; error?: string } };
  };

  beforeAll(async () => {
    const env = { RTP_STORE: 'redis', REDIS_URL: TEST_REDIS_URL, RTP_STORE_PREFIX: prefix };
    nodes.push(...(await Promise.all(['a', 'b', 'c'].map((id) => new FakeMediaNode(id).start()))));
    [a, b] = await Promise.all([createTestApp({ env, listen: true }), createTestApp({ env, listen: true })]);
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close(), ...nodes.map((n) => n.stop())]);
    await deleteKeys(TEST_REDIS_URL, prefix);
  });

  it('migrates of one call on two instances at once: one 200, one 409, one move, bound where the 200 says', async () => {
    await call(a, '/v1/nodes/register', { node_id: 'a', control_url: nodes[0].url });
    expect((await call(a, '/v1/calls', { call_id: 'x', offer_sdp: OFFER })).status).toBe(201);
    for (const [i, id] of [[1, 'b'], [2, 'c']] as const) await call(a, '/v1/nodes/register', { node_id: id, control_url: nodes[i].url });
    nodes[1].prepareDelayMs = 100;
    nodes[2].prepareDelayMs = 100;
    const [ra, rb] = await Promise.all([call(a, '/v1/calls/x/migrate', { offer_sdp: OFFER }), call(b, '/v1/calls/x/migrate', { offer_sdp: OFFER })]);
    const statuses = [ra.status, rb.status].sort();
    expect(statuses).toEqual([200, 409]);
    const won = ra.status === 200 ? ra : rb;
    const store = a.get<PoolStore>(POOL_STORE);
    expect((await store.getBinding('x'))?.nodeId).toBe(won.body.node_id);
    expect(nodes[1].count('prepare') + nodes[2].count('prepare')).toBe(1);
    await expectConverged(store, { a: nodes[0], b: nodes[1], c: nodes[2] }, ['x'], 3_000);
  });
});
