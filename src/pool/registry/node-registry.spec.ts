import type { TestingModule } from '@nestjs/testing';
import type { ManualClock } from '../../testing/manual-clock';
import { CircuitBreaker } from '../health/circuit-breaker';
import { PoolHooks } from '../core/pool.hooks';
import { createTestingPool } from '../../testing/testing-pool';
import { POOL_STORE, type PoolStore } from '../core/pool-store.interface';
import { NodeRegistry } from './node-registry';

describe('NodeRegistry', () => {
  let m: TestingModule;
  let clock: ManualClock;
  let registry: NodeRegistry;

  beforeEach(async () => {
    ({ module: m, clock } = await createTestingPool({ pool: { seedUrls: ['http://[::1]:9001'], nodeTtlSec: 30 } }));
    registry = m.get(NodeRegistry);
  });
  afterEach(() => m.close());

  it('writes the static seeds at start-up, first in every listing', async () => {
    await registry.register({ nodeId: 'a', controlUrl: 'http://127.0.0.1:1' });
    const list = await registry.nodeInfos();
    expect(list.map((n) => n.node_id)).toEqual(['seed-1', 'a']);
    expect(list[0]).toMatchObject({ static: true, media_ip: '::1', control_url: 'http://[::1]:9001', last_seen: new Date(clock.now()).toISOString() });
  });

  it('a heartbeat replaces every reported field and answers ttl and heartbeat interval', async () => {
    const seen: unknown[] = [];
    m.get(PoolHooks).on('register', (e) => seen.push(e));
    await registry.register({ nodeId: 'a', controlUrl: 'http://127.0.0.1:1', capacity: 4, weight: 2, region: 'eu', draining: true });
    expect(await registry.register({ nodeId: 'a', controlUrl: 'http://127.0.0.1:2' })).toEqual({ node_id: 'a', ttl_sec: 30, heartbeat_sec: 10 });
    expect(await registry.nodeInfo('a')).toMatchObject({ control_url: 'http://127.0.0.1:2', capacity: null, weight: 1, region: null, draining: false });
    expect(seen).toEqual([{ nodeId: 'a', created: true }, { nodeId: 'a', created: false }]);
  });

  it('prunes nodes silent past the TTL on the injected clock, never static seeds', async () => {
    registry.setTtl(1);
    await registry.register({ nodeId: 'old', controlUrl: 'http://h:1' });
    clock.advance(1_100);
    await registry.register({ nodeId: 'fresh', controlUrl: 'http://h:2' });
    expect(await registry.prune()).toEqual(['old']);
    expect((await registry.nodes()).map((n) => n.nodeId)).toEqual(['seed-1', 'fresh']);
  });

  it('heartbeat_sec = min(10, max(1, floor(ttl/3))); non-positive TTLs are ignored', () => {
    for (const [ttl, hb] of [[45, 10], [12, 4], [2, 1]]) {
      registry.setTtl(ttl);
      expect([registry.ttlSec, registry.heartbeatSec]).toEqual([ttl, hb]);
    }
    registry.setTtl(0);
    expect(registry.ttlSec).toBe(2);
  });

  it('drain and undrain survive heartbeats; unknown nodes are 404', async () => {
    await registry.register({ nodeId: 'a', controlUrl: 'http://h:1' });
    expect((await registry.drain('a')).draining).toBe(true);
    await registry.register({ nodeId: 'a', controlUrl: 'http://h:1' });
    expect((await registry.nodeInfo('a')).draining).toBe(true);
    expect((await registry.undrain('a')).draining).toBe(false);
    await expect(registry.drain('nope')).rejects.toMatchObject({ code: 'RTP_NODE_NOT_FOUND' });
  });

  it('unregister: 404 for a static or unknown node; forgets the circuit of a removed one', async () => {
    await registry.register({ nodeId: 'a', controlUrl: 'http://h:1' });
    const circuit = m.get(CircuitBreaker);
    circuit.recordFailure('a', 'boom');
    expect((await registry.nodeInfo('a')).healthy).toBe(false); // an open circuit shows as unhealthy
    await registry.unregister('a');
    expect(circuit.state('a')).toBe('closed');
    await expect(registry.unregister('seed-1')).rejects.toMatchObject({ code: 'RTP_NODE_NOT_FOUND' });
    await expect(registry.unregister('a')).rejects.toMatchObject({ code: 'RTP_NODE_NOT_FOUND' });
    expect(await m.get<PoolStore>(POOL_STORE).getNode('seed-1')).toBeDefined();
  });
});
