import type { INestApplication, LoggerService } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Server } from 'node:http';
import { type AddressInfo, connect } from 'node:net';
import request from 'supertest';
import { gzipSync } from 'node:zlib';
import { AppModule } from '../../src/app.module';
import { configureApp } from '../../src/http/app.setup';
import { loadAppConfig } from '../../src/config/app.config';
import { ConfigError } from '../../src/common/env';
import { NodeControlClient } from '../../src/node-client/node-control.client';
import { FakeMediaNode } from '../support/fake-media-node';
import { RawHttp } from '../support/raw-http';
import { createTestApp, TEST_ENV, type TestApp } from '../support/test-app';

const REG = 'reg-secret-4f1a9c';
const API = 'api-secret-77b2e0';
const NODE = 'node-secret-c3d5aa';

/** Collects every log line, whatever the level. */
class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  log(...a: unknown[]) { this.lines.push(a.map(String).join(' ')); }
  error(...a: unknown[]) { this.lines.push(a.map(String).join(' ')); }
  warn(...a: unknown[]) { this.lines.push(a.map(String).join(' ')); }
  debug(...a: unknown[]) { this.lines.push(a.map(String).join(' ')); }
  verbose(...a: unknown[]) { this.lines.push(a.map(String).join(' ')); }
  fatal(...a: unknown[]) { this.lines.push(a.map(String).join(' ')); }
}

const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

function expectJsonError(res: request.Response, status: number): void {
  expect(res.status).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.body).toEqual({ error: expect.any(String) });
}

