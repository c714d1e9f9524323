import fc from 'fast-check';
import { isUtf8 } from 'node:buffer';
import type { RunningMediaNode } from '../../src/media-node/media-node.app';
import { PoolService } from '../../src/pool/pool.service';
import { FakeMediaNode } from '../support/fake-media-node';
import { startTestMediaNode } from '../support/media-nodes';
import { RawHttp } from '../support/raw-http';
import { createTestApp, type TestApp } from '../support/test-app';

/**
 * Property-based fuzzing of the JSON gate on every POST path of the service and
 * of the reference media node: bodies built from the path's valid body plus any mix of
 * every `Object.prototype` name as a key, duplicate keys (plain or \u-escaped), invalid
 * UTF-8 byte sequences and objects wider than 64 keys. Every answer must be a 4xx
 * `{"error": string}`, and nothing may change: the node list, the two calls' bindings and
 * both nodes' legs are compared after every case.
 *
 * FUZZ_GATE_RUNS (default 300) cases per path on each adapter, from a new seed every run (raise
 * it to search longer). Replay a failure with
 * FUZZ_SEED=<seed> FUZZ_PATH=<path> npx jest test/security/fuzz-gate.e2e-spec.ts -t '<path name>'.
 */
const RUNS = Number(process.env.FUZZ_GATE_RUNS ?? 300);
const SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : undefined;
const REPLAY_PATH = process.env.FUZZ_PATH;
const TIMEOUT = 240_000;

const PROTOTYPE_NAMES = Object.getOwnPropertyNames(Object.prototype);
const CALLS = ['fg-call-1', 'fg-call-2'] as const; // the second one started
const OFFER = 'v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n';

// ---- generators -------------------------------------------------------------------

type Entry = [key: string, value: unknown];

/** Byte sequences no UTF-8 decoder may accept, plus random ones that are not UTF-8. */
const invalidUtf8: fc.Arbitrary<readonly number[]> = fc.oneof(
  fc.constantFrom(
    [0x80], [0xbf], [0xff], [0xfe], [0xff, 0xfe], [0xc0, 0x80], [0xc1, 0xbf], [0xc0, 0xaf], [0xe0, 0x80, 0x80],
    [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf], [0xf4, 0x90, 0x80, 0x80], [0xf5, 0x80, 0x80, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80],
    [0xe2, 0x82], [0xf0, 0x9f, 0x98], [0xc3], [0xe2, 0x28, 0xa1], [0xc3, 0x28],
  ),
  fc.uint8Array({ minLength: 1, maxLength: 8 }).filter((b) => !isUtf8(b)).map((b) => [...b]),
);

/** A key written as JSON: plainly, or with one character \u-escaped (the same key to a parser). */
const keyText = (k: string, escape: boolean) => {
  if (!escape || k.length === 0) return JSON.stringify(k);
  const code = k.charCodeAt(0).toString(16).padStart(4, '0');
  return `"\\u${code}${JSON.stringify(k.slice(1)).slice(1)}`;
};

const textOf = (entries: Array<[string, unknown, boolean]>) =>
  '{' + entries.map(([k, v, esc]) => `${keyText(k, esc)}:${JSON.stringify(v)}`).join(',') + '}';

const value = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom('x', 1, true, null));

/**
 * Hostile bodies for one path. `dtoFields` is true where the body is a DTO: prototype names
 * alone then suffice; on a path that takes no body, each case also carries one of the
 * problems the raw-byte gate refuses (a duplicate, invalid UTF-8 or a wide object).
 */
