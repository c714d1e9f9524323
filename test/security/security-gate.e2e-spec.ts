import type { RunningMediaNode } from '../../src/media-node/media-node.app';
import { FakeMediaNode } from '../support/fake-media-node';
import { startTestMediaNode } from '../support/media-nodes';
import { RawHttp, type RawResponse } from '../support/raw-http';
import { createTestApp, type TestApp } from '../support/test-app';

/**
 * The JSON gate and the id/URL rules, through real HTTP with raw bytes: every
 * input the issue lists is refused with a 4xx `{"error": string}` and changes nothing
 * (node list, the bound call, the media node's legs).
 */

const JSON_TYPE = { 'content-type': 'application/json' };
const PROTOTYPE_NAMES = Object.getOwnPropertyNames(Object.prototype);

/** A JSON object text from entries, keeping every key as written (duplicates, `__proto__`). */
const objectText = (entries: Array<[string, unknown]>) =>
  '{' + entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',') + '}';

/** Bytes of `before`, then raw bytes, then `after`. */
const withBytes = (before: string, bytes: number[], after: string) =>
  Buffer.concat([Buffer.from(before), Buffer.from(bytes), Buffer.from(after)]);

function expectRefused(res: RawResponse, status: number | RegExp = 400, error?: RegExp): void {
  const where = `${res.status} ${res.text.slice(0, 300)}`;
  if (typeof status === 'number') expect({ where, status: res.status }).toEqual({ where, status });
  else expect(String(res.status)).toMatch(status);
  expect(res.headers['content-type']).toMatch(/^application\/json/);
  expect(res.json).toEqual({ error: expect.any(String) });
  if (error) expect((res.json as { error: string }).error).toMatch(error);
}

