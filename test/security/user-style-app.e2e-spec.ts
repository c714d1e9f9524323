import { Controller, type INestApplication, type LoggerService, Post, Req } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { gzipSync } from 'node:zlib';
import { CallsModule, EventsModule, PoolModule, RegistryModule, SecurityModule } from '../../src/index';
import { FakeMediaNode } from '../support/fake-media-node';

/**
 * A user's own Nest app, built from the modules alone as the README's library section does:
 * PoolModule.forRoot + RegistryModule + CallsModule (+ EventsModule), no configureApp, the
 * platform's default adapter (`new FastifyAdapter()` under the e2e-fastify project). Every
 * bad input the contract names must get the service's answer: a 4xx with exactly
 * `{"error": "…"}`, never a 5xx, and nothing stored.
 */
const ADAPTER = process.env.RTP_TEST_ADAPTER === 'fastify' ? 'fastify' : 'express';
const REG = 'reg-7c1e';
const API = 'api-90fd';

/** Collects warnings (the open-API one among them). */
class WarnLog implements LoggerService {
  readonly warnings: string[] = [];
  log(): void {}
  error(): void {}
  warn(m: unknown): void { this.warnings.push(String(m)); }
}

/** A route of the user's own, outside rtp-pool's paths: its body handling must stay the app's. */
@Controller('mine')
class MineController {
  @Post('echo')
  echo(@Req() req: { body?: unknown }): { body: unknown } {
    return { body: req.body ?? null };
  }
}

interface UserApp { app: INestApplication; url: string; warnings: string[] }

async function userApp(security?: Parameters<typeof SecurityModule.forRoot>[0]): Promise<UserApp> {
  const moduleRef = await Test.createTestingModule({
    imports: [
      PoolModule.forRoot({ pruneIntervalSec: 0, healthIntervalMs: 0, drainCheckMs: 0, reconcileIntervalSec: 0, controlTimeoutMs: 500 }),
      ...(security ? [SecurityModule.forRoot(security)] : []),
      RegistryModule, CallsModule, EventsModule,
    ],
    controllers: [MineController],
  }).compile();
  const log = new WarnLog();
  const app = ADAPTER === 'fastify' ? moduleRef.createNestApplication(new FastifyAdapter(), { logger: log }) : moduleRef.createNestApplication({ logger: log });
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return { app, url, warnings: log.warnings };
}

interface Answer { status: number; type: string; body: unknown }

async function send(u: UserApp, method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(u.url + path, { method, body, headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers } });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // left as text: the assertion below shows it
  }
  return { status: res.status, type: res.headers.get('content-type') ?? '', body: parsed };
}

function expectError(a: Answer, status: number, message?: RegExp): void {
  expect({ status: a.status, body: a.body }).toEqual({ status, body: { error: message ? expect.stringMatching(message) : expect.any(String) } });
  expect(a.type).toMatch(/^application\/json/);
}

const NODE_URL = 'http://127.0.0.1:9';
const json = (v: unknown) => JSON.stringify(v);

