import fc from 'fast-check';
import { POOL_STORE, type PoolStore } from '../../src/pool/core/pool-store.interface';
import { expectConverged } from '../support/converged';
import { OFFER } from '../support/e2e-fixture';
import { FakeMediaNode } from '../support/fake-media-node';
import { randomPrefix, RedisChild } from '../support/redis';
import { createTestApp, type TestApp } from '../support/test-app';

type Op =
  /** `via`: which instance the request goes to (0 without it). */
  | { kind: 'prepare' | 'start' | 'delete' | 'migrate'; call: number; at: number; via?: number }
  /** A migrate with `node_id` (back to the node the call came from, or onto the one it is on: 503). */
  | { kind: 'migrateTo'; call: number; node: number; at: number; via?: number }
  /** A start and, `gap` ms later, a migrate of the same call (the start in flight while the call moves). */
  | { kind: 'startMigrate'; call: number; gap: number; at: number; via?: number }
  /** The node acts on leg DELETEs `ms` late (a migration's old-leg DELETE still pending when the call comes back). */
  | { kind: 'dlag'; node: number; ms: number; at: number }
  /** For `ms`, the node makes each prepared leg and resets the connection before its 201 (an answer lost after it acted). */
  | { kind: 'reset'; node: number; ms: number; at: number }
  /** `slow`: the node's prepares answer `ms` late (past the 500 ms timeout at 700); `lag`: all its answers. */
  | { kind: 'slow' | 'lag'; node: number; ms: number; at: number }
  | { kind: 'pause'; ms: number; at: number }
  /**
   * On n1, the node that serves `GET /v1/legs` (n2 is Go-style, without it; reconciliation cannot see its legs):
   * `lose`: the node restarts and holds no leg; `stray`: a leg of the call appears that the pool never placed.
   */
  | { kind: 'lose'; at: number }
  | { kind: 'stray'; call: number; at: number };

/**
 * CONTRACT §7 as a property: whatever interleaving of prepares (first ones and re-INVITEs),
 * starts, DELETEs and migrations (CONTRACT §5: away, back to a named node, racing a start) of a few call ids, sent to
 * one instance or spread over two, with nodes answering late (past the 500 ms control timeout) or acting on DELETEs
 * late, connections reset after a node made the leg, Redis frozen for a while, a node restarting
 * (its legs lost) and legs no one placed (left by a crashed instance), once quiet every node
 * holds a leg for a call id iff the store binds it there (reconciliation runs every second). Redis is this suite's
 * own redis-server. LEGS_PROPERTY_SEED=<n> replays a run (each run prints its seed).
 */
/**
 * Interleavings this property found, run first every time (each failed about every other run before its fix):
 * a re-INVITE queued behind a start while Redis froze, then a BYE (the prepare counted DELETEs from its turn, not its
 * arrival); a BYE whose store half was done when Redis froze before it looked up the node (no node DELETE was sent);
 * a prepare that arrived while a BYE of the same call id waited on frozen Redis (the BYE's node DELETE, sent by call id,
 * removed the new leg); a left leg (LeftLegs) deleted by call id while a later prepare of the call id made its leg on that
 * node and bound it (seed 102; rare with this interleaving, test/calls/no-leg-left-behind.e2e-spec.ts #11 makes it every time).
 */
const FOUND: Op[][] = [
  [{ kind: 'delete', call: 1, at: 376 }, { kind: 'start', call: 2, at: 110 }, { kind: 'prepare', call: 1, at: 180 },
    { kind: 'pause', ms: 294, at: 203 }, { kind: 'delete', call: 0, at: 103 }, { kind: 'start', call: 1, at: 215 },
    { kind: 'pause', ms: 402, at: 309 }, { kind: 'prepare', call: 1, at: 215 }],
  [{ kind: 'delete', call: 2, at: 395 }, { kind: 'delete', call: 1, at: 375 }, { kind: 'prepare', call: 2, at: 246 },
    { kind: 'prepare', call: 1, at: 112 }, { kind: 'pause', ms: 895, at: 396 }, { kind: 'prepare', call: 0, at: 7 },
    { kind: 'prepare', call: 2, at: 390 }, { kind: 'prepare', call: 0, at: 0 }, { kind: 'start', call: 2, at: 317 }],
  [{ kind: 'prepare', call: 1, at: 267 }, { kind: 'delete', call: 1, at: 69 }, { kind: 'delete', call: 0, at: 185 },
    { kind: 'prepare', call: 1, at: 167 }, { kind: 'pause', ms: 302, at: 110 }, { kind: 'prepare', call: 0, at: 340 },
    { kind: 'delete', call: 1, at: 195 }, { kind: 'slow', node: 1, ms: 200, at: 159 }, { kind: 'prepare', call: 2, at: 237 },
    { kind: 'prepare', call: 0, at: 24 }],
  [{ kind: 'pause', ms: 738, at: 129 }, { kind: 'pause', ms: 849, at: 145 }, { kind: 'pause', ms: 858, at: 168 },
    { kind: 'prepare', call: 0, at: 118 }, { kind: 'prepare', call: 2, at: 175 }, { kind: 'prepare', call: 0, at: 349 },
    { kind: 'delete', call: 0, at: 340 }],
];