function hostileBodies(base: Record<string, unknown>, dtoFields: boolean): fc.Arbitrary<Uint8Array> {
  const baseEntries = Object.entries(base) as Entry[];
  const protoKeys = fc.array(fc.tuple(fc.constantFrom(...PROTOTYPE_NAMES), value), { minLength: 1, maxLength: 4 });
  return fc.record({
    protos: dtoFields ? protoKeys : fc.option(protoKeys, { nil: undefined }),
    // A key repeated: one of the valid ones, a prototype name, or any string.
    dup: fc.option(fc.tuple(fc.oneof(fc.constantFrom(...(baseEntries.length ? baseEntries.map(([k]) => k) : ['x']), ...PROTOTYPE_NAMES), fc.string({ maxLength: 8 })), value, fc.boolean()), { nil: undefined }),
    // Extra keys beyond 64 (names that are all distinct: the width alone must be refused).
    wide: fc.option(fc.integer({ min: 65, max: 500 }), { nil: undefined }),
    bad: fc.option(fc.tuple(invalidUtf8, fc.nat()), { nil: undefined }),
    escapeKeys: fc.boolean(),
    shuffleSeed: fc.nat(),
  }).filter((c) => dtoFields || c.dup !== undefined || c.wide !== undefined || c.bad !== undefined)
    .map((c) => {
      const entries: Array<[string, unknown, boolean]> = baseEntries.map(([k, v]) => [k, v, false]);
      for (const [k, v] of c.protos ?? []) entries.push([k, v, c.escapeKeys]);
      if (c.dup) {
        const [k, v, esc] = c.dup;
        if (!entries.some(([key]) => key === k)) entries.push([k, 'first', false]);
        entries.push([k, v, esc]);
      }
      if (c.wide) for (let i = 0; entries.length <= 64 || i < c.wide - baseEntries.length; i++) entries.push([`w${i}`, i, false]);
      for (const [k] of c.protos ?? []) drawn.protos.add(k);
      if (c.dup) drawn.dups++;
      if (c.wide) drawn.wide++;
      if (c.bad) drawn.bad++;
      // A different order each time (the gate must not depend on where a problem sits).
      let r = c.shuffleSeed;
      for (let i = entries.length - 1; i > 0; i--) {
        r = (r * 1103515245 + 12345) % 2147483648;
        const j = r % (i + 1);
        [entries[i], entries[j]] = [entries[j], entries[i]];
      }
      let bytes = Buffer.from(textOf(entries), 'utf8');
      if (c.bad) {
        const [seq, at] = c.bad;
        const pos = at % (bytes.length + 1);
        bytes = Buffer.concat([bytes.subarray(0, pos), Buffer.from(seq), bytes.subarray(pos)]);
      }
      return bytes;
    });
}

/** What the generators drew, to check the mix. */
const drawn = { protos: new Set<string>(), dups: 0, wide: 0, bad: 0 };

/** Prints a body short in a counterexample. */
const show = (b: Uint8Array) => {
  const t = Buffer.from(b).toString('latin1');
  return `${b.length} bytes: ${JSON.stringify(t.length > 300 ? t.slice(0, 150) + ' … ' + t.slice(-150) : t)}`;
};

// ---- the harness ------------------------------------------------------------------

