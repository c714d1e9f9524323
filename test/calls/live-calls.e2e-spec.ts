import request from 'supertest';
import { compareEventIds, waitFor } from '../support/live';
import { HealthMonitorService } from '../../src/pool/health/health-monitor.service';
import { LeftLegs } from '../../src/pool/calls/left-legs';
import { PoolService } from '../../src/pool/pool.service';
import { NodeRegistry } from '../../src/pool/registry/node-registry';
import { useE2eFixture } from '../support/e2e-fixture';
import { SseClient } from '../support/sse-client';

/** CONTRACT §5 on the memory store: events, calls by node, migrate, drain with a deadline. */
describe('live calls (memory store)', () => {
  const env = { RTP_EVENTS_PING_MS: '100', RTP_DRAIN_CHECK_MS: '100' };
  const f = useE2eFixture({ nodes: 2, app: { listen: true, env } });
  const { nodes, t, http } = f;
  const streams: SseClient[] = [];
  const open = async (o: { token?: string; lastEventId?: string } = {}) => {
    const c = await SseClient.open(t.url, o);
    streams.push(c);
    return c;
  };
  afterEach(() => streams.splice(0).forEach((s) => s.close()));

  /** Node a takes calls `ids`, then b joins (a is left with them). */
  const placeOnA = async (...ids: string[]) => {
    await f.register('a', nodes[0].url);
    for (const id of ids) await f.prepare(id).expect(201);
    await f.register('b', nodes[1].url);
  };
  const node = async (id: string) => (await http.get(`/v1/nodes/${id}`).expect(200)).body;

  describe('GET /v1/calls', () => {
    it('pages through one node\'s calls and all calls by cursor, each once', async () => {
      await f.register('a', nodes[0].url);
      for (const id of ['c1', 'c2', 'c3']) await f.prepare(id).expect(201);
      await f.register('b', nodes[1].url);
      await http.post('/v1/nodes/a/drain').expect(200);
      for (const id of ['c4', 'c5']) await f.prepare(id).expect(201);

      const a = await http.get('/v1/calls').query({ node_id: 'a' }).expect(200);
      expect(a.body.calls.map((c: { call_id: string }) => c.call_id)).toEqual(['c1', 'c2', 'c3']);
      expect(a.body.next_cursor).toBeNull();
      expect(a.body.calls[0]).toMatchObject({ node_id: 'a', control_url: nodes[0].url, started: false });

      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await http.get('/v1/calls').query({ limit: 2, ...(cursor ? { cursor } : {}) }).expect(200);
        expect(page.body.calls.length).toBeLessThanOrEqual(2);
        seen.push(...page.body.calls.map((c: { call_id: string }) => c.call_id));
        cursor = page.body.next_cursor ?? undefined;
      } while (cursor);
      expect(seen).toEqual(['c1', 'c2', 'c3', 'c4', 'c5']);
      expect((await http.get('/v1/calls').query({ node_id: 'b' }).expect(200)).body.calls).toHaveLength(2);
      expect((await http.get('/v1/calls').query({ node_id: 'nope' }).expect(200)).body).toEqual({ calls: [], next_cursor: null });
    });

    it.each([
      ['limit=0'], ['limit=1001'], ['limit=abc'], ['limit=-1'], ['limit=1.5'], ['limit='], ['limit=1&limit=2'],
      ['cursor=%%%'], ['cursor=not-a-cursor!'], ['cursor='], ['cursor=AA'], ['node_id=a%20b'], ['node_id=a&node_id=b'],
    ])('400 {"error"} for %s', async (q) => {
      const res = await http.get(`/v1/calls?${q}`).expect(400);
      expect(typeof res.body.error).toBe('string');
    });

    it.each([['limit=1&limit=2', 'limit'], ['node_id=a&node_id=b', 'node_id'], ['cursor=a&cursor=b', 'cursor']])(
      'a parameter given twice (%s) is 400 naming it', async (q, name) => {
        const res = await http.get(`/v1/calls?${q}`).expect(400);
        expect(res.body).toEqual({ error: `${name} must be given once` });
      });
  });

  describe('call_lost', () => {
    it('a start its node answers 404 (the node restarted and lost the leg): 502, the binding dropped, call_lost; a re-INVITE places it anew', async () => {
      await f.register('a', nodes[0].url);
      await f.prepare('gone').expect(201);
      const sse = await open();
      nodes[0].legs.clear(); // the node restarted
      expect((await http.post('/v1/calls/gone/start').expect(502)).body.error).toMatch(/leg not found/);
      await sse.until((c) => c.of('call_lost').length === 1);
      expect(sse.of('call_lost')[0].data).toEqual({ call_id: 'gone', node_id: 'a', reason: 'leg_missing' });
      await http.get('/v1/calls/gone').expect(404);
      expect((await node('a')).bound_calls).toBe(0);
      const metrics = (await http.get('/metrics').expect(200)).text;
      expect(metrics).toMatch(/rtp_reconcile_bindings_dropped_total\{source="start"\} 1/);
      // The signaling application re-INVITEs: a new leg, a new binding.
      expect((await f.prepare('gone').expect(201)).body.node_id).toBe('a');
      expect(nodes[0].legs.has('gone')).toBe(true);
      await http.post('/v1/calls/gone/start').expect(200);
    });

    it('a 404 to a start whose call was migrated meanwhile drops nothing: the binding the start went by is gone already', async () => {
      await placeOnA('moved');
      nodes[0].delayMs = 200; // the start reaches a, which answers 200 ms later
      const start = http.post('/v1/calls/moved/start').then((r) => r);
      await new Promise((r) => setTimeout(r, 50));
      nodes[0].delayMs = 0;
      await http.post('/v1/calls/moved/migrate').send({ offer_sdp: 'v=0\r\n' }).expect(200); // moves it to b, deletes a's leg
      expect((await start).status).toBe(502); // a no longer knows the leg when the start is carried out
      const bound = (await http.get('/v1/calls/moved').expect(200)).body;
      expect(bound.node_id).toBe('b');
      expect(nodes[1].legs.has('moved')).toBe(true);
    });
  });

  describe('migrate', () => {
    it('moves the call: new leg, binding swapped (started: false), old leg deleted, counts moved, call_migrated', async () => {
      const sse = await open();
      await placeOnA('m1');
      await http.post('/v1/calls/m1/start').expect(200);
      const res = await http.post('/v1/calls/m1/migrate').send({ offer_sdp: 'v=0\r\n' }).expect(200);
      expect(res.body).toMatchObject({ call_id: 'm1', node_id: 'b', control_url: nodes[1].url, previous_node_id: 'a' });
      expect(typeof res.body.media_port).toBe('number');
      expect((await http.get('/v1/calls/m1').expect(200)).body).toMatchObject({ node_id: 'b', started: false });
      expect(nodes[1].legs.has('m1')).toBe(true);
      await sse.until((c) => c.of('call_migrated').length === 1);
      expect(sse.of('call_migrated')[0].data).toEqual({ call_id: 'm1', from_node_id: 'a', to_node_id: 'b' });
      await waitFor(() => !nodes[0].legs.has('m1'));
      expect((await node('a')).bound_calls).toBe(0);
      expect((await node('b')).bound_calls).toBe(1);
      expect((await http.get('/v1/calls').query({ node_id: 'b' })).body.calls.map((c: { call_id: string }) => c.call_id)).toEqual(['m1']);
      expect((await http.get('/v1/calls').query({ node_id: 'a' })).body.calls).toEqual([]);
    });

    it('goes to node_id when given; 503 when no other node is eligible; 404 unbound', async () => {
      await placeOnA('m2');
      await http.post('/v1/calls/m2/migrate').send({ offer_sdp: 'v=0', node_id: 'a' }).expect(503);
      await http.post('/v1/calls/m2/migrate').send({ offer_sdp: 'v=0', node_id: 'zz' }).expect(503);
      await http.post('/v1/calls/m2/migrate').send({ offer_sdp: 'v=0', node_id: 'b' }).expect(200);
      await http.post('/v1/calls/m2/migrate').send({ offer_sdp: 'v=0' }).expect(200); // back to a
      await http.post('/v1/nodes/b/drain').expect(200);
      const r = await http.post('/v1/calls/m2/migrate').send({ offer_sdp: 'v=0' }).expect(503);
      expect(r.body).toEqual({ error: 'no other eligible rtp node' });
      await http.post('/v1/calls/nope/migrate').send({ offer_sdp: 'v=0' }).expect(404);
    });

    it.each([
      [{}], [{ offer_sdp: '' }], [{ offer_sdp: 1 }], [{ offer_sdp: 'v=0', extra: 1 }], [{ offer_sdp: 'v=0', node_id: '' }],
      [{ offer_sdp: 'v=0', node_id: 'a b' }], [[]],
    ])('400 {"error"} and no change for body %j', async (body) => {
      await placeOnA('m3');
      const res = await http.post('/v1/calls/m3/migrate').send(body as object).expect(400);
      expect(typeof res.body.error).toBe('string');
      expect((await http.get('/v1/calls/m3')).body.node_id).toBe('a');
      expect(nodes[1].legs.size).toBe(0);
    });

    it('overlapping migrates of one call share one attempt: one new leg, one answer', async () => {
      await placeOnA('m4');
      nodes[1].delayMs = 100;
      const answers = await Promise.all(Array.from({ length: 8 }, () => http.post('/v1/calls/m4/migrate').send({ offer_sdp: 'v=0' })));
      expect(answers.map((r) => r.status)).toEqual(Array(8).fill(200));
      expect(new Set(answers.map((r) => r.body.media_port)).size).toBe(1);
      expect(nodes[1].requests.filter((r) => r.method === 'POST' && (r.body as { call_id?: string })?.call_id === 'm4')).toHaveLength(1);
      expect((await node('b')).bound_calls).toBe(1);
    });

    it('a leg left on a node that was down is deleted once the node answers again', async () => {
      await placeOnA('m5');
      nodes[0].mode = 'down';
      await http.post('/v1/calls/m5/migrate').send({ offer_sdp: 'v=0' }).expect(200);
      const left = t.get(LeftLegs);
      await waitFor(() => left.pending('a').length === 1);
      expect(nodes[0].legs.has('m5')).toBe(true);
      nodes[0].mode = 'ok';
      await t.get(HealthMonitorService).tick();
      await waitFor(() => !nodes[0].legs.has('m5'));
      expect(left.pending('a')).toEqual([]);
      expect(nodes[1].legs.has('m5')).toBe(true);
    });

    it('in-process: PoolService.migrate', async () => {
      await placeOnA('m6');
      const answer = await t.get(PoolService).migrate('m6', 'v=0');
      expect(answer).toMatchObject({ node_id: 'b', previous_node_id: 'a' });
    });
  });

  describe('events', () => {
    it('node_down (deregistered, pruned, probe) only for nodes with calls; node_up when back; ids increase', async () => {
      const sse = await open();
      expect(sse.status).toBe(200);
      expect(sse.headers['content-type']).toMatch(/^text\/event-stream/);
      await placeOnA('e1');
      // probe: a fails its probe, then answers again
      nodes[0].mode = 'down';
      await t.get(HealthMonitorService).tick();
      await t.get(HealthMonitorService).tick();
      await sse.until((c) => c.of('node_down').length === 1);
      expect(sse.of('node_down')[0].data).toEqual({ node_id: 'a', reason: 'probe', bound_calls: 1 });
      nodes[0].mode = 'ok';
      await t.get(HealthMonitorService).tick();
      await sse.until((c) => c.of('node_up').length === 1);
      expect(sse.of('node_up')[0].data).toEqual({ node_id: 'a' });

      // deregistered (a node without calls leaves quietly)
      await f.register('c', `${nodes[1].url}/c`);
      await http.delete('/v1/nodes/c').expect(204);
      await http.delete('/v1/nodes/a').expect(204);
      await sse.until((c) => c.of('node_down').length === 2);
      expect(sse.of('node_down')[1].data).toEqual({ node_id: 'a', reason: 'deregistered', bound_calls: 1 });
      await f.register('a', nodes[0].url);
      await sse.until((c) => c.of('node_up').length === 2);

      // pruned: both fall silent past their TTL; each still has one call (a came back to e1's binding)
      expect((await node('a')).bound_calls).toBe(1);
      await http.post('/v1/nodes/a/drain').expect(200);
      await f.prepare('e2').expect(201);
      await t.get(NodeRegistry).prune(Date.now() + 3_600_000);
      await sse.until((c) => c.of('node_down').length === 4);
      expect(sse.of('node_down').slice(2).map((r) => r.data)).toEqual(expect.arrayContaining([
        { node_id: 'a', reason: 'pruned', bound_calls: 1 }, { node_id: 'b', reason: 'pruned', bound_calls: 1 },
      ]));
      await new Promise((r) => setTimeout(r, 100));
      expect(sse.of('node_down')).toHaveLength(4);
      const ids = sse.records.map((r) => r.id!);
      expect(ids.every((id) => /^\d+-\d+$/.test(id))).toBe(true);
      expect([...ids].sort(compareEventIds)).toEqual(ids);
      expect(new Set(ids).size).toBe(ids.length);
    });

    it('Last-Event-ID replays what was missed, then streams live; pings keep it alive', async () => {
      const first = await open();
      await placeOnA('r1', 'r2', 'r3');
      await http.post('/v1/calls/r1/migrate').send({ offer_sdp: 'v=0' }).expect(200);
      await first.until((c) => c.records.length === 1);
      const lastSeen = first.records[0].id!;
      first.close();
      await http.post('/v1/calls/r2/migrate').send({ offer_sdp: 'v=0' }).expect(200);
      await http.post('/v1/calls/r3/migrate').send({ offer_sdp: 'v=0' }).expect(200);
      const again = await open({ lastEventId: lastSeen });
      await again.until((c) => c.records.length === 2);
      expect(again.records.map((r) => (r.data as { call_id: string }).call_id)).toEqual(['r2', 'r3']);
      await http.post('/v1/calls/r1/migrate').send({ offer_sdp: 'v=0' }).expect(200);
      await again.until((c) => c.records.length === 3);
      await again.until((c) => c.comments >= 3, 2_000);
      const bad = await open({ lastEventId: 'nope' });
      expect(bad.status).toBe(400);
      expect(JSON.parse(await bad.body())).toHaveProperty('error');
    });
  });

  describe('drain with a deadline', () => {
    it('shows drain_deadline, emits drain_deadline once when it passes with calls bound; undrain clears it', async () => {
      const sse = await open();
      await placeOnA('d1');
      const before = Date.now();
      const info = (await http.post('/v1/nodes/a/drain').send({ deadline_sec: 1 }).expect(200)).body;
      expect(info.draining).toBe(true);
      const deadline = Date.parse(info.drain_deadline);
      expect(deadline).toBeGreaterThanOrEqual(before + 1000);
      expect(deadline).toBeLessThan(before + 3000);
      await sse.until((c) => c.of('drain_deadline').length === 1, 5_000);
      expect(sse.of('drain_deadline')[0].data).toEqual({ node_id: 'a', bound_calls: 1 });
      await new Promise((r) => setTimeout(r, 400));
      expect(sse.of('drain_deadline')).toHaveLength(1);
      expect((await http.post('/v1/nodes/a/undrain').expect(200)).body.drain_deadline).toBeNull();
      expect((await http.post('/v1/nodes/b/drain').expect(200)).body.drain_deadline).toBeNull();
    });

    it.each([
      [{ deadline_sec: 0 }], [{ deadline_sec: 86_401 }], [{ deadline_sec: 1.5 }], [{ deadline_sec: '10' }],
      [{ deadline_sec: null }], [{ deadline: 10 }], [[1]],
    ])('400 {"error"} and no drain for %j', async (body) => {
      await f.register('a', nodes[0].url);
      const res = await http.post('/v1/nodes/a/drain').send(body as object).expect(400);
      expect(typeof res.body.error).toBe('string');
      expect((await node('a')).draining).toBe(false);
    });

    it('an empty body or {} drains as before', async () => {
      await f.register('a', nodes[0].url);
      expect((await http.post('/v1/nodes/a/drain').expect(200)).body).toMatchObject({ draining: true, drain_deadline: null });
      expect((await http.post('/v1/nodes/a/drain').send({}).expect(200)).body).toMatchObject({ draining: true, drain_deadline: null });
      await http.post('/v1/nodes/zz/drain').send({ deadline_sec: 5 }).expect(404);
    });
  });

  describe('auth', () => {
    it('every new path needs the API token', async () => {
      const a = await f.boot({ listen: true, env: { ...env, RTP_API_TOKEN: 'sekret' } });
      const h = request(a.app.getHttpServer());
      for (const r of [
        h.get('/v1/calls'), h.get('/v1/calls?node_id=a'), h.post('/v1/calls/x/migrate').send({ offer_sdp: 'v=0' }),
        h.post('/v1/nodes/a/drain').send({ deadline_sec: 5 }), h.get('/v1/events'),
      ]) {
        const res = await r.set('Authorization', 'Bearer wrong').expect(401);
        expect(res.body).toHaveProperty('error');
      }
      const noToken = await open();
      expect(noToken.status).toBe(401);
      const ok = await open({ token: 'sekret' });
      expect(ok.status).toBe(200);
      await h.get('/v1/calls').set('Authorization', 'Bearer sekret').expect(200);
    });
  });
});


