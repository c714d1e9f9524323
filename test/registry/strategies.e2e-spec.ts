import { loadAppConfig } from '../../src/config/app.config';
import { ConfigError } from '../../src/common/env';
import { RTP_RANDOM } from '../../src/pool/core/pool.constants';
import { effectiveLoad } from '../../src/pool/core/pool.types';
import { PoolService } from '../../src/pool/pool.service';
import { CallHashStrategy } from '../../src/pool/selection/call-hash.strategy';
import { PowerOfTwoStrategy } from '../../src/pool/selection/power-of-two.strategy';
import { SELECTION_STRATEGY } from '../../src/pool/core/selection-strategy.interface';
import { POOL_STORE, type PoolStore } from '../../src/pool/core/pool-store.interface';
import { runConcurrent } from '../support/concurrency';
import { useE2eFixture } from '../support/e2e-fixture';
import { seededRandom } from '../support/seeded-random';

/** RTP_SELECTION_STRATEGY picks the built-in; each one's order shows through the calls API. */
describe('selection strategies (e2e)', () => {
  // Each test boots its own app (or none): the fixture closes exactly that one, once.
  const fx = useE2eFixture({ nodes: 4 });
  const { t, http, nodes, register, prepare } = fx;
  const nodeOf = async (callId: string, extra: object = {}) => (await prepare(callId, extra).expect(201)).body.node_id as string;

  const boot = async (env: Record<string, string>, seed?: number) => {
    await fx.boot({
      env,
      customize: seed === undefined ? undefined : (b) => b.overrideProvider(RTP_RANDOM).useValue(seededRandom(seed)),
    });
  };

  it.each([
    ['least-loaded', 'LeastLoadedStrategy'], ['weighted', 'WeightedStrategy'], ['power-of-two', 'PowerOfTwoStrategy'],
    ['round-robin', 'RoundRobinStrategy'], ['call-hash', 'CallHashStrategy'],
  ])('RTP_SELECTION_STRATEGY=%s provides %s', async (name, cls) => {
    await boot({ RTP_SELECTION_STRATEGY: name });
    expect(t.get<object>(SELECTION_STRATEGY).constructor.name).toBe(cls);
  });

  it('an unknown RTP_SELECTION_STRATEGY fails start-up naming the variable', () => {
    expect(() => loadAppConfig({ RTP_SELECTION_STRATEGY: 'fastest' })).toThrow(ConfigError);
    expect(() => loadAppConfig({ RTP_SELECTION_STRATEGY: 'fastest' })).toThrow(/^RTP_SELECTION_STRATEGY: must be one of least-loaded, weighted, power-of-two, round-robin, call-hash/);
  });

  it('round-robin: each call starts one node further, whatever the load', async () => {
    await boot({ RTP_SELECTION_STRATEGY: 'round-robin' });
    await register('c', nodes[2].url, { active_legs: 0 });
    await register('a', nodes[0].url, { active_legs: 90 });
    await register('b', nodes[1].url, { active_legs: 10 });
    const order = [];
    for (let i = 0; i < 6; i++) order.push(await nodeOf(`rr-${i}`));
    expect(order).toEqual(['a', 'b', 'c', 'a', 'b', 'c']);
  });

  it('call-hash: an id always lands on its rendezvous node, also after its call ended', async () => {
    await boot({ RTP_SELECTION_STRATEGY: 'call-hash' });
    for (const [i, n] of nodes.entries()) await register(`n${i}`, n.url, { active_legs: i * 10 });
    const candidates = await t.get(PoolService).candidates('x');
    const expected = (id: string) => new CallHashStrategy().order(candidates, { callId: id })[0].nodeId;
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const id = `${i}@host.example`;
      const first = await nodeOf(id);
      expect(first).toBe(expected(id));
      seen.add(first);
      await http.delete(`/v1/calls/${encodeURIComponent(id)}`).expect(204);
      expect(await nodeOf(id)).toBe(first); // a new call with the same id: same node
    }
    expect(seen.size).toBe(4); // and ids spread over every node, load notwithstanding
  });

  it('power-of-two: with a seeded RNG the choice is deterministic and follows the less loaded of the pair', async () => {
    await boot({ RTP_SELECTION_STRATEGY: 'power-of-two' }, 99);
    for (const [i, n] of nodes.entries()) await register(`n${i}`, n.url, { active_legs: [8, 3, 5, 1][i] });
    // A twin strategy with the same seed, fed the store's nodes (PoolService.candidates would draw from the app's RNG).
    const twin = new PowerOfTwoStrategy(seededRandom(99));
    const store = t.get<PoolStore>(POOL_STORE);
    const picks: string[] = [];
    for (let i = 0; i < 12; i++) {
      const candidates = (await store.listNodes()).map((n) => ({ ...n, load: effectiveLoad(n) }));
      const [first, second] = twin.order(candidates, { callId: `p${i}` });
      expect(first.load).toBeLessThanOrEqual(second.load);
      picks.push(first.nodeId);
      expect(await nodeOf(`p${i}`)).toBe(first.nodeId);
    }
    expect(new Set(picks).size).toBeGreaterThan(1);
  });

  it('weighted: weights 1 and 3 → the heavy node takes 65–85% of 400 calls', async () => {
    await boot({ RTP_SELECTION_STRATEGY: 'weighted' });
    await register('light', nodes[0].url, { weight: 1 });
    await register('heavy', nodes[1].url, { weight: 3 });
    await runConcurrent(400, 10, (i) => prepare(`w-${i}`).expect(201));
    const share = nodes[1].legs.size / 400;
    expect(nodes[0].legs.size + nodes[1].legs.size).toBe(400);
    expect(share).toBeGreaterThanOrEqual(0.65);
    expect(share).toBeLessThanOrEqual(0.85);
  });

  describe('region preference', () => {
    beforeEach(async () => {
      await boot({ RTP_CONTROL_TIMEOUT_MS: '500' });
      await register('eu-1', nodes[0].url, { region: 'eu', active_legs: 20 });
      await register('eu-2', nodes[1].url, { region: 'eu', active_legs: 30 });
      await register('us-1', nodes[2].url, { region: 'us', active_legs: 0 });
      await register('none', nodes[3].url, { active_legs: 5 });
    });

    it('nodes of the asked region first, in the strategy\'s order; no region → plain order', async () => {
      expect(await nodeOf('r1', { region: 'eu' })).toBe('eu-1');
      expect(await nodeOf('r2', { region: 'us' })).toBe('us-1');
      expect(await nodeOf('r3')).toBe('us-1');
      const order = (await t.get(PoolService).candidates('x', { region: 'eu' })).map((c) => c.nodeId);
      expect(order).toEqual(['eu-1', 'eu-2', 'us-1', 'none']);
    });

    it('falls back to the other nodes when the region\'s nodes fail, are full or drain, or the region is unknown', async () => {
      nodes[0].mode = 'fail500';
      expect(await nodeOf('f1', { region: 'eu' })).toBe('eu-2'); // failover stays in the region first
      nodes[1].mode = 'fail500';
      expect(await nodeOf('f2', { region: 'eu' })).toBe('us-1'); // both eu circuits open → the rest
      await register('eu-1', nodes[0].url, { region: 'eu', draining: true });
      await register('eu-2', nodes[1].url, { region: 'eu', capacity: 1, active_legs: 1 });
      expect(await nodeOf('f3', { region: 'eu' })).toBe('us-1');
      expect(await nodeOf('f4', { region: 'mars' })).toBe('us-1');
    });

    it('a region in the body is validated: not a string or too long → 400, no state', async () => {
      expect((await prepare('bad', { region: 7 }).expect(400)).body.error).toMatch(/region/);
      expect((await prepare('bad', { region: 'x'.repeat(65) }).expect(400)).body.error).toMatch(/region/);
      await http.get('/v1/calls/bad').expect(404);
    });
  });
});