describe(`a user's app from the modules alone, no configureApp (${ADAPTER})`, () => {
  describe('open (no tokens)', () => {
    let u: UserApp;
    let node: FakeMediaNode;
    beforeAll(async () => {
      node = await new FakeMediaNode('u1').start();
      u = await userApp();
    });
    afterAll(async () => {
      await u?.app.close();
      await node?.stop();
    });

    /** The contract's bad inputs, each with the status the service answers. */
    const cases: Array<{ name: string; method: string; path: string; body?: string; headers?: Record<string, string>; status: number; error?: RegExp }> = [
      { name: 'register without control_url', method: 'POST', path: '/v1/nodes/register', body: json({ node_id: 'x' }), status: 400, error: /control_url/ },
      { name: 'register with a file:// control_url', method: 'POST', path: '/v1/nodes/register', body: json({ node_id: 'x', control_url: 'file:///etc/passwd' }), status: 400, error: /control_url/ },
      { name: 'register with an unknown field', method: 'POST', path: '/v1/nodes/register', body: json({ node_id: 'x', control_url: NODE_URL, evil: 1 }), status: 400, error: /evil should not exist/ },
      { name: 'register as text/plain', method: 'POST', path: '/v1/nodes/register', body: json({ node_id: 'x', control_url: NODE_URL }), headers: { 'content-type': 'text/plain' }, status: 415, error: /application\/json/ },
      { name: 'register as a form', method: 'POST', path: '/v1/nodes/register', body: 'node_id=x&control_url=http://127.0.0.1:9', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 415 },
      { name: 'register with malformed JSON', method: 'POST', path: '/v1/nodes/register', body: '{"node_id": "x",', status: 400, error: /malformed JSON/ },
      { name: 'register with a duplicate key', method: 'POST', path: '/v1/nodes/register', body: '{"node_id":"x","node_id":"y","control_url":"http://127.0.0.1:9"}', status: 400, error: /duplicate key/ },
      { name: 'register with a __proto__ key', method: 'POST', path: '/v1/nodes/register', body: '{"__proto__":{"x":1},"node_id":"x","control_url":"http://127.0.0.1:9"}', status: 400, error: /forbidden key/ },
      { name: 'register in latin1', method: 'POST', path: '/v1/nodes/register', body: json({ node_id: 'x', control_url: NODE_URL }), headers: { 'content-type': 'application/json; charset=latin1' }, status: 415 },
      { name: 'register with a JSON string body', method: 'POST', path: '/v1/nodes/register', body: '"x"', status: 400 },
      { name: 'register with a body over 256 KiB', method: 'POST', path: '/v1/nodes/register', body: json({ node_id: 'x', control_url: NODE_URL, pad: 'a'.repeat(300_000) }), status: 413, error: /too large/ },
      { name: 'register nested 40 deep', method: 'POST', path: '/v1/nodes/register', body: '['.repeat(40) + ']'.repeat(40), status: 400, error: /deeper/ },
      { name: 'prepare without offer_sdp', method: 'POST', path: '/v1/calls', body: json({ call_id: 'c1' }), status: 400, error: /offer_sdp/ },
      { name: 'prepare as text/plain', method: 'POST', path: '/v1/calls', body: json({ call_id: 'c1', offer_sdp: 'v=0' }), headers: { 'content-type': 'text/plain' }, status: 415 },
      { name: 'prepare with no body', method: 'POST', path: '/v1/calls', status: 400 },
      { name: 'prepare with no node', method: 'POST', path: '/v1/calls', body: json({ call_id: 'c1', offer_sdp: 'v=0\r\n' }), status: 503 },
      { name: 'start with a body field', method: 'POST', path: '/v1/calls/c1/start', body: json({ x: 1 }), status: 400, error: /x should not exist/ },
      { name: 'start of an unknown call', method: 'POST', path: '/v1/calls/c1/start', status: 404 },
      { name: 'get an unknown call', method: 'GET', path: '/v1/calls/c1', status: 404 },
      { name: 'list with a bad limit', method: 'GET', path: '/v1/calls?limit=abc', status: 400 },
      { name: 'drain with an unknown field', method: 'POST', path: '/v1/nodes/n1/drain', body: json({ deadline: 1 }), status: 400 },
      { name: 'drain an unknown node', method: 'POST', path: '/v1/nodes/n1/drain', status: 404 },
      { name: 'events after a bad id', method: 'GET', path: '/v1/events', headers: { 'last-event-id': 'nope' }, status: 400 },
    ];

    it.each(cases)('$name → $status {"error"}', async ({ method, path, body, headers, status, error }) => {
      expectError(await send(u, method, path, body, headers), status, error);
    });

    it('stores nothing from any of them', async () => {
      expect(await send(u, 'GET', '/v1/nodes')).toMatchObject({ status: 200, body: { nodes: [] } });
      expect(await send(u, 'GET', '/v1/calls')).toMatchObject({ status: 200, body: { calls: [] } });
    });

    it('serves the good requests: a gzip-free register, a +json prepare, start and delete reach the node', async () => {
      expect(await send(u, 'POST', '/v1/nodes/register', json({ node_id: 'u1', control_url: node.url }))).toMatchObject({ status: 200, body: { node_id: 'u1' } });
      const prepared = await send(u, 'POST', '/v1/calls', json({ call_id: 'u-c1', offer_sdp: 'v=0\r\n' }), { 'content-type': 'application/vnd.rtp+json' });
      expect(prepared).toMatchObject({ status: 201, body: { call_id: 'u-c1', node_id: 'u1' } });
      expect(await send(u, 'POST', '/v1/calls/u-c1/start')).toMatchObject({ status: 200 });
      expect((await send(u, 'DELETE', '/v1/calls/u-c1')).status).toBe(204);
      expect(node.requests.map((r) => r.method + ' ' + r.rawPath)).toEqual(expect.arrayContaining(['POST /v1/legs', 'POST /v1/legs/u-c1/start', 'DELETE /v1/legs/u-c1']));
    });

    it('inflates a gzip body and counts the limit on the inflated bytes', async () => {
      const gz = (v: unknown) => gzipSync(Buffer.from(JSON.stringify(v)));
      const post = async (body: Buffer, encoding: string) => {
        const res = await fetch(u.url + '/v1/nodes/register', { method: 'POST', body, headers: { 'content-type': 'application/json', 'content-encoding': encoding } });
        return { status: res.status, type: res.headers.get('content-type') ?? '', body: await res.json() as unknown };
      };
      expect(await post(gz({ node_id: 'gz1', control_url: node.url }), 'gzip')).toMatchObject({ status: 200, body: { node_id: 'gz1' } });
      // 1 KB on the wire, 300 KB inflated.
      expectError(await post(gz({ node_id: 'gz2', control_url: node.url, pad: ' '.repeat(300_000) }), 'gzip'), 413, /too large/);
      expectError(await post(Buffer.from('{}'), 'compress'), 415, /encoding/);
      expect((await send(u, 'GET', '/v1/nodes')).body).toMatchObject({ nodes: expect.arrayContaining([expect.objectContaining({ node_id: 'gz1' })]) });
      expect((await send(u, 'DELETE', '/v1/nodes/gz1')).status).toBe(204);
    });

    it("leaves the app's own routes to the app's own body handling", async () => {
      const a = await send(u, 'POST', '/mine/echo', 'hello', { 'content-type': 'text/plain' });
      expect(a.status).toBe(201);
      const b = await send(u, 'POST', '/mine/echo', json({ a: 1 }));
      expect(b).toMatchObject({ status: 201, body: { body: { a: 1 } } });
    });

    it('warns once that the API is open', () => {
      expect(u.warnings.filter((w) => /token: those routes are open/.test(w))).toHaveLength(1);
    });
  });

  describe('with tokens (SecurityModule.forRoot)', () => {
    let u: UserApp;
    beforeAll(async () => {
      u = await userApp({ registryToken: REG, apiToken: API, maxBodyBytes: 4096 });
    });
    afterAll(async () => {
      await u?.app.close();
    });

    it.each([
      ['POST', '/v1/nodes/register', json({ node_id: 'x', control_url: NODE_URL })],
      ['DELETE', '/v1/nodes/x', undefined],
      ['GET', '/v1/nodes', undefined],
      ['POST', '/v1/calls', json({ call_id: 'c1', offer_sdp: 'v=0\r\n' })],
      ['GET', '/v1/calls/c1', undefined],
      ['POST', '/v1/calls/c1/start', undefined],
      ['DELETE', '/v1/calls/c1', undefined],
      ['GET', '/v1/events', undefined],
    ])('%s %s without its token → 401 {"error"}', async (method, path, body) => {
      const a = await send(u, method, path, body);
      expectError(a, 401, /bearer token/);
      // The other route kind's token is no better than none.
      const registryRoute = path.startsWith('/v1/nodes') && method !== 'GET';
      const wrong = await send(u, method, path, body, { authorization: `Bearer ${registryRoute ? API : REG}` });
      expectError(wrong, 401, /invalid bearer token/);
    });

    it('refuses a body over its maxBodyBytes with 413', async () => {
      const body = json({ call_id: 'c1', offer_sdp: 'v=0\r\n' + 'a=x\r\n'.repeat(1_000) });
      expectError(await send(u, 'POST', '/v1/calls', body, { authorization: `Bearer ${API}` }), 413, /too large/);
    });

    it('accepts the right token, and does not warn', async () => {
      expect(await send(u, 'GET', '/v1/nodes', undefined, { authorization: `Bearer ${API}` })).toMatchObject({ status: 200, body: { nodes: [] } });
      expect(u.warnings.filter((w) => /open/.test(w))).toEqual([]);
    });
  });
});