describe('security: bearer tokens (CONTRACT §3)', () => {
  let t: TestApp;
  let node: FakeMediaNode;
  const logs = new CapturingLogger();
  beforeAll(async () => {
    node = await new FakeMediaNode('n1').start();
    t = await createTestApp({ env: { RTP_REGISTRY_TOKEN: REG, RTP_API_TOKEN: API, RTP_NODE_TOKEN: NODE } });
    t.app.useLogger(logs);
  });
  afterAll(async () => {
    await t?.close();
    await node?.stop();
  });
  const http = () => request(t.app.getHttpServer());

  // Every path of the service, the token it needs, and a request that passes the guard.
  const registryPaths: Array<[string, (r: ReturnType<typeof request>) => request.Test]> = [
    ['POST /v1/nodes/register', (r) => r.post('/v1/nodes/register').send({ node_id: 'x1', control_url: 'http://127.0.0.1:9' })],
    ['DELETE /v1/nodes/{id}', (r) => r.delete('/v1/nodes/x1')],
  ];
  const apiPaths: Array<[string, (r: ReturnType<typeof request>) => request.Test]> = [
    ['GET /v1/nodes', (r) => r.get('/v1/nodes')],
    ['GET /v1/nodes/{id}', (r) => r.get('/v1/nodes/x1')],
    ['POST /v1/nodes/{id}/drain', (r) => r.post('/v1/nodes/x1/drain')],
    ['POST /v1/nodes/{id}/undrain', (r) => r.post('/v1/nodes/x1/undrain')],
    ['POST /v1/calls', (r) => r.post('/v1/calls').send({ call_id: 'c-auth', offer_sdp: 'v=0' })],
    ['GET /v1/calls/{id}', (r) => r.get('/v1/calls/c-auth')],
    ['POST /v1/calls/{id}/start', (r) => r.post('/v1/calls/c-auth/start')],
    ['DELETE /v1/calls/{id}', (r) => r.delete('/v1/calls/c-auth')],
  ];
  const wrong = (own: string, other: string): Array<[string, Record<string, string>]> => [
    ['no Authorization header', {}],
    ['an empty bearer', { authorization: 'Bearer ' }],
    ['a wrong token', bearer('nope')],
    ['the token with one character more', bearer(own + 'x')],
    ['a prefix of the token', bearer(own.slice(0, -1))],
    ['the other token', bearer(other)],
    ['the token under Basic', { authorization: `Basic ${own}` }],
    ['the token without scheme', { authorization: own }],
  ];

  it.each([
    ...registryPaths.map(([n, m]) => [n, m, REG, API] as const),
    ...apiPaths.map(([n, m]) => [n, m, API, REG] as const),
  ])('%s: 401 with WWW-Authenticate: Bearer for every wrong credential; the right one passes', async (_n, make, own, other) => {
    for (const [, headers] of wrong(own, other)) {
      const res = await make(http()).set(headers);
      expectJsonError(res, 401);
      expect(res.headers['www-authenticate']).toBe('Bearer');
      // Neither token is ever echoed.
      expect(res.text).not.toContain(own);
      expect(res.text).not.toContain(other);
    }
    const ok = await make(http()).set(bearer(own));
    expect(ok.status).not.toBe(401);
    expect(ok.headers['www-authenticate']).toBeUndefined();
  });

  it('accepts the scheme in any case and surrounding blanks ("bearer", "BEARER")', async () => {
    await http().get('/v1/nodes').set({ authorization: `bearer ${API}` }).expect(200);
    await http().get('/v1/nodes').set({ authorization: `BEARER   ${API}  ` }).expect(200);
  });

  it('401 changes nothing: a refused register registers nothing, a refused delete deletes nothing', async () => {
    await http().post('/v1/nodes/register').send({ node_id: 'n1', control_url: node.url }).expect(401);
    expect((await http().get('/v1/nodes').set(bearer(API)).expect(200)).body.nodes).toEqual([]);
    await http().post('/v1/nodes/register').set(bearer(REG)).send({ node_id: 'n1', control_url: node.url }).expect(200);
    await http().delete('/v1/nodes/n1').set(bearer(API)).expect(401);
    await http().post('/v1/calls').set(bearer(REG)).send({ call_id: 'c1', offer_sdp: 'v=0' }).expect(401);
    expect(node.count('prepare')).toBe(0);
    expect((await http().get('/v1/nodes').set(bearer(API)).expect(200)).body.nodes.map((n: { node_id: string }) => n.node_id)).toEqual(['n1']);
  });

  it('sends RTP_NODE_TOKEN to media nodes on prepare, start and delete, and not on health', async () => {
    node.requests.length = 0;
    await http().post('/v1/calls').set(bearer(API)).send({ call_id: 'tok-1', offer_sdp: 'v=0' }).expect(201);
    await http().post('/v1/calls/tok-1/start').set(bearer(API)).expect(200);
    await http().delete('/v1/calls/tok-1').set(bearer(API)).expect(204);
    await t.get(NodeControlClient).health(node.url);
    const legs = node.requests.filter((r) => r.rawPath !== '/v1/health');
    expect(legs.map((r) => r.rawPath)).toEqual(['/v1/legs', '/v1/legs/tok-1/start', '/v1/legs/tok-1']);
    for (const r of legs) expect(r.headers.authorization).toBe(`Bearer ${NODE}`);
    // The caller's own Authorization header is never forwarded to nodes.
    for (const r of node.requests) expect(r.headers.authorization ?? '').not.toContain(API);
    const health = node.requests.filter((r) => r.rawPath === '/v1/health');
    expect(health.length).toBeGreaterThan(0);
    for (const r of health) expect(r.headers.authorization).toBeUndefined();
  });

  it('never logs a token or an Authorization header, even for failures that are logged', async () => {
    node.mode = 'fail500';
    await http().post('/v1/calls').set(bearer(API)).send({ call_id: 'tok-2', offer_sdp: 'v=0' }).expect(502);
    node.mode = 'ok';
    await http().get('/v1/nodes').set(bearer('guess-' + API)).expect(401);
    await http().post('/v1/nodes/register').set(bearer(REG)).send({ node_id: 'bad id', control_url: node.url }).expect(400);
    expect(logs.lines.length).toBeGreaterThan(0); // the 502 was logged
    const all = logs.lines.join('\n');
    for (const secret of [REG, API, NODE]) expect(all).not.toContain(secret);
    expect(all.toLowerCase()).not.toContain('authorization');
  });
});

describe('security: tokens unset', () => {
  let t: TestApp;
  beforeAll(async () => { t = await createTestApp(); });
  afterAll(async () => { await t?.close(); });

  it('leaves every path open, and an Authorization header changes nothing', async () => {
    const http = request(t.app.getHttpServer());
    await http.get('/v1/nodes').expect(200);
    await http.get('/v1/nodes').set(bearer('anything')).expect(200);
    await http.post('/v1/nodes/register').send({ node_id: 'o1', control_url: 'http://127.0.0.1:9' }).expect(200);
    await http.delete('/v1/nodes/o1').set({ authorization: 'Basic x' }).expect(204);
    await http.get('/v1/calls/none').expect(404);
  });
});

