import { join } from 'node:path';
import request from 'supertest';
import { RtpCaller } from '../../src/demo/rtp-caller';
import { spawnBuilt } from '../support/dist';
import { closedPort } from '../support/fake-media-node';
import { eventually } from '../support/media-nodes';
import { createTestApp, type TestApp } from '../support/test-app';

const run = (env: Record<string, string>) => spawnBuilt(join('media-node', 'main.js'), env);

/** The reference media node drains at SIGTERM (RTP_DRAIN_TIMEOUT_SEC), exits at a second signal. */
describe('media node drain at SIGTERM (dist/media-node/main.js)', () => {
  let sig: TestApp;
  beforeAll(async () => {
    sig = await createTestApp({ listen: true });
  });
  afterAll(async () => {
    await sig?.close();
  });

  const start = async (id: string, extra: Record<string, string> = {}) => {
    const port = await closedPort();
    const node = run({
      SIP_REGISTRY_URL: sig.url, RTP_CONTROL_HOST: '127.0.0.1', RTP_CONTROL_PORT: String(port), RTP_NODE_ID: id,
      RTP_MEDIA_BIND_IP: '127.0.0.1', RTP_PORT_MIN: '36000', RTP_PORT_MAX: '36999', RTP_HEARTBEAT_SEC: '1', ...extra,
    });
    await eventually(async () => (await request(sig.url).get('/v1/nodes')).body.nodes.some((n: { node_id: string }) => n.node_id === id), 10_000, `${id} to register`);
    return node;
  };

  it('heartbeats draining, keeps serving its leg until it is deleted, then deregisters and exits 0', async () => {
    const node = await start('drain-1');
    const phone = await new RtpCaller().open();
    try {
      const http = () => request(sig.url);
      await http().post('/v1/calls').send({ call_id: 'd1', offer_sdp: phone.offer() }).expect(201);
      await http().post('/v1/calls/d1/start').expect(200);
      await phone.waitFor((s) => s.fromNode >= 3, 3000, 'RTP from the node');
      node.child.kill('SIGTERM');
      await eventually(async () => (await http().get('/v1/nodes/drain-1')).body.draining === true, 5_000, 'a draining heartbeat');
      // Still serving: RTP flows and the leg answers.
      const n = phone.stats.fromNode;
      await new Promise((r) => setTimeout(r, 300));
      expect(phone.stats.fromNode).toBeGreaterThan(n);
      expect(node.child.exitCode).toBeNull();
      await http().delete('/v1/calls/d1').expect(204);
      const code = await Promise.race([node.exited, new Promise((r) => setTimeout(() => r('timeout'), 8_000))]);
      expect(code).toBe(0);
      expect(node.out()).toMatch(/deregistered drain-1/);
      expect((await http().get('/v1/nodes')).body.nodes).toEqual([]);
    } finally {
      if (node.child.exitCode === null) node.child.kill('SIGKILL');
      await phone.close();
    }
  });

  it('a second SIGTERM exits at once, legs or not', async () => {
    const node = await start('drain-2');
    const phone = await new RtpCaller().open();
    try {
      await request(sig.url).post('/v1/calls').send({ call_id: 'd2', offer_sdp: phone.offer() }).expect(201);
      node.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 500));
      expect(node.child.exitCode).toBeNull();
      const t0 = Date.now();
      node.child.kill('SIGTERM');
      const code = await Promise.race([node.exited, new Promise((r) => setTimeout(() => r('timeout'), 3_000))]);
      expect(code).toBe(143);
      expect(Date.now() - t0).toBeLessThan(1_500);
    } finally {
      if (node.child.exitCode === null) node.child.kill('SIGKILL');
      await phone.close();
    }
  });
});
