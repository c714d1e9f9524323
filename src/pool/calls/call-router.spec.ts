import type { TestingModule } from '@nestjs/testing';
import { type FakeMediaNode, startFakeNodes } from '../../../test/support/fake-media-node';
import type { ManualClock } from '../../testing/manual-clock';
import { CircuitBreaker } from '../health/circuit-breaker';
import { type PoolHookMap, PoolHooks } from '../core/pool.hooks';
import { createTestingPool } from '../../testing/testing-pool';
import { NodeRegistry } from '../registry/node-registry';
import { CallRouter } from './call-router';

/** CallRouter against real HTTP fake media nodes (no mocked client). */
describe('CallRouter', () => {
  let m: TestingModule;
  let clock: ManualClock;
  let router: CallRouter;
  let nodes: FakeMediaNode[];
  const offer = 'v=0\r\nm=audio 5004 RTP/AVP 0\r\n';
  const add = (i: number) => m.get(NodeRegistry).register({ nodeId: `n${i}`, controlUrl: nodes[i].url });

  beforeEach(async () => {
    nodes = await startFakeNodes(2);
    ({ module: m, clock } = await createTestingPool({ pool: { callTtlSec: 60 } }));
    router = m.get(CallRouter);
  });
  afterEach(async () => {
    await m.close();
    await Promise.all(nodes.map((n) => n.stop().catch(() => undefined)));
  });

  it('places a new call, then start and delete go to its node', async () => {
    await add(0);
    const answer = await router.prepare(' c1 ', offer);
    expect(answer).toMatchObject({ call_id: 'c1', node_id: 'n0', control_url: nodes[0].url, codec: 'PCMU' });
    expect(await router.getCall('c1')).toMatchObject({ node_id: 'n0', started: false, created_at: new Date(clock.now()).toISOString() });
    expect(await router.start('c1')).toEqual({ call_id: 'c1', node_id: 'n0' });
    expect((await router.getCall('c1')).started).toBe(true);
    await router.delete('c1');
    expect([nodes[0].count('prepare'), nodes[0].count('start'), nodes[0].count('delete')]).toEqual([1, 1, 1]);
    await expect(router.getCall('c1')).rejects.toMatchObject({ code: 'RTP_CALL_NOT_FOUND' });
  });

  it('fails over from a 500 node, opens its circuit and reports the failover', async () => {
    await add(0);
    await add(1);
    nodes[0].mode = 'fail500';
    const failovers: PoolHookMap['failover'][0][] = [];
    m.get(PoolHooks).on('failover', (e) => failovers.push(e));
    expect((await router.prepare('c1', offer)).node_id).toBe('n1');
    expect(failovers.map((f) => f.nodeId)).toEqual(['n0']);
    expect(m.get(CircuitBreaker).state('n0')).toBe('open');
  });

  it('a re-INVITE goes to the bound node only and refreshes the binding\'s expiry', async () => {
    await add(0);
    await router.prepare('c1', offer);
    await add(1);
    clock.advance(50_000);
    expect((await router.prepare('c1', offer)).node_id).toBe('n0');
    expect(nodes[1].count('prepare')).toBe(0);
    clock.advance(50_000); // 100 s after the first prepare, 50 s after the re-INVITE: still bound
    expect((await router.getCall('c1')).node_id).toBe('n0');
  });

  it('a binding expires after callTtlSec on the injected clock', async () => {
    await add(0);
    await router.prepare('c1', offer);
    clock.advance(60_001);
    await expect(router.getCall('c1')).rejects.toMatchObject({ code: 'RTP_CALL_NOT_FOUND' });
  });

  it('overlapping prepares of one call id share one attempt', async () => {
    await add(0);
    nodes[0].delayMs = 50;
    const [a, b] = await Promise.all([router.prepare('c1', offer), router.prepare('c1', offer)]);
    expect(a).toEqual(b);
    expect(nodes[0].count('prepare')).toBe(1);
  });

  it('503 without nodes, 422 when every node refuses, 400 for a bad call id', async () => {
    await expect(router.prepare('c1', offer)).rejects.toMatchObject({ code: 'RTP_NO_HEALTHY_NODES' });
    await add(0);
    nodes[0].mode = 'refuse';
    await expect(router.prepare('c1', offer)).rejects.toMatchObject({ code: 'RTP_OFFER_REFUSED' });
    await expect(router.prepare('bad\u0001id', offer)).rejects.toMatchObject({ code: 'RTP_INVALID_ID' });
  });
});