describe('security: control_url rules', () => {
  let t: TestApp;
  beforeAll(async () => { t = await createTestApp(); });
  afterAll(async () => { await t?.close(); });

  it.each([
    ['ftp://127.0.0.1/', 'must use http or https'],
    ['file:///etc/passwd', 'must use http or https'],
    ['javascript:alert(1)', 'must use http or https'],
    ['gopher://127.0.0.1:70/', 'must use http or https'],
    ['http://user:pw@127.0.0.1:9', 'must not contain user-info'],
    ['http://user@127.0.0.1:9', 'must not contain user-info'],
    ['http://127.0.0.1:9/?x=1', 'must not contain a query or fragment'],
    ['http://127.0.0.1:9/?', 'must not contain a query or fragment'],
    ['http://127.0.0.1:9/#f', 'must not contain a query or fragment'],
    ['/v1/legs', 'is not an absolute URL'],
    ['127.0.0.1:9', ''],
    ['http://', 'is not an absolute URL'],
  ])('refuses %s with 400, registering nothing', async (url, why) => {
    const http = request(t.app.getHttpServer());
    const res = await http.post('/v1/nodes/register').send({ node_id: 'u1', control_url: url });
    expectJsonError(res, 400);
    expect(res.body.error).toContain('control_url');
    if (why) expect(res.body.error).toContain(why);
    expect((await http.get('/v1/nodes')).body.nodes).toEqual([]);
  });

  it('accepts at most 2,048 characters', async () => {
    const http = request(t.app.getHttpServer());
    const base = 'http://127.0.0.1:9/';
    await http.post('/v1/nodes/register').send({ node_id: 'u2', control_url: base + 'a'.repeat(2048 - base.length) }).expect(200);
    const res = await http.post('/v1/nodes/register').send({ node_id: 'u3', control_url: base + 'a'.repeat(2049 - base.length) });
    expectJsonError(res, 400);
    expect((await http.get('/v1/nodes')).body.nodes.map((n: { node_id: string }) => n.node_id)).toEqual(['u2']);
    await http.delete('/v1/nodes/u2').expect(204);
  });

  it('drops a trailing / and trims', async () => {
    const http = request(t.app.getHttpServer());
    await http.post('/v1/nodes/register').send({ node_id: 'u4', control_url: '  https://media.example:8443/rtp/  ' }).expect(200);
    expect((await http.get('/v1/nodes/u4')).body.control_url).toBe('https://media.example:8443/rtp');
    await http.delete('/v1/nodes/u4').expect(204);
  });
});

describe('security: RTP_ALLOWED_NODE_CIDRS', () => {
  let t: TestApp;
  beforeAll(async () => { t = await createTestApp({ env: { RTP_ALLOWED_NODE_CIDRS: '127.0.0.0/8, fd00::/8,192.0.2.7' } }); });
  afterAll(async () => { await t?.close(); });
  const ids = async () => (await request(t.app.getHttpServer()).get('/v1/nodes')).body.nodes.map((n: { node_id: string }) => n.node_id);

  it.each([
    'http://127.0.0.1:9', 'http://127.255.0.1:9', 'http://[fd00::1]:9', 'http://[fdff:1:2::3]:9', 'http://192.0.2.7:9',
    // The URL parser canonicalizes these to 127.0.0.1 before the check.
    'http://2130706433:9', 'http://0x7f.1:9', 'http://127.1:9',
  ])('accepts the IP host of %s', async (url) => {
    const http = request(t.app.getHttpServer());
    await http.post('/v1/nodes/register').send({ node_id: 'ip-ok', control_url: url }).expect(200);
    await http.delete('/v1/nodes/ip-ok').expect(204);
  });

  it.each([
    'http://10.0.0.1:9', 'http://192.0.2.8:9', 'http://169.254.169.254', 'http://[::1]:9', 'http://[fe80::1]:9', 'http://0.0.0.1:9',
    'http://[::ffff:10.0.0.1]:9', 'http://[::ffff:169.254.169.254]/', 'http://[fc00::1]:9',
  ])('refuses the IP host of %s with 400, registering nothing', async (url) => {
    const res = await request(t.app.getHttpServer()).post('/v1/nodes/register').send({ node_id: 'ip-bad', control_url: url });
    expectJsonError(res, 400);
    expect(res.body.error).toMatch(/outside the allowed node networks/);
    expect(await ids()).toEqual([]);
  });

  it('IPv4-mapped IPv6 inside an IPv4 block is inside', async () => {
    const http = request(t.app.getHttpServer());
    await http.post('/v1/nodes/register').send({ node_id: 'm', control_url: 'http://[::ffff:127.0.0.1]:9' }).expect(200);
    await http.delete('/v1/nodes/m').expect(204);
  });

  it('accepts a name that resolves inside (localhost → 127.0.0.1)', async () => {
    const http = request(t.app.getHttpServer());
    await http.post('/v1/nodes/register').send({ node_id: 'name-ok', control_url: 'http://localhost:9' }).expect(200);
    // A heartbeat reuses the cached answer.
    await http.post('/v1/nodes/register').send({ node_id: 'name-ok', control_url: 'http://LOCALHOST:9' }).expect(200);
    await http.delete('/v1/nodes/name-ok').expect(204);
  });

  it('refuses a name that does not resolve with 400', async () => {
    const res = await request(t.app.getHttpServer()).post('/v1/nodes/register').send({ node_id: 'name-bad', control_url: 'http://no-such-host.invalid:9' });
    expectJsonError(res, 400);
    expect(res.body.error).toMatch(/no-such-host\.invalid (does not resolve|did not resolve)/);
    expect(await ids()).toEqual([]);
  });

  it('refuses a re-registration that moves a known node outside, and keeps the node as it was', async () => {
    const http = request(t.app.getHttpServer());
    await http.post('/v1/nodes/register').send({ node_id: 'mv', control_url: 'http://127.0.0.1:9' }).expect(200);
    expectJsonError(await http.post('/v1/nodes/register').send({ node_id: 'mv', control_url: 'http://10.1.1.1:9' }), 400);
    expect((await http.get('/v1/nodes/mv')).body.control_url).toBe('http://127.0.0.1:9');
    await http.delete('/v1/nodes/mv').expect(204);
  });
});

