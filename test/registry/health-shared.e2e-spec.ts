import request from 'supertest';
import { CircuitBreaker } from '../../src/pool/health/circuit-breaker';
import { waitUntil } from '../support/concurrency';
import { type FakeMediaNode, startFakeNodes } from '../support/fake-media-node';
import { deleteKeys, randomPrefix, TEST_REDIS_URL } from '../support/redis';
import { createTestApp, type TestApp } from '../support/test-app';

/**
 * Two signaling instances on one Redis: probe results live in the store, so one instance's
 * probes keep a dead node away from the other too; circuits stay per instance.
 */
describe('health shared through the Redis store (e2e)', () => {
  const prefix = randomPrefix('i4-health');
  const env = { RTP_STORE: 'redis', REDIS_URL: TEST_REDIS_URL, RTP_STORE_PREFIX: prefix, RTP_CIRCUIT_RESET_MS: '600000' };
  let a: TestApp;
  let b: TestApp;
  let nodes: FakeMediaNode[];
  const offer = 'v=0\r\nm=audio 5004 RTP/AVP 0\r\n';

  beforeAll(async () => {
    nodes = await startFakeNodes(2);
    // A probes every 200 ms; B never probes.
    a = await createTestApp({ env: { ...env, RTP_HEALTH_INTERVAL_MS: '200', RTP_HEALTH_TIMEOUT_MS: '300' } });
    b = await createTestApp({ env: { ...env, RTP_HEALTH_INTERVAL_MS: '0' } });
  });
  afterAll(async () => {
    await Promise.all([a?.close(), b?.close(), ...nodes.map((n) => n.stop().catch(() => undefined))]);
    await deleteKeys(TEST_REDIS_URL, prefix);
  });

  it('a node found dead by A\'s probes is no candidate on B; back when A sees it again', async () => {
    const ha = request(a.app.getHttpServer());
    const hb = request(b.app.getHttpServer());
    await ha.post('/v1/nodes/register').send({ node_id: 'n1', control_url: nodes[0].url }).expect(200);
    await ha.post('/v1/nodes/register').send({ node_id: 'n2', control_url: nodes[1].url, active_legs: 100 }).expect(200);
    const rowOnB = async () => (await hb.get('/v1/nodes/n1').expect(200)).body as { healthy: boolean };

    await nodes[0].stop();
    expect(await waitUntil(async () => !(await rowOnB()).healthy, 5_000)).toBeGreaterThanOrEqual(0);
    for (let i = 0; i < 3; i++) {
      expect((await hb.post('/v1/calls').send({ call_id: `b-${i}`, offer_sdp: offer }).expect(201)).body.node_id).toBe('n2');
    }
    // B never paid for the dead node: it made no call to it, so its circuit never opened.
    expect(b.get(CircuitBreaker).state('n1')).toBe('closed');

    await nodes[0].restart();
    expect(await waitUntil(async () => (await rowOnB()).healthy, 5_000)).toBeGreaterThanOrEqual(0);
    expect((await hb.post('/v1/calls').send({ call_id: 'b-back', offer_sdp: offer }).expect(201)).body.node_id).toBe('n1');
  });

  it('circuits are per instance: A\'s failed call does not open B\'s circuit', async () => {
    const ha = request(a.app.getHttpServer());
    const hb = request(b.app.getHttpServer());
    nodes[0].mode = 'fail500'; // still answers its health probe
    try {
      expect((await ha.post('/v1/calls').send({ call_id: 'a-1', offer_sdp: offer }).expect(201)).body.node_id).toBe('n2');
      expect(b.get(CircuitBreaker).state('n1')).toBe('closed');
      const before = nodes[0].count('prepare');
      expect((await hb.post('/v1/calls').send({ call_id: 'b-new', offer_sdp: offer }).expect(201)).body.node_id).toBe('n2');
      expect(nodes[0].count('prepare')).toBe(before + 1); // B found out for itself
      expect(b.get(CircuitBreaker).state('n1')).toBe('open');
    } finally {
      nodes[0].mode = 'ok';
    }
  });
});
