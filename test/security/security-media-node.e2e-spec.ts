import request from 'supertest';
import { RtpCaller } from '../../src/demo/rtp-caller';
import type { RunningMediaNode } from '../../src/media-node/media-node.app';
import { startTestMediaNode } from '../support/media-nodes';
import { createTestApp, type TestApp } from '../support/test-app';

const NODE_TOKEN = 'node-tok-5e6f7a';

/**
 * RTP_NODE_TOKEN end to end (CONTRACT §3): the reference media node refuses every leg path
 * without it, keeps /v1/health open, and the pool configured with it drives the node.
 */
describe('security: the reference media node checks RTP_NODE_TOKEN', () => {
  let node: RunningMediaNode;
  let caller: RtpCaller;
  beforeAll(async () => {
    node = await startTestMediaNode({ RTP_NODE_TOKEN: NODE_TOKEN, RTP_NODE_ID: 'sec-node', RTP_PORT_MIN: '34000', RTP_PORT_MAX: '34999' });
    caller = await new RtpCaller().open();
  });
  afterAll(async () => {
    await caller?.close();
    await node?.close();
  });

  const legPaths: Array<[string, (r: ReturnType<typeof request>) => request.Test]> = [
    ['POST /v1/legs', (r) => r.post('/v1/legs').send({ call_id: 'n-1', offer_sdp: caller.offer() })],
    ['GET /v1/legs', (r) => r.get('/v1/legs')],
    ['POST /v1/legs/{id}/start', (r) => r.post('/v1/legs/n-1/start')],
    ['DELETE /v1/legs/{id}', (r) => r.delete('/v1/legs/n-1')],
  ];
  it.each(legPaths)('%s: 401 with WWW-Authenticate: Bearer without the token or with a wrong one', async (_n, make) => {
    for (const auth of [undefined, 'Bearer wrong', `Bearer ${NODE_TOKEN}x`, `Basic ${NODE_TOKEN}`, NODE_TOKEN]) {
      const r = make(request(node.url));
      if (auth) r.set('authorization', auth);
      const res = await r;
      expect(res.status).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      expect(res.body).toEqual({ error: expect.any(String) });
      expect(res.text).not.toContain(NODE_TOKEN);
    }
    // Nothing was allocated by any of it.
    expect(node.legs.list()).toEqual([]);
  });

  it('GET /v1/health stays open', async () => {
    const res = await request(node.url).get('/v1/health').expect(200);
    expect(res.body).toMatchObject({ status: 'ok', node_id: 'sec-node' });
  });

  it('a pool with the right RTP_NODE_TOKEN prepares, starts and deletes on it', async () => {
    const sig = await createTestApp({ env: { RTP_NODE_TOKEN: NODE_TOKEN } });
    try {
      const http = request(sig.app.getHttpServer());
      await http.post('/v1/nodes/register').send({ node_id: 'sec-node', control_url: node.url }).expect(200);
      const prep = await http.post('/v1/calls').send({ call_id: 'tok-call', offer_sdp: caller.offer() }).expect(201);
      expect(prep.body).toMatchObject({ node_id: 'sec-node', media_port: expect.any(Number) });
      expect(node.legs.list().map((l) => l.call_id)).toEqual(['tok-call']);
      await http.post('/v1/calls/tok-call/start').expect(200);
      await http.delete('/v1/calls/tok-call').expect(204);
      expect(node.legs.list()).toEqual([]);
    } finally {
      await sig.close();
    }
  });

  it('a pool with a wrong or no node token is refused by the node: no leg, no binding', async () => {
    for (const env of [{ RTP_NODE_TOKEN: 'not-the-token' }, {}]) {
      const sig = await createTestApp({ env });
      try {
        const http = request(sig.app.getHttpServer());
        await http.post('/v1/nodes/register').send({ node_id: 'sec-node', control_url: node.url }).expect(200);
        const res = await http.post('/v1/calls').send({ call_id: 'bad-tok', offer_sdp: caller.offer() });
        // Every node tried refused with a 4xx (here 401): 422 with the node's reason.
        expect(res.status).toBe(422);
        expect(res.body.error).toMatch(/bearer token/);
        expect(res.text).not.toContain(NODE_TOKEN);
        await http.get('/v1/calls/bad-tok').expect(404);
        expect(node.legs.list()).toEqual([]);
        // A node that refuses the pool's token refuses every call: its circuit opens, so it
        // shows unhealthy and costs no attempt until its reset time.
        const row = (await http.get('/v1/nodes').expect(200)).body.nodes.find((n: { node_id: string }) => n.node_id === 'sec-node');
        expect(row.healthy).toBe(false);
      } finally {
        await sig.close();
      }
    }
  });
});
