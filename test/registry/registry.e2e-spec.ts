import request from 'supertest';
import { ManualClock } from '../../src/testing/manual-clock';
import { CLOCK } from '../../src/pool/core/pool.constants';
import { PoolService } from '../../src/pool/pool.service';
import { createTestApp, type TestApp } from '../support/test-app';

/** CONTRACT §1, registry table, with registration bodies shaped like the Go registrar's. */
describe('registry (e2e)', () => {
  const REGISTRY_ENV = { RTP_CONTROL_URLS: 'http://127.0.0.1:9001/, http://127.0.0.1:9002', RTP_NODE_TTL_SEC: '30' };
  let t: TestApp;
  let http: ReturnType<typeof request>;
  const nodes = async () => (await http.get('/v1/nodes').expect(200)).body.nodes as Array<Record<string, unknown>>;

  beforeEach(async () => {
    t = await createTestApp({ env: REGISTRY_ENV });
    http = request(t.app.getHttpServer());
  });
  afterEach(() => t.close());

  it('lists static seeds first as seed-1, seed-2 with every NodeInfo field', async () => {
    const list = await nodes();
    expect(list).toEqual([
      { node_id: 'seed-1', control_url: 'http://127.0.0.1:9001', media_ip: '127.0.0.1', active_legs: 0, healthy: true, static: true,
        capacity: null, weight: 1, region: null, draining: false, last_seen: expect.stringMatching(/Z$/), bound_calls: 0, drain_deadline: null },
      expect.objectContaining({ node_id: 'seed-2', control_url: 'http://127.0.0.1:9002', static: true }),
    ]);
  });

  it('registers a Go-registrar-shaped body (active_legs omitted when 0) and answers ttl and heartbeat', async () => {
    const res = await http.post('/v1/nodes/register').set('content-type', 'application/json')
      .send('{"node_id":"rtp-8090","control_url":"http://127.0.0.1:8090","media_ip":"127.0.0.1"}').expect(200);
    expect(res.body).toEqual({ node_id: 'rtp-8090', ttl_sec: 30, heartbeat_sec: 10 });
    expect((await nodes())[2]).toMatchObject({ node_id: 'rtp-8090', control_url: 'http://127.0.0.1:8090', active_legs: 0, static: false, healthy: true });
  });

  it('heartbeat_sec = min(10, max(1, floor(ttl/3)))', async () => {
    const pool = t.get(PoolService);
    for (const [ttl, hb] of [[45, 10], [30, 10], [12, 4], [2, 1], [1, 1]]) {
      pool.setTtl(ttl);
      const res = await http.post('/v1/nodes/register').send({ node_id: 'a', control_url: 'http://127.0.0.1:1' }).expect(200);
      expect(res.body).toEqual({ node_id: 'a', ttl_sec: ttl, heartbeat_sec: hb });
    }
  });

  it('keeps registration order; a heartbeat replaces every reported field and keeps the position', async () => {
    await http.post('/v1/nodes/register').send({ node_id: 'b', control_url: 'http://127.0.0.1:2', active_legs: 5, capacity: 9, weight: 2, region: 'eu', draining: true }).expect(200);
    await http.post('/v1/nodes/register').send({ node_id: 'a', control_url: 'http://127.0.0.1:1' }).expect(200);
    expect((await nodes()).slice(2).map((n) => n.node_id)).toEqual(['b', 'a']);
    expect((await nodes())[2]).toMatchObject({ active_legs: 5, capacity: 9, weight: 2, region: 'eu', draining: true });
    await http.post('/v1/nodes/register').send({ node_id: 'b', control_url: 'http://127.0.0.1:3/' }).expect(200);
    const b = (await nodes())[2];
    expect(b).toMatchObject({ node_id: 'b', control_url: 'http://127.0.0.1:3', active_legs: 0, capacity: null, weight: 1, region: null, draining: false });
  });

  it('trims node_id and control_url', async () => {
    await http.post('/v1/nodes/register').send({ node_id: '  n.1:x_y-z  ', control_url: '  http://127.0.0.1:7/// ' }).expect(200);
    expect((await nodes())[2]).toMatchObject({ node_id: 'n.1:x_y-z', control_url: 'http://127.0.0.1:7' });
  });

  it('refuses a static seed id with 409 and changes nothing', async () => {
    const before = await nodes();
    const res = await http.post('/v1/nodes/register').send({ node_id: 'seed-1', control_url: 'http://127.0.0.1:66' }).expect(409);
    expect(res.body.error).toMatch(/static seed/);
    expect(await nodes()).toEqual(before);
  });

  it.each([
    ['missing node_id', { control_url: 'http://127.0.0.1:1' }, /node_id/],
    ['bad node_id chars', { node_id: 'a b', control_url: 'http://127.0.0.1:1' }, /node_id/],
    ['node_id too long', { node_id: 'x'.repeat(129), control_url: 'http://127.0.0.1:1' }, /node_id/],
    ['missing control_url', { node_id: 'a' }, /control_url/],
    ['ftp control_url', { node_id: 'a', control_url: 'ftp://h/x' }, /control_url must use http or https/],
    ['user-info', { node_id: 'a', control_url: 'http://u:p@h:1' }, /user-info/],
    ['query', { node_id: 'a', control_url: 'http://h:1/?x=1' }, /query/],
    ['relative URL', { node_id: 'a', control_url: '/v1' }, /absolute/],
    ['negative active_legs', { node_id: 'a', control_url: 'http://h:1', active_legs: -1 }, /active_legs/],
    ['fractional active_legs', { node_id: 'a', control_url: 'http://h:1', active_legs: 1.5 }, /active_legs/],
    ['huge active_legs', { node_id: 'a', control_url: 'http://h:1', active_legs: 10_000_001 }, /active_legs/],
    ['string active_legs', { node_id: 'a', control_url: 'http://h:1', active_legs: '3' }, /active_legs/],
    ['capacity 0', { node_id: 'a', control_url: 'http://h:1', capacity: 0 }, /capacity/],
    ['weight 0', { node_id: 'a', control_url: 'http://h:1', weight: 0 }, /weight/],
    ['draining not boolean', { node_id: 'a', control_url: 'http://h:1', draining: 'yes' }, /draining/],
    ['unknown field', { node_id: 'a', control_url: 'http://h:1', activeLegs: 3 }, /activeLegs should not exist/],
  ])('400 for %s, naming the field, and no state change', async (_name, body, msg) => {
    const before = await nodes();
    const res = await http.post('/v1/nodes/register').send(body).expect(400);
    expect(res.body).toEqual({ error: expect.stringMatching(msg) });
    expect(await nodes()).toEqual(before);
  });

  it('400 for malformed JSON and for a body that is not an object', async () => {
    expect((await http.post('/v1/nodes/register').set('content-type', 'application/json').send('{"node_id":').expect(400)).body).toEqual({ error: 'malformed JSON body' });
    expect((await http.post('/v1/nodes/register').send([{ node_id: 'a' }]).expect(400)).body.error).toMatch(/JSON object/);
  });

  it('413 for a body larger than the limit', async () => {
    const res = await http.post('/v1/nodes/register').send({ node_id: 'a', control_url: 'http://h:1', media_ip: 'x'.repeat(300 * 1024) }).expect(413);
    expect(res.body).toEqual({ error: 'request body too large' });
  });

  it('DELETE deregisters (204); unknown and static ids are 404 "node not found"', async () => {
    await http.post('/v1/nodes/register').send({ node_id: 'a', control_url: 'http://h:1' }).expect(200);
    await http.delete('/v1/nodes/a').expect(204);
    expect((await nodes()).map((n) => n.node_id)).toEqual(['seed-1', 'seed-2']);
    expect((await http.delete('/v1/nodes/a').expect(404)).body).toEqual({ error: 'node not found' });
    expect((await http.delete('/v1/nodes/seed-1').expect(404)).body).toEqual({ error: 'node not found' });
    expect((await nodes()).map((n) => n.node_id)).toEqual(['seed-1', 'seed-2']);
  });

  it('unknown routes are JSON 404s', async () => {
    const res = await http.get('/v1/nope').expect(404);
    expect(res.body).toEqual({ error: expect.any(String) });
  });

  it('prunes nodes silent past the TTL, never static seeds', async () => {
    await t.close();
    const clock = new ManualClock();
    t = await createTestApp({ env: REGISTRY_ENV, customize: (b) => b.overrideProvider(CLOCK).useValue(clock) });
    http = request(t.app.getHttpServer());
    const pool = t.get(PoolService);
    pool.setTtl(1);
    await http.post('/v1/nodes/register').send({ node_id: 'old', control_url: 'http://h:1' }).expect(200);
    clock.advance(1_100);
    await http.post('/v1/nodes/register').send({ node_id: 'fresh', control_url: 'http://h:2' }).expect(200);
    expect(await pool.prune()).toEqual(['old']);
    expect((await nodes()).map((n) => n.node_id)).toEqual(['seed-1', 'seed-2', 'fresh']);
  });
});

describe('prune job (e2e)', () => {
  it('runs every RTP_PRUNE_INTERVAL_SEC and removes a node that fell silent', async () => {
    const t = await createTestApp({ env: { RTP_NODE_TTL_SEC: '1', RTP_PRUNE_INTERVAL_SEC: '1' } });
    try {
      const http = request(t.app.getHttpServer());
      await http.post('/v1/nodes/register').send({ node_id: 'quiet', control_url: 'http://h:1' }).expect(200);
      expect((await http.get('/v1/nodes')).body.nodes).toHaveLength(1);
      const deadline = Date.now() + 5_000;
      let left = 1;
      while (left > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 200));
        left = (await http.get('/v1/nodes')).body.nodes.length;
      }
      expect(left).toBe(0);
    } finally {
      await t.close();
    }
  });
});
