import fc from 'fast-check';
import { PoolService } from '../../src/pool/pool.service';
import { FakeMediaNode } from '../support/fake-media-node';
import { RawHttp, type RawResponse } from '../support/raw-http';
import { deleteKeys, randomPrefix, TEST_REDIS_URL } from '../support/redis';
import { createTestApp, type TestApp } from '../support/test-app';

/**
 * Property-based fuzzing of the whole HTTP surface: whatever a client sends — any JSON
 * value, any bytes under any content type, any path segment — the answer is a JSON 2xx or
 * 4xx (never a 5xx), the service keeps answering, and after every 4xx the node list, the
 * bindings and the media node's legs are exactly as before.
 *
 * FUZZ_RUNS (default 300) cases per path with the memory store, FUZZ_RUNS_REDIS (default
 * 100) with the Redis store, on each adapter, from a new seed every run: enough to keep the
 * test command short, while the runs add up. Raise them to search longer. A failure prints
 * fast-check's seed and path; replay one with
 * FUZZ_SEED=<seed> FUZZ_PATH=<path> npx jest test/security/fuzz.e2e-spec.ts.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : undefined;
const REPLAY_PATH = process.env.FUZZ_PATH;
const TIMEOUT = 240_000;

const NODE_ID = 'n1';
const CALLS = ['fz-call-1', 'fz-call-2'] as const; // the second one started
const FUZZ_NODE = 'fz-reg';

// ---- generators -------------------------------------------------------------------

const UNRESERVED = /[A-Za-z0-9\-._~]/;
/** Percent-encodes every byte of the UTF-8 form that is not unreserved. */
function encodeSegment(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const ch = String.fromCharCode(b);
    out += b < 0x80 && UNRESERVED.test(ch) ? ch : '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

const knownIds = fc.constantFrom(NODE_ID, ...CALLS, FUZZ_NODE, 'seed-1');
/** A path segment as it goes on the wire (already percent-encoded, or deliberately broken). */
const segment: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'binary', maxLength: 300 }).map(encodeSegment) },
  { weight: 2, arbitrary: fc.string({ unit: fc.constantFrom(...'%./-_~!$&\'()*+,;=:@aZ09'.split('')), maxLength: 40 }) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }).map((b) => [...b].map((x) => '%' + x.toString(16).padStart(2, '0')).join('')) },
  { weight: 1, arbitrary: fc.constantFrom('', '.', '..', '%', '%0', '%00', '%2F', '%2e%2e', 'a%ZZ', '%C0%AF', '%ED%A0%80', 'x'.repeat(5000)) },
  { weight: 1, arbitrary: knownIds.map(encodeSegment) },
);

/** Serializes entries as a JSON object, keeping keys like "__proto__" as own keys. */
const objectText = (entries: Array<[string, unknown]>) =>
  '{' + entries.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',') + '}';

const anyKey = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'call_id', 'offer_sdp', 'region', 'node_id', 'control_url',
    'media_ip', 'active_legs', 'capacity', 'weight', 'draining', ...Object.getOwnPropertyNames(Object.prototype)),
);
const json = fc.jsonValue({ maxDepth: 4 });

/** A valid body with one field replaced by anything, or one key added, or one removed. */
function nearValid(base: Record<string, unknown>): fc.Arbitrary<string> {
  const keys = Object.keys(base);
  return fc.oneof(
    fc.tuple(fc.constantFrom(...keys), json).map(([k, v]) => objectText(Object.entries({ ...base, [k]: v }))),
    fc.tuple(anyKey, json).map(([k, v]) => objectText([...Object.entries(base), [k, v]])),
    fc.constantFrom(...keys).map((k) => objectText(Object.entries(base).filter(([key]) => key !== k))),
  );
}

interface Body {
  bytes: Uint8Array;
  headers: Record<string, string>;
}
/** A Body that prints short in a counterexample: its headers, length and first bytes as text. */
const body = (bytes: Uint8Array, headers: Record<string, string>): Body => ({
  bytes, headers,
  [fc.toStringMethod]: () => {
    const text = Buffer.from(bytes).toString('utf8');
    return `Body(${JSON.stringify(headers)}, ${bytes.length} bytes: ${JSON.stringify(text.length > 300 ? text.slice(0, 150) + ' … ' + text.slice(-150) : text)})`;
  },
} as Body);
const JSON_TYPE = { 'content-type': 'application/json' };