describe('security: the JSON gate on the signaling service', () => {
  let t: TestApp;
  let node: FakeMediaNode;
  let http: RawHttp;
  let baseline: string;

  async function snapshot(): Promise<string> {
    const nodes = await http.request('GET', '/v1/nodes');
    const call = await http.request('GET', '/v1/calls/gate-call');
    return JSON.stringify({ nodes: nodes.json, call: call.json, legs: [...node.legs.keys()].sort() });
  }
  const post = (path: string, body: string | Buffer, headers: Record<string, string> = JSON_TYPE) =>
    http.request('POST', path, { body, headers });

  beforeAll(async () => {
    node = await new FakeMediaNode('gate-n1').start();
    t = await createTestApp({ listen: true });
    http = new RawHttp(t.url, 4);
    expect((await http.json('POST', '/v1/nodes/register', { node_id: 'gate-n1', control_url: node.url })).status).toBe(200);
    expect((await http.json('POST', '/v1/calls', { call_id: 'gate-call', offer_sdp: 'v=0' })).status).toBe(201);
    baseline = await snapshot();
  });
  afterAll(async () => {
    http?.close();
    await t?.close();
    await node?.stop();
  });
  afterEach(async () => {
    expect(await snapshot()).toBe(baseline);
  });

  const register = () => ({ node_id: 'gate-new', control_url: node.url });
  const prepare = () => ({ call_id: 'gate-new-call', offer_sdp: 'v=0' });

  describe.each([
    ['POST /v1/nodes/register', '/v1/nodes/register', register],
    ['POST /v1/calls', '/v1/calls', prepare],
  ])('%s', (_, path, valid) => {
    it.each(PROTOTYPE_NAMES)('refuses an unknown field named like Object.prototype.%s', async (name) => {
      const res = await post(path, objectText([...Object.entries(valid()), [name, 1]]));
      expectRefused(res, 400, name === '__proto__' || name === 'constructor' ? /forbidden key/ : new RegExp(`property ${name.replace(/[$]/g, '\\$')} should not exist`));
    });

    it('refuses all of them at once, naming the first three only', async () => {
      const names = PROTOTYPE_NAMES.filter((n) => n !== '__proto__' && n !== 'constructor');
      const res = await post(path, objectText([...Object.entries(valid()), ...names.map((n): [string, unknown] => [n, 'x'])]));
      expectRefused(res, 400, new RegExp(`^property ${names[0]} should not exist; property ${names[1]} should not exist; property ${names[2]} should not exist \\(and ${names.length - 3} more unknown fields\\)$`));
    });

    it.each([
      ['\\xff\\xfe in a string', [0xff, 0xfe]],
      ['a lone continuation byte', [0x80]],
      ['an overlong encoding', [0xc0, 0xaf]],
      ['an encoded surrogate', [0xed, 0xa0, 0x80]],
    ])('refuses %s (not UTF-8)', async (_w, bytes) => {
      const [k, v] = Object.entries(valid())[0];
      const rest = Object.entries(valid()).slice(1).map(([key, val]) => `,${JSON.stringify(key)}:${JSON.stringify(val)}`).join('');
      const res = await post(path, withBytes(`{"${k}":"${v}-bad`, bytes, `id"${rest}}`));
      expectRefused(res, 400, /^JSON body is not well-formed UTF-8$/);
    });

    it('refuses a duplicate key, also when one is \\u-escaped', async () => {
      const [k] = Object.keys(valid());
      expectRefused(await post(path, objectText([...Object.entries(valid()), [k, 'other']])), 400, new RegExp(`^duplicate key "${k}" in JSON body$`));
      const escaped = `"\\u00${k.charCodeAt(0).toString(16)}${k.slice(1)}"`;
      const text = objectText(Object.entries(valid())).replace(/}$/, `,${escaped}:"other"}`);
      expectRefused(await post(path, text), 400, /^duplicate key/);
    });

    it('refuses 65 keys with a short message, and 20,000 keys as cheaply', async () => {
      const extra = (n: number) => Array.from({ length: n }, (_, i): [string, unknown] => [`k${i}`, 0]);
      const res65 = await post(path, objectText([...Object.entries(valid()), ...extra(65 - Object.keys(valid()).length)]));
      expectRefused(res65, 400, /^JSON object with more than 64 keys$/);
      const big = objectText([...Object.entries(valid()), ...extra(20_000)]);
      expect(big.length).toBeGreaterThan(200_000);
      const t0 = process.hrtime.bigint();
      const res = await post(path, big);
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      expectRefused(res, 400, /^JSON object with more than 64 keys$/);
      expect(res.text.length).toBeLessThan(100);
      expect(ms).toBeLessThan(1_000); // it took 0.3 s of CPU and answered 680 KB before the gate
    });

    it('refuses nesting deeper than 32 levels', async () => {
      const [k] = Object.keys(valid());
      expectRefused(await post(path, `{"${k}":${'['.repeat(33)}${']'.repeat(33)}}`), 400, /nested deeper than 32/);
    });

    it('refuses a JSON type that is not application/json or application/*+json with 415', async () => {
      for (const type of ['text/x+json', 'text/json', 'application/jsonx', 'application/x-json+xml']) {
        expectRefused(await post(path, objectText(Object.entries(valid())), { 'content-type': type }), 415);
      }
    });
  });

  it.each(['application/vnd.x+json', 'application/problem+json', 'Application/Vnd.Rtp+JSON; charset=utf-8', 'application/json; charset=UTF-8'])(
    'accepts a body typed %s, as the README says', async (type) => {
      const res = await post('/v1/nodes/register', JSON.stringify({ node_id: 'gate-typed', control_url: node.url }), { 'content-type': type });
      expect({ status: res.status, body: res.json }).toEqual({ status: 200, body: expect.objectContaining({ node_id: 'gate-typed' }) });
      expect((await http.request('DELETE', '/v1/nodes/gate-typed')).status).toBe(204);
    });

  it.each([
    ['POST /v1/calls/{id}/start', '/v1/calls/gate-call/start'],
    ['POST /v1/nodes/{id}/undrain', '/v1/nodes/gate-n1/undrain'],
    ['POST /v1/nodes/{id}/drain', '/v1/nodes/gate-n1/drain'],
  ])('%s: a body with any unknown field (toString, valueOf, x) is refused; the call is not started, the node not touched', async (_, path) => {
    for (const name of ['toString', 'valueOf', 'x']) expectRefused(await post(path, objectText([[name, 1]])), 400, new RegExp(`property ${name} should not exist`));
    expectRefused(await post(path, '[1]'), 400, /JSON object/);
    expect(node.count('start')).toBe(0);
  });

  it('binds no call id with replacement characters from invalid UTF-8', async () => {
    expectRefused(await post('/v1/calls', withBytes('{"call_id":"bad', [0xff, 0xfe], 'id","offer_sdp":"v=0"}')), 400);
    expect((await http.request('GET', `/v1/calls/${encodeURIComponent('bad\uFFFD\uFFFDid')}`)).status).toBe(404);
  });

  it('registers neither id of {"node_id":"a",…,"node_id":"b"}', async () => {
    expectRefused(await post('/v1/nodes/register', `{"node_id":"gate-a","control_url":"${node.url}","node_id":"gate-b"}`), 400, /duplicate key "node_id"/);
  });

  it.each(['.', '..', '...', '.....', ' .. '])('refuses node_id %j', async (id) => {
    expectRefused(await post('/v1/nodes/register', JSON.stringify({ node_id: id, control_url: node.url })), 400, /^node_id must not be only dots$/);
  });

  it('still accepts ids with dots among other characters', async () => {
    for (const id of ['.a', 'a..b', 'rtp.1']) {
      expect((await http.json('POST', '/v1/nodes/register', { node_id: id, control_url: node.url })).status).toBe(200);
      expect((await http.request('DELETE', `/v1/nodes/${id}`)).status).toBe(204);
    }
    const res = await http.json('POST', '/v1/calls', { call_id: '...', offer_sdp: 'v=0' });
    expect(res.status).toBe(201);
    expect((await http.request('DELETE', '/v1/calls/...')).status).toBe(204);
  });

  it.each(['.', '..', ' . ', '\t..'])('refuses call_id %j', async (id) => {
    expectRefused(await post('/v1/calls', JSON.stringify({ call_id: id, offer_sdp: 'v=0' })), 400, /call_id must not be "\." or "\.\."/);
  });

  describe('control_url', () => {
    const port = () => new URL(node.url).port;
    it.each([
      ['port 0', () => 'http://127.0.0.1:0', /port between 1 and 65535/],
      ['port 65536', () => 'http://127.0.0.1:65536', /port between 1 and 65535/],
      ['a backslash form', () => `http:\\\\127.0.0.1:${port()}`, /backslash/],
      ['a backslash in the path', () => `http://127.0.0.1:${port()}\\v1`, /backslash/],
      ['an embedded NUL', () => `http://127.0.0.1\u0000:${port()}`, /control characters/],
      ['an embedded tab', () => `http://127.0.\t0.1:${port()}`, /control characters/],
      ['an embedded newline', () => `http://127.0.0.1:${port()}/a\nb`, /control characters/],
      ['0.0.0.0', () => `http://0.0.0.0:${port()}`, /unspecified address 0\.0\.0\.0/],
      ['0 (0.0.0.0 in short)', () => `http://0:${port()}`, /unspecified address 0\.0\.0\.0/],
      ['[::]', () => `http://[::]:${port()}`, /unspecified address \[::\]/],
      ['http:host (no //)', () => `http:127.0.0.1:${port()}`, /http:\/\/host/],
    ])('refuses %s', async (_, url, why) => {
      expectRefused(await post('/v1/nodes/register', JSON.stringify({ node_id: 'gate-url', control_url: url() })), 400, why);
    });

    it('stores and lists the canonical form', async () => {
      const given = `HTTP://LocalHost:${port()}//`;
      expect((await http.json('POST', '/v1/nodes/register', { node_id: 'gate-canon', control_url: given })).status).toBe(200);
      const listed = ((await http.request('GET', '/v1/nodes/gate-canon')).json as { control_url: string }).control_url;
      expect(listed).toBe(`http://localhost:${port()}`);
      expect((await http.request('DELETE', '/v1/nodes/gate-canon')).status).toBe(204);
    });
  });
});

