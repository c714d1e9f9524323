import { SchedulerRegistry } from '@nestjs/schedule';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { HEALTH_JOB, HealthMonitorService } from '../../src/pool/health/health-monitor.service';
import { PoolHooks, type PoolHookMap } from '../../src/pool/core/pool.hooks';
import { PoolService } from '../../src/pool/pool.service';
import { waitUntil } from '../support/concurrency';
import { useE2eFixture } from '../support/e2e-fixture';

/** Background health: probes in rounds, off the request path, results shared through the store. */
describe('health monitor (e2e)', () => {
  const fx = useE2eFixture({ nodes: 6 });
  const { t, http, nodes, register, prepare } = fx;
  let health: PoolHookMap['health'][0][];
  const row = async (id: string) => (await http.get('/v1/nodes').expect(200)).body.nodes.find((n: { node_id: string }) => n.node_id === id);

  const boot = async (env: Record<string, string>) => {
    await fx.boot({ env });
    health = [];
    t.get(PoolHooks).on('health', (e) => health.push(e));
  };

  it('marks a stopped node unhealthy within two intervals with no call made, and healthy again when it returns', async () => {
    const interval = 400;
    await boot({ RTP_HEALTH_INTERVAL_MS: String(interval), RTP_HEALTH_TIMEOUT_MS: '300' });
    await register('a', nodes[0].url);
    await register('b', nodes[1].url);
    expect(await waitUntil(() => nodes[0].count('health') > 0, 3 * interval)).toBeGreaterThanOrEqual(0);

    await nodes[0].stop();
    const down = await waitUntil(async () => (await row('a')).healthy === false, 4 * interval);
    expect(down).toBeGreaterThanOrEqual(0);
    expect(down).toBeLessThanOrEqual(2 * interval);
    expect((await row('b')).healthy).toBe(true);
    expect(health).toEqual([{ nodeId: 'a', healthy: false, reason: expect.stringMatching(/probe failed: connection failed/) }]);
    // Not a candidate: every prepare goes to b.
    for (let i = 0; i < 3; i++) expect((await prepare(`c${i}`).expect(201)).body.node_id).toBe('b');

    await nodes[0].restart();
    const up = await waitUntil(async () => (await row('a')).healthy === true, 4 * interval);
    expect(up).toBeGreaterThanOrEqual(0);
    expect(up).toBeLessThanOrEqual(2 * interval);
    expect(health.at(-1)).toEqual({ nodeId: 'a', healthy: true, reason: 'probe succeeded' });
    expect(nodes[0].count('prepare')).toBe(0);
    expect((await prepare('after').expect(201)).body.node_id).toBe('a');
  });

  it('a node that failed its probe is no candidate (503 when it is the only one), and a heartbeat does not make it healthy', async () => {
    await boot({ RTP_HEALTH_INTERVAL_MS: '100', RTP_HEALTH_TIMEOUT_MS: '200' });
    await register('a', nodes[0].url);
    nodes[0].mode = 'blackhole';
    expect(await waitUntil(async () => (await row('a')).healthy === false, 3_000)).toBeGreaterThanOrEqual(0);
    expect((await prepare('c1').expect(503)).body).toEqual({ error: 'no healthy rtp nodes' });
    await register('a', nodes[0].url, { active_legs: 0 });
    expect((await row('a')).healthy).toBe(false);
    await prepare('c2').expect(503);
    expect(nodes[0].count('prepare')).toBe(0);
    nodes[0].mode = 'ok';
    expect(await waitUntil(async () => (await row('a')).healthy === true, 3_000)).toBeGreaterThanOrEqual(0);
    await prepare('c3').expect(201);
  });

  it('a probe refreshes active_legs (resetting the pending count), media_ip, capacity and draining', async () => {
    await boot({});
    const monitor = t.get(HealthMonitorService);
    await register('a', nodes[0].url, { media_ip: '10.0.0.1', active_legs: 0 });
    for (let i = 0; i < 3; i++) await prepare(`c${i}`).expect(201);
    const pool = t.get(PoolService);
    expect((await pool.candidates('x'))[0]).toMatchObject({ activeLegs: 0, pendingLegs: 3, load: 3 });
    nodes[0].activeLegsReport = 7;
    nodes[0].healthExtra = { capacity: 9, draining: false };
    await monitor.tick();
    expect((await pool.candidates('x'))[0]).toMatchObject({ activeLegs: 7, pendingLegs: 0, load: 7 });
    nodes[0].healthExtra = { capacity: 9, draining: true };
    const round = await monitor.tick();
    expect(round).toEqual({ ran: true, healthy: ['a'], unhealthy: [] });
    expect(await row('a')).toMatchObject({ active_legs: 7, media_ip: '127.0.0.1', capacity: 9, draining: true, bound_calls: 3 });
    // Draining as reported: no candidate.
    await prepare('c9').expect(503);
    nodes[0].healthExtra = { capacity: null, draining: false };
    await monitor.tick();
    expect(await row('a')).toMatchObject({ capacity: null, draining: false });
    await prepare('c9').expect(201);
  });

  it('a health answer that is not the contract\'s shape counts as a failed probe', async () => {
    await boot({});
    await register('a', nodes[0].url);
    nodes[0].activeLegsReport = -1;
    expect(await t.get(HealthMonitorService).tick()).toEqual({ ran: true, healthy: [], unhealthy: ['a'] });
    expect((await row('a')).healthy).toBe(false);
  });

  it('probes every node concurrently, and a round never overlaps the previous one', async () => {
    await boot({ RTP_HEALTH_TIMEOUT_MS: '500' });
    const monitor = t.get(HealthMonitorService);
    for (const [i, n] of nodes.entries()) await register(`n${i}`, n.url);
    for (const n of nodes.slice(0, 5)) n.mode = 'blackhole';
    const t0 = performance.now();
    const first = monitor.tick();
    const second = await monitor.tick(); // while the first runs
    expect(second).toEqual({ ran: false, healthy: [], unhealthy: [] });
    const r = await first;
    const took = performance.now() - t0;
    expect(r.unhealthy.sort()).toEqual(['n0', 'n1', 'n2', 'n3', 'n4']);
    expect(r.healthy).toEqual(['n5']);
    // Five black holes of 500 ms each: serially that is 2.5 s; concurrently one timeout.
    expect(took).toBeGreaterThanOrEqual(450);
    expect(took).toBeLessThan(1_500);
    expect(nodes.map((n) => n.count('health'))).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('scheduled rounds skip while one is running (interval shorter than the probe timeout)', async () => {
    await boot({ RTP_HEALTH_INTERVAL_MS: '50', RTP_HEALTH_TIMEOUT_MS: '400' });
    await register('black', nodes[0].url);
    await register('ok', nodes[1].url);
    nodes[0].mode = 'blackhole';
    await new Promise((r) => setTimeout(r, 1_300));
    // Overlapping rounds would have probed about 26 times; non-overlapping ones at most ~3.
    const probes = nodes[1].count('health');
    expect(probes).toBeGreaterThanOrEqual(1);
    expect(probes).toBeLessThanOrEqual(4);
    expect(nodes[0].count('health')).toBeLessThanOrEqual(probes + 1);
  });

  it('registers its interval with SchedulerRegistry, and none when RTP_HEALTH_INTERVAL_MS=0; prepares never probe', async () => {
    await boot({ RTP_HEALTH_INTERVAL_MS: '60000' });
    expect(t.get(SchedulerRegistry).doesExist('interval', HEALTH_JOB)).toBe(true);
    await t.close();
    await boot({ RTP_HEALTH_INTERVAL_MS: '0' });
    expect(t.get(SchedulerRegistry).doesExist('interval', HEALTH_JOB)).toBe(false);
    await register('a', nodes[0].url);
    for (let i = 0; i < 5; i++) await prepare(`c${i}`).expect(201);
    await http.get('/v1/nodes').expect(200);
    expect(nodes[0].count('health')).toBe(0);
  });
  it('keeps at most RTP_HEALTH_CONCURRENCY probes in flight, and still probes every node in a round', async () => {
    // One real server plays 12 nodes (a path prefix each); every health answer takes 40 ms.
    let inFlight = 0;
    let maxInFlight = 0;
    const probed = new Set<string>();
    const server = createServer((req, res) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      probed.add(req.url ?? '');
      setTimeout(() => {
        inFlight--;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ status: 'ok', node_id: 'x', active_legs: 0 }));
      }, 40);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const port = (server.address() as AddressInfo).port;
      await boot({ RTP_HEALTH_INTERVAL_MS: '0', RTP_HEALTH_CONCURRENCY: '3' });
      for (let i = 0; i < 12; i++) await register(`n${i}`, `http://127.0.0.1:${port}/n${i}`);
      const round = await t.get(HealthMonitorService).tick();
      expect(round.healthy).toHaveLength(12);
      expect(probed.size).toBe(12);
      expect(maxInFlight).toBe(3);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