/** Any body: JSON values, near-valid objects, any bytes under any content type and encoding. */
function bodies(base: Record<string, unknown>): fc.Arbitrary<Body> {
  const text = (s: string, headers: Record<string, string> = JSON_TYPE): Body => body(Buffer.from(s, 'utf8'), headers);
  const contentType = fc.constantFrom(
    'application/json', 'application/json; charset=utf-8', 'application/JSON', 'application/problem+json', 'text/plain',
    'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16le',
    'application/json; charset=bogus', 'application/json; charset=', '', ';;', 'application/octet-stream',
  );
  const encoding = fc.option(fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'bogus', 'gzip, gzip'), { freq: 5 });
  return fc.oneof(
    { weight: 3, arbitrary: json.map((v) => text(JSON.stringify(v))) },
    { weight: 3, arbitrary: nearValid(base).map((s) => text(s)) },
    { weight: 1, arbitrary: fc.dictionary(anyKey, json, { maxKeys: 6 }).map((d) => text(objectText(Object.entries(d)))) },
    {
      weight: 3,
      arbitrary: fc.tuple(fc.oneof(fc.uint8Array({ maxLength: 2048 }), fc.string({ unit: 'binary', maxLength: 300 }).map((s) => Buffer.from(s, 'utf8'))), contentType, encoding)
        .map(([bytes, type, enc]) => body(bytes, { ...(type ? { 'content-type': type } : {}), ...(enc ? { 'content-encoding': enc } : {}) })),
    },
    // Deep nesting in a field (it overflowed the stack once: a 500).
    {
      weight: 1,
      arbitrary: fc.tuple(fc.constantFrom(...Object.keys(base)), fc.integer({ min: 1, max: 20_000 }), fc.boolean()).map(([k, d, arr]) => {
        const raw = arr ? '['.repeat(d) + ']'.repeat(d) : '{"a":'.repeat(d) + '1' + '}'.repeat(d);
        const rest = Object.entries(base).filter(([key]) => key !== k).map(([key, v]) => `,${JSON.stringify(key)}:${JSON.stringify(v)}`).join('');
        return text(`{${JSON.stringify(k)}:${raw}${rest}}`);
      }),
    },
    // Truncated JSON: syntax errors at every position.
    { weight: 1, arbitrary: fc.tuple(nearValid(base), fc.nat()).map(([s, n]) => text(s.slice(0, n % (s.length + 1)))) },
  );
}

// ---- the harness ------------------------------------------------------------------

/**
 * The suite, against one store. The memory store gets FUZZ_RUNS cases per path; the Redis
 * store (the shared one, with its own Lua paths) FUZZ_RUNS_REDIS (default 100), on a
 * random key prefix deleted afterwards.
 */
