import request from 'supertest';
import { RtpCaller } from '../../src/demo/rtp-caller';
import type { RunningMediaNode } from '../../src/media-node/media-node.app';
import { eventually, startTestMediaNode } from '../support/media-nodes';
import { createTestApp, type TestApp } from '../support/test-app';
import { sleep } from '../../src/common/sleep';

const TOKENS = { RTP_NODE_TOKEN: 'node-tok', RTP_REGISTRY_TOKEN: 'reg-tok', RTP_API_TOKEN: 'api-tok' };

/**
 * The whole loop with real parts: the signaling service (real AppModule on 127.0.0.1),
 * two reference media nodes that register themselves through RegistrarModule, and a
 * "phone" — a UDP socket the offers point at. Tokens are set everywhere, so the pool's
 * node token and the registrar's registry token are exercised too.
 */
describe('end to end: signaling → reference media nodes → RTP over UDP', () => {
  let sig: TestApp;
  let a: RunningMediaNode;
  let b: RunningMediaNode;
  const callers: RtpCaller[] = [];
  const phone = async () => {
    const c = await new RtpCaller().open();
    callers.push(c);
    return c;
  };
  const api = () => ({
    post: (p: string) => request(sig.url).post(p).set('authorization', 'Bearer api-tok'),
    get: (p: string) => request(sig.url).get(p).set('authorization', 'Bearer api-tok'),
    delete: (p: string) => request(sig.url).delete(p).set('authorization', 'Bearer api-tok'),
  });
  const nodeIds = async () => ((await api().get('/v1/nodes').expect(200)).body.nodes as { node_id: string }[]).map((n) => n.node_id);
  const node = (id: string) => (id === 'node-a' ? a : b);

  beforeAll(async () => {
    // TTL 3 s → the registry tells registrars to heartbeat every second.
    sig = await createTestApp({ listen: true, env: { ...TOKENS, RTP_NODE_TTL_SEC: '3' } });
    const common = { ...TOKENS, SIP_REGISTRY_URL: sig.url };
    [a, b] = await Promise.all([
      startTestMediaNode({ ...common, RTP_NODE_ID: 'node-a', RTP_MAX_LEGS: '1', RTP_PORT_MIN: '32000', RTP_PORT_MAX: '32999' }),
      startTestMediaNode({ ...common, RTP_NODE_ID: 'node-b', RTP_PORT_MIN: '33000', RTP_PORT_MAX: '33999' }),
    ]);
    await eventually(async () => (await nodeIds()).length === 2, 5000, 'both nodes to register');
  });
  afterAll(async () => {
    await Promise.all(callers.map((c) => c.close()));
    await Promise.all([a?.close(), b?.close()]);
    await sig?.close();
  });

  it('registers both nodes with their control URL, media IP and capacity', async () => {
    const nodes = (await api().get('/v1/nodes').expect(200)).body.nodes;
    expect(nodes).toEqual(expect.arrayContaining([
      expect.objectContaining({ node_id: 'node-a', control_url: a.url, media_ip: '127.0.0.1', capacity: 1, static: false, draining: false }),
      expect.objectContaining({ node_id: 'node-b', control_url: b.url, media_ip: '127.0.0.1', capacity: null }),
    ]));
  });

  it('prepares a call through the signaling service; after start RTP reaches the phone, the echo comes back, delete stops it', async () => {
    const c = await phone();
    const res = await api().post('/v1/calls').send({ call_id: 'e2e-1@host', offer_sdp: c.offer() }).expect(201);
    const owner = node(res.body.node_id);
    expect(res.body).toMatchObject({ call_id: 'e2e-1@host', media_ip: '127.0.0.1', codec: 'PCMU', control_url: owner.url });
    expect(owner.legs.get('e2e-1@host')?.media_port).toBe(res.body.media_port);
    await sleep(100);
    expect(c.stats.fromNode).toBe(0); // nothing before start

    const path = '/v1/calls/' + encodeURIComponent('e2e-1@host');
    await api().post(path + '/start').expect(200, { call_id: 'e2e-1@host', node_id: res.body.node_id });
    await c.waitFor((s) => s.fromNode >= 5, 3000, 'RTP from the media node');
    expect([...c.stats.payloadTypes]).toEqual([0]);

    c.sendTo(res.body.media_ip, res.body.media_port, 10);
    await c.waitFor((s) => s.echoed >= 10, 3000, 'the echo of our packets');

    await api().delete(path).expect(204);
    expect(owner.legs.get('e2e-1@host')).toBeUndefined();
    await sleep(60);
    const n = c.stats.fromNode;
    await sleep(200);
    expect(c.stats.fromNode).toBe(n);
    await api().get(path).expect(404);
  });

  it('skips a node at RTP_MAX_LEGS: it gets one call, the rest go to the other node', async () => {
    const c = await phone();
    const placed: string[] = [];
    for (const id of ['cap-1', 'cap-2', 'cap-3']) {
      placed.push((await api().post('/v1/calls').send({ call_id: id, offer_sdp: c.offer() }).expect(201)).body.node_id);
    }
    expect(a.legs.activeLegs()).toBeLessThanOrEqual(1);
    expect(placed.filter((id) => id === 'node-b').length).toBeGreaterThanOrEqual(2);
    expect(a.legs.activeLegs() + b.legs.activeLegs()).toBe(3);
    // Skipped by the pool (capacity is in its heartbeat), not refused and failed over.
    expect(a.legs.refused.capacity).toBe(0);
    for (const id of ['cap-1', 'cap-2', 'cap-3']) await api().delete('/v1/calls/' + id).expect(204);
    expect(a.legs.activeLegs() + b.legs.activeLegs()).toBe(0);
  });

  it('an offer no node can serve is refused with the node\'s reason (422), holding nothing', async () => {
    const c = await phone();
    const res = await api().post('/v1/calls').send({ call_id: 'opus-only', offer_sdp: c.offer([111]) }).expect(422);
    expect(res.body.error).toMatch(/no common codec/);
    expect(a.legs.activeLegs() + b.legs.activeLegs()).toBe(0);
  });

  it('re-registers a node the registry forgot, on its next heartbeat', async () => {
    await request(sig.url).delete('/v1/nodes/node-b').set('authorization', 'Bearer reg-tok').expect(204);
    expect(await nodeIds()).not.toContain('node-b');
    await eventually(async () => (await nodeIds()).includes('node-b'), 4000, 'node-b to come back');
  });

  it('closing a node (the SIGTERM path) removes it from GET /v1/nodes at once', async () => {
    const c = await startTestMediaNode({ ...TOKENS, SIP_REGISTRY_URL: sig.url, RTP_NODE_ID: 'node-c', RTP_PORT_MIN: '34000', RTP_PORT_MAX: '34999' });
    try {
      await eventually(async () => (await nodeIds()).includes('node-c'), 4000, 'node-c to register');
    } finally {
      await c.close();
    }
    expect(await nodeIds()).not.toContain('node-c');
    expect(await nodeIds()).toEqual(expect.arrayContaining(['node-a', 'node-b']));
  });
});
