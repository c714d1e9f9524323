import { CircuitBreaker } from '../../src/pool/health/circuit-breaker';
import { PoolHooks, type PoolHookMap } from '../../src/pool/core/pool.hooks';
import { runConcurrent, waitUntil } from '../support/concurrency';
import { useE2eFixture } from '../support/e2e-fixture';
import { createTestApp } from '../support/test-app';

/** Passive failure detection: a failed control call opens the node's circuit; one half-open trial later. */
describe('circuit breaker (e2e)', () => {
  const fx = useE2eFixture({ nodes: 3 });
  const { t, http, nodes, register, prepare } = fx;
  let prepares: PoolHookMap['prepare'][0][];
  let circuits: PoolHookMap['circuit'][0][];
  const nodeRow = async (id: string) => (await http.get('/v1/nodes').expect(200)).body.nodes.find((n: { node_id: string }) => n.node_id === id);

  const boot = async (env: Record<string, string>) => {
    await fx.boot({ env });
    prepares = [];
    circuits = [];
    const events = t.get(PoolHooks);
    events.on('prepare', (e) => prepares.push(e));
    events.on('circuit', (e) => circuits.push(e));
  };

  it('a black-holed first choice: 20 sequential prepares succeed and only the first pays the timeout', async () => {
    // A 1 s control timeout makes the one slow prepare unmistakable; no probes, so the circuit alone does it.
    await boot({ RTP_CONTROL_TIMEOUT_MS: '1000', RTP_CIRCUIT_RESET_MS: '600000' });
    const [black] = nodes;
    black.mode = 'blackhole';
    await register('a-black', nodes[0].url);
    await register('b', nodes[1].url);
    await register('c', nodes[2].url);
    const wall: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t0 = performance.now();
      const res = await prepare(`call-${i}`).expect(201);
      wall.push(performance.now() - t0);
      expect(res.body.node_id).not.toBe('a-black');
    }
    // The pool's own measure of each prepare (from the `prepare` event), free of test-client overhead.
    const pool = prepares.map((p) => p.durationMs);
    expect(pool).toHaveLength(20);
    expect(pool[0]).toBeGreaterThanOrEqual(950);
    for (const ms of pool.slice(1)) expect(ms).toBeLessThan(100);
    // And from the client side: none of the others came anywhere near the timeout.
    for (const ms of wall.slice(1)) expect(ms).toBeLessThan(500);
    expect(black.count('prepare')).toBe(1);
    expect(prepares[0].attempts).toBe(2);
    expect(prepares.slice(1).every((p) => p.attempts === 1)).toBe(true);
    expect(circuits).toEqual([{ nodeId: 'a-black', state: 'open' }]);
    expect(await nodeRow('a-black')).toMatchObject({ healthy: false });
    expect(await nodeRow('b')).toMatchObject({ healthy: true });
  });

  it('a 5xx opens the circuit (the node is skipped at once); a 4xx does not', async () => {
    await boot({ RTP_CIRCUIT_RESET_MS: '600000' });
    await register('a', nodes[0].url);
    await register('b', nodes[1].url, { active_legs: 100 });
    nodes[0].mode = 'fail500';
    for (let i = 0; i < 3; i++) expect((await prepare(`x${i}`).expect(201)).body.node_id).toBe('b');
    expect(nodes[0].count('prepare')).toBe(1);
    expect(t.get(CircuitBreaker).state('a')).toBe('open');

    await register('c', nodes[2].url);
    nodes[2].mode = 'full400'; // 400 "node at capacity": the node answered, its circuit stays closed
    for (let i = 0; i < 3; i++) expect((await prepare(`y${i}`).expect(201)).body.node_id).toBe('b');
    expect(nodes[2].count('prepare')).toBe(3);
    expect(t.get(CircuitBreaker).state('c')).toBe('closed');
  });

  it('after RTP_CIRCUIT_RESET_MS exactly one trial call is let through; its success closes the circuit', async () => {
    await boot({ RTP_CIRCUIT_RESET_MS: '300', RTP_CONTROL_TIMEOUT_MS: '3000' });
    await register('a', nodes[0].url);
    await register('b', nodes[1].url, { active_legs: 100 });
    nodes[0].mode = 'fail500';
    expect((await prepare('first').expect(201)).body.node_id).toBe('b');
    nodes[0].mode = 'ok';
    nodes[0].delayMs = 1_000; // the trial stays in flight while the other prepares plan
    await new Promise((r) => setTimeout(r, 350));
    const answers = await runConcurrent(6, 6, (i) => prepare(`burst-${i}`).expect(201));
    expect(answers.filter((r) => r.body.node_id === 'a')).toHaveLength(1);
    expect(nodes[0].count('prepare')).toBe(2); // the failure, then the one trial
    expect(circuits.map((c) => c.state)).toEqual(['open', 'half_open', 'closed']);
    nodes[0].delayMs = 0;
    expect((await prepare('after').expect(201)).body.node_id).toBe('a');
    expect(await nodeRow('a')).toMatchObject({ healthy: true });
  });

  it('a failed trial opens the circuit again for another reset period', async () => {
    await boot({ RTP_CIRCUIT_RESET_MS: '300' });
    await register('a', nodes[0].url);
    await register('b', nodes[1].url, { active_legs: 100 });
    nodes[0].mode = 'fail500';
    await prepare('c1').expect(201);
    await new Promise((r) => setTimeout(r, 350));
    expect((await prepare('c2').expect(201)).body.node_id).toBe('b'); // trial on a failed, failover to b
    expect(nodes[0].count('prepare')).toBe(2);
    await prepare('c3').expect(201);
    expect(nodes[0].count('prepare')).toBe(2);
    expect(circuits.map((c) => c.state)).toEqual(['open', 'half_open', 'open']);
  });

  it('the next successful probe closes an open circuit', async () => {
    // A probe timeout of 1 s, not less: on a loaded machine (CI runs suites side by side) a probe
    // of b that took over 300 ms once marked b down, and the prepare below found no node (503).
    await boot({ RTP_CIRCUIT_RESET_MS: '600000', RTP_HEALTH_INTERVAL_MS: '100', RTP_HEALTH_TIMEOUT_MS: '1000' });
    await register('a', nodes[0].url);
    await register('b', nodes[1].url, { active_legs: 100 });
    nodes[0].mode = 'blackhole';
    await waitUntil(async () => (await nodeRow('a')).healthy === false, 5_000);
    nodes[0].mode = 'fail500'; // answers its health probe, fails legs
    const cb = t.get(CircuitBreaker);
    // Let a probe succeed, then have a prepare open the circuit.
    expect(await waitUntil(async () => (await nodeRow('a')).healthy === true, 5_000)).toBeGreaterThanOrEqual(0);
    await prepare('c1').expect(201);
    expect(nodes[0].count('prepare')).toBe(1);
    nodes[0].mode = 'ok';
    // Closed by a probe, long before the reset time, with no call made.
    expect(await waitUntil(() => cb.state('a') === 'closed', 3_000)).toBeGreaterThanOrEqual(0);
    // It did open, and closed with no half-open trial: a probe closed it.
    expect(circuits.filter((c) => c.nodeId === 'a').map((c) => c.state)).toEqual(['open', 'closed']);
    expect(nodes[0].count('prepare')).toBe(1);
    expect((await prepare('c2').expect(201)).body.node_id).toBe('a');
  });

  it('bound calls still reach a node whose circuit is open; their success closes it', async () => {
    await boot({ RTP_CIRCUIT_RESET_MS: '600000' });
    await register('a', nodes[0].url);
    await register('b', nodes[1].url, { active_legs: 100 });
    await prepare('bound').expect(201);
    nodes[0].mode = 'fail500';
    await prepare('c1').expect(201); // opens a's circuit
    expect(t.get(CircuitBreaker).state('a')).toBe('open');
    nodes[0].mode = 'ok';
    await http.post('/v1/calls/bound/start').expect(200);
    expect(t.get(CircuitBreaker).state('a')).toBe('closed');
    await http.delete('/v1/calls/bound').expect(204);
  });

  it('when every node\'s circuit is open, they are tried all the same (no blanket 503)', async () => {
    await boot({ RTP_CIRCUIT_RESET_MS: '600000' });
    await register('a', nodes[0].url);
    nodes[0].mode = 'fail500';
    await prepare('c1').expect(502);
    nodes[0].mode = 'ok';
    expect((await prepare('c1').expect(201)).body.node_id).toBe('a');
  });
});

describe('CircuitBreaker provider', () => {
  it('is built from RTP_CIRCUIT_RESET_MS and reports through PoolHooks', async () => {
    const t = await createTestApp({ env: { RTP_CIRCUIT_RESET_MS: '1234' } });
    try {
      const cb = t.get(CircuitBreaker);
      expect(cb.resetMs).toBe(1234);
      const seen: unknown[] = [];
      t.get(PoolHooks).on('circuit', (e) => seen.push(e));
      cb.recordFailure('n', 'x');
      expect(seen).toEqual([{ nodeId: 'n', state: 'open' }]);
    } finally {
      await t.close();
    }
  });
});
