import request from 'supertest';
import { FakeMediaNode } from '../support/fake-media-node';
import { createTestApp, type TestApp } from '../support/test-app';

describe('smoke', () => {
  let t: TestApp;
  let node: FakeMediaNode;
  beforeAll(async () => {
    node = await new FakeMediaNode('n1').start();
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
    await node.stop();
  });

  it('registers a node, prepares, starts and deletes a call', async () => {
    const http = request(t.app.getHttpServer());
    await http.post('/v1/nodes/register').send({ node_id: 'n1', control_url: node.url + '/' }).expect(200, { node_id: 'n1', ttl_sec: 45, heartbeat_sec: 10 });
    const prep = await http.post('/v1/calls').send({ call_id: 'a b@c/d%e', offer_sdp: 'v=0' }).expect(201);
    expect(prep.body).toMatchObject({ call_id: 'a b@c/d%e', node_id: 'n1', control_url: node.url, media_port: expect.any(Number) });
    await http.post('/v1/calls/' + encodeURIComponent('a b@c/d%e') + '/start').expect(200, { call_id: 'a b@c/d%e', node_id: 'n1' });
    await http.delete('/v1/calls/' + encodeURIComponent('a b@c/d%e')).expect(204);
    expect(node.requests.map((r) => r.rawPath)).toEqual(['/v1/legs', '/v1/legs/a%20b%40c%2Fd%25e/start', '/v1/legs/a%20b%40c%2Fd%25e']);
  });
});
