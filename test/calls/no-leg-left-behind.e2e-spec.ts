import * as net from 'node:net';
import { LeftLegs } from '../../src/pool/calls/left-legs';
import { CircuitBreaker } from '../../src/pool/health/circuit-breaker';
import { PoolService } from '../../src/pool/pool.service';
import { POOL_STORE, type PoolStore } from '../../src/pool/core/pool-store.interface';
import { waitUntil } from '../support/concurrency';
import { expectConverged } from '../support/converged';
import { OFFER, useE2eFixture } from '../support/e2e-fixture';
import { FakeMediaNode } from '../support/fake-media-node';
import { deleteKeys, randomPrefix, TEST_REDIS_URL } from '../support/redis';
import { createTestApp, type TestApp } from '../support/test-app';

/**
 * Issue 12's reproductions on one instance (memory store), each ending with the converged
 * state: a node holds a leg for a call id iff the store binds it there (CONTRACT §7).
 * RTP_CONTROL_TIMEOUT_MS is 500 (TEST_ENV).
 */
describe('no leg left behind (e2e)', () => {
  const { nodes, t, http, boot, register, prepare } = useE2eFixture({ nodes: 2 });
  const store = () => t.get<PoolStore>(POOL_STORE);
  const byId = () => ({ a: nodes[0], b: nodes[1] });
  const enc = encodeURIComponent;

  it('#2 a DELETE (CANCEL) while the first prepare is in flight: 204, the prepare answers 409, no leg, no binding', async () => {
    await boot();
    await register('a', nodes[0].url);
    nodes[0].prepareDelayMs = 300;
    const p = prepare('cancel-me').then((r) => r); // supertest sends on then()
    await waitUntil(() => nodes[0].count('prepare') === 1, 1_000);
    await http.delete('/v1/calls/cancel-me').expect(204);
    const res = await p;
    expect(res.status).toBe(409);
    expect(res.body).toEqual({ error: 'call was deleted while it was being prepared' });
    await expectConverged(store(), byId(), ['cancel-me'], 3_000);
    expect(nodes[0].count('delete')).toBeGreaterThanOrEqual(1);
  });

  it('#3 a BYE while a re-INVITE is in flight: 204, the re-INVITE answers 409, the node holds no leg again', async () => {
    await boot();
    await register('a', nodes[0].url);
    await prepare('reinv').expect(201);
    nodes[0].prepareDelayMs = 300;
    const p = prepare('reinv').then((r) => r);
    await waitUntil(() => nodes[0].count('prepare') === 2, 1_000);
    await http.delete('/v1/calls/reinv').expect(204);
    expect((await p).status).toBe(409);
    await expectConverged(store(), byId(), ['reinv'], 3_000);
    expect(nodes[0].legs.has('reinv')).toBe(false);
  });

  it('#3 a BYE while a re-INVITE waits behind the call\'s start: the re-INVITE answers 409 and does not bring the call back', async () => {
    await boot();
    await register('a', nodes[0].url);
    await prepare('queued').expect(201);
    nodes[0].delayMs = 300; // the start is in flight at the node; the re-INVITE waits behind it
    const started = http.post('/v1/calls/queued/start').then((r) => r);
    await waitUntil(() => nodes[0].count('start') === 1, 1_000);
    const reinvite = prepare('queued').then((r) => r);
    await new Promise((r) => setTimeout(r, 20));
    await http.delete('/v1/calls/queued').expect(204);
    expect((await started).status).toBe(200);
    const res = await reinvite;
    expect(res.status).toBe(409);
    await expectConverged(store(), byId(), ['queued'], 3_000);
    expect(await store().getBinding('queued')).toBeUndefined();
    expect(nodes[0].count('prepare')).toBe(1);
  });

  it('#4 a node that answers 201 after the timeout: the late leg is deleted though the first DELETE finds nothing', async () => {
    await boot();
    await register('a', nodes[0].url);
    nodes[0].prepareDelayMs = 900; // the pool gives up at 500 ms; the leg appears at 900 ms
    await prepare('late').expect(502);
    await expectConverged(store(), byId(), ['late'], 4_000);
    await waitUntil(() => nodes[0].legs.size === 0 && nodes[0].count('delete') >= 1, 4_000);
    expect(nodes[0].legs.has('late')).toBe(false);
  });

  it('#11 a leg left earlier under the call id of a prepare in flight to that node: no DELETE until the prepare binds, and its leg stays', async () => {
    await boot();
    await register('a', nodes[0].url);
    nodes[0].prepareDelayMs = 300; // the leg is made when the answer goes out
    const p = prepare('again').then((r) => r);
    await waitUntil(() => nodes[0].count('prepare') === 1, 1_000);
    // A DELETE sent now would reach the node after the new leg is made (and bound).
    nodes[0].delayMs = 400;
    t.get(LeftLegs).remember({ nodeId: 'a', controlUrl: nodes[0].url, callId: 'again' });
    expect((await p).status).toBe(201);
    await waitUntil(() => t.get(LeftLegs).size === 0, 3_000);
    await expectConverged(store(), byId(), ['again'], 1_000);
    expect(nodes[0].legs.has('again')).toBe(true);
    expect(nodes[0].count('delete')).toBe(0);
  });

  it('#14 a leg left earlier on the node a migration is moving the call onto: no DELETE until the swap, and the new leg stays', async () => {
    await boot();
    await register('a', nodes[0].url);
    await register('b', nodes[1].url, { active_legs: 100 });
    expect((await prepare('moving').expect(201)).body.node_id).toBe('a');
    nodes[1].prepareDelayMs = 300; // the new leg on b is made when its answer goes out
    const migrated = http.post('/v1/calls/moving/migrate').send({ offer_sdp: OFFER }).then((r) => r);
    await waitUntil(() => nodes[1].count('prepare') === 1, 1_000);
    // An earlier leg of the call on b (say, from before an earlier migration away from b)
    // is retried now: a DELETE sent to b would arrive after the new leg is made there.
    nodes[1].delayMs = 400;
    t.get(LeftLegs).remember({ nodeId: 'b', controlUrl: nodes[1].url, callId: 'moving' });
    const res = await migrated;
    expect(res.status).toBe(200);
    expect(res.body.node_id).toBe('b');
    await waitUntil(() => t.get(LeftLegs).size === 0, 3_000);
    await expectConverged(store(), byId(), ['moving'], 1_000);
    expect(nodes[1].legs.has('moving')).toBe(true);
    expect(nodes[1].count('delete')).toBe(0);
  });

  it('#15 a re-INVITE that times out on the old node while a migration moves the call: the leg it makes there late is deleted', async () => {
    await boot();
    await register('a', nodes[0].url);
    await register('b', nodes[1].url, { active_legs: 100 });
    expect((await prepare('glare').expect(201)).body.node_id).toBe('a');
    nodes[0].prepareDelayMs = 800; // the re-INVITE's leg on a is made at 800 ms; the pool gives up at 500
    const reinvite = prepare('glare').then((r) => r);
    await waitUntil(() => nodes[0].count('prepare') === 2, 1_000);
    // Meanwhile the call moves to b, and a's leg is deleted, before a makes the re-INVITE's.
    const migrated = await http.post('/v1/calls/glare/migrate').send({ offer_sdp: OFFER });
    expect([migrated.status, migrated.body.node_id]).toEqual([200, 'b']);
    expect(await waitUntil(() => nodes[0].count('delete') === 1 && !nodes[0].legs.has('glare'), 1_000)).toBeGreaterThanOrEqual(0);
    expect((await reinvite).status).toBe(502);
    nodes[0].prepareDelayMs = 0;
    // a is Go-style here (no GET /v1/legs): reconciliation could not see the late leg; it is deleted all the same.
    expect(await waitUntil(() => nodes[0].count('delete') >= 2, 4_000)).toBeGreaterThanOrEqual(0);
    await expectConverged(store(), byId(), ['glare'], 4_000);
    expect([nodes[0].legs.has('glare'), nodes[1].legs.has('glare'), (await store().getBinding('glare'))?.nodeId]).toEqual([false, true, 'b']);
  });

  it('#16 a re-INVITE answered by the old node after a migration moved the call: 409 "migrated", its leg there deleted', async () => {
    await boot();
    await register('a', nodes[0].url);
    await register('b', nodes[1].url, { active_legs: 100 });
    expect((await prepare('moved').expect(201)).body.node_id).toBe('a');
    nodes[0].prepareDelayMs = 300; // a answers the re-INVITE (and makes its leg) at 300 ms, within the timeout
    const reinvite = prepare('moved').then((r) => r);
    await waitUntil(() => nodes[0].count('prepare') === 2, 1_000);
    const migrated = await http.post('/v1/calls/moved/migrate').send({ offer_sdp: OFFER });
    expect([migrated.status, migrated.body.node_id]).toEqual([200, 'b']);
    const res = await reinvite;
    // Not "deleted": the call lives on b, and a signaling tier that tore it down on this answer would drop a live call.
    expect([res.status, res.body]).toEqual([409, { error: 'call was migrated to another node while this re-INVITE was in flight; send it again' }]);
    nodes[0].prepareDelayMs = 0;
    await expectConverged(store(), byId(), ['moved'], 4_000);
    expect([nodes[0].legs.has('moved'), nodes[1].legs.has('moved'), (await store().getBinding('moved'))?.nodeId]).toEqual([false, true, 'b']);
  });

  it('#17 a BYE while a migration makes its new leg, and the new node unreachable for the give-back: that leg is deleted once it answers', async () => {
    await boot();
    await register('a', nodes[0].url);
    await register('b', nodes[1].url, { active_legs: 100 });
    expect((await prepare('bye-mid-move').expect(201)).body.node_id).toBe('a');
    nodes[1].prepareDelayMs = 300; // b makes the new leg and answers at 300 ms
    const migrated = http.post('/v1/calls/bye-mid-move/migrate').send({ offer_sdp: OFFER }).then((r) => r);
    await waitUntil(() => nodes[1].count('prepare') === 1, 1_000);
    await http.delete('/v1/calls/bye-mid-move').expect(204);
    nodes[1].mode = 'down'; // requests b receives from now on are cut: the migrate's give-back DELETE fails
    expect((await migrated).status).toBe(404);
    // The give-back DELETE reached b and was cut: the new leg is still there.
    expect(await waitUntil(() => nodes[1].count('delete') >= 1, 1_000)).toBeGreaterThanOrEqual(0);
    expect(nodes[1].legs.has('bye-mid-move')).toBe(true);
    nodes[1].mode = 'ok';
    nodes[1].prepareDelayMs = 0;
    await expectConverged(store(), byId(), ['bye-mid-move'], 4_000);
    expect([nodes[0].legs.size, nodes[1].legs.size, await store().getBinding('bye-mid-move')]).toEqual([0, 0, undefined]);
  });

  it('#6 call ids "." and ".." are refused (400): no URL could carry them to the node', async () => {
    await boot();
    await register('a', nodes[0].url);
    for (const id of ['.', '..', ' .. ']) expect((await prepare(id).expect(400)).body.error).toMatch(/call_id/);
    await expect(t.get(PoolService).delete('..')).rejects.toMatchObject({ code: 'RTP_INVALID_ID' });
    await expect(t.get(PoolService).start('.')).rejects.toMatchObject({ code: 'RTP_INVALID_ID' });
    expect(nodes[0].count('prepare')).toBe(0);
    await prepare('...').expect(201); // three dots are no dot segment
    await http.delete(`/v1/calls/${enc('...')}`).expect(204);
    await expectConverged(store(), byId(), ['...'], 1_000);
  });

  // The HTTP server hands pipelined requests over at once; configureJsonApp's connection
  // order (common/connection-order.ts) holds each until the previous one was answered.
  it('#7 prepare, start and delete pipelined on one keep-alive connection run in order (or the DELETE wins): nothing stays', async () => {
    await boot({ listen: true });
    await register('a', nodes[0].url);
    nodes[0].prepareDelayMs = 100;
    const body = JSON.stringify({ call_id: 'piped', offer_sdp: OFFER });
    const host = new URL(t.url);
    const wire = `POST /v1/calls HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
      + 'POST /v1/calls/piped/start HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n'
      + 'DELETE /v1/calls/piped HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
    const text = await new Promise<string>((resolve, reject) => {
      const s = net.connect(Number(host.port), host.hostname, () => s.write(wire));
      let out = '';
      s.on('data', (d) => (out += d.toString()));
      s.on('end', () => resolve(out));
      s.on('error', reject);
    });
    const statuses = [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
    expect(statuses).toHaveLength(3);
    // Run as sent: the prepare (its node answers 100 ms late), then start, then delete.
    expect(statuses).toEqual([201, 200, 204]);
    expect(nodes[0].count('start')).toBe(1);
    await expectConverged(store(), byId(), ['piped'], 3_000);
    expect(nodes[0].legs.size).toBe(0);
  });

  it('#9 a node whose legs hang while its health answers stays out until a prepare succeeds: probes do not close its circuit', async () => {
    await boot({ env: { RTP_HEALTH_INTERVAL_MS: '100', RTP_CIRCUIT_RESET_MS: '1500' } });
    await register('a', nodes[0].url);
    await register('b', nodes[1].url, { active_legs: 100 });
    nodes[0].prepareDelayMs = 60_000;
    expect((await prepare('w1').expect(201)).body.node_id).toBe('b'); // a timed out, b took it
    const cb = t.get(CircuitBreaker);
    expect(cb.state('a')).toBe('open');
    await new Promise((r) => setTimeout(r, 600)); // several probe rounds, all healthy
    expect(cb.state('a')).toBe('open');
    const t0 = Date.now();
    for (let i = 0; i < 5; i++) expect((await prepare(`w-${i}`).expect(201)).body.node_id).toBe('b');
    expect(Date.now() - t0).toBeLessThan(400); // nobody waited for the timeout
    expect(nodes[0].count('prepare')).toBe(1);
    // After the reset time one half-open trial goes through; the node answers now: closed.
    nodes[0].prepareDelayMs = 0;
    await new Promise((r) => setTimeout(r, 1_000));
    expect((await prepare('trial').expect(201)).body.node_id).toBe('a');
    expect(cb.state('a')).toBe('closed');
    await expectConverged(store(), byId(), ['w1', 'w-0', 'w-1', 'w-2', 'w-3', 'w-4', 'trial'], 3_000);
  });

  it('a node makes the leg and the connection resets before its 201: the call fails over, and that leg is deleted, also after the BYE', async () => {
    await boot();
    await register('a', nodes[0].url);
    await register('b', nodes[1].url, { active_legs: 10 }); // a is the first choice
    nodes[0].mode = 'reset';
    const res = await prepare('reset-1').expect(201);
    expect(res.body.node_id).toBe('b');
    expect(nodes[0].count('prepare')).toBe(1);
    await waitUntil(() => !nodes[0].legs.has('reset-1'), 3_000);
    await expectConverged(store(), byId(), ['reset-1'], 3_000);
    await http.delete('/v1/calls/reset-1').expect(204);
    await expectConverged(store(), byId(), ['reset-1'], 3_000);
    expect([nodes[0].legs.has('reset-1'), nodes[1].legs.has('reset-1')]).toEqual([false, false]);
  });

  it('a re-INVITE\'s and a migration\'s prepare reset after the node made the leg: no leg is left on a node the call is not bound to', async () => {
    await boot();
    await register('a', nodes[0].url);
    await prepare('reset-2').expect(201);
    await register('b', nodes[1].url);
    nodes[1].mode = 'reset'; // the migration's new leg is made on b, its answer lost
    expect((await http.post('/v1/calls/reset-2/migrate').send({ offer_sdp: OFFER })).status).toBe(502);
    nodes[1].mode = 'ok';
    await expectConverged(store(), byId(), ['reset-2'], 3_000);
    expect(nodes[1].legs.has('reset-2')).toBe(false);
    nodes[0].mode = 'reset'; // a re-INVITE on the bound node: its leg is the call's own, left alone
    expect((await prepare('reset-2')).status).toBe(502);
    nodes[0].mode = 'ok';
    await expectConverged(store(), byId(), ['reset-2'], 3_000);
    expect(nodes[0].legs.has('reset-2')).toBe(true);
  });

  it('#10 a node at capacity answers 503: a refusal (422 when every node refuses), its circuit stays closed', async () => {
    await boot();
    await register('a', nodes[0].url);
    await register('b', nodes[1].url, { active_legs: 10 });
    nodes[0].mode = 'full';
    expect((await prepare('f1').expect(201)).body.node_id).toBe('b');
    nodes[1].mode = 'full';
    expect((await prepare('f2').expect(422)).body).toEqual({ error: 'node at capacity' });
    expect(t.get(CircuitBreaker).state('a')).toBe('closed');
    expect(t.get(CircuitBreaker).state('b')).toBe('closed');
    await expectConverged(store(), byId(), ['f1', 'f2'], 1_000);
  });
});

/** #8: one call id on two instances at once. */
describe('no leg left behind: one call id on two instances (Redis)', () => {
  const prefix = randomPrefix('legs8');
  let a: TestApp;
  let b: TestApp;
  const nodes: FakeMediaNode[] = [];
  const post = async (app: TestApp, callId: string) => {
    const res = await fetch(`${app.url}/v1/calls`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ call_id: callId, offer_sdp: OFFER }),
    });
    return { status: res.status, body: (await res.json()) as unknown };
  };

  beforeAll(async () => {
    const env = { RTP_STORE: 'redis', REDIS_URL: TEST_REDIS_URL, RTP_STORE_PREFIX: prefix, RTP_CONTROL_TIMEOUT_MS: '300' };
    nodes.push(...(await Promise.all([1, 2, 3].map((i) => new FakeMediaNode(`n${i}`).start()))));
    [a, b] = await Promise.all([createTestApp({ env, listen: true }), createTestApp({ env, listen: true })]);
    for (const n of nodes) {
      await fetch(`${a.url}/v1/nodes/register`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ node_id: n.nodeId, control_url: n.url }),
      });
    }
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close(), ...nodes.map((n) => n.stop())]);
    await deleteKeys(TEST_REDIS_URL, prefix);
  });

  it('#8 every node failing: the second instance shares the first one\'s answer (3 node attempts, not 6, same 502)', async () => {
    for (const n of nodes) n.mode = 'fail500';
    const t0 = Date.now();
    const [ra, rb] = await Promise.all([post(a, 'dup-fail'), post(b, 'dup-fail')]);
    expect(ra).toEqual(rb);
    expect(ra.status).toBe(502);
    expect(nodes.reduce((s, n) => s + n.count('prepare'), 0)).toBe(3);
    expect(Date.now() - t0).toBeLessThan(3 * 300 + 1_000);
  });

  it('#8 the fleet full (503 everywhere): both copies get the same 422', async () => {
    for (const n of nodes) {
      n.reset();
      n.mode = 'full';
    }
    const [ra, rb] = await Promise.all([post(a, 'dup-full'), post(b, 'dup-full')]);
    expect(ra).toEqual({ status: 422, body: { error: 'node at capacity' } });
    expect(rb).toEqual(ra);
    expect(nodes.reduce((s, n) => s + n.count('prepare'), 0)).toBe(3);
    for (const n of nodes) n.mode = 'ok';
    const store = a.get<PoolStore>(POOL_STORE);
    await expectConverged(store, { n1: nodes[0], n2: nodes[1], n3: nodes[2] }, ['dup-fail', 'dup-full'], 1_000);
  });

  it('#13 a BYE on one instance and a new prepare of the call id on the other (re-INVITE glare): the BYE\'s DELETE cannot remove the new leg', async () => {
    expect((await post(a, 'glare')).status).toBe(201);
    const store = a.get<PoolStore>(POOL_STORE);
    const bound = await store.getBinding('glare');
    const first = nodes.find((n) => n.nodeId === bound?.nodeId)!;
    first.delayMs = 200; // the BYE's DELETE reaches the node now and is carried out 200 ms later (timeout 300 ms)
    const deletes = first.count('delete');
    const bye = fetch(`${a.url}/v1/calls/glare`, { method: 'DELETE' });
    await waitUntil(() => first.count('delete') > deletes, 1_000);
    first.delayMs = 0;
    for (const n of nodes) if (n !== first) n.mode = 'full'; // the new prepare lands on the same node
    const again = await post(b, 'glare');
    expect((await bye).status).toBe(204);
    for (const n of nodes) n.mode = 'ok';
    expect(again.status).toBe(201);
    await expectConverged(store, Object.fromEntries(nodes.map((n) => [n.nodeId, n])), ['glare'], 2_000);
    expect(first.legs.has('glare')).toBe(true);
  });

  it('#14 across instances: a left leg retried on one instance while the other migrates the call onto that node', async () => {
    expect((await post(a, 'moving2')).status).toBe(201);
    const store = a.get<PoolStore>(POOL_STORE);
    const from = (await store.getBinding('moving2'))!.nodeId;
    const to = nodes.find((n) => n.nodeId !== from)!;
    to.prepareDelayMs = 100; // the new leg is made 100 ms after the migration's prepare arrives (timeout 300 ms)
    const migrated = fetch(`${b.url}/v1/calls/moving2/migrate`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ offer_sdp: OFFER, node_id: to.nodeId }),
    });
    await waitUntil(() => to.requests.some((r) => r.method === 'POST' && r.rawPath === '/v1/legs' && (r.body as { call_id?: string }).call_id === 'moving2'), 1_000);
    to.delayMs = 250; // a DELETE arriving now is carried out after the new leg is made
    a.get(LeftLegs).remember({ nodeId: to.nodeId, controlUrl: to.url, callId: 'moving2' });
    const res = await migrated;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { node_id: string }).node_id).toBe(to.nodeId);
    await waitUntil(() => a.get(LeftLegs).size === 0, 3_000);
    to.delayMs = 0;
    to.prepareDelayMs = 0;
    await expectConverged(store, Object.fromEntries(nodes.map((n) => [n.nodeId, n])), ['moving2'], 2_000);
    expect(to.legs.has('moving2')).toBe(true);
    expect(to.requests.filter((r) => r.method === 'DELETE' && r.callId === 'moving2')).toHaveLength(0);
  });
});
