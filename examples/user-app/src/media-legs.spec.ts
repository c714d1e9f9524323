import { PoolService } from 'rtp-pool';
import { createTestingPool, type FakeMediaNode, startFakeNodes, type TestingPool } from 'rtp-pool/testing';
import { MediaLegs } from './media-legs.service.js';
import { VipRoutingModule } from './vip-routing.js';
import { VipStrategy } from './vip.strategy.js';

// The pool as AppModule configures it, with rtp-pool/testing's seeded random and ManualClock,
// in front of real HTTP media nodes (FakeMediaNode) on 127.0.0.1.
describe('MediaLegs over the pool with VipStrategy', () => {
  let nodes: FakeMediaNode[];
  let vip: FakeMediaNode;
  let main: FakeMediaNode;
  let t: TestingPool;
  let legs: MediaLegs;

  beforeAll(async () => {
    nodes = await startFakeNodes(2);
    [vip, main] = nodes;
  });
  afterAll(() => Promise.all(nodes.map((n) => n.stop())));

  beforeEach(async () => {
    for (const n of nodes) {
      n.reset();
      n.mode = 'ok';
    }
    t = await createTestingPool({ pool: { strategy: VipStrategy, imports: [VipRoutingModule] }, providers: [MediaLegs] });
    legs = t.get(MediaLegs);
    // The VIP node is idle and first by id, so least-loaded alone would pick it for every call.
    await t.pool.register({ nodeId: 'media-vip', controlUrl: vip.url });
    await t.pool.register({ nodeId: 'media-main', controlUrl: main.url, activeLegs: 40 });
  });
  afterEach(() => t.close());

  it('builds the strategy with DI and places each call by it', async () => {
    expect(t.get(PoolService)).toBe(t.pool);
    expect((await legs.onInvite('a1@example.org', 'v=0')).node_id).toBe('media-main');
    expect((await legs.onInvite('a2@vip.example.com', 'v=0')).node_id).toBe('media-vip');
    expect([...main.legs.keys()]).toEqual(['a1@example.org']);
    expect([...vip.legs.keys()]).toEqual(['a2@vip.example.com']);
  });

  it('fails over to the reserved node when the other one answers 500', async () => {
    main.mode = 'fail500';
    const answer = await legs.onInvite('b1@example.org', 'v=0');
    expect(answer.node_id).toBe('media-vip');
    expect(main.count('prepare')).toBe(1);
    expect(vip.legs.has('b1@example.org')).toBe(true);
    expect((await t.pool.getCall('b1@example.org')).node_id).toBe('media-vip');
  });

  it('sends start (ACK) and delete (BYE) to the node that holds the leg', async () => {
    await legs.onInvite('c1@vip.example.com', 'v=0');
    expect(vip.legs.get('c1@vip.example.com')?.started).toBe(false);
    await legs.onAck('c1@vip.example.com');
    expect(vip.legs.get('c1@vip.example.com')?.started).toBe(true);
    await legs.onBye('c1@vip.example.com');
    expect(vip.legs.has('c1@vip.example.com')).toBe(false);
    expect([vip.count('start'), vip.count('delete'), main.count('start'), main.count('delete')]).toEqual([1, 1, 0, 0]);
  });

  it('prunes a node silent for longer than the TTL, by the ManualClock', async () => {
    t.clock.advance(30_000);
    await t.pool.register({ nodeId: 'media-main', controlUrl: main.url }); // a heartbeat: only media-vip goes silent
    t.clock.advance(20_000); // media-vip: 50 s since its last report, over the 45 s default TTL
    expect(await t.pool.prune()).toEqual(['media-vip']);
    expect((await t.pool.nodes()).map((n) => n.nodeId)).toEqual(['media-main']);
    // A VIP call now has only the other node left.
    expect((await legs.onInvite('d1@vip.example.com', 'v=0')).node_id).toBe('media-main');
  });
});
