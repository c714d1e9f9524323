import { Inject, Injectable, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { type FakeMediaNode, startFakeNodes } from '../../../test/support/fake-media-node';
import { waitFor } from '../../../test/support/live';
import { createTestingPool, TESTING_POOL_OPTIONS, type TestingPool } from '../../testing/testing-pool';
import { PoolModule } from '../pool.module';
import { PoolService } from '../pool.service';
import type { ControlCallError } from '../../node-client/control-call.error';
import { CircuitBreaker } from '../health/circuit-breaker';
import type { NodeState } from '../core/pool.types';
import { NodeRegistry } from '../registry/node-registry';
import { NodeLegs } from './node-legs';

/**
 * One rule for what a leg call's outcome does to the node's circuit, whichever path sent it
 * (all go through NodeLegs): a failure that counts against the node (here a 500) opens it;
 * an answer that does not (a refusal, a status off the contract) closes it, as a success does.
 * Real HTTP fake nodes; the circuit's clock is the pool's manual clock.
 */
describe('NodeLegs: one circuit rule on every path', () => {
  let t: TestingPool;
  let nodes: FakeMediaNode[];
  let cb: CircuitBreaker;
  const offer = 'v=0\r\nm=audio 5004 RTP/AVP 0\r\n';
  const add = (i: number) => t.get<NodeRegistry>(NodeRegistry).register({ nodeId: `n${i}`, controlUrl: nodes[i].url });
  /** Opens n0's circuit as an earlier failure would. */
  const trip = () => cb.recordFailure('n0', 'an earlier failure');

  beforeEach(async () => {
    nodes = await startFakeNodes(2);
    t = await createTestingPool({ pool: { circuitResetMs: 1_000 } });
    cb = t.get(CircuitBreaker);
    await add(0);
  });
  afterEach(async () => {
    await t.close();
    await Promise.all(nodes.map((n) => n.stop().catch(() => undefined)));
  });

  it('prepare (the failover walk): a 500 opens, a refusal of the half-open trial closes', async () => {
    nodes[0].mode = 'fail500';
    await expect(t.pool.prepare('p1', offer)).rejects.toMatchObject({ code: 'RTP_NODE_FAILED' });
    expect(cb.state('n0')).toBe('open');
    t.clock.advance(1_001); // one half-open trial is due
    nodes[0].mode = 'refuse';
    await expect(t.pool.prepare('p2', offer)).rejects.toMatchObject({ code: 'RTP_OFFER_REFUSED' });
    expect(cb.state('n0')).toBe('closed');
  });

  it('start: a 500 opens, an answer off the contract closes', async () => {
    await t.pool.prepare('s1', offer);
    nodes[0].mode = 'fail500';
    await expect(t.pool.start('s1')).rejects.toMatchObject({ code: 'RTP_NODE_FAILED' });
    expect(cb.state('n0')).toBe('open');
    nodes[0].mode = 'wrongstatus'; // 204 to a start
    await expect(t.pool.start('s1')).rejects.toMatchObject({ code: 'RTP_NODE_FAILED' });
    expect(cb.state('n0')).toBe('closed');
  });

  it('delete (a BYE): a 500 opens, an answer off the contract closes', async () => {
    await t.pool.prepare('d1', offer);
    await t.pool.prepare('d2', offer);
    nodes[0].mode = 'fail500';
    await expect(t.pool.delete('d1')).rejects.toMatchObject({ code: 'RTP_NODE_FAILED' });
    expect(cb.state('n0')).toBe('open');
    nodes[0].mode = 'wrongstatus'; // 202 to a delete
    await expect(t.pool.delete('d2')).rejects.toMatchObject({ code: 'RTP_NODE_FAILED' });
    expect(cb.state('n0')).toBe('closed');
  });

  it('migrate (the old leg\'s DELETE): an answer off the contract closes, a 500 opens', async () => {
    await t.pool.prepare('m1', offer);
    await t.pool.prepare('m2', offer);
    await add(1);
    trip();
    nodes[0].mode = 'wrongstatus';
    expect(await t.pool.migrate('m1', offer)).toMatchObject({ node_id: 'n1', previous_node_id: 'n0' });
    await waitFor(() => cb.state('n0') === 'closed');
    nodes[0].mode = 'fail500';
    expect(await t.pool.migrate('m2', offer)).toMatchObject({ node_id: 'n1' });
    await waitFor(() => cb.state('n0') === 'open');
  });

  it('migrate (the new leg\'s walk): a 500 opens, like a prepare\'s', async () => {
    await t.pool.prepare('w1', offer);
    await add(1);
    nodes[1].mode = 'fail500';
    await expect(t.pool.migrate('w1', offer)).rejects.toMatchObject({ code: 'RTP_NODE_FAILED' });
    expect(cb.state('n1')).toBe('open');
  });
});

/** A subclass provided in place of NodeLegs sees every path's outcomes through its hooks. */
describe('NodeLegs: overridden hooks', () => {
  const seen: string[] = [];
  class CountingLegs extends NodeLegs {
    protected override onNodeSuccess(node: Readonly<NodeState>): void {
      seen.push(`ok ${node.nodeId}`);
      super.onNodeSuccess(node);
    }
    protected override onNodeFailure(node: Readonly<NodeState>, error: ControlCallError): void {
      seen.push(`${error.kind} ${node.nodeId}`);
      super.onNodeFailure(node, error);
    }
  }
  let t: TestingPool;
  let nodes: FakeMediaNode[];

  beforeEach(async () => {
    nodes = await startFakeNodes(2);
    t = await createTestingPool({ customize: (b) => b.overrideProvider(NodeLegs).useClass(CountingLegs) });
  });
  afterEach(async () => {
    await t.close();
    await Promise.all(nodes.map((n) => n.stop().catch(() => undefined)));
  });

  it('prepare, start, migrate (new leg and old leg) and delete each report once', async () => {
    const offer = 'v=0';
    await t.get<NodeRegistry>(NodeRegistry).register({ nodeId: 'n0', controlUrl: nodes[0].url });
    await t.pool.prepare('h1', offer);
    await t.pool.start('h1');
    await t.get<NodeRegistry>(NodeRegistry).register({ nodeId: 'n1', controlUrl: nodes[1].url });
    nodes[0].mode = 'fail500';
    await t.pool.migrate('h1', offer);
    await waitFor(() => seen.length === 4);
    await t.pool.delete('h1');
    expect(seen).toEqual(['ok n0', 'ok n0', 'ok n1', 'server n0', 'ok n1']);
    expect(t.get<CircuitBreaker>(CircuitBreaker).state('n0')).toBe('open');
  });
});

/**
 * A subclass given to PoolModule (`nodeLegs`) is built by DI in NodeLegs' place, with a
 * dependency of its own from the options' `imports`, and sees a prepare through its hooks.
 */
describe('NodeLegs: a subclass given to PoolModule', () => {
  @Injectable()
  class Tally {
    readonly seen: string[] = [];
  }
  @Module({ providers: [Tally], exports: [Tally] })
  class TallyModule {}
  @Injectable()
  class TallyingLegs extends NodeLegs {
    @Inject(Tally) private readonly tally!: Tally;
    protected override onNodeSuccess(node: Readonly<NodeState>): void {
      this.tally.seen.push(`ok ${node.nodeId}`);
      super.onNodeSuccess(node);
    }
    protected override onNodeFailure(node: Readonly<NodeState>, error: ControlCallError): void {
      this.tally.seen.push(`${error.kind} ${node.nodeId}`);
      super.onNodeFailure(node, error);
    }
  }
  let nodes: FakeMediaNode[];
  let m: TestingModule | undefined;

  beforeEach(async () => {
    nodes = await startFakeNodes(1);
  });
  afterEach(async () => {
    await m?.close();
    m = undefined;
    await Promise.all(nodes.map((n) => n.stop().catch(() => undefined)));
  });

  /** Registers the fake node, prepares one call that succeeds and one the node fails, and returns what the hooks saw. */
  const prepareThrough = async (pool: unknown): Promise<string[]> => {
    m = await Test.createTestingModule({ imports: [pool as never] }).compile();
    await m.init();
    expect(m.get(NodeLegs)).toBeInstanceOf(TallyingLegs);
    const svc = m.get(PoolService);
    await m.get<NodeRegistry>(NodeRegistry).register({ nodeId: 'n0', controlUrl: nodes[0].url });
    expect(await svc.prepare('c1', 'v=0')).toMatchObject({ node_id: 'n0' });
    nodes[0].mode = 'fail500';
    await expect(svc.prepare('c2', 'v=0')).rejects.toMatchObject({ code: 'RTP_NODE_FAILED' });
    return m.get(Tally).seen;
  };

  it('forRoot({ nodeLegs })', async () => {
    const seen = await prepareThrough(PoolModule.forRoot({ ...TESTING_POOL_OPTIONS, nodeLegs: TallyingLegs, imports: [TallyModule] }));
    expect(seen).toEqual(['ok n0', 'server n0']);
  });

  it('forRootAsync: nodeLegs from the factory', async () => {
    const seen = await prepareThrough(PoolModule.forRootAsync({
      imports: [TallyModule],
      useFactory: () => ({ ...TESTING_POOL_OPTIONS, nodeLegs: TallyingLegs }),
    }));
    expect(seen).toEqual(['ok n0', 'server n0']);
  });

  it('a class that does not extend NodeLegs is refused at start-up', async () => {
    class NotLegs {}
    expect(() => PoolModule.forRoot({ nodeLegs: NotLegs as never })).toThrow('PoolModule nodeLegs: NotLegs does not extend NodeLegs');
    await expect(Test.createTestingModule({
      imports: [PoolModule.forRootAsync({ useFactory: () => ({ ...TESTING_POOL_OPTIONS, nodeLegs: NotLegs }) })],
    }).compile()).rejects.toThrow('does not extend NodeLegs');
  });
});