describe('fuzz: the JSON gate refuses every hostile body on every POST path, changing nothing', () => {
  let t: TestApp;
  let fake: FakeMediaNode;
  let media: RunningMediaNode;
  let svc: RawHttp;
  let node: RawHttp;
  let baseline: string;
  const stats = { cases: 0 };

  /**
   * GET /v1/nodes and the media node's GET /v1/legs over HTTP (both apps still answer); the two
   * calls' bindings read in-process, from the PoolService.getCall that GET /v1/calls/{id} answers
   * with (two requests fewer per case).
   */
  async function snapshot(): Promise<string> {
    const pool = t.get(PoolService);
    const [nodes, legs, ...calls] = await Promise.all([
      svc.request('GET', '/v1/nodes'),
      node.request('GET', '/v1/legs'),
      ...CALLS.map((c) => pool.getCall(c).catch((e: Error) => e.message)),
    ]);
    if (nodes.status !== 200) throw new Error(`GET /v1/nodes answered ${nodes.status}`);
    return JSON.stringify({
      nodes: nodes.json,
      calls,
      fakeLegs: [...fake.legs.entries()].sort(([a], [b]) => (a < b ? -1 : 1)),
      mediaLegs: (legs.json as { legs: Array<{ call_id: string; started: boolean }> }).legs.map((l) => [l.call_id, l.started]).sort(),
    });
  }

  beforeAll(async () => {
    fake = await new FakeMediaNode('fg-n1').start();
    media = await startTestMediaNode({ RTP_NODE_ID: 'fg-media', RTP_PORT_MIN: '37000', RTP_PORT_MAX: '37999' });
    t = await createTestApp({ listen: true });
    svc = new RawHttp(t.url, 2);
    node = new RawHttp(media.url, 2);
    const ok = async (p: Promise<{ status: number; text: string }>, what: string) => {
      const r = await p;
      if (r.status >= 300) throw new Error(`${what}: ${r.status} ${r.text}`);
    };
    await ok(svc.json('POST', '/v1/nodes/register', { node_id: 'fg-n1', control_url: fake.url }), 'register');
    for (const c of CALLS) await ok(svc.json('POST', '/v1/calls', { call_id: c, offer_sdp: 'v=0' }), `prepare ${c}`);
    await ok(svc.request('POST', `/v1/calls/${CALLS[1]}/start`), 'start');
    await ok(node.json('POST', '/v1/legs', { call_id: 'fg-leg', offer_sdp: OFFER }), 'leg');
    baseline = await snapshot();
  });
  afterAll(async () => {
    svc?.close();
    node?.close();
    await t?.close();
    await media?.close();
    await fake?.stop();
    // eslint-disable-next-line no-console
    console.log(`fuzz-gate: ${stats.cases} cases, all refused`);
  });

  const paths: Array<[name: string, client: () => RawHttp, path: string, base: Record<string, unknown>, dto: boolean]> = [
    ['service POST /v1/nodes/register', () => svc, '/v1/nodes/register', { node_id: 'fg-new', control_url: 'http://127.0.0.1:9', media_ip: '127.0.0.1', active_legs: 0, capacity: 5, weight: 1, region: 'r', draining: false }, true],
    ['service POST /v1/calls', () => svc, '/v1/calls', { call_id: 'fg-new-call', offer_sdp: 'v=0', region: 'r' }, true],
    ['service POST /v1/calls/{id}/start', () => svc, `/v1/calls/${CALLS[0]}/start`, {}, false],
    ['service POST /v1/nodes/{id}/drain', () => svc, '/v1/nodes/fg-n1/drain', {}, false],
    ['service POST /v1/nodes/{id}/undrain', () => svc, '/v1/nodes/fg-n1/undrain', {}, false],
    ['media node POST /v1/legs', () => node, '/v1/legs', { call_id: 'fg-new-leg', offer_sdp: OFFER }, true],
    ['media node POST /v1/legs/{id}/start', () => node, '/v1/legs/fg-leg/start', {}, false],
  ];

  it.each(paths)(`%s: ${RUNS} hostile bodies`, async (name, client, path, base, dto) => {
    const types = fc.constantFrom('application/json', 'application/json; charset=utf-8', 'application/vnd.rtp+json');
    const out = await fc.check(fc.asyncProperty(hostileBodies(base, dto), types, async (body, type) => {
      stats.cases++;
      const res = await client().request('POST', path, { body, headers: { 'content-type': type } });
      const ctx = `${name} ${show(body)} → ${res.status} ${res.text.slice(0, 200)}`;
      if (res.status < 400 || res.status >= 500) throw new Error(`not a 4xx: ${ctx}`);
      if (!/^application\/json/.test(String(res.headers['content-type']))) throw new Error(`not JSON: ${ctx}`);
      const err = (res.json as { error?: unknown } | undefined)?.error;
      if (typeof err !== 'string' || !err) throw new Error(`no {"error": string}: ${ctx}`);
      if (res.text.length > 600) throw new Error(`error body of ${res.text.length} bytes: ${ctx}`);
      const after = await snapshot();
      if (after !== baseline) throw new Error(`state changed: ${ctx}\nbefore ${baseline}\nafter  ${after}`);
    }), { numRuns: RUNS, seed: SEED, path: REPLAY_PATH, endOnFailure: true });
    if (out.failed) {
      const cause = out.errorInstance instanceof Error ? out.errorInstance.message : String(out.errorInstance);
      throw new Error(`fuzz-gate ${name}: replay with FUZZ_SEED=${out.seed} FUZZ_PATH=${out.counterexamplePath}\n${cause}`);
    }
    expect(out.numRuns).toBe(RUNS);
  }, TIMEOUT);

  it('drew every Object.prototype name, duplicates, invalid UTF-8 and wide objects', () => {
    expect(stats.cases).toBe(RUNS * paths.length);
    expect([...drawn.protos].sort()).toEqual([...PROTOTYPE_NAMES].sort());
    expect(Math.min(drawn.dups, drawn.wide, drawn.bad)).toBeGreaterThan(RUNS / 10);
  });
});
