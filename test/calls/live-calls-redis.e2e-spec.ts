import { HealthMonitorService } from '../../src/pool/health/health-monitor.service';
import { compareEventIds, waitFor } from '../support/live';
import { LeftLegs } from '../../src/pool/calls/left-legs';
import { NodeRegistry } from '../../src/pool/registry/node-registry';
import { FakeMediaNode } from '../support/fake-media-node';
import { deleteKeys, randomPrefix, TEST_REDIS_URL } from '../support/redis';
import { SseClient } from '../support/sse-client';
import { callJson as call, createTestApp, type TestApp } from '../support/test-app';

/** CONTRACT §5 with RTP_STORE=redis and two instances (A, B) sharing one prefix. */
describe('live calls (Redis store, two instances)', () => {
  let prefix: string;
  let a: TestApp;
  let b: TestApp;
  let n1: FakeMediaNode;
  let n2: FakeMediaNode;
  const streams: SseClient[] = [];
  const open = async (t: TestApp, o: { token?: string; lastEventId?: string } = {}) => {
    const c = await SseClient.open(t.url, { token: 'tok', ...o });
    streams.push(c);
    return c;
  };
  const api = async (t: TestApp, method: string, path: string, body?: unknown) => {
    const res = await fetch(t.url + path, {
      method, headers: { authorization: 'Bearer tok', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const register = (t: TestApp, n: FakeMediaNode) => call(t, 'POST', '/v1/nodes/register', { node_id: n.nodeId, control_url: n.url });
  /** n1 takes `ids`, then n2 joins. */
  const placeOnN1 = async (...ids: string[]) => {
    expect((await register(a, n1)).status).toBe(200);
    for (const id of ids) expect((await api(a, 'POST', '/v1/calls', { call_id: id, offer_sdp: 'v=0' })).status).toBe(201);
    expect((await register(b, n2)).status).toBe(200);
  };

  beforeEach(async () => {
    prefix = randomPrefix('live');
    const env = { RTP_STORE: 'redis', REDIS_URL: TEST_REDIS_URL, RTP_STORE_PREFIX: prefix, RTP_API_TOKEN: 'tok', RTP_EVENTS_PING_MS: '200', RTP_DRAIN_CHECK_MS: '200' };
    [n1, n2] = await Promise.all([new FakeMediaNode('n1').start(), new FakeMediaNode('n2').start()]);
    [a, b] = await Promise.all([createTestApp({ env, listen: true }), createTestApp({ env, listen: true })]);
  });
  afterEach(async () => {
    streams.splice(0).forEach((s) => s.close());
    await Promise.all([a?.close(), b?.close(), n1?.stop(), n2?.stop()]);
    await deleteKeys(TEST_REDIS_URL, `{${prefix}`);
  });

  it('every instance\'s stream carries every instance\'s events, once each, in one id order', async () => {
    const [sa, sb] = [await open(a), await open(b)];
    await placeOnN1('x1', 'x2');
    expect((await api(a, 'POST', '/v1/calls/x1/migrate', { offer_sdp: 'v=0' })).status).toBe(200);
    expect((await api(b, 'POST', '/v1/calls/x2/migrate', { offer_sdp: 'v=0' })).status).toBe(200);
    // n2 now holds both; both instances' probes see it fail: one node_down.
    n2.mode = 'down';
    await Promise.all([a.get(HealthMonitorService).tick(), b.get(HealthMonitorService).tick()]);
    for (const s of [sa, sb]) await s.until((c) => c.of('call_migrated').length === 2 && c.of('node_down').length === 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(sa.records).toEqual(sb.records);
    expect(sa.of('node_down')).toHaveLength(1);
    expect(sa.of('node_down')[0].data).toEqual({ node_id: 'n2', reason: 'probe', bound_calls: 2 });
    n2.mode = 'ok';
    await Promise.all([a.get(HealthMonitorService).tick(), b.get(HealthMonitorService).tick()]);
    await sa.until((c) => c.of('node_up').length === 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(sb.of('node_up')).toHaveLength(1);
    const ids = sa.records.map((r) => r.id!);
    expect([...ids].sort((x, y) => compareEventIds(x, y))).toEqual(ids);

    // Last-Event-ID replay on the other instance
    const again = await open(b, { lastEventId: ids[0] });
    await again.until((c) => c.records.length === ids.length - 1);
    expect(again.records.map((r) => r.id)).toEqual(ids.slice(1));
    await again.until((c) => c.comments >= 2, 2_000);
  });

  it('calls by node page over the Redis index; bad limits and cursors get 400', async () => {
    await placeOnN1('p1', 'p2', 'p3', 'p4', 'p5');
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const q: string = `/v1/calls?node_id=n1&limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page = await api(cursor ? b : a, 'GET', q);
      expect(page.status).toBe(200);
      seen.push(...page.body.calls.map((c: { call_id: string }) => c.call_id));
      cursor = page.body.next_cursor;
    } while (cursor);
    expect(seen.sort()).toEqual(['p1', 'p2', 'p3', 'p4', 'p5']);
    expect((await api(b, 'GET', '/v1/calls')).body.calls).toHaveLength(5);
    expect((await api(b, 'GET', '/v1/calls?node_id=n2')).body).toEqual({ calls: [], next_cursor: null });
    for (const q of ['limit=0', 'limit=1001', 'limit=x', 'cursor=!!', `cursor=${Buffer.from('nope').toString('base64url')}`]) {
      const r = await api(a, 'GET', `/v1/calls?${q}`);
      expect([q, r.status]).toEqual([q, 400]);
      expect(typeof r.body.error).toBe('string');
    }
    // A deregistered node's calls stay listable (the signaling application moves them).
    expect((await call(a, 'DELETE', '/v1/nodes/n1')).status).toBe(204);
    expect((await api(b, 'GET', '/v1/calls?node_id=n1&limit=1000')).body.calls).toHaveLength(5);
  });

  it('concurrent migrates on two instances: one wins, the other 409; one new leg; counts moved', async () => {
    await placeOnN1('c1');
    n2.delayMs = 150;
    const answers = await Promise.all([
      api(a, 'POST', '/v1/calls/c1/migrate', { offer_sdp: 'v=0' }), api(b, 'POST', '/v1/calls/c1/migrate', { offer_sdp: 'v=0' }),
      api(a, 'POST', '/v1/calls/c1/migrate', { offer_sdp: 'v=0' }), api(b, 'POST', '/v1/calls/c1/migrate', { offer_sdp: 'v=0' }),
    ]);
    const statuses = answers.map((r) => r.status).sort();
    expect(statuses).toEqual([200, 200, 409, 409]); // two share the winner's attempt on its instance
    expect(n2.requests.filter((r) => r.method === 'POST' && (r.body as { call_id?: string })?.call_id === 'c1')).toHaveLength(1);
    expect(n2.legs.has('c1')).toBe(true);
    await waitFor(() => !n1.legs.has('c1'));
    expect((await api(b, 'GET', '/v1/calls/c1')).body).toMatchObject({ node_id: 'n2', started: false });
    expect((await api(a, 'GET', '/v1/nodes/n1')).body.bound_calls).toBe(0);
    expect((await api(a, 'GET', '/v1/nodes/n2')).body.bound_calls).toBe(1);
    expect((await api(b, 'GET', '/v1/calls?node_id=n2')).body.calls.map((c: { call_id: string }) => c.call_id)).toEqual(['c1']);
    expect((await api(b, 'GET', '/v1/calls?node_id=n1')).body.calls).toEqual([]);
  });

  it('a leg left on a node that was down is deleted when it answers again; dropped when it is pruned', async () => {
    await placeOnN1('l1', 'l2');
    n1.mode = 'down';
    expect((await api(a, 'POST', '/v1/calls/l1/migrate', { offer_sdp: 'v=0' })).status).toBe(200);
    await waitFor(() => a.get(LeftLegs).pending('n1').length === 1);
    n1.mode = 'ok';
    await a.get(HealthMonitorService).tick();
    await waitFor(() => !n1.legs.has('l1'));
    expect(n1.legs.has('l2')).toBe(true);
    // Down again, l2 migrated away, then n1 is pruned: the left leg is forgotten.
    n1.mode = 'down';
    expect((await api(b, 'POST', '/v1/calls/l2/migrate', { offer_sdp: 'v=0' })).status).toBe(200);
    await waitFor(() => b.get(LeftLegs).pending('n1').length === 1);
    await b.get(NodeRegistry).prune(Date.now() + 3_600_000);
    expect(b.get(LeftLegs).pending('n1')).toEqual([]);
  });

  it('drain deadline: drain_deadline once across instances; NodeInfo shows it; bad bodies change nothing', async () => {
    const [sa, sb] = [await open(a), await open(b)];
    await placeOnN1('d1');
    for (const body of [{ deadline_sec: 0 }, { deadline_sec: 86_401 }, { deadline_sec: 'x' }, { deadline_sec: 5, x: 1 }]) {
      const r = await api(a, 'POST', '/v1/nodes/n1/drain', body);
      expect(r.status).toBe(400);
      expect((await api(b, 'GET', '/v1/nodes/n1')).body).toMatchObject({ draining: false, drain_deadline: null });
    }
    const info = (await api(a, 'POST', '/v1/nodes/n1/drain', { deadline_sec: 1 })).body;
    expect(typeof info.drain_deadline).toBe('string');
    expect((await api(b, 'GET', '/v1/nodes/n1')).body.drain_deadline).toBe(info.drain_deadline);
    for (const s of [sa, sb]) await s.until((c) => c.of('drain_deadline').length === 1, 5_000);
    await new Promise((r) => setTimeout(r, 700));
    expect(sa.of('drain_deadline')).toHaveLength(1);
    expect(sb.of('drain_deadline')).toHaveLength(1);
    expect(sa.of('drain_deadline')[0].data).toEqual({ node_id: 'n1', bound_calls: 1 });
    expect((await api(b, 'POST', '/v1/nodes/n1/undrain')).body.drain_deadline).toBeNull();
  });

  it('auth on every new path', async () => {
    for (const [m, p, body] of [
      ['GET', '/v1/calls'], ['GET', '/v1/calls?node_id=n1'], ['POST', '/v1/calls/x/migrate', { offer_sdp: 'v=0' }],
      ['POST', '/v1/nodes/n1/drain', { deadline_sec: 5 }], ['GET', '/v1/events'],
    ] as Array<[string, string, unknown?]>) {
      const r = await call(b, m, p, body);
      expect([p, r.status]).toEqual([p, 401]);
      expect(typeof r.body.error).toBe('string');
    }
    expect((await open(a, { token: 'bad' })).status).toBe(401);
  });
});


