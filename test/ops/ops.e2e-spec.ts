import request from 'supertest';
import { PoolService } from '../../src/pool/pool.service';
import { ShutdownState } from '../../src/ops/shutdown/shutdown-state';
import { closedPort, FakeMediaNode } from '../support/fake-media-node';
import { parsePromText, sampleValue } from '../support/prom-text';
import { createTestApp, type TestApp } from '../support/test-app';

const SDP = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';

async function scrape(t: TestApp) {
  const res = await request(t.app.getHttpServer()).get('/metrics').expect(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return { text: res.text, samples: parsePromText(res.text) };
}

describe('operations: liveness, readiness and metrics through HTTP', () => {
  let t: TestApp;
  let bad: FakeMediaNode;
  let good: FakeMediaNode;
  beforeAll(async () => {
    // Least-loaded breaks ties by node id: "a-bad" is always tried first.
    bad = await new FakeMediaNode('a-bad').start();
    bad.mode = 'fail500';
    good = await new FakeMediaNode('b-good').start();
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
    await bad.stop();
    await good.stop();
  });

  it('answers liveness and readiness in the terminus format', async () => {
    const http = request(t.app.getHttpServer());
    await http.get('/health').expect(200, { status: 'ok', info: {}, error: {}, details: {} });
    const ready = await http.get('/health/ready').expect(200);
    expect(ready.body).toMatchObject({ status: 'ok', info: { store: { status: 'up' } } });
  });

  it('moves the metrics as nodes register, calls are prepared (with a failover), started and deleted', async () => {
    const http = request(t.app.getHttpServer());
    const before = await scrape(t);
    expect(sampleValue(before.samples, 'rtp_calls_total', { op: 'prepare', outcome: 'ok' })).toBe(0);
    expect(sampleValue(before.samples, 'rtp_failovers_total')).toBe(0);
    // Default process metrics ride along.
    expect(sampleValue(before.samples, 'process_cpu_user_seconds_total')).toBeGreaterThanOrEqual(0);

    await http.post('/v1/nodes/register').send({ node_id: 'a-bad', control_url: bad.url }).expect(200);
    await http.post('/v1/nodes/register').send({ node_id: 'b-good', control_url: good.url, capacity: 50, active_legs: 7 }).expect(200);
    await http.post('/v1/nodes/register').send({ node_id: 'b-good', control_url: good.url, capacity: 50, active_legs: 7 }).expect(200);

    const callId = 'metric-call-1@example.com';
    const prep = await http.post('/v1/calls').send({ call_id: callId, offer_sdp: SDP }).expect(201);
    expect(prep.body.node_id).toBe('b-good');
    expect(bad.count('prepare')).toBe(1); // tried first, 500: failed over

    let m = await scrape(t);
    expect(sampleValue(m.samples, 'rtp_registrations_total', { kind: 'new' })).toBe(2);
    expect(sampleValue(m.samples, 'rtp_registrations_total', { kind: 'heartbeat' })).toBe(1);
    expect(sampleValue(m.samples, 'rtp_calls_total', { op: 'prepare', outcome: 'ok' })).toBe(1);
    expect(sampleValue(m.samples, 'rtp_failovers_total')).toBe(1);
    expect(sampleValue(m.samples, 'rtp_prepare_duration_seconds_count', { outcome: 'ok' })).toBe(1);
    expect(sampleValue(m.samples, 'rtp_prepare_duration_seconds_bucket', { outcome: 'ok', le: '+Inf' })).toBe(1);
    expect(sampleValue(m.samples, 'rtp_circuit_transitions_total', { state: 'open' })).toBe(1);
    expect(sampleValue(m.samples, 'rtp_nodes', { state: 'unhealthy' })).toBe(1); // a-bad's circuit is open
    expect(sampleValue(m.samples, 'rtp_nodes', { state: 'healthy' })).toBe(1);
    expect(sampleValue(m.samples, 'rtp_nodes', { state: 'draining' })).toBe(0);
    expect(sampleValue(m.samples, 'rtp_node_active_legs', { node: 'b-good' })).toBe(7);
    expect(sampleValue(m.samples, 'rtp_node_capacity', { node: 'b-good' })).toBe(50);
    expect(sampleValue(m.samples, 'rtp_node_capacity', { node: 'a-bad' })).toBeUndefined();
    expect(sampleValue(m.samples, 'rtp_node_bound_calls', { node: 'b-good' })).toBe(1);

    await http.post(`/v1/calls/${encodeURIComponent(callId)}/start`).expect(200);
    await http.delete(`/v1/calls/${encodeURIComponent(callId)}`).expect(204);
    await http.delete(`/v1/calls/${encodeURIComponent(callId)}`).expect(404);

    m = await scrape(t);
    expect(sampleValue(m.samples, 'rtp_calls_total', { op: 'start', outcome: 'ok' })).toBe(1);
    expect(sampleValue(m.samples, 'rtp_calls_total', { op: 'delete', outcome: 'ok' })).toBe(1);
    expect(sampleValue(m.samples, 'rtp_calls_total', { op: 'delete', outcome: 'not_found' })).toBe(1);
    expect(sampleValue(m.samples, 'rtp_node_bound_calls', { node: 'b-good' })).toBe(0);
    // Label cardinality stays bounded: no call id anywhere.
    expect(m.text).not.toContain('metric-call-1');

    await http.post('/v1/nodes/b-good/drain').expect(200);
    m = await scrape(t);
    expect(sampleValue(m.samples, 'rtp_nodes', { state: 'draining' })).toBe(1);
    expect(sampleValue(m.samples, 'rtp_nodes', { state: 'healthy' })).toBe(0);
    await http.post('/v1/nodes/b-good/undrain').expect(200);

    // Every node tried fails: a 502, counted as failed.
    good.mode = 'fail500';
    const failed = await http.post('/v1/calls').send({ call_id: 'metric-call-2', offer_sdp: SDP });
    expect(failed.status).toBe(502);
    m = await scrape(t);
    expect(sampleValue(m.samples, 'rtp_calls_total', { op: 'prepare', outcome: 'failed' })).toBe(1);
    expect(sampleValue(m.samples, 'rtp_failovers_total')).toBeGreaterThanOrEqual(2);
    good.mode = 'ok';

    // Silent nodes are pruned: counted, and their series leave the gauges.
    await t.get(PoolService).prune(Date.now() + 3_600_000);
    m = await scrape(t);
    expect(sampleValue(m.samples, 'rtp_pruned_nodes_total')).toBe(2);
    expect(sampleValue(m.samples, 'rtp_node_active_legs', { node: 'b-good' })).toBeUndefined();
    expect(sampleValue(m.samples, 'rtp_nodes', { state: 'healthy' })).toBe(0);
  });

  it('reports recent activity for the dashboard', async () => {
    const res = await request(t.app.getHttpServer()).get('/v1/ops/summary').expect(200);
    expect(res.body.activity).toMatchObject({ window_sec: 60, prepares_recent: 2, prepares_total: 2, prepare_failures_recent: 1 });
    expect(res.body.activity.failovers_recent).toBeGreaterThanOrEqual(2);
    expect(res.body.activity.prepare_rate_per_sec).toBeCloseTo(2 / 60, 2);
    expect(res.body.counts).toEqual({ total: 0, healthy: 0, unhealthy: 0, draining: 0 });
  });

  it('turns readiness off once shutdown begins', async () => {
    t.get(ShutdownState).begin();
    await request(t.app.getHttpServer()).get('/health/ready').expect(503, { error: 'not ready: shutting down' });
    await request(t.app.getHttpServer()).get('/health').expect(200);
  });
});

describe('operations: readiness that requires a node (RTP_READY_REQUIRES_NODE=true)', () => {
  let t: TestApp;
  let node: FakeMediaNode;
  beforeAll(async () => {
    node = await new FakeMediaNode('r1').start();
    t = await createTestApp({ env: { RTP_READY_REQUIRES_NODE: 'true' } });
  });
  afterAll(async () => {
    await t.close();
    await node.stop();
  });

  it('is ready only while a healthy, undrained node exists', async () => {
    const http = request(t.app.getHttpServer());
    await http.get('/health/ready').expect(503, { error: 'not ready: nodes down (no healthy undrained node)' });
    await http.post('/v1/nodes/register').send({ node_id: 'r1', control_url: node.url }).expect(200);
    const ok = await http.get('/health/ready').expect(200);
    expect(ok.body.info).toMatchObject({ store: { status: 'up' }, nodes: { status: 'up', total: 1, usable: 1 } });
    await http.post('/v1/nodes/r1/drain').expect(200);
    await http.get('/health/ready').expect(503);
    await http.post('/v1/nodes/r1/undrain').expect(200);
    await http.get('/health/ready').expect(200);
  });
});

describe('operations: readiness when the store does not answer', () => {
  let t: TestApp;
  beforeAll(async () => {
    // A real Redis store pointed at a port where nothing listens.
    const port = await closedPort();
    t = await createTestApp({ env: { RTP_STORE: 'redis', REDIS_URL: `redis://127.0.0.1:${port}`, RTP_STORE_PREFIX: `ops-${process.pid}:` } });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers liveness 200 and readiness 503 naming the store', async () => {
    const http = request(t.app.getHttpServer());
    await http.get('/health').expect(200);
    const res = await http.get('/health/ready').expect(503);
    expect(res.body.error).toMatch(/^not ready: store down/);
    // The metrics still scrape (node gauges empty, process metrics present).
    const m = await scrape(t);
    expect(sampleValue(m.samples, 'process_cpu_user_seconds_total')).toBeGreaterThanOrEqual(0);
  });
});

describe('operations: the summary and the page behind RTP_API_TOKEN', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ env: { RTP_API_TOKEN: 'ops-token' } });
    await request(t.app.getHttpServer()).post('/v1/nodes/register')
      .send({ node_id: 'tok-1', control_url: 'http://127.0.0.1:9', region: '<b>eu</b>' }).expect(200);
  });
  afterAll(() => t.close());

  it('needs the token for the JSON, renders the page without data unless the token is sent', async () => {
    const http = request(t.app.getHttpServer());
    await http.get('/v1/ops/summary').expect(401);
    const ok = await http.get('/v1/ops/summary').set('Authorization', 'Bearer ops-token').expect(200);
    expect(ok.body.nodes.map((n: { node_id: string }) => n.node_id)).toEqual(['tok-1']);

    const anon = await http.get('/').expect(200);
    expect(anon.headers['content-type']).toMatch(/^text\/html/);
    expect(anon.text).toContain('data-token-required="true"');
    expect(anon.text).not.toContain('tok-1');
    await http.get('/').set('Authorization', 'Bearer wrong').expect(200).expect((r) => expect(r.text).not.toContain('tok-1'));

    const authed = await http.get('/').set('Authorization', 'Bearer ops-token').expect(200);
    expect(authed.text).toContain('data-node-id="tok-1"');
    // Free-form fields are escaped.
    expect(authed.text).toContain('&lt;b&gt;eu&lt;/b&gt;');
    expect(authed.text).not.toContain('<b>eu</b>');
  });

  it('keeps the probes and the scrape open, and unknown paths JSON 404', async () => {
    const http = request(t.app.getHttpServer());
    await http.get('/health').expect(200);
    await http.get('/health/ready').expect(200);
    await http.get('/metrics').expect(200);
    await http.get('/dashboard.js').expect(200).expect('content-type', /javascript/);
    await http.get('/nope/nothing').expect(404).expect('content-type', /json/).expect((r) => expect(r.body).toEqual({ error: expect.any(String) }));
  });
});