describe('security: RTP_ALLOWED_NODE_CIDRS with names resolving outside', () => {
  let t: TestApp;
  beforeAll(async () => { t = await createTestApp({ env: { RTP_ALLOWED_NODE_CIDRS: '10.0.0.0/8' } }); });
  afterAll(async () => { await t?.close(); });

  it('refuses localhost (127.0.0.1, outside 10/8) and the loopback IP, accepts 10.x', async () => {
    const http = request(t.app.getHttpServer());
    const res = await http.post('/v1/nodes/register').send({ node_id: 'l', control_url: 'http://localhost:9' });
    expectJsonError(res, 400);
    expect(res.body.error).toMatch(/localhost resolves to 127\.0\.0\.1, outside/);
    expectJsonError(await http.post('/v1/nodes/register').send({ node_id: 'l', control_url: 'http://127.0.0.1:9' }), 400);
    await http.post('/v1/nodes/register').send({ node_id: 'l', control_url: 'http://10.9.8.7:9' }).expect(200);
    expect((await http.get('/v1/nodes')).body.nodes.map((n: { node_id: string }) => n.node_id)).toEqual(['l']);
  });
});

describe('security: configuration', () => {
  it.each(['10.0.0.0/33', 'not-an-ip', '10.0.0.0/8,fd00::/129', '10.0.0.0/x', 'localhost/8'])(
    'RTP_ALLOWED_NODE_CIDRS=%s stops start-up with a ConfigError naming the variable', (v) => {
      expect(() => loadAppConfig({ RTP_ALLOWED_NODE_CIDRS: v })).toThrow(ConfigError);
      expect(() => loadAppConfig({ RTP_ALLOWED_NODE_CIDRS: v })).toThrow(/^RTP_ALLOWED_NODE_CIDRS: /);
    });

  it.each([['RTP_RATE_LIMIT', '-1'], ['RTP_RATE_LIMIT', 'x'], ['RTP_RATE_LIMIT_WINDOW_MS', '0'], ['RTP_MAX_BODY_BYTES', '10'], ['RTP_MAX_NODES', '0']])(
    '%s=%s is refused', (name, v) => {
      expect(() => loadAppConfig({ [name]: v })).toThrow(new RegExp(`^${name}: `));
    });

  it.each(['RTP_REGISTRY_TOKEN', 'RTP_API_TOKEN', 'RTP_NODE_TOKEN'])('%s with inner whitespace (it could never match) stops start-up without echoing it', (name) => {
    let err: unknown;
    try {
      loadAppConfig({ [name]: 'sec ret-42' });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toBe(`${name}: must not contain whitespace or control characters`);
    // Surrounding blanks are trimmed, as for every variable.
    expect(loadAppConfig({ [name]: '  secret-42 ' })).toMatchObject({ [{ RTP_REGISTRY_TOKEN: 'registryToken', RTP_API_TOKEN: 'apiToken', RTP_NODE_TOKEN: 'nodeToken' }[name]!]: 'secret-42' });
  });

  it('defaults: no allow-list, rate limit off, 256 KiB bodies, 10,000 nodes', () => {
    expect(loadAppConfig({})).toMatchObject({ allowedNodeCidrs: [], rateLimit: 0, maxBodyBytes: 262_144, maxNodes: 10_000 });
    expect(loadAppConfig({ RTP_ALLOWED_NODE_CIDRS: ' 10.0.0.0/8 , [::1] ,' }).allowedNodeCidrs).toEqual(['10.0.0.0/8', '::1/128']);
  });
});

describe('security: limits', () => {
  let t: TestApp;
  let node: FakeMediaNode;
  beforeAll(async () => {
    node = await new FakeMediaNode('lim').start();
    t = await createTestApp({ env: { RTP_MAX_NODES: '3' }, listen: true });
    await request(t.app.getHttpServer()).post('/v1/nodes/register').send({ node_id: 'lim', control_url: node.url }).expect(200);
  });
  afterAll(async () => {
    await t?.close();
    await node?.stop();
  });
  const http = () => request(t.app.getHttpServer());

  it('default body limit 256 KiB: a 200 KB SDP passes to the node, 256 KiB + 1 byte is 413', async () => {
    const sdp = 'v=0\r\n' + 'a=rtpmap:0 PCMU/8000\r\n'.repeat(8_000); // 192 KB, 200 KB as JSON
    await http().post('/v1/calls').send({ call_id: 'big-sdp', offer_sdp: sdp }).expect(201);
    expect(node.legs.get('big-sdp')?.offer).toBe(sdp);
    const body = JSON.stringify({ call_id: 'too-big', offer_sdp: 'x'.repeat(256 * 1024) });
    const res = await http().post('/v1/calls').set('content-type', 'application/json').send(body);
    expectJsonError(res, 413);
    expect(node.legs.has('too-big')).toBe(false);
  });

  it('a gzip bomb is measured inflated: 413', async () => {
    const inflated = JSON.stringify({ call_id: 'bomb', offer_sdp: ' '.repeat(10 * 1024 * 1024) });
    // A raw client: superagent re-encodes a gzip body.
    const raw = new RawHttp(t.url);
    try {
      const res = await raw.request('POST', '/v1/calls', { body: gzipSync(inflated), headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } });
      expect(res.status).toBe(413);
      expect(res.json).toEqual({ error: 'request body too large' });
      const small = gzipSync(JSON.stringify({ call_id: 'gz-ok', offer_sdp: 'v=0' }));
      expect((await raw.request('POST', '/v1/calls', { body: small, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } })).status).toBe(201);
    } finally {
      raw.close();
    }
    expect(node.legs.has('bomb')).toBe(false);
  });

  it.each([
    ['text/plain', 'x'], ['application/x-www-form-urlencoded', 'call_id=a&offer_sdp=b'], ['multipart/form-data; boundary=x', '--x--'],
    ['application/xml', '<a/>'], [undefined, '{"call_id":"a","offer_sdp":"b"}'],
  ])('a %s body is 415', async (type, body) => {
    const r = http().post('/v1/calls');
    if (type) r.set('content-type', type); else r.unset('content-type');
    expectJsonError(await r.send(Buffer.from(body)), 415);
  });

  it('a JSON body in another charset than UTF-8 is 415', async () => {
    const res = await http().post('/v1/calls').set('content-type', 'application/json; charset=utf-16le')
      .send(Buffer.from(JSON.stringify({ call_id: 'u16', offer_sdp: 'v=0' }), 'utf16le'));
    expectJsonError(res, 415);
  });

  it('RTP_MAX_NODES: a new node past the limit is 503, heartbeats of known nodes still pass, a freed slot is reusable', async () => {
    await http().post('/v1/nodes/register').send({ node_id: 'm2', control_url: 'http://127.0.0.1:9' }).expect(200);
    await http().post('/v1/nodes/register').send({ node_id: 'm3', control_url: 'http://127.0.0.1:9' }).expect(200);
    const res = await http().post('/v1/nodes/register').send({ node_id: 'm4', control_url: 'http://127.0.0.1:9' });
    expectJsonError(res, 503);
    await http().post('/v1/nodes/register').send({ node_id: 'm3', control_url: 'http://127.0.0.1:9', active_legs: 2 }).expect(200);
    await http().delete('/v1/nodes/m2').expect(204);
    await http().post('/v1/nodes/register').send({ node_id: 'm4', control_url: 'http://127.0.0.1:9' }).expect(200);
    expect((await http().get('/v1/nodes')).body.nodes.map((n: { node_id: string }) => n.node_id)).toEqual(['lim', 'm3', 'm4']);
    await http().delete('/v1/nodes/m3').expect(204);
    await http().delete('/v1/nodes/m4').expect(204);
  });

  const reg = (extra: Record<string, unknown>) => ({ node_id: 'b1', control_url: 'http://127.0.0.1:9', ...extra });
  it.each([
    [reg({ active_legs: 10_000_000 }), 200], [reg({ active_legs: 10_000_001 }), 400], [reg({ active_legs: -1 }), 400],
    [reg({ active_legs: 1.5 }), 400], [reg({ active_legs: '1' }), 400], [reg({ active_legs: 1e300 }), 400],
    [reg({ capacity: 0 }), 400], [reg({ capacity: 10_000_001 }), 400], [reg({ capacity: 1 }), 200],
    [reg({ weight: 0 }), 400], [reg({ weight: -1 }), 400], [reg({ weight: 1e7 }), 400], [reg({ weight: 0.5 }), 200],
    [reg({ node_id: 'a'.repeat(128) }), 200], [reg({ node_id: 'a'.repeat(129) }), 400], [reg({ node_id: '' }), 400],
    [reg({ node_id: 'a/b' }), 400], [reg({ node_id: 'a b' }), 400], [reg({ node_id: 'é' }), 400], [reg({ node_id: 7 }), 400],
    [reg({ media_ip: 'a'.repeat(255) }), 200], [reg({ media_ip: 'a'.repeat(256) }), 400], [reg({ media_ip: '1.2.3.4<script>' }), 400],
    [reg({ region: 'r'.repeat(64) }), 200], [reg({ region: 'r'.repeat(65) }), 400], [reg({ draining: 'yes' }), 400],
    [reg({ extra: 1 }), 400], [{ node_id: 'b1' }, 400], [{ control_url: 'http://127.0.0.1:9' }, 400],
  ])('register %j → %d', async (body, status) => {
    const before = (await http().get('/v1/nodes')).body;
    const res = await http().post('/v1/nodes/register').send(body);
    expect(res.status).toBe(status);
    if (status === 400) {
      expectJsonError(res, 400);
      expect((await http().get('/v1/nodes')).body).toEqual(before);
    } else {
      await http().delete('/v1/nodes/' + encodeURIComponent((body as { node_id: string }).node_id)).expect(204);
    }
  });

  it.each([
    [{ call_id: 'c'.repeat(256), offer_sdp: 'v=0' }, 201], [{ call_id: 'c'.repeat(257), offer_sdp: 'v=0' }, 400],
    [{ call_id: 'a\u0000b', offer_sdp: 'v=0' }, 400], [{ call_id: 'a\nb', offer_sdp: 'v=0' }, 400], [{ call_id: 'a\u0085b', offer_sdp: 'v=0' }, 400],
    [{ call_id: '   ', offer_sdp: 'v=0' }, 400], [{ call_id: 'x', offer_sdp: '' }, 400], [{ call_id: 'x', offer_sdp: 5 }, 400],
    [{ call_id: 'x', offer_sdp: 'v=0', region: 'r'.repeat(65) }, 400], [{ call_id: 'x', offer_sdp: 'v=0', extra: true }, 400],
  ])('prepare %j → %d', async (body, status) => {
    const legs = node.legs.size;
    const res = await http().post('/v1/calls').send(body);
    expect(res.status).toBe(status);
    if (status === 400) {
      expectJsonError(res, 400);
      expect(node.legs.size).toBe(legs);
    } else {
      await http().delete('/v1/calls/' + encodeURIComponent((body as { call_id: string }).call_id)).expect(204);
    }
  });
});

