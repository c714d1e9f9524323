import request from 'supertest';
import { RTP_RANDOM } from '../../src/pool/core/pool.constants';
import { runConcurrent } from '../support/concurrency';
import { type FakeMediaNode, startFakeNodes } from '../support/fake-media-node';
import { seededRandom } from '../support/seeded-random';
import { createTestApp, type TestApp } from '../support/test-app';

/**
 * Balance with stale information: ten nodes that always report 0 legs (as if their
 * 10 s heartbeat had not come yet), 500 prepares at 20 concurrent. The pool must spread
 * them on its own accounting (legs placed since the report, prepares in flight).
 */
describe.each(['least-loaded', 'power-of-two'])('balance with stale reports: %s (e2e)', (strategy) => {
  let t: TestApp;
  let nodes: FakeMediaNode[];

  beforeAll(async () => {
    nodes = await startFakeNodes(10);
    t = await createTestApp({
      env: { RTP_SELECTION_STRATEGY: strategy },
      customize: (b) => b.overrideProvider(RTP_RANDOM).useValue(seededRandom(7)),
    });
  });
  afterAll(async () => {
    await t.close();
    await Promise.all(nodes.map((n) => n.stop()));
  });

  it('500 prepares at 20 concurrent: max/mean legs ≤ 1.2', async () => {
    const http = request(t.app.getHttpServer());
    const heartbeat = () => Promise.all(nodes.map((n, i) =>
      http.post('/v1/nodes/register').send({ node_id: `n${i}`, control_url: n.url, active_legs: 0 }).expect(200)));
    for (const n of nodes) n.delayMs = 2; // a little service time, so prepares really overlap
    await heartbeat();
    await runConcurrent(500, 20, async (i) => {
      // Halfway, every node heartbeats again with its stale "0 legs".
      if (i === 250) await heartbeat();
      await http.post('/v1/calls').send({ call_id: `call-${i}`, offer_sdp: 'v=0\r\n' }).expect(201);
    });
    const legs = nodes.map((n) => n.legs.size);
    const total = legs.reduce((a, b) => a + b, 0);
    expect(total).toBe(500);
    const mean = total / nodes.length;
    const max = Math.max(...legs);
    expect(max / mean).toBeLessThanOrEqual(1.2);
    // The pool's bound counts agree with the nodes.
    const rows = (await http.get('/v1/nodes').expect(200)).body.nodes as { node_id: string; bound_calls: number }[];
    expect(rows.map((r) => r.bound_calls)).toEqual(legs);
  });
});