function fuzzSuite(store: 'memory' | 'redis', RUNS: number): void {
describe(`fuzz (${store} store): the HTTP surface never answers 5xx and 4xx changes nothing`, () => {
  const prefix = randomPrefix('fuzz');
  const storeEnv = store === 'redis' ? { RTP_STORE: 'redis', REDIS_URL: TEST_REDIS_URL, RTP_STORE_PREFIX: prefix } : {};
  let t: TestApp;
  let node: FakeMediaNode;
  let http: RawHttp;
  let baseline: string;
  const stats = { cases: 0, s2xx: 0, s4xx: 0, restores: 0 };

  /**
   * Everything a bad request must not change, as one comparable string: GET /v1/nodes over
   * HTTP (which also proves the service still answers), the two calls' bindings (read
   * in-process, the same PoolService.getCall that GET /v1/calls/{id} answers with: half
   * the requests per case), and the legs the media node holds.
   */
  async function snapshot(): Promise<string> {
    const nodes = await http.request('GET', '/v1/nodes');
    if (nodes.status !== 200) throw new Error(`GET /v1/nodes answered ${nodes.status}: ${nodes.text}`);
    const pool = t.get(PoolService);
    const calls = await Promise.all(CALLS.map((c) => pool.getCall(c).catch((e: Error) => e.message)));
    return JSON.stringify({
      nodes: nodes.json,
      calls,
      legs: [...node.legs.entries()].sort(([a], [b]) => (a < b ? -1 : 1)),
    });
  }

  async function expectOk(res: RawResponse, what: string): Promise<void> {
    if (res.status >= 300) throw new Error(`${what} answered ${res.status}: ${res.text}`);
  }

  /** Puts the fixture back after a 2xx (which may legitimately change state), touching only what changed. */
  async function restore(res: RawResponse): Promise<void> {
    stats.restores++;
    const created = res.json as { call_id?: unknown } | undefined;
    if (typeof created?.call_id === 'string' && !(CALLS as readonly string[]).includes(created.call_id)) {
      const del = await http.request('DELETE', `/v1/calls/${encodeSegment(created.call_id)}`);
      if (del.status !== 204 && del.status !== 404) throw new Error(`cleanup of ${created.call_id}: ${del.status} ${del.text}`);
    }
    const pool = t.get(PoolService);
    const listed = await pool.nodeInfos();
    for (const n of listed) if (n.node_id !== NODE_ID) await expectOk(await http.request('DELETE', `/v1/nodes/${encodeSegment(n.node_id)}`), 'cleanup');
    const n1 = listed.find((n) => n.node_id === NODE_ID);
    if (!n1 || n1.control_url !== node.url || n1.active_legs !== 0 || n1.capacity !== null || n1.weight !== 1 || n1.region !== null || n1.media_ip !== '') {
      await expectOk(await http.json('POST', '/v1/nodes/register', { node_id: NODE_ID, control_url: node.url }), 're-register');
    }
    if (n1?.draining) await expectOk(await http.request('POST', `/v1/nodes/${NODE_ID}/undrain`), 'undrain');
    const [first, second] = await Promise.all(CALLS.map((c) => pool.getCall(c).catch(() => undefined)));
    // A re-INVITE of a started call un-starts it: that is how the first call is reset.
    if (!first || first.started) await expectOk(await http.json('POST', '/v1/calls', { call_id: CALLS[0], offer_sdp: 'v=0' }), 're-prepare');
    if (!second) await expectOk(await http.json('POST', '/v1/calls', { call_id: CALLS[1], offer_sdp: 'v=0' }), 're-prepare');
    if (!second?.started) await expectOk(await http.request('POST', `/v1/calls/${CALLS[1]}/start`), 'start');
    baseline = await snapshot();
  }

  /** Both calls bound to n1; the first not started, the second started. */
  async function seedCalls(): Promise<void> {
    for (const c of CALLS) await expectOk(await http.json('POST', '/v1/calls', { call_id: c, offer_sdp: 'v=0' }), `prepare ${c}`);
    await expectOk(await http.request('POST', `/v1/calls/${CALLS[1]}/start`), 'start');
  }

  /** One generated request and every property checked on its answer. */
  async function check(method: string, path: string, body?: Body, jsonSuccess = true): Promise<void> {
    stats.cases++;
    const res = await http.request(method, path, body && { body: body.bytes, headers: body.headers });
    const ctx = `${method} ${path} → ${res.status} ${res.text.slice(0, 200)}`;
    if (res.status < 200 || res.status >= 500) throw new Error(`not a 2xx/4xx: ${ctx}`);
    // Every error is JSON; successes too on the API (the dashboard, /docs and /metrics are not).
    if (res.status !== 204 && (jsonSuccess || res.status >= 400)) {
      if (!/^application\/json/.test(String(res.headers['content-type']))) throw new Error(`not JSON: ${ctx}`);
      if (res.json === null || typeof res.json !== 'object') throw new Error(`not a JSON object: ${ctx}`);
    }
    if (res.status >= 400) {
      stats.s4xx++;
      const err = (res.json as { error?: unknown }).error;
      if (typeof err !== 'string' || !err) throw new Error(`4xx without {"error": string}: ${ctx}`);
      const after = await snapshot(); // also proves the service still answers
      if (after !== baseline) throw new Error(`a ${res.status} changed state: ${ctx}\nbefore ${baseline}\nafter  ${after}`);
      return;
    }
    stats.s2xx++;
    await restore(res);
  }

  const params = (): fc.Parameters<unknown> => ({
    numRuns: RUNS, seed: SEED, path: REPLAY_PATH, verbose: 1,
  });

  /** fc.assert, with the seed and path repeated on the first line of a failure. */
  async function run<T>(name: string, arb: fc.Arbitrary<T>, fn: (v: T) => Promise<void>): Promise<void> {
    const out = await fc.check(fc.asyncProperty(arb, fn), params() as fc.Parameters<[T]>);
    if (out.failed) {
      const cause = out.errorInstance instanceof Error ? out.errorInstance.message : String(out.errorInstance);
      throw new Error(`fuzz ${name}: replay with FUZZ_SEED=${out.seed} FUZZ_PATH=${out.counterexamplePath}\n${cause}\n${fc.defaultReportMessage(out)}`);
    }
  }

  beforeAll(async () => {
    node = await new FakeMediaNode(NODE_ID).start();
    // Logging off: twelve thousand request lines would cost more than the requests.
    // A control timeout of 2 s (Redis commands 1 s): on a loaded machine the default 500 ms turned a slow
    // Redis round trip into a 503 the snapshot then read as a changed state. Timing is not this suite's subject.
    t = await createTestApp({ env: { LOG_LEVEL: 'silent', RTP_CONTROL_TIMEOUT_MS: '2000', ...storeEnv }, listen: true });
    http = new RawHttp(t.url, 4);
    await expectOk(await http.json('POST', '/v1/nodes/register', { node_id: NODE_ID, control_url: node.url }), 'register');
    await seedCalls();
    baseline = await snapshot();
  });
  afterAll(async () => {
    http?.close();
    await t?.close();
    await node?.stop();
    if (store === 'redis') await deleteKeys(TEST_REDIS_URL, prefix);
    // eslint-disable-next-line no-console
    console.log(`fuzz (${store}): ${stats.cases} cases, ${stats.s2xx} 2xx, ${stats.s4xx} 4xx, ${stats.restores} restores`);
  });

  const registerBase = { node_id: FUZZ_NODE, control_url: 'http://127.0.0.1:9', media_ip: '127.0.0.1', active_legs: 1, capacity: 10, weight: 1, region: 'r', draining: false };
  const callBase = { call_id: 'fz-new', offer_sdp: 'v=0', region: 'r' };
  const postPaths: Array<[string, () => fc.Arbitrary<string>, Record<string, unknown>]> = [
    ['POST /v1/nodes/register', () => fc.constant('/v1/nodes/register'), registerBase],
    ['POST /v1/calls', () => fc.constant('/v1/calls'), callBase],
    ['POST /v1/calls/{id}/start', () => fc.constantFrom(CALLS[0], 'no-such-call').map((c) => `/v1/calls/${c}/start`), {}],
    ['POST /v1/nodes/{id}/drain', () => fc.constantFrom(NODE_ID, 'no-such-node').map((n) => `/v1/nodes/${n}/drain`), {}],
    ['POST /v1/nodes/{id}/undrain', () => fc.constantFrom(NODE_ID, 'no-such-node').map((n) => `/v1/nodes/${n}/undrain`), {}],
  ];
  it.each(postPaths)(`%s: ${RUNS} arbitrary bodies`, async (name, paths, base) => {
    await run(name, fc.tuple(paths(), bodies(Object.keys(base).length ? base : { x: 1 })), ([path, b]) => check('POST', path, b));
    expect(stats.cases).toBeGreaterThan(0);
  }, TIMEOUT);

  const idPaths: Array<[string, string, (id: string) => string]> = [
    ['GET /v1/calls/{id}', 'GET', (id) => `/v1/calls/${id}`],
    ['POST /v1/calls/{id}/start', 'POST', (id) => `/v1/calls/${id}/start`],
    ['DELETE /v1/calls/{id}', 'DELETE', (id) => `/v1/calls/${id}`],
    ['GET /v1/nodes/{id}', 'GET', (id) => `/v1/nodes/${id}`],
    ['DELETE /v1/nodes/{id}', 'DELETE', (id) => `/v1/nodes/${id}`],
    ['POST /v1/nodes/{id}/drain', 'POST', (id) => `/v1/nodes/${id}/drain`],
    ['POST /v1/nodes/{id}/undrain', 'POST', (id) => `/v1/nodes/${id}/undrain`],
  ];
  it.each(idPaths)(`%s: ${RUNS} arbitrary path segments`, async (name, method, path) => {
    await run(name, segment, (id) => check(method, path(id)));
  }, TIMEOUT);

  it(`any method on any path under /v1 or elsewhere: ${RUNS} cases`, async () => {
    const method = fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'TRACE', 'PROPFIND', 'M-SEARCH', 'PURGE');
    const path = fc.tuple(fc.constantFrom('', '/v1', '/v1/nodes', '/v1/calls', '/v1/nodes/register', '/docs', '/health', '/metrics', '/v1/ops'), fc.array(segment, { maxLength: 3 }))
      .map(([base, segs]) => base + segs.map((x) => '/' + x).join(''));
    await run('any method, any path', fc.tuple(method, path, fc.option(bodies({ x: 1 }), { freq: 3 })), async ([m, p, b]) => {
      // HEAD answers carry no body: only the status can be checked.
      if (m === 'HEAD') {
        stats.cases++;
        const res = await http.request(m, p || '/');
        if (res.status >= 500) throw new Error(`HEAD ${p} → ${res.status}`);
        if (res.status >= 400 && (await snapshot()) !== baseline) throw new Error(`HEAD ${p} changed state`);
        if (res.status < 400) await restore(res);
        return;
      }
      await check(m, p || '/', b ?? undefined, false);
    });
  }, TIMEOUT);

  it('the service is alive and the fixture intact after all of it', async () => {
    expect(await snapshot()).toBe(baseline);
    expect(stats.s4xx).toBeGreaterThan(stats.s2xx);
    expect(node.legs.size).toBe(CALLS.length);
  });
});
}

fuzzSuite('memory', RUNS);
fuzzSuite('redis', Number(process.env.FUZZ_RUNS_REDIS ?? 100));
