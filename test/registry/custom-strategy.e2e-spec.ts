import { Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
// Package-root and rtp-pool/testing imports only, exactly as a user's test would have them.
import { CallsModule, configureApp, PoolModule, PoolService, RegistryModule, SELECTION_STRATEGY } from 'rtp-pool';
import { createTestingPool, type FakeMediaNode, startFakeNodes } from 'rtp-pool/testing';
import { CANARY_SUFFIX, CanaryStrategy } from '../../examples/canary.strategy';
import { createTestApp } from '../support/test-app';

/** Provides the canary suffix to the strategy, as a user's config module would. */
@Module({ providers: [{ provide: CANARY_SUFFIX, useValue: '@gamma' }], exports: [CANARY_SUFFIX] })
class CanaryConfigModule {}

/** The README's custom strategy, plugged in both documented ways, is the one used. */
describe('custom SelectionStrategy (e2e)', () => {
  let nodes: FakeMediaNode[];
  beforeAll(async () => {
    nodes = await startFakeNodes(2);
  });
  afterAll(() => Promise.all(nodes.map((n) => n.stop())));

  const placeOn = async (pool: PoolService, callId: string) => (await pool.prepare(callId, 'v=0')).node_id;

  it('given to PoolModule.forRoot in a user\'s own app (package-root imports only)', async () => {
    @Module({ imports: [PoolModule.forRoot({ strategy: CanaryStrategy }), RegistryModule, CallsModule] })
    class UserAppModule {}
    const m = await Test.createTestingModule({ imports: [UserAppModule] }).compile();
    const app = configureApp(m.createNestApplication({ logger: false }));
    await app.init();
    try {
      const http = request(app.getHttpServer());
      expect(app.get(SELECTION_STRATEGY)).toBeInstanceOf(CanaryStrategy);
      // The canary node is idle and first by id: least-loaded alone would pick it for every call.
      await http.post('/v1/nodes/register').send({ node_id: 'a-canary', control_url: nodes[0].url, region: 'canary' }).expect(200);
      await http.post('/v1/nodes/register').send({ node_id: 'b-main', control_url: nodes[1].url, active_legs: 50 }).expect(200);
      const pool = app.get(PoolService);
      expect(await placeOn(pool, 'call-1@example.org')).toBe('b-main');
      expect(await placeOn(pool, 'call-2@canary.test')).toBe('a-canary');
      expect((await http.post('/v1/calls').send({ call_id: 'call-3@example.org', offer_sdp: 'v=0' }).expect(201)).body.node_id).toBe('b-main');
    } finally {
      await app.close();
    }
  });

  it('given to createTestingPool (rtp-pool/testing), with its own provider injected by DI', async () => {
    const t = await createTestingPool({
      pool: { strategy: CanaryStrategy, imports: [CanaryConfigModule] },
    });
    try {
      expect(t.get(SELECTION_STRATEGY)).toBeInstanceOf(CanaryStrategy);
      await t.pool.register({ nodeId: 'a-canary', controlUrl: nodes[0].url, region: 'canary' });
      await t.pool.register({ nodeId: 'b-main', controlUrl: nodes[1].url, activeLegs: 50 });
      expect(await placeOn(t.pool, 'call-4@example.org')).toBe('b-main');
      expect(await placeOn(t.pool, 'call-5@gamma')).toBe('a-canary');
      expect(await placeOn(t.pool, 'call-6@canary.test')).toBe('b-main'); // the suffix came from DI
    } finally {
      await t.close();
    }
  });

  it('given with overrideProvider(SELECTION_STRATEGY) on the service\'s AppModule', async () => {
    const t = await createTestApp({ customize: (b) => b.overrideProvider(SELECTION_STRATEGY).useValue(new CanaryStrategy('@beta')) });
    try {
      const http = request(t.app.getHttpServer());
      await http.post('/v1/nodes/register').send({ node_id: 'a-canary', control_url: nodes[0].url, region: 'canary' }).expect(200);
      await http.post('/v1/nodes/register').send({ node_id: 'b-main', control_url: nodes[1].url, active_legs: 50 }).expect(200);
      expect((await http.post('/v1/calls').send({ call_id: 'x@example.org', offer_sdp: 'v=0' }).expect(201)).body.node_id).toBe('b-main');
      expect((await http.post('/v1/calls').send({ call_id: 'y@beta', offer_sdp: 'v=0' }).expect(201)).body.node_id).toBe('a-canary');
    } finally {
      await t.close();
    }
  });
});
