import request from 'supertest';
import { type FakeMediaNode, startFakeNodes } from '../../src/testing/fake-media-node';
import { createTestApp, type TestApp, type TestAppOptions } from './test-app';

/** The short offer most suites send. */
export const OFFER = 'v=0\r\nm=audio 5004 RTP/AVP 0\r\n';

export interface E2eFixtureOptions {
  /** Fake media nodes started before each test (stopped after it). @default 0 */
  nodes?: number;
  /** Boot the app before each test with these options; without it, the test calls `boot()`. */
  app?: TestAppOptions;
  /** The offer `prepare()` sends. @default {@link OFFER} */
  offer?: string;
}

/**
 * The boot / register / prepare hooks every e2e suite used to copy. Call it at the top of
 * a `describe`: it adds the beforeEach/afterEach hooks. The objects it hands out are stable
 * for the whole suite (`nodes` is refilled, `t` and `http` follow the app of the running
 * test), so a suite can destructure them once.
 */
export interface E2eFixture {
  /** This test's fake nodes. */
  readonly nodes: FakeMediaNode[];
  /** This test's app (throws when no app is booted). */
  readonly t: TestApp;
  /** supertest on this test's app. */
  readonly http: ReturnType<typeof request>;
  /** Boots an app for this test, closing the one booted before in this test, if any. */
  boot(opts?: TestAppOptions): Promise<TestApp>;
  /** POST /v1/nodes/register, expecting 200. */
  register(id: string, url: string, extra?: object): request.Test;
  /** POST /v1/calls with the fixture's offer. */
  prepare(callId: string, body?: object): request.Test;
}

export function useE2eFixture(opts: E2eFixtureOptions = {}): E2eFixture {
  const nodes: FakeMediaNode[] = [];
  let current: TestApp | undefined;
  const app = (): TestApp => {
    if (!current) throw new Error('no app booted in this test: call boot() first');
    return current;
  };
  // Forwarders, so that `const { t, http } = useE2eFixture()` stays valid across tests.
  const t: TestApp = {
    get app() { return app().app; },
    get config() { return app().config; },
    get url() { return app().url; },
    get: (token) => app().get(token),
    close: () => app().close(),
  };
  const http = new Proxy({} as ReturnType<typeof request>, {
    get: (_target, key) => Reflect.get(request(app().app.getHttpServer()), key),
  });
  const boot = async (o: TestAppOptions = {}) => {
    await current?.close();
    current = await createTestApp(o);
    return t;
  };

  beforeEach(async () => {
    if (opts.nodes) nodes.push(...(await startFakeNodes(opts.nodes)));
    if (opts.app) await boot(opts.app);
  });
  afterEach(async () => {
    // Only this test's app and nodes: each is closed once, and the next test starts clean.
    const last = current;
    current = undefined;
    await last?.close();
    await Promise.all(nodes.splice(0).map((n) => n.stop().catch(() => undefined)));
  });

  const offer = opts.offer ?? OFFER;
  return {
    nodes, t, http, boot,
    register: (id, url, extra = {}) => http.post('/v1/nodes/register').send({ node_id: id, control_url: url, ...extra }).expect(200),
    prepare: (callId, body = {}) => http.post('/v1/calls').send({ call_id: callId, offer_sdp: offer, ...body }),
  };
}
