import { PoolService } from '../../src/pool/pool.service';
import { runConcurrent } from '../support/concurrency';
import { useE2eFixture } from '../support/e2e-fixture';

/**
 * Effective load = last reported active_legs + legs placed since − legs deleted since
 * (+ this instance's prepares in flight); capacity and draining keep nodes out.
 */
describe('load accounting, capacity and draining (e2e)', () => {
  const { t, http, nodes, boot, register, prepare } = useE2eFixture({ nodes: 3 });
  const loads = async () => Object.fromEntries((await t.get(PoolService).candidates('probe')).map((c) => [c.nodeId, c.load]));
  const legs = () => nodes.map((n) => n.legs.size);

  describe('with an API token', () => {
    beforeEach(async () => {
      await boot({ env: { RTP_API_TOKEN: 'api-secret', RTP_CONTROL_TIMEOUT_MS: '2000' } });
    });
    const auth = { authorization: 'Bearer api-secret' };
    const prepareAuthed = (callId: string) => prepare(callId).set(auth);

    it('placed legs count until the next report; deletes lower them; a fresh report resets the pending part', async () => {
      await register('a', nodes[0].url, { active_legs: 4 });
      await register('b', nodes[1].url, { active_legs: 0 });
      for (let i = 0; i < 6; i++) await prepareAuthed(`c${i}`).expect(201);
      // b took 4 to catch up with a's reported 4, then they alternate.
      expect(legs().slice(0, 2)).toEqual([1, 5]);
      expect(await loads()).toEqual({ a: 5, b: 5 });
      for (const id of ['c0', 'c1', 'c2']) {
        if (nodes[1].legs.has(id)) await http.delete(`/v1/calls/${id}`).set(auth).expect(204);
      }
      expect((await loads()).b).toBeLessThan(5);
      // b's heartbeat says 9 legs (it carries calls of another pool): that replaces everything.
      await register('b', nodes[1].url, { active_legs: 9 });
      expect((await loads()).b).toBe(9);
      await register('a', nodes[0].url, { active_legs: 0 });
      expect(await loads()).toEqual({ a: 0, b: 9 });
      expect((await prepareAuthed('next').expect(201)).body.node_id).toBe('a');
    });

    it('a burst spreads across nodes although no node has reported since it began', async () => {
      for (const [i, n] of nodes.entries()) {
        n.delayMs = 200; // every prepare of the burst is in flight at once
        await register(`n${i}`, n.url, { active_legs: 0 });
      }
      await runConcurrent(30, 30, (i) => prepareAuthed(`burst-${i}`).expect(201));
      // Without counting legs placed and in flight, all 30 would land on n0.
      for (const n of legs()) expect(n).toBeGreaterThanOrEqual(9);
      for (const n of legs()) expect(n).toBeLessThanOrEqual(11);
    });

    it('a node at capacity is not a candidate, even within a burst', async () => {
      await register('a', nodes[0].url, { capacity: 3 });
      await register('b', nodes[1].url, { capacity: 4, active_legs: 1 });
      for (const n of nodes) n.delayMs = 100;
      const res = await runConcurrent(8, 8, (i) => prepareAuthed(`cap-${i}`));
      expect(res.filter((r) => r.status === 201)).toHaveLength(6);
      expect(res.filter((r) => r.status === 503).map((r) => r.body)).toEqual([{ error: 'no healthy rtp nodes' }, { error: 'no healthy rtp nodes' }]);
      expect(legs().slice(0, 2)).toEqual([3, 3]);
      // A delete frees a slot.
      const onA = [...nodes[0].legs.keys()][0];
      await http.delete(`/v1/calls/${encodeURIComponent(onA)}`).set(auth).expect(204);
      expect((await prepareAuthed('freed').expect(201)).body.node_id).toBe('a');
    });

    it('a node that reports draining gets no new calls; its bound calls still start and delete', async () => {
      await register('a', nodes[0].url);
      await register('b', nodes[1].url, { active_legs: 50 });
      await prepareAuthed('bound').expect(201);
      expect(nodes[0].legs.has('bound')).toBe(true);
      await register('a', nodes[0].url, { draining: true, active_legs: 1 });
      for (let i = 0; i < 3; i++) expect((await prepareAuthed(`d${i}`).expect(201)).body.node_id).toBe('b');
      await http.post('/v1/calls/bound/start').set(auth).expect(200);
      await prepareAuthed('bound').expect(201); // a re-INVITE goes to its node, draining or not
      expect(nodes[0].count('prepare')).toBe(2);
      await http.delete('/v1/calls/bound').set(auth).expect(204);
      expect(nodes[0].legs.size).toBe(0);
      // The next heartbeat without draining puts it back.
      await register('a', nodes[0].url);
      expect((await prepareAuthed('back').expect(201)).body.node_id).toBe('a');
    });

    it('an operator drain (API token) survives heartbeats until undrained; unknown node 404; no token 401', async () => {
      await register('a', nodes[0].url);
      await register('b', nodes[1].url, { active_legs: 50 });
      await prepareAuthed('bound').expect(201);
      await http.post('/v1/nodes/a/drain').expect(401);
      await http.post('/v1/nodes/a/drain').set({ authorization: 'Bearer wrong' }).expect(401);
      expect((await http.post('/v1/nodes/nope/drain').set(auth).expect(404)).body).toEqual({ error: 'node not found' });
      const drained = await http.post('/v1/nodes/a/drain').set(auth).expect(200);
      expect(drained.body).toMatchObject({ node_id: 'a', draining: true, bound_calls: 1 });
      await register('a', nodes[0].url, { draining: false });
      await register('a', nodes[0].url);
      expect((await http.get('/v1/nodes/a').set(auth).expect(200)).body.draining).toBe(true);
      for (let i = 0; i < 3; i++) expect((await prepareAuthed(`d${i}`).expect(201)).body.node_id).toBe('b');
      await http.post('/v1/calls/bound/start').set(auth).expect(200);
      await http.delete('/v1/calls/bound').set(auth).expect(204);
      expect((await http.post('/v1/nodes/a/undrain').set(auth).expect(200)).body).toMatchObject({ draining: false });
      expect((await prepareAuthed('back').expect(201)).body.node_id).toBe('a');
      // Undraining a node that reports draining leaves it draining.
      await register('a', nodes[0].url, { draining: true });
      expect((await http.post('/v1/nodes/a/undrain').set(auth).expect(200)).body).toMatchObject({ draining: true });
    });

    it('every node draining or full → 503, and no node is contacted', async () => {
      await register('a', nodes[0].url, { draining: true });
      await register('b', nodes[1].url, { capacity: 2, active_legs: 2 });
      expect((await prepareAuthed('x').expect(503)).body).toEqual({ error: 'no healthy rtp nodes' });
      expect(nodes[0].requests.length + nodes[1].requests.length).toBe(0);
    });
  });
});
