import { Test } from '@nestjs/testing';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { App } from 'supertest/types.js';
import { configureApp, SELECTION_STRATEGY } from 'rtp-pool';
import { type FakeMediaNode, startFakeNodes } from 'rtp-pool/testing';
import { AppModule } from './../src/app.module.js';
import { VIP_ROUTING, type VipRouting } from './../src/vip-routing.js';
import { VipStrategy } from './../src/vip.strategy.js';

// AppModule over HTTP, as main.ts serves it, with its VIP routing replaced through DI.
describe('AppModule (e2e)', () => {
  let app: INestApplication<App>;
  let nodes: FakeMediaNode[];

  beforeAll(async () => {
    nodes = await startFakeNodes(2);
  });
  afterAll(() => Promise.all(nodes.map((n) => n.stop())));

  beforeEach(async () => {
    const moduleFixture = await Test.createTestingModule({ imports: [AppModule] })
      .overrideProvider(VIP_ROUTING)
      .useValue({ callIdSuffixes: ['@gold.test'], nodeIds: ['media-gold'] } satisfies VipRouting)
      .compile();
    app = moduleFixture.createNestApplication({ logger: false });
    configureApp(app);
    await app.init();
  });
  afterEach(() => app.close());

  it('registers nodes and routes calls by the injected routing; ACK and BYE reach the node', async () => {
    const [gold, main] = nodes;
    const http = request(app.getHttpServer());
    expect(app.get(SELECTION_STRATEGY)).toBeInstanceOf(VipStrategy);
    await http.post('/v1/nodes/register').send({ node_id: 'media-gold', control_url: gold.url }).expect(200);
    await http.post('/v1/nodes/register').send({ node_id: 'media-main', control_url: main.url, active_legs: 40 }).expect(200);

    const vipCall = await http.post('/v1/calls').send({ call_id: 'x1@gold.test', offer_sdp: 'v=0' }).expect(201);
    expect(vipCall.body).toMatchObject({ call_id: 'x1@gold.test', node_id: 'media-gold', control_url: gold.url });
    const other = await http.post('/v1/calls').send({ call_id: 'x2@example.org', offer_sdp: 'v=0' }).expect(201);
    expect(other.body.node_id).toBe('media-main');

    await http.post('/v1/calls/x1@gold.test/start').expect(200);
    expect(gold.legs.get('x1@gold.test')?.started).toBe(true);
    await http.delete('/v1/calls/x1@gold.test').expect(204);
    expect(gold.legs.has('x1@gold.test')).toBe(false);
    await http.get('/v1/calls/x1@gold.test').expect(404);
  });

  it('answers bad input with 400 and an {"error"} body', async () => {
    const res = await request(app.getHttpServer()).post('/v1/nodes/register').send({ node_id: 'x' }).expect(400);
    expect(res.body).toEqual({ error: expect.any(String) });
  });
});
