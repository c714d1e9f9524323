import { join } from 'node:path';
import request from 'supertest';
import { RtpCaller } from '../../src/demo/rtp-caller';
import { closedPort } from '../support/fake-media-node';
import { eventually } from '../support/media-nodes';
import { spawnBuilt } from '../support/dist';
import { createTestApp, type TestApp } from '../support/test-app';

const run = (env: Record<string, string>) => spawnBuilt(join('media-node', 'main.js'), env);

/** The media node as it is deployed: `node dist/media-node/main.js`, configured by environment, stopped by SIGTERM. */
describe('media node process (dist/media-node/main.js)', () => {
  let sig: TestApp;
  beforeAll(async () => {
    sig = await createTestApp({ listen: true });
  });
  afterAll(async () => {
    await sig?.close();
  });

  it('registers, carries a call, and on SIGTERM deregisters, stops RTP and exits 0', async () => {
    const port = await closedPort();
    const node = run({
      SIP_REGISTRY_URL: sig.url, RTP_CONTROL_HOST: '127.0.0.1', RTP_CONTROL_PORT: String(port), RTP_NODE_ID: 'proc-1',
      RTP_MEDIA_BIND_IP: '127.0.0.1', RTP_PORT_MIN: '35000', RTP_PORT_MAX: '35999',
      // Today's exit at once; the drain itself: media-node-drain.e2e-spec.ts.
      RTP_DRAIN_TIMEOUT_SEC: '0',
    });
    const phone = await new RtpCaller().open();
    try {
      const http = () => request(sig.url);
      await eventually(async () => (await http().get('/v1/nodes')).body.nodes.some((n: { node_id: string }) => n.node_id === 'proc-1'), 10_000, 'proc-1 to register');
      await http().post('/v1/calls').send({ call_id: 'p1', offer_sdp: phone.offer() }).expect(201);
      await http().post('/v1/calls/p1/start').expect(200);
      await phone.waitFor((s) => s.fromNode >= 3, 3000, 'RTP from the process');

      node.child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const code = await Promise.race([node.exited, new Promise((r) => (timer = setTimeout(() => r('timeout'), 8000)))]);
      clearTimeout(timer);
      expect(code).toBe(0);
      expect(node.out()).toMatch(/deregistered proc-1/);
      expect((await http().get('/v1/nodes')).body.nodes).toEqual([]);
      await new Promise((r) => setTimeout(r, 60));
      const n = phone.stats.fromNode;
      await new Promise((r) => setTimeout(r, 150));
      expect(phone.stats.fromNode).toBe(n);
    } finally {
      if (node.child.exitCode === null) node.child.kill('SIGKILL');
      await phone.close();
    }
  });
});