describe('security: the JSON gate on the reference media node', () => {
  let node: RunningMediaNode;
  let http: RawHttp;
  const legs = () => JSON.stringify(node.legs.list().map((l) => l.call_id).sort());
  let baseline: string;
  const offer = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';
  const valid = () => ({ call_id: 'node-new', offer_sdp: offer });
  const post = (body: string | Buffer, headers: Record<string, string> = JSON_TYPE) => http.request('POST', '/v1/legs', { body, headers });

  beforeAll(async () => {
    node = await startTestMediaNode({ RTP_NODE_ID: 'gate-node', RTP_PORT_MIN: '35000', RTP_PORT_MAX: '35999' });
    http = new RawHttp(node.url, 2);
    expect((await http.json('POST', '/v1/legs', { call_id: 'node-held', offer_sdp: offer })).status).toBe(201);
    baseline = legs();
  });
  afterAll(async () => {
    http?.close();
    await node?.close();
  });
  afterEach(() => expect(legs()).toBe(baseline));

  it.each(PROTOTYPE_NAMES)('POST /v1/legs refuses an unknown field named %s', async (name) => {
    expectRefused(await post(objectText([...Object.entries(valid()), [name, 1]])), 400);
  });

  it('POST /v1/legs refuses invalid UTF-8, duplicate keys, 65 keys, 20,000 keys and "." / ".." call ids', async () => {
    expectRefused(await post(withBytes('{"call_id":"bad', [0xff, 0xfe], `id","offer_sdp":${JSON.stringify(offer)}}`)), 400, /UTF-8/);
    expectRefused(await post(objectText([...Object.entries(valid()), ['call_id', 'other']])), 400, /duplicate key "call_id"/);
    const extra = (n: number) => Array.from({ length: n }, (_, i): [string, unknown] => [`k${i}`, 0]);
    expectRefused(await post(objectText([...Object.entries(valid()), ...extra(63)])), 400, /more than 64 keys/);
    const res = await post(objectText([...Object.entries(valid()), ...extra(20_000)]));
    expectRefused(res, 400, /more than 64 keys/);
    expect(res.text.length).toBeLessThan(100);
    for (const id of ['.', '..']) expectRefused(await post(JSON.stringify({ call_id: id, offer_sdp: offer })), 400, /call_id must not be/);
  });

  it('POST /v1/legs/{id}/start refuses a body with any field; an empty one is fine', async () => {
    for (const name of ['toString', 'hasOwnProperty', 'x']) {
      expectRefused(await http.request('POST', '/v1/legs/node-held/start', { body: objectText([[name, 1]]), headers: JSON_TYPE }), 400, new RegExp(`property ${name} should not exist`));
    }
    expect(node.legs.list().find((l) => l.call_id === 'node-held')?.started).toBe(false);
    expect((await http.request('POST', '/v1/legs/node-held/start', { body: '{}', headers: JSON_TYPE })).status).toBe(200);
  });

  it('POST /v1/legs accepts application/*+json', async () => {
    const res = await post(JSON.stringify({ call_id: 'node-typed', offer_sdp: offer }), { 'content-type': 'application/vnd.rtp+json' });
    expect(res.status).toBe(201);
    expect((await http.request('DELETE', '/v1/legs/node-typed')).status).toBe(204);
  });
});