describe('security: prototype pollution and nesting', () => {
  let t: TestApp;
  let node: FakeMediaNode;
  beforeAll(async () => {
    node = await new FakeMediaNode('pp').start();
    t = await createTestApp();
    await request(t.app.getHttpServer()).post('/v1/nodes/register').send({ node_id: 'pp', control_url: node.url }).expect(200);
    await request(t.app.getHttpServer()).post('/v1/calls').send({ call_id: 'pp-call', offer_sdp: 'v=0' }).expect(201);
  });
  afterAll(async () => {
    await t?.close();
    await node?.stop();
  });
  const snapshot = async () => {
    const http = request(t.app.getHttpServer());
    return { nodes: (await http.get('/v1/nodes')).body, call: (await http.get('/v1/calls/pp-call')).body, legs: [...node.legs.keys()] };
  };

  const polluted = [
    '{"node_id":"p1","control_url":"http://127.0.0.1:9","__proto__":{"polluted":1}}',
    '{"node_id":"p1","control_url":"http://127.0.0.1:9","constructor":{"prototype":{"polluted":1}}}',
    '{"node_id":"p1","control_url":"http://127.0.0.1:9","prototype":{"polluted":1}}',
    '{"node_id":"p1","control_url":"http://127.0.0.1:9","\\u005f\\u005fproto\\u005f\\u005f":{"polluted":1}}',
    '{"node_id":"p1","control_url":"http://127.0.0.1:9","x":[{"a":{"__proto__":{"polluted":1}}}]}',
    '{"__proto__" : {"polluted":1}, "node_id":"p1","control_url":"http://127.0.0.1:9"}',
    '{"call_id":"p2","offer_sdp":"v=0","__proto__":{"region":"x","polluted":1}}',
    '{"call_id":"p2","offer_sdp":"v=0","constructor":{"name":"x"}}',
  ];
  it.each(polluted.map((b) => [b]))('%s → 400 on every POST path, changing nothing, polluting nothing', async (body) => {
    const before = await snapshot();
    for (const path of ['/v1/nodes/register', '/v1/calls', '/v1/calls/pp-call/start', '/v1/nodes/pp/drain', '/v1/nodes/pp/undrain']) {
      const res = await request(t.app.getHttpServer()).post(path).set('content-type', 'application/json').send(body);
      expectJsonError(res, 400);
      expect(res.body.error).toMatch(/forbidden key "(__proto__|constructor|prototype)"/);
    }
    expect(await snapshot()).toEqual(before);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('keys merely containing the words, and the words as values, are fine', async () => {
    const http = request(t.app.getHttpServer());
    await http.post('/v1/nodes/register').send({ node_id: 'constructor', control_url: 'http://127.0.0.1:9', region: '__proto__' }).expect(200);
    await http.delete('/v1/nodes/constructor').expect(204);
    // An unknown key that merely resembles one is the DTO's business: 400 for being unknown.
    const res = await http.post('/v1/calls').send({ call_id: 'p3', offer_sdp: 'v=0', __proto__x: 1 });
    expectJsonError(res, 400);
    expect(res.body.error).toMatch(/should not exist/);
  });

  it('refuses nesting deeper than 32 levels with 400 (it answered 500 before: stack overflow)', async () => {
    for (const depth of [33, 1_000, 50_000]) {
      const body = '{"call_id":' + '['.repeat(depth - 1) + ']'.repeat(depth - 1) + ',"offer_sdp":"v=0"}';
      const res = await request(t.app.getHttpServer()).post('/v1/calls').set('content-type', 'application/json').send(body);
      expectJsonError(res, 400);
      expect(res.body.error).toBe('JSON body nested deeper than 32 levels');
    }
    const ok = '{"call_id":' + '['.repeat(31) + ']'.repeat(31) + ',"offer_sdp":"v=0"}';
    const res = await request(t.app.getHttpServer()).post('/v1/calls').set('content-type', 'application/json').send(ok);
    expectJsonError(res, 400);
    expect(res.body.error).not.toMatch(/nested/);
    // Brackets inside strings are not nesting.
    await request(t.app.getHttpServer()).post('/v1/calls').send({ call_id: 'brackets', offer_sdp: '['.repeat(100) + '{'.repeat(100) }).expect(201);
  });
});

describe('security: helmet headers', () => {
  let t: TestApp;
  beforeAll(async () => { t = await createTestApp({ env: { RTP_API_TOKEN: API, RTP_MAX_BODY_BYTES: '1024' } }); });
  afterAll(async () => { await t?.close(); });

  it.each([
    ['200', (h: ReturnType<typeof request>) => h.get('/v1/nodes').set(bearer(API)), 200],
    ['401', (h: ReturnType<typeof request>) => h.get('/v1/nodes'), 401],
    ['404', (h: ReturnType<typeof request>) => h.get('/no/such/path'), 404],
    ['413', (h: ReturnType<typeof request>) => h.post('/v1/nodes/register').send({ node_id: 'x'.repeat(2000) }), 413],
    ['415', (h: ReturnType<typeof request>) => h.post('/v1/nodes/register').set('content-type', 'text/plain').send('x'), 415],
    ['400', (h: ReturnType<typeof request>) => h.post('/v1/nodes/register').set('content-type', 'application/json').send('{'), 400],
  ])('on a %s', async (_n, make, status) => {
    const res = await make(request(t.app.getHttpServer()));
    expect(res.status).toBe(status);
    expect(res.headers).toMatchObject({
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'SAMEORIGIN',
      'strict-transport-security': expect.stringMatching(/max-age=/),
      'cross-origin-opener-policy': 'same-origin',
      'referrer-policy': 'no-referrer',
    });
    expect(res.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect(res.headers['content-security-policy']).toMatch(/script-src 'self'/);
    expect(res.headers['content-security-policy']).not.toMatch(/upgrade-insecure-requests/);
    expect(res.headers['x-powered-by']).toBeUndefined();
  });
});

describe('security: rate limiting', () => {
  it('is off by default: 60 quick requests, no 429', async () => {
    const t = await createTestApp();
    try {
      const http = request(t.app.getHttpServer());
      for (let i = 0; i < 60; i++) await http.get('/v1/nodes').expect(200);
    } finally {
      await t.close();
    }
  });

  it('RTP_RATE_LIMIT=3 per 60 s: the 4th request of a route is 429 JSON with Retry-After; other paths are not limited', async () => {
    const t = await createTestApp({ env: { RTP_RATE_LIMIT: '3', RTP_RATE_LIMIT_WINDOW_MS: '60000', RTP_API_TOKEN: API } });
    try {
      const http = request(t.app.getHttpServer());
      for (let i = 0; i < 3; i++) await http.get('/v1/nodes').set(bearer(API)).expect(200);
      const res = await http.get('/v1/nodes').set(bearer(API));
      expect(res.status).toBe(429);
      expect(res.body).toEqual({ error: 'too many requests' });
      expect(Number(res.headers['retry-after'])).toBeGreaterThan(0);
      // Throttled before authentication: guessing tokens costs the same budget.
      expect((await http.get('/v1/nodes').set(bearer('guess'))).status).toBe(429);
      // Registry and calls are limited too, each route with its own budget.
      for (let i = 0; i < 3; i++) expect((await http.post('/v1/nodes/register').send({ node_id: 'r' + i, control_url: 'http://127.0.0.1:9' })).status).toBe(200);
      expect((await http.post('/v1/nodes/register').send({ node_id: 'r9', control_url: 'http://127.0.0.1:9' })).status).toBe(429);
      for (let i = 0; i < 3; i++) expect((await http.get('/v1/calls/x').set(bearer(API))).status).toBe(404);
      expectJsonError(await http.get('/v1/calls/x').set(bearer(API)), 429);
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      // Paths outside the registry and calls API are never limited (404 here, not 429).
      for (let i = 0; i < 10; i++) expect((await http.get('/elsewhere')).status).toBe(404);
    } finally {
      await t.close();
    }
  });
});

describe('security: slow and malformed requests at the HTTP server', () => {
  let app: INestApplication;
  let port: number;
  beforeAll(async () => {
    const config = loadAppConfig({ ...TEST_ENV, LOG_LEVEL: 'silent' });
    const ref = await Test.createTestingModule({ imports: [AppModule.forRoot(config)] }).compile();
    app = ref.createNestApplication({ logger: false });
    configureApp(app, { maxBodyBytes: config.maxBodyBytes, requestTimeoutMs: 600, lean: config.httpLean });
    await app.listen(0, '127.0.0.1');
    port = (app.getHttpServer().address() as AddressInfo).port;
  });
  afterAll(async () => { await app?.close(); });

  /** Sends raw bytes, optionally trickling more; resolves with everything read until close. */
  function raw(first: string, trickle?: string): Promise<{ text: string; ms: number }> {
    return new Promise((resolve, reject) => {
      const t0 = Date.now();
      const s = connect(port, '127.0.0.1');
      let text = '';
      let timer: NodeJS.Timeout | undefined;
      s.on('connect', () => {
        s.write(first);
        if (trickle) {
          let i = 0;
          timer = setInterval(() => { if (i < trickle.length && s.writable) s.write(trickle[i++]); }, 100);
        }
      });
      s.on('data', (d) => { text += d.toString(); });
      s.on('error', () => undefined);
      s.on('close', () => { clearInterval(timer); resolve({ text, ms: Date.now() - t0 }); });
      setTimeout(() => { s.destroy(); reject(new Error(`no close within 10 s: ${text}`)); }, 10_000).unref();
    });
  }
  const bodyOf = (text: string) => JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as unknown;

  it('a body trickled one byte every 100 ms is cut at the request timeout: 408 JSON', async () => {
    const body = JSON.stringify({ call_id: 'slow', offer_sdp: 'v=0' });
    const r = await raw(`POST /v1/calls HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`, body);
    expect(r.text).toMatch(/^HTTP\/1\.1 408 /);
    expect(r.text).toMatch(/content-type: application\/json/i);
    expect(bodyOf(r.text)).toEqual({ error: 'request not received in time' });
    expect(r.ms).toBeLessThan(600 + 1_500);
    // …and the call was never placed.
    expect((await request(app.getHttpServer()).get('/v1/calls/slow')).status).toBe(404);
  });

  it('headers trickled: the same bound', async () => {
    const r = await raw('GET /v1/nodes HTTP/1.1\r\n', 'X-Slow: ' + 'a'.repeat(100));
    expect(r.text).toMatch(/^HTTP\/1\.1 408 /);
    expect(r.ms).toBeLessThan(600 + 1_500);
  });

  it('a malformed request line or header: 400 JSON', async () => {
    for (const req of ['NOT HTTP\r\n\r\n', 'GET /v1/nodes HTTP/1.1\r\nBad Header\r\n\r\n', 'GET /v1/nodes HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n']) {
      const r = await raw(req);
      expect(r.text).toMatch(/^HTTP\/1\.1 400 /);
      expect(bodyOf(r.text)).toEqual({ error: 'malformed HTTP request' });
    }
  });

  it('headers beyond Node\'s 16 KiB: 431 JSON', async () => {
    const r = await raw(`GET /v1/nodes HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(r.text).toMatch(/^HTTP\/1\.1 431 /);
    expect(bodyOf(r.text)).toEqual({ error: 'request headers too large' });
  });

  it('the service still answers afterwards; the default bound is 30 s', async () => {
    await request(app.getHttpServer()).get('/v1/nodes').expect(200);
    const t = await createTestApp();
    try {
      expect((t.app.getHttpServer() as Server).requestTimeout).toBe(30_000);
    } finally {
      await t.close();
    }
  });
});