/**
 * Found on two instances: a BYE on the instance that never saw the call, during a freeze, whose retried store half
 * overtook a new prepare's claim and lost the node the first try had cleared (seed 312; legs-redis-stall #12 makes it
 * every time). A re-INVITE timing out on the slow old node (Go-style, n2) while a migration on the other instance moved
 * the call and deleted the old leg: the node made the re-INVITE's leg afterwards, and nothing remembered it (seed 5361,
 * on Fastify; no-leg-left-behind #15 makes it every time).
 */
const FOUND_TWO: Op[][] = [
  [{ kind: 'delete', call: 0, at: 145, via: 1 }, { kind: 'pause', ms: 427, at: 261 }, { kind: 'prepare', call: 0, at: 399, via: 0 },
    { kind: 'prepare', call: 0, at: 251, via: 0 }, { kind: 'delete', call: 1, at: 1, via: 1 }, { kind: 'delete', call: 0, at: 394, via: 1 },
    { kind: 'delete', call: 1, at: 236, via: 0 }, { kind: 'start', call: 1, at: 3, via: 0 }, { kind: 'prepare', call: 0, at: 328, via: 1 }],
  [{ kind: 'migrate', call: 2, at: 236, via: 0 }, { kind: 'migrate', call: 2, at: 132, via: 1 }, { kind: 'prepare', call: 2, at: 66, via: 1 },
    { kind: 'slow', node: 1, ms: 700, at: 387 }, { kind: 'start', call: 1, at: 182, via: 0 }, { kind: 'pause', ms: 379, at: 89 },
    { kind: 'stray', call: 1, at: 338 }, { kind: 'start', call: 0, at: 366, via: 1 }, { kind: 'prepare', call: 2, at: 307, via: 0 }],
];

const op = (instances: number): fc.Arbitrary<Op> => {
  const via = fc.nat(instances - 1);
  return fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('prepare' as const), call: fc.nat(2), at: fc.nat(400), via }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('start' as const), call: fc.nat(2), at: fc.nat(400), via }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('delete' as const), call: fc.nat(2), at: fc.nat(400), via }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('migrate' as const), call: fc.nat(2), at: fc.nat(400), via }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('migrateTo' as const), call: fc.nat(2), node: fc.nat(1), at: fc.nat(400), via }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('startMigrate' as const), call: fc.nat(2), gap: fc.nat(20), at: fc.nat(400), via }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('dlag' as const), node: fc.nat(1), ms: fc.constantFrom(0, 150, 300), at: fc.nat(400) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('reset' as const), node: fc.nat(1), ms: fc.constantFrom(50, 200), at: fc.nat(400) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('slow' as const), node: fc.nat(1), ms: fc.constantFrom(0, 200, 700), at: fc.nat(400) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('lag' as const), node: fc.nat(1), ms: fc.constantFrom(0, 50, 150), at: fc.nat(400) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('pause' as const), ms: fc.integer({ min: 200, max: 900 }), at: fc.nat(400) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('lose' as const), at: fc.nat(400) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('stray' as const), call: fc.nat(2), at: fc.nat(400) }) },
  );
};

