import { type CallHandler, type ExecutionContext, type INestApplication, Injectable, type NestInterceptor, VersioningType } from '@nestjs/common';
import http from 'node:http';
import { type Socket, connect } from 'node:net';
import { leanLaneOf } from '../../src/http/lean/lean-lane';
import { type FakeMediaNode, startFakeNodes } from '../../src/testing/fake-media-node';
import { NestFactory } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { AppModule } from '../../src/app.module';
import { loadAppConfig } from '../../src/config/app.config';
import { configureApp } from '../../src/http/app.setup';
import { createHttpAdapter } from '../../src/http/http-adapter';
import { createTestApp, TEST_ENV, type TestApp } from '../support/test-app';

/**
 * The lean lane (src/http/lean): the heartbeat, prepare, start and delete served in front of
 * the framework must answer exactly as the framework does. Two apps side by side, one with
 * the lane and one without (RTP_HTTP_LEAN=false), get the same requests over real HTTP; status,
 * body and headers must match, and so must what the pool then holds. Runs on both adapters.
 */
interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function raw(url: string, method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer): Promise<Raw> {
  return new Promise((resolve, reject) => {
    // host/port/path given apart: a URL string would be normalised ("/v1/calls/.." → "/v1/").
    const { hostname, port } = new URL(url);
    const req = http.request({ hostname, port, path, method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Headers that differ between any two answers (time, per-request id, connection handling). */
const VOLATILE = new Set(['date', 'x-request-id', 'connection', 'keep-alive']);
function comparable(r: Raw): { status: number; body: string; headers: Record<string, unknown> } {
  const headers: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(r.headers)) if (!VOLATILE.has(k)) headers[k] = v;
  return { status: r.status, body: r.body, headers };
}

const offer = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 5004 RTP/AVP 0\r\n';
const json = { 'content-type': 'application/json' };
const registryAuth = { authorization: 'Bearer reg-secret' };
const apiAuth = { authorization: 'Bearer api-secret' };

describe('lean lane (e2e)', () => {
  let nodes: FakeMediaNode[];
  let lean: TestApp;
  let full: TestApp;
  const env = { RTP_REGISTRY_TOKEN: 'reg-secret', RTP_API_TOKEN: 'api-secret' };

  beforeAll(async () => {
    nodes = await startFakeNodes(2, 'lean');
  });
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
  });
  beforeEach(async () => {
    [lean, full] = await Promise.all([
      createTestApp({ env, listen: true }),
      createTestApp({ env: { ...env, RTP_HTTP_LEAN: 'false' }, listen: true }),
    ]);
  });
  afterEach(async () => {
    await Promise.all([lean.close(), full.close()]);
    for (const n of nodes) {
      n.legs.clear();
      n.requests.length = 0;
    }
  });

  /** The same request to both apps: the answers must match; returns the lean one. */
  async function same(method: string, path: string, headers: Record<string, string> = {}, body?: string | Buffer): Promise<Raw> {
    const [a, b] = await Promise.all([raw(lean.url, method, path, headers, body), raw(full.url, method, path, headers, body)]);
    expect({ req: `${method} ${path}`, ...comparable(a) }).toEqual({ req: `${method} ${path}`, ...comparable(b) });
    return a;
  }

  const heartbeat = (id: string, url: string, extra: Record<string, unknown> = {}) => JSON.stringify({ node_id: id, control_url: url, media_ip: '127.0.0.1', active_legs: 0, ...extra });

  it('serves the four hot routes itself (the full app serves none), with the full path\'s answers', async () => {
    const hb = await same('POST', '/v1/nodes/register', { ...json, ...registryAuth }, heartbeat('n1', nodes[0].url));
    expect(hb.status).toBe(200);
    expect(hb.headers['content-security-policy']).toContain("default-src 'self'");
    expect(hb.headers['x-content-type-options']).toBe('nosniff');
    expect(hb.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(hb.headers['x-request-id']).toEqual(expect.any(String));
    // A prepare: both apps bind the call on node 1 (each its own pool; node 1 holds two legs, one per app).
    const [a, b] = await Promise.all([
      raw(lean.url, 'POST', '/v1/calls', { ...json, ...apiAuth }, JSON.stringify({ call_id: 'c-lean', offer_sdp: offer })),
      raw(full.url, 'POST', '/v1/calls', { ...json, ...apiAuth }, JSON.stringify({ call_id: 'c-full', offer_sdp: offer })),
    ]);
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(Object.keys(JSON.parse(a.body)).sort()).toEqual(Object.keys(JSON.parse(b.body)).sort());
    expect(JSON.parse(a.body)).toMatchObject({ call_id: 'c-lean', node_id: 'n1', control_url: nodes[0].url, codec: 'PCMU' });
    expect(comparable(a).headers).toEqual({ ...comparable(b).headers, 'content-length': a.headers['content-length'] });
    expect((await raw(lean.url, 'POST', '/v1/calls/c%2Dlean/start', apiAuth)).status).toBe(200);
    expect(nodes[0].legs.get('c-lean')?.started).toBe(true);
    expect((await raw(lean.url, 'DELETE', '/v1/calls/c-lean', apiAuth)).status).toBe(204);
    expect((await raw(full.url, 'DELETE', '/v1/calls/c-full', apiAuth)).status).toBe(204);
    // Converged: the node holds no leg of either app, neither pool binds a call.
    expect([...nodes[0].legs.keys()]).toEqual([]);
    for (const t of [lean, full]) expect(JSON.parse((await raw(t.url, 'GET', '/v1/calls', apiAuth)).body).calls).toEqual([]);
    expect(leanLaneOf(lean.app)!.stats()).toEqual({
      on: true, reason: '',
      served: { 'POST /v1/nodes/register': 1, 'POST /v1/calls': 1, 'POST /v1/calls/{call_id}/start': 1, 'DELETE /v1/calls/{call_id}': 1 },
    });
    // A sane X-Request-Id from the caller comes back, on the lane as on the full path; an unusable one is replaced.
    for (const url of [lean.url, full.url]) {
      const given = await raw(url, 'POST', '/v1/nodes/register', { ...json, ...registryAuth, 'x-request-id': 'proxy-7f3a' }, heartbeat('n1', nodes[0].url));
      expect([given.status, given.headers['x-request-id']]).toEqual([200, 'proxy-7f3a']);
      const bad = await raw(url, 'POST', '/v1/calls/nope/start', { ...apiAuth, 'x-request-id': 'a b' });
      expect([bad.status, bad.headers['x-request-id']]).toEqual([404, expect.stringMatching(/^[0-9a-f-]{36}$/)]);
    }
    expect(leanLaneOf(lean.app)!.stats().served).toMatchObject({ 'POST /v1/nodes/register': 2, 'POST /v1/calls/{call_id}/start': 2 });
    expect(leanLaneOf(full.app)).toBeUndefined();
  });

  it('refuses bad heartbeats exactly as the full path does, and keeps no node of them', async () => {
    const auth = { ...json, ...registryAuth };
    const cases: Array<[Record<string, string>, string | Buffer]> = [
      [auth, heartbeat('n1', nodes[0].url, { extra: 1 })],
      [auth, heartbeat('n1', nodes[0].url, { active_legs: -1 })],
      [auth, heartbeat('', nodes[0].url)],
      [auth, heartbeat('n1', 'ftp://127.0.0.1:1')],
      [auth, heartbeat('n1', 'http://0.0.0.0:8080')],
      [auth, '{"node_id": "n1", "node_id": "n2"}'],
      [auth, '{"node_id": '],
      [auth, '"just a string"'],
      [auth, 'null'],
      [auth, '[1, 2]'],
      [auth, '{"__proto__": {"x": 1}}'],
      [auth, '{"a":'.repeat(40) + '1' + '}'.repeat(40)],
      [auth, JSON.stringify(Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`k${i}`, i])))],
      [auth, Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])],
      [{ ...json }, heartbeat('n1', nodes[0].url)],
      [{ ...json, authorization: 'Bearer wrong' }, heartbeat('n1', nodes[0].url)],
      [{ ...json, authorization: 'Basic abc' }, heartbeat('n1', nodes[0].url)],
      [{ ...auth, 'content-type': 'application/json; charset=utf-8' }, heartbeat('n1', nodes[0].url, { weight: 0 })],
    ];
    for (const [headers, body] of cases) {
      const r = await same('POST', '/v1/nodes/register', headers, body);
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
      expect(JSON.parse(r.body)).toEqual({ error: expect.any(String) });
    }
    for (const t of [lean, full]) expect(JSON.parse((await raw(t.url, 'GET', '/v1/nodes', apiAuth)).body).nodes).toEqual([]);
    // Every one of these was the lane's to judge (the full path's twins are the reference).
    expect(leanLaneOf(lean.app)!.stats().served['POST /v1/nodes/register']).toBe(cases.length);
  });

  it('leaves what it does not take to the framework, with the same answers', async () => {
    const auth = { ...json, ...registryAuth };
    const hb = heartbeat('n1', nodes[0].url);
    await same('POST', '/v1/nodes/register?x=1', auth, hb);
    await same('POST', '/v1/nodes/register/', auth, hb);
    await same('POST', '/V1/NODES/REGISTER', auth, hb);
    await same('POST', '/v1/nodes/register', { ...auth, 'content-type': 'text/plain' }, hb);
    await same('POST', '/v1/nodes/register', { ...auth, 'content-type': 'application/json; charset=latin1' }, hb);
    await same('POST', '/v1/nodes/register', { ...registryAuth, 'content-type': 'application/vnd.rtp+json' }, hb);
    await same('POST', '/v1/nodes/register', { ...auth, 'content-length': '0' });
    await same('POST', '/v1/calls/a%E0%A4%A/start', apiAuth);
    await same('POST', '/v1/calls/c1/start', { ...apiAuth, ...json }, '{"x":1}');
    await same('DELETE', '/v1/calls/a"b', apiAuth);
    await same('DELETE', '/v1/calls/', apiAuth);
    expect(leanLaneOf(lean.app)!.stats().served).toEqual({
      'POST /v1/nodes/register': 0, 'POST /v1/calls': 0, 'POST /v1/calls/{call_id}/start': 0, 'DELETE /v1/calls/{call_id}': 0,
    });
  });

  it('answers calls errors as the full path does: no node, unknown call, bad call id, missing token', async () => {
    await same('POST', '/v1/calls', { ...json, ...apiAuth }, JSON.stringify({ call_id: 'c1', offer_sdp: offer }));
    await same('POST', '/v1/calls', { ...json, ...apiAuth }, JSON.stringify({ call_id: 'c1' }));
    await same('POST', '/v1/calls', { ...json }, JSON.stringify({ call_id: 'c1', offer_sdp: offer }));
    await same('POST', '/v1/calls/nope/start', apiAuth);
    await same('DELETE', '/v1/calls/nope', apiAuth);
    await same('DELETE', '/v1/calls/..', apiAuth);
    await same('DELETE', '/v1/calls/%2E%2E', apiAuth);
    await same('POST', '/v1/calls/nope/start');
    await same('POST', '/v1/calls/a%40b/start', apiAuth);
    await same('DELETE', '/v1/calls/a%2Fb', apiAuth);
    expect(Object.values(leanLaneOf(lean.app)!.stats().served).reduce((s, n) => s + n, 0)).toBe(10);
  });

  it('runs pipelined requests on one connection in the order sent', async () => {
    for (const t of [lean, full]) {
      expect((await raw(t.url, 'POST', '/v1/nodes/register', { ...json, ...registryAuth }, heartbeat('n2', nodes[1].url))).status).toBe(200);
    }
    const body = JSON.stringify({ call_id: 'p1', offer_sdp: offer });
    const pipelined = `POST /v1/calls HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer api-secret\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
      + 'POST /v1/calls/p1/start HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer api-secret\r\n\r\n'
      + 'DELETE /v1/calls/p1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer api-secret\r\nConnection: close\r\n\r\n';
    const { port } = new URL(lean.url);
    const socket: Socket = connect(Number(port), '127.0.0.1');
    const text = await new Promise<string>((resolve, reject) => {
      let out = '';
      socket.on('data', (c) => (out += c.toString('latin1')));
      socket.on('end', () => resolve(out));
      socket.on('error', reject);
      socket.write(pipelined);
    });
    expect([...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => m[1])).toEqual(['201', '200', '204']);
    expect(nodes[1].legs.has('p1')).toBe(false);
    expect(nodes[1].count('delete')).toBe(1);
    expect(JSON.parse((await raw(lean.url, 'GET', '/v1/calls', apiAuth)).body).calls).toEqual([]);
  });

  it('a client that leaves mid-body changes nothing and the app keeps serving', async () => {
    const { port } = new URL(lean.url);
    const socket = connect(Number(port), '127.0.0.1');
    await new Promise<void>((resolve) => socket.on('connect', resolve));
    socket.write('POST /v1/nodes/register HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer reg-secret\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"node_id":"gone"');
    await new Promise((r) => setTimeout(r, 50));
    socket.destroy();
    await new Promise((r) => setTimeout(r, 50));
    expect((await raw(lean.url, 'POST', '/v1/nodes/register', { ...json, ...registryAuth }, heartbeat('n1', nodes[0].url))).status).toBe(200);
    expect(JSON.parse((await raw(lean.url, 'GET', '/v1/nodes', apiAuth)).body).nodes.map((n: { node_id: string }) => n.node_id)).toEqual(['n1']);
  });
});

@Injectable()
class TagInterceptor implements NestInterceptor {
  intercept(_: ExecutionContext, next: CallHandler) {
    return next.handle();
  }
}

describe('lean lane: off when the app has what it would skip (e2e)', () => {
  it('stays off with rate limiting on, and the full path serves (429 after the limit)', async () => {
    const t = await createTestApp({ env: { RTP_RATE_LIMIT: '2' }, listen: true });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 3; i++) statuses.push((await raw(t.url, 'DELETE', '/v1/calls/x')).status);
      expect(statuses).toEqual([404, 404, 429]);
      const stats = leanLaneOf(t.app)!.stats();
      expect(stats.on).toBe(false);
      expect(stats.reason).toMatch(/RateLimitGuard/);
      expect(stats.served['DELETE /v1/calls/{call_id}']).toBeUndefined();
    } finally {
      await t.close();
    }
  });

  it('works on an app made by NestFactory.create (a proxy of the app), as main.ts makes it', async () => {
    const config = loadAppConfig({ ...TEST_ENV, RTP_HTTP_ADAPTER: process.env.RTP_TEST_ADAPTER ?? 'express' });
    const app = await NestFactory.create(AppModule.forRoot(config), createHttpAdapter(config.httpAdapter, { maxBodyBytes: config.maxBodyBytes }), { logger: ['error'] });
    configureApp(app, { maxBodyBytes: config.maxBodyBytes, lean: config.httpLean });
    await app.listen(0, '127.0.0.1');
    try {
      const url = (await app.getUrl()).replace('[::1]', '127.0.0.1').replace('localhost', '127.0.0.1');
      expect((await raw(url, 'DELETE', '/v1/calls/x')).status).toBe(404);
      expect(leanLaneOf(app)!.stats()).toMatchObject({ on: true, served: { 'DELETE /v1/calls/{call_id}': 1 } });
    } finally {
      await app.close();
    }
  });

  it('with RTP_HTTP_LEAN=false, middleware added with app.use() runs on the hot routes', async () => {
    const config = loadAppConfig({ ...TEST_ENV, RTP_HTTP_LEAN: 'false', RTP_HTTP_ADAPTER: process.env.RTP_TEST_ADAPTER ?? 'express' });
    const m = await Test.createTestingModule({ imports: [AppModule.forRoot(config)] }).compile();
    const app = m.createNestApplication(createHttpAdapter(config.httpAdapter, { maxBodyBytes: config.maxBodyBytes }), { logger: ['error'] });
    configureApp(app, { maxBodyBytes: config.maxBodyBytes, lean: config.httpLean });
    app.use((_req: unknown, res: http.ServerResponse, next: () => void) => {
      res.setHeader('X-Mine', 'yes');
      next();
    });
    await app.listen(0, '127.0.0.1');
    try {
      const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
      const r = await raw(url, 'DELETE', '/v1/calls/x');
      expect([r.status, r.headers['x-mine']]).toEqual([404, 'yes']);
      expect(leanLaneOf(app)).toBeUndefined();
    } finally {
      await app.close();
    }
  });

  it('stays off with a global interceptor of the user\'s own, which then runs on the hot routes', async () => {
    let seen = 0;
    class Counting extends TagInterceptor {
      override intercept(c: ExecutionContext, next: CallHandler) {
        seen++;
        return super.intercept(c, next);
      }
    }
    // A user's own app: configureApp, then their interceptor, then listen.
    const config = loadAppConfig({ ...TEST_ENV, RTP_HTTP_ADAPTER: process.env.RTP_TEST_ADAPTER ?? 'express' });
    const m = await Test.createTestingModule({ imports: [AppModule.forRoot(config)] }).compile();
    const app = m.createNestApplication(createHttpAdapter(config.httpAdapter, { maxBodyBytes: config.maxBodyBytes }), { logger: ['error'] });
    configureApp(app, { maxBodyBytes: config.maxBodyBytes });
    app.useGlobalInterceptors(new Counting());
    await app.listen(0, '127.0.0.1');
    try {
      const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
      expect((await raw(url, 'DELETE', '/v1/calls/x')).status).toBe(404);
      expect(seen).toBe(1);
      expect(leanLaneOf(app)!.stats()).toMatchObject({ on: false, reason: expect.stringMatching(/Counting/) });
    } finally {
      await app.close();
    }
  });
});

describe('lean lane: off, or honoured, for what a user\'s app adds (e2e)', () => {
  /** A user's own app: configureApp, then `customize`, then listen; closed after `check`. */
  async function userApp(customize: (app: INestApplication) => void, check: (url: string, app: INestApplication) => Promise<void>) {
    const config = loadAppConfig({ ...TEST_ENV, RTP_HTTP_ADAPTER: process.env.RTP_TEST_ADAPTER ?? 'express' });
    const m = await Test.createTestingModule({ imports: [AppModule.forRoot(config)] }).compile();
    const app = m.createNestApplication(createHttpAdapter(config.httpAdapter, { maxBodyBytes: config.maxBodyBytes }), { logger: ['error'] });
    configureApp(app, { maxBodyBytes: config.maxBodyBytes });
    customize(app);
    await app.listen(0, '127.0.0.1');
    try {
      await check((await app.getUrl()).replace('[::1]', '127.0.0.1'), app);
    } finally {
      await app.close();
    }
  }
  const heartbeat = JSON.stringify({ node_id: 'u1', control_url: 'http://127.0.0.1:9/', media_ip: '127.0.0.1' });

  it('CSRF protection: the lane is off and a cross-site POST is refused on the hot routes', async () => {
    await userApp((app) => app.enableCsrfProtection(), async (url, app) => {
      const cross = await raw(url, 'POST', '/v1/nodes/register', { ...json, 'sec-fetch-site': 'cross-site' }, heartbeat);
      expect(cross.status).toBe(403);
      expect((await raw(url, 'POST', '/v1/nodes/register', json, heartbeat)).status).toBe(200);
      expect(leanLaneOf(app)!.stats()).toMatchObject({ on: false, reason: 'CSRF protection is enabled', served: {} });
    });
  });

  it('a global prefix: the lane is off; the hot routes answer under the prefix only', async () => {
    await userApp((app) => app.setGlobalPrefix('api'), async (url, app) => {
      expect((await raw(url, 'DELETE', '/api/v1/calls/x')).status).toBe(404);
      expect((await raw(url, 'POST', '/api/v1/nodes/register', json, heartbeat)).status).toBe(200);
      // Outside the prefix there is no route (the framework's 404; the lane took nothing).
      expect((await raw(url, 'POST', '/v1/nodes/register', json, heartbeat)).status).toBe(404);
      expect(leanLaneOf(app)!.stats()).toMatchObject({ on: false, reason: 'a global prefix is set', served: {} });
    });
  });

  it('versioning: the lane is off and the versioned routes are the framework\'s', async () => {
    await userApp((app) => app.enableVersioning({ type: VersioningType.HEADER, header: 'X-Api-Version' }), async (url, app) => {
      expect((await raw(url, 'POST', '/v1/nodes/register', json, heartbeat)).status).toBe(200);
      expect(leanLaneOf(app)!.stats()).toMatchObject({ on: false, reason: 'versioning is enabled', served: {} });
    });
  });

  it('a private field of Nest it cannot read (renamed in another version) turns the lane off, and the full path serves', async () => {
    await userApp((app) => Object.defineProperty(app, 'enabledSecurityFeatures', { value: undefined }), async (url, app) => {
      expect((await raw(url, 'DELETE', '/v1/calls/x')).status).toBe(404);
      expect(leanLaneOf(app)!.stats()).toMatchObject({ on: false, reason: 'cannot read the app\'s security features', served: {} });
    });
  });
});
