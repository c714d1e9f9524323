import { RtpCaller } from '../../src/demo/rtp-caller';
import type { RunningMediaNode } from '../../src/media-node/media-node.app';
import { ReconcileService } from '../../src/pool/jobs/reconcile.service';
import { PoolHooks, type ReconcileRound } from '../../src/pool/core/pool.hooks';
import { POOL_STORE, type PoolStore } from '../../src/pool/core/pool-store.interface';
import { FakeMediaNode } from '../support/fake-media-node';
import { eventually, startTestMediaNode } from '../support/media-nodes';
import { deleteKeys, randomPrefix, TEST_REDIS_URL } from '../support/redis';
import { createTestApp, type TestApp } from '../support/test-app';

/**
 * Reconciliation (CONTRACT §7) against the reference media node, which serves GET /v1/legs:
 * orphan legs are deleted after the grace period, bindings without a leg dropped, bound
 * legs untouched; a Go-style node (404) is skipped; with two instances one reconciles.
 * RTP_RECONCILE_INTERVAL_SEC=1, RTP_CONTROL_TIMEOUT_MS=500, 3 attempts: grace 2.5 s.
 */
describe('reconciliation (e2e)', () => {
  let node: RunningMediaNode;
  let caller: RtpCaller;
  const apps: TestApp[] = [];
  const json = async (url: string, method = 'GET', body?: unknown) => {
    const res = await fetch(url, { method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };

  beforeAll(async () => {
    node = await startTestMediaNode();
    caller = await new RtpCaller().open();
  });
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.close()));
    caller?.close();
    await node?.close();
  });

  it('deletes orphan legs, drops bindings whose leg is gone, leaves bound legs alone; skips nodes without GET /v1/legs', async () => {
    const t = await createTestApp({ env: { RTP_RECONCILE_INTERVAL_SEC: '1' }, listen: true });
    apps.push(t);
    const go = await new FakeMediaNode('go').start(); // answers 404 to GET /v1/legs
    try {
      const rounds: ReconcileRound[] = [];
      t.get(PoolHooks).on('reconcile', (r) => rounds.push(r));
      const lost: unknown[] = [];
      t.get(PoolHooks).on('call_lost', (e) => lost.push(e.data));
      expect((await json(`${t.url}/v1/nodes/register`, 'POST', { node_id: 'ref', control_url: node.url })).status).toBe(200);
      expect((await json(`${t.url}/v1/nodes/register`, 'POST', { node_id: 'go', control_url: go.url, active_legs: 1000 })).status).toBe(200);
      for (const id of ['bound-1', 'bound-2', 'ghost']) {
        expect((await json(`${t.url}/v1/calls`, 'POST', { call_id: id, offer_sdp: caller.offer() })).body.node_id).toBe('ref');
      }
      // A leg nobody bound (a crashed instance's), and a bound call whose leg vanished.
      expect((await json(`${node.url}/v1/legs`, 'POST', { call_id: 'orphan', offer_sdp: caller.offer() })).status).toBe(201);
      expect((await json(`${node.url}/v1/legs/ghost`, 'DELETE')).status).toBe(204);
      const t0 = Date.now();
      await eventually(() => !node.legs.list().some((l) => l.call_id === 'orphan'), 8_000, 'the orphan leg deleted');
      const took = Date.now() - t0;
      expect(took).toBeGreaterThanOrEqual(2_000); // not before the grace period
      await eventually(async () => (await json(`${t.url}/v1/calls/ghost`)).status === 404, 5_000, 'the ghost binding dropped');
      expect(node.legs.list().map((l) => l.call_id).sort()).toEqual(['bound-1', 'bound-2']);
      for (const id of ['bound-1', 'bound-2']) expect((await json(`${t.url}/v1/calls/${id}`)).status).toBe(200);
      expect(rounds.some((r) => r.nodesSkipped >= 1 && r.nodesChecked === 1)).toBe(true);
      expect(rounds.reduce((s, r) => s + r.legsDeleted, 0)).toBe(1);
      expect(rounds.reduce((s, r) => s + r.bindingsDropped, 0)).toBe(1);
      // The signaling application hears of it on GET /v1/events (the feed mirrors the stream on PoolHooks).
      await eventually(() => lost.length === 1, 2_000, 'call_lost emitted');
      expect(lost).toEqual([{ call_id: 'ghost', node_id: 'ref', reason: 'leg_missing' }]);
      const replay = await fetch(`${t.url}/v1/events`, { headers: { 'last-event-id': '0-0' }, signal: AbortSignal.timeout(1_000) })
        .then(async (r) => { let text = ''; for await (const c of r.body!) { text += Buffer.from(c).toString(); if (text.includes('call_lost')) break; } return text; })
        .catch(() => '');
      expect(replay).toMatch(/event: call_lost\nid: \S+\ndata: \{"call_id":"ghost","node_id":"ref","reason":"leg_missing"\}/);
      const metrics = await (await fetch(`${t.url}/metrics`)).text();
      expect(metrics).toMatch(/rtp_reconcile_legs_deleted_total\{source="reconcile"\} 1/);
      expect(metrics).toMatch(/rtp_reconcile_bindings_dropped_total\{source="reconcile"\} 1/);
      expect((await json(`${t.url}/v1/ops/summary`)).body.reconcile).toMatchObject({ nodes_checked: 1 });
      expect(go.requests.filter((r) => r.rawPath === '/v1/legs' && r.method === 'GET')).toHaveLength(1); // 404 remembered
    } finally {
      await go.stop();
      for (const id of ['bound-1', 'bound-2']) await json(`${t.url}/v1/calls/${id}`, 'DELETE');
      await apps.pop()!.close();
    }
  });

  it('two instances on one Redis: one reconciles at a time (a lease), the other takes over when it stops', async () => {
    const prefix = randomPrefix('reconcile');
    const env = { RTP_STORE: 'redis', REDIS_URL: TEST_REDIS_URL, RTP_STORE_PREFIX: prefix, RTP_RECONCILE_INTERVAL_SEC: '1' };
    const [a, b] = await Promise.all([createTestApp({ env, listen: true }), createTestApp({ env, listen: true })]);
    apps.push(a, b);
    try {
      const ran = { a: 0, b: 0 };
      a.get(PoolHooks).on('reconcile', () => ran.a++);
      b.get(PoolHooks).on('reconcile', () => ran.b++);
      await json(`${a.url}/v1/nodes/register`, 'POST', { node_id: 'ref', control_url: node.url });
      expect((await json(`${node.url}/v1/legs`, 'POST', { call_id: 'orphan-2', offer_sdp: caller.offer() })).status).toBe(201);
      await eventually(() => !node.legs.list().some((l) => l.call_id === 'orphan-2'), 8_000, 'the orphan leg deleted');
      expect(ran.a + ran.b).toBeGreaterThanOrEqual(2);
      expect(Math.min(ran.a, ran.b)).toBe(0); // only the lease holder ran rounds
      const [holder, other] = ran.a > 0 ? [a, b] : [b, a];
      expect(await holder.get<PoolStore>(POOL_STORE).acquireLease('reconcile', 'someone-else', 1_000)).toBe(false);
      // The holder stops: its lease lapses (3 intervals at most) and the other takes over.
      await holder.close();
      const before = ran.a + ran.b;
      await eventually(() => ran.a + ran.b > before, 6_000, 'the other instance reconciling');
      expect(other.get(ReconcileService).last).toBeDefined();
    } finally {
      await Promise.all([a.close(), b.close()]);
      apps.splice(0);
      await deleteKeys(TEST_REDIS_URL, prefix);
    }
  });
});