describe.each([
  { instances: 1, found: FOUND },
  { instances: 2, found: FOUND_TWO },
])('no leg left behind: random interleavings on $instances instance(s) (property)', ({ instances, found }) => {
  const redis = new RedisChild();
  const apps: TestApp[] = [];
  const nodes: FakeMediaNode[] = [];
  let run = 0;

  beforeAll(async () => {
    await redis.start();
    nodes.push(await new FakeMediaNode('n1').start(), await new FakeMediaNode('n2').start());
    nodes[0].listsLegs = true;
    // Reconciliation every second (grace 2 × 500 ms + 1 s): what a restarted node lost, or a leg no one placed, is repaired.
    const env = { RTP_STORE: 'redis', REDIS_URL: redis.url, RTP_STORE_PREFIX: randomPrefix('prop'), RTP_MAX_ATTEMPTS: '2', RTP_RECONCILE_INTERVAL_SEC: '1' };
    for (let i = 0; i < instances; i++) apps.push(await createTestApp({ env, listen: true }));
    for (const n of nodes) {
      await fetch(`${apps[0].url}/v1/nodes/register`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ node_id: n.nodeId, control_url: n.url }),
      });
    }
  });
  afterAll(async () => {
    redis.thaw();
    await Promise.all(apps.map((a) => a.close()));
    await Promise.all(nodes.map((n) => n.stop()));
    await redis.kill();
  });

  it('legs ⇔ bindings after every run', async () => {
    const seed = Number(process.env.LEGS_PROPERTY_SEED ?? Date.now() % 100_000);
    process.stdout.write(`legs property (${instances} instance(s)) seed ${seed}\n`);
    await fc.assert(fc.asyncProperty(fc.array(op(instances), { minLength: 3, maxLength: 10 }), async (ops) => {
      const tag = `r${run++}`;
      const ids = [0, 1, 2].map((i) => `${tag}-c${i}@host`);
      const send = (via: number | undefined, method: string, path: string, body?: unknown) => fetch(apps[via ?? 0].url + path, {
        method, headers: body ? { 'content-type': 'application/json' } : {}, body: body ? JSON.stringify(body) : undefined,
      }).then((r) => r.text()).catch(() => undefined);
      const enc = encodeURIComponent;
      const timers: Promise<unknown>[] = ops.map((o) => new Promise((r) => setTimeout(r, o.at)).then((): Promise<unknown> | undefined => {
        switch (o.kind) {
          case 'prepare': return send(o.via, 'POST', '/v1/calls', { call_id: ids[o.call], offer_sdp: OFFER });
          case 'start': return send(o.via, 'POST', `/v1/calls/${enc(ids[o.call])}/start`);
          case 'delete': return send(o.via, 'DELETE', `/v1/calls/${enc(ids[o.call])}`);
          case 'migrate': return send(o.via, 'POST', `/v1/calls/${enc(ids[o.call])}/migrate`, { offer_sdp: OFFER });
          case 'migrateTo':
            return send(o.via, 'POST', `/v1/calls/${enc(ids[o.call])}/migrate`, { offer_sdp: OFFER, node_id: nodes[o.node].nodeId });
          case 'startMigrate': return Promise.all([
            send(o.via, 'POST', `/v1/calls/${enc(ids[o.call])}/start`),
            new Promise((r) => setTimeout(r, o.gap)).then(() => send(o.via, 'POST', `/v1/calls/${enc(ids[o.call])}/migrate`, { offer_sdp: OFFER })),
          ]);
          case 'dlag': nodes[o.node].deleteDelayMs = o.ms; return undefined;
          case 'reset':
            nodes[o.node].mode = 'reset';
            return new Promise((r) => setTimeout(r, o.ms)).then(() => { nodes[o.node].mode = 'ok'; });
          case 'slow': nodes[o.node].prepareDelayMs = o.ms; return undefined;
          case 'lag': nodes[o.node].delayMs = o.ms; return undefined;
          case 'lose': nodes[0].legs.clear(); return undefined;
          case 'stray': nodes[0].legs.set(ids[o.call], { offer: OFFER, started: false, port: 0 }); return undefined;
          case 'pause':
            redis.freeze();
            return new Promise((r) => setTimeout(r, o.ms)).then(() => redis.thaw());
        }
      }));
      await Promise.all(timers);
      redis.thaw();
      for (const n of nodes) {
        n.prepareDelayMs = 0;
        n.delayMs = 0;
        n.deleteDelayMs = 0;
        n.mode = 'ok';
      }
      // Bound: a late leg's settle time (maxAttempts × timeout + timeout) plus retries after Redis is back,
      // or reconciliation's grace plus two rounds.
      await expectConverged(apps[0].get<PoolStore>(POOL_STORE), { n1: nodes[0], n2: nodes[1] }, ids, 10_000);
    }), { numRuns: 40, seed, endOnFailure: true, examples: found.map((ops) => [ops]) });
  }, 300_000);
});
