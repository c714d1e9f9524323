import { ManualClock } from '../../src/testing/manual-clock';
import { CLOCK } from '../../src/pool/core/pool.constants';
import { PoolService } from '../../src/pool/pool.service';
import { waitUntil } from '../support/concurrency';
import { useE2eFixture } from '../support/e2e-fixture';
import { closedPort } from '../support/fake-media-node';

/** CONTRACT §1, calls table: every status, failover, percent-encoding, re-INVITE, duplicates. */
describe('calls (e2e)', () => {
  const offer = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5004 RTP/AVP 0\r\n';
  const { t, http, nodes, boot, register, prepare } = useE2eFixture({ nodes: 3, app: { env: { RTP_CONTROL_TIMEOUT_MS: '400' } }, offer });

  it('503 "no healthy rtp nodes" without nodes, and no binding', async () => {
    expect((await prepare('c1').expect(503)).body).toEqual({ error: 'no healthy rtp nodes' });
    await http.get('/v1/calls/c1').expect(404);
  });

  it('prepare → 201 with the node\'s answer, the pool\'s node id and the control URL; GET shows the binding', async () => {
    await register('n1', nodes[0].url);
    const res = await prepare('c1').expect(201);
    expect(res.body).toEqual({ call_id: 'c1', node_id: 'n1', media_ip: '127.0.0.1', media_port: expect.any(Number), codec: 'PCMU', control_url: nodes[0].url });
    expect(nodes[0].requests[0].body).toEqual({ call_id: 'c1', offer_sdp: offer });
    const b = await http.get('/v1/calls/c1').expect(200);
    expect(b.body).toEqual({ call_id: 'c1', node_id: 'n1', control_url: nodes[0].url, media_ip: '127.0.0.1', media_port: res.body.media_port, codec: 'PCMU', started: false, created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/) });
    expect((await http.get('/v1/nodes')).body.nodes[0]).toMatchObject({ node_id: 'n1', bound_calls: 1 });
  });

  it('uses the seed id for a static seed node', async () => {
    await t.close();
    await boot({ env: { RTP_CONTROL_URL: nodes[1].url + '/' } });
    expect((await prepare('c1').expect(201)).body).toMatchObject({ node_id: 'seed-1', control_url: nodes[1].url });
  });

  it('start → 200 {call_id,node_id} on the Go node\'s 200 {"status":"active"}; GET shows started; delete → 204 on the Go node\'s 204', async () => {
    await register('n1', nodes[0].url);
    await prepare('c1').expect(201);
    expect((await http.post('/v1/calls/c1/start').expect(200)).body).toEqual({ call_id: 'c1', node_id: 'n1' });
    expect(nodes[0].legs.get('c1')?.started).toBe(true);
    expect((await http.get('/v1/calls/c1').expect(200)).body.started).toBe(true);
    await http.delete('/v1/calls/c1').expect(204);
    expect(nodes[0].legs.has('c1')).toBe(false);
    await http.get('/v1/calls/c1').expect(404);
    expect((await http.get('/v1/nodes')).body.nodes[0].bound_calls).toBe(0);
  });

  it('start and delete of an unknown call are 404 and reach no node', async () => {
    await register('n1', nodes[0].url);
    expect((await http.post('/v1/calls/nope/start').expect(404)).body).toEqual({ error: 'call not found' });
    expect((await http.delete('/v1/calls/nope').expect(404)).body).toEqual({ error: 'call not found' });
    expect(nodes[0].requests).toHaveLength(0);
  });

  it('call ids with @ / % and spaces reach the node percent-encoded and decode to the original', async () => {
    await register('n1', nodes[0].url);
    const id = 'a84b4c76e66710@pc33.atlanta.com/x%41 y';
    await prepare(id).expect(201);
    const enc = encodeURIComponent(id);
    await http.get(`/v1/calls/${enc}`).expect(200);
    await http.post(`/v1/calls/${enc}/start`).expect(200);
    await http.delete(`/v1/calls/${enc}`).expect(204);
    const paths = nodes[0].requests.map((r) => r.rawPath);
    expect(paths).toEqual(['/v1/legs', `/v1/legs/${enc}/start`, `/v1/legs/${enc}`]);
    expect(nodes[0].requests.slice(1).map((r) => r.callId)).toEqual([id, id]);
  });

  it('trims the call id and refuses control characters (400, no state)', async () => {
    await register('n1', nodes[0].url);
    expect((await prepare('  c1  ').expect(201)).body.call_id).toBe('c1');
    expect((await prepare('c\u0001x').expect(400)).body.error).toMatch(/control characters/);
    expect((await prepare('   ').expect(400)).body.error).toMatch(/call_id/);
    expect((await prepare('x'.repeat(257)).expect(400)).body.error).toMatch(/call_id/);
    expect((await http.post('/v1/calls').send({ call_id: 'c2' }).expect(400)).body.error).toMatch(/offer_sdp/);
    expect((await http.post('/v1/calls').send({ call_id: 'c2', offer_sdp: offer, x: 1 }).expect(400)).body.error).toMatch(/x should not exist/);
    expect(nodes[0].count('prepare')).toBe(1);
  });

  it.each(['fail500', 'down', 'blackhole', 'full', 'full400', 'garbage'] as const)('fails over when the first choice is %s', async (mode) => {
    await register('a-first', nodes[0].url);
    await register('b-second', nodes[1].url);
    if (mode === 'down') await nodes[0].stop();
    else nodes[0].mode = mode;
    const t0 = Date.now();
    const res = await prepare('c1').expect(201);
    expect(res.body.node_id).toBe('b-second');
    expect(Date.now() - t0).toBeLessThan(400 + 1_500);
    expect(nodes[1].legs.has('c1')).toBe(true);
  });

  it('refuses a call id with a lone surrogate (400, no leg): no URL could ever carry it to start or delete', async () => {
    await register('a', nodes[0].url);
    const res = await prepare('abc\ud800').expect(400);
    expect(res.body.error).toMatch(/well-formed Unicode/);
    await expect(t.get(PoolService).prepare('x\udfff', offer)).rejects.toThrow(/well-formed Unicode/);
    expect(nodes[0].count('prepare')).toBe(0);
    // A proper pair (an emoji) is fine, and reaches start and delete.
    await prepare('call-😀').expect(201);
    await http.post(`/v1/calls/${encodeURIComponent('call-😀')}/start`).expect(200);
    await http.delete(`/v1/calls/${encodeURIComponent('call-😀')}`).expect(204);
  });

  it('502 with the last cause when every node fails; the claim is released so a retry works', async () => {
    await register('a', nodes[0].url);
    await register('b', `http://127.0.0.1:${await closedPort()}`);
    nodes[0].mode = 'fail500';
    const res = await prepare('c1').expect(502);
    expect(res.body.error).toMatch(/connection failed|boom/);
    await http.get('/v1/calls/c1').expect(404);
    nodes[0].mode = 'ok';
    await prepare('c1').expect(201);
  });

  it('a node that answers after the timeout gets a delete for the leg it made: the call lives elsewhere, nothing leaks', async () => {
    await register('a', nodes[0].url);
    await register('b', nodes[1].url);
    nodes[0].delayMs = 700; // answers 201 (and keeps the leg) after the pool's 400 ms timeout
    const res = await prepare('late').expect(201);
    expect(res.body.node_id).toBe('b');
    // The node answers every request late, the delete too: it may be retried (LeftLegs) until one lands.
    expect(await waitUntil(() => nodes[0].count('delete') >= 1 && !nodes[0].legs.has('late'), 3_000)).toBeGreaterThanOrEqual(0);
    expect(nodes[0].requests.find((r) => r.method === 'DELETE')?.callId).toBe('late');
    expect(nodes[1].legs.has('late')).toBe(true);
    expect((await http.get('/v1/calls/late').expect(200)).body.node_id).toBe('b');
  });

  it('a refusal (4xx) or a refused connection allocated nothing: no clean-up delete is sent', async () => {
    await register('a', nodes[0].url);
    await register('b', `http://127.0.0.1:${await closedPort()}`);
    await register('c', nodes[1].url);
    nodes[0].mode = 'full400';
    expect((await prepare('c1').expect(201)).body.node_id).toBe('c');
    await new Promise((r) => setTimeout(r, 100));
    expect(nodes[0].count('delete')).toBe(0);
  });

  it('422 with the node\'s reason when every node tried refused with a 4xx', async () => {
    await register('a', nodes[0].url);
    await register('b', nodes[1].url);
    nodes[0].mode = 'full400';
    nodes[1].mode = 'refuse';
    const res = await prepare('c1').expect(422);
    expect(res.body.error).toMatch(/node at capacity|unusable sdp/);
    await http.get('/v1/calls/c1').expect(404);
  });

  it('tries at most RTP_MAX_ATTEMPTS nodes', async () => {
    await t.close();
    await boot({ env: { RTP_MAX_ATTEMPTS: '2' } });
    for (const [i, n] of nodes.entries()) {
      n.mode = 'fail500';
      await register(`n${i}`, n.url);
    }
    await prepare('c1').expect(502);
    expect(nodes.reduce((s, n) => s + n.count('prepare'), 0)).toBe(2);
  });

  it('picks the least-loaded node, ties by node id', async () => {
    await register('n3', nodes[2].url, { active_legs: 1 });
    await register('n2', nodes[1].url, { active_legs: 0 });
    await register('n1', nodes[0].url, { active_legs: 5 });
    expect((await prepare('c1').expect(201)).body.node_id).toBe('n2');
    // n2 now has one placed leg: tie with n3 on 1 → n2 wins by id, then n3
    expect((await prepare('c2').expect(201)).body.node_id).toBe('n2');
    expect((await prepare('c3').expect(201)).body.node_id).toBe('n3');
  });

  it('re-prepare of a bound call goes to its node only, with the new offer, and no failover', async () => {
    await register('a', nodes[0].url);
    await register('b', nodes[1].url, { active_legs: 10 });
    const first = await prepare('c1').expect(201);
    expect(first.body.node_id).toBe('a');
    await http.post('/v1/calls/c1/start').expect(200);
    const second = await prepare('c1', { offer_sdp: offer + 'a=sendonly\r\n' }).expect(201);
    expect(second.body.node_id).toBe('a');
    expect(nodes[0].count('prepare')).toBe(2);
    expect(nodes[0].requests.at(-1)?.body).toMatchObject({ offer_sdp: expect.stringContaining('sendonly') });
    expect((await http.get('/v1/calls/c1')).body).toMatchObject({ media_port: second.body.media_port, started: false });
    expect((await http.get('/v1/nodes')).body.nodes[0].bound_calls).toBe(1);
    nodes[0].mode = 'fail500';
    await prepare('c1').expect(502);
    expect(nodes[1].count('prepare')).toBe(0);
    expect((await http.get('/v1/calls/c1').expect(200)).body.node_id).toBe('a');
  });

  it('overlapping prepares of one call id share one attempt and one leg', async () => {
    await register('a', nodes[0].url);
    await register('b', nodes[1].url);
    nodes[0].delayMs = nodes[1].delayMs = 300;
    const answers = await Promise.all(Array.from({ length: 20 }, () => prepare('dup').expect(201)));
    const ports = new Set(answers.map((r) => `${r.body.node_id}:${r.body.media_port}`));
    expect(ports.size).toBe(1);
    expect(nodes[0].count('prepare') + nodes[1].count('prepare')).toBe(1);
  });

  it('start → 502 when the node fails; delete → 502 when it fails, and the binding is gone all the same', async () => {
    await register('a', nodes[0].url);
    await prepare('c1').expect(201);
    nodes[0].mode = 'fail500';
    expect((await http.post('/v1/calls/c1/start').expect(502)).body).toEqual({ error: 'boom' });
    await http.get('/v1/calls/c1').expect(200);
    await nodes[0].stop();
    expect((await http.delete('/v1/calls/c1').expect(502)).body.error).toMatch(/connection failed/);
    await http.get('/v1/calls/c1').expect(404);
  });

  it('delete counts a node\'s 404 (leg already gone) as deleted', async () => {
    await register('a', nodes[0].url);
    await prepare('c1').expect(201);
    nodes[0].legs.clear();
    await http.delete('/v1/calls/c1').expect(204);
  });

  it('start/delete follow a node that re-registered at another URL', async () => {
    await register('a', nodes[0].url);
    await prepare('c1').expect(201);
    nodes[1].legs.set('c1', { offer, started: false, port: 1 });
    await register('a', nodes[1].url);
    await http.post('/v1/calls/c1/start').expect(200);
    await http.delete('/v1/calls/c1').expect(204);
    expect(nodes[0].count('start') + nodes[0].count('delete')).toBe(0);
    expect(nodes[1].count('start')).toBe(1);
    expect(nodes[1].count('delete')).toBe(1);
  });

  it('start/delete of a call whose node was deregistered go to the URL in the binding', async () => {
    await register('a', nodes[0].url);
    await prepare('c1').expect(201);
    await http.delete('/v1/nodes/a').expect(204);
    await http.post('/v1/calls/c1/start').expect(200);
    await http.delete('/v1/calls/c1').expect(204);
    expect(nodes[0].count('delete')).toBe(1);
  });

  it('a binding expires after RTP_CALL_TTL_SEC without a delete', async () => {
    await t.close();
    const clock = new ManualClock();
    await boot({ env: { RTP_CALL_TTL_SEC: '1' }, customize: (b) => b.overrideProvider(CLOCK).useValue(clock) });
    await register('a', nodes[0].url);
    await prepare('c1').expect(201);
    await http.get('/v1/calls/c1').expect(200);
    clock.advance(1_100);
    await http.get('/v1/calls/c1').expect(404);
    expect((await http.get('/v1/nodes')).body.nodes[0].bound_calls).toBe(0);
  });
});
