import request from 'supertest';
import { runConcurrent } from '../support/concurrency';
import { type FakeMediaNode, startFakeNodes } from '../support/fake-media-node';
import { deleteKeys, randomPrefix, TEST_REDIS_URL } from '../support/redis';
import { createTestApp, type TestApp } from '../support/test-app';

/**
 * Load accounting across signaling instances: legs placed by one instance count on the
 * others (the pending count lives in the shared store), so two instances do not herd.
 */
describe.each(['least-loaded', 'power-of-two'])('balance across two instances on one Redis: %s (e2e)', (strategy) => {
  const prefix = randomPrefix('i4-balance');
  let apps: TestApp[];
  let nodes: FakeMediaNode[];

  beforeAll(async () => {
    nodes = await startFakeNodes(5);
    const env = { RTP_STORE: 'redis', REDIS_URL: TEST_REDIS_URL, RTP_STORE_PREFIX: prefix, RTP_SELECTION_STRATEGY: strategy, RTP_CONTROL_TIMEOUT_MS: '2000' };
    apps = await Promise.all([createTestApp({ env }), createTestApp({ env })]);
  });
  afterAll(async () => {
    await Promise.all([...apps.map((t) => t.close()), ...nodes.map((n) => n.stop())]);
    await deleteKeys(TEST_REDIS_URL, prefix);
  });

  it('200 prepares at 10 concurrent, alternating instances, nodes reporting 0: max/mean ≤ 1.2', async () => {
    const https = apps.map((t) => request(t.app.getHttpServer()));
    for (const [i, n] of nodes.entries()) {
      await https[0].post('/v1/nodes/register').send({ node_id: `n${i}`, control_url: n.url, active_legs: 0 }).expect(200);
    }
    await runConcurrent(200, 10, (i) => https[i % 2].post('/v1/calls').send({ call_id: `m-${i}`, offer_sdp: 'v=0\r\n' }).expect(201));
    const legs = nodes.map((n) => n.legs.size);
    expect(legs.reduce((s, x) => s + x, 0)).toBe(200);
    expect(Math.max(...legs) / (200 / nodes.length)).toBeLessThanOrEqual(1.2);
  });
});
