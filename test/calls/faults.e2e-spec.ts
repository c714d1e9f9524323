import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { FakeMediaNode, startFakeNodes } from '../support/fake-media-node';
import { mapConcurrent, RawHttp } from '../support/raw-http';
import { deleteKeys, randomPrefix, TEST_REDIS_URL } from '../support/redis';
import { createTestApp, type TestApp } from '../support/test-app';

/**
 * Fault injection with real loopback media nodes: nodes that die, answer garbage, the wrong
 * status or a trickle; a registry flood; a thousand concurrent calls.
 */

// A real collection before each heap reading, so the figures mean something.
setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;
const heapMb = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
};

interface Env {
  t: TestApp;
  http: RawHttp;
  close: () => Promise<void>;
}

async function app(nodes: FakeMediaNode[], env: Record<string, string> = {}, maxSockets = 16): Promise<Env> {
  // Logging off: thousands of request lines would cost more than the requests.
  const t = await createTestApp({ env: { LOG_LEVEL: 'silent', ...env }, listen: true });
  const http = new RawHttp(t.url, maxSockets);
  for (const n of nodes) {
    const r = await http.json('POST', '/v1/nodes/register', { node_id: n.nodeId, control_url: n.url });
    expect(r.status).toBe(200);
  }
  return { t, http, close: async () => { http.close(); await t.close(); } };
}

const prepare = (http: RawHttp, callId: string) =>
  http.request('POST', '/v1/calls', { body: JSON.stringify({ call_id: callId, offer_sdp: 'v=0' }), headers: { 'content-type': 'application/json' }, timeoutMs: 60_000 });
const expectError = (r: { status: number; json: unknown }, status: number) => {
  expect(r.status).toBe(status);
  expect(r.json).toEqual({ error: expect.any(String) });
};

describe('faults: a media node killed mid-call', () => {
  let node: FakeMediaNode;
  let e: Env;
  beforeEach(async () => {
    node = await new FakeMediaNode('k1').start();
    e = await app([node]);
  });
  afterEach(async () => {
    await e.close();
    await node.stop().catch(() => undefined);
  });

  it('start answers 502 and keeps the binding; delete answers 502 and removes it', async () => {
    expect((await prepare(e.http, 'kill-1')).status).toBe(201);
    await node.stop();
    const start = await e.http.request('POST', '/v1/calls/kill-1/start');
    expectError(start, 502);
    const bound = await e.http.request('GET', '/v1/calls/kill-1');
    expect(bound.status).toBe(200);
    expect(bound.json).toMatchObject({ node_id: 'k1', started: false });
    expectError(await e.http.request('DELETE', '/v1/calls/kill-1'), 502);
    expectError(await e.http.request('GET', '/v1/calls/kill-1'), 404);
    // A second delete (the BYE retried) finds nothing.
    expectError(await e.http.request('DELETE', '/v1/calls/kill-1'), 404);
  });

  it('a node killed while a start is in flight: 502 at once, not after the timeout', async () => {
    expect((await prepare(e.http, 'kill-2')).status).toBe(201);
    node.mode = 'blackhole';
    const t0 = Date.now();
    const pending = e.http.request('POST', '/v1/calls/kill-2/start');
    for (let i = 0; i < 100 && node.count('start') === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(node.count('start')).toBe(1);
    await node.stop();
    const res = await pending;
    expectError(res, 502);
    expect(res.json).toEqual({ error: expect.stringMatching(/ECONNRESET|socket hang up|connection/i) });
    expect(Date.now() - t0).toBeLessThan(e.t.config.controlTimeoutMs);
    expect((await e.http.request('GET', '/v1/calls/kill-2')).status).toBe(200);
  });

  it('a prepare on a killed node fails over to a live one; alone it is 502 and binds nothing', async () => {
    const other = await new FakeMediaNode('k2').start();
    try {
      await node.stop();
      expectError(await prepare(e.http, 'kill-3'), 502);
      expectError(await e.http.request('GET', '/v1/calls/kill-3'), 404);
      expect((await e.http.json('POST', '/v1/nodes/register', { node_id: 'k2', control_url: other.url })).status).toBe(200);
      const ok = await prepare(e.http, 'kill-4');
      expect(ok.status).toBe(201);
      expect(ok.json).toMatchObject({ node_id: 'k2' });
      expect([...other.legs.keys()]).toEqual(['kill-4']);
    } finally {
      await other.stop();
    }
  });
});

describe('faults: misbehaving answers', () => {
  let node: FakeMediaNode;
  let e: Env;
  beforeEach(async () => {
    node = await new FakeMediaNode('m1').start();
    e = await app([node]);
  });
  afterEach(async () => {
    await e.close();
    await node.stop();
  });

  it('garbage JSON to a prepare: 502, no binding; with a healthy second node the call lands there', async () => {
    node.mode = 'garbage';
    const r = await prepare(e.http, 'g-1');
    expectError(r, 502);
    expectError(await e.http.request('GET', '/v1/calls/g-1'), 404);
    const good = await new FakeMediaNode('m2').start();
    try {
      expect((await e.http.json('POST', '/v1/nodes/register', { node_id: 'm2', control_url: good.url })).status).toBe(200);
      const ok = await prepare(e.http, 'g-2');
      expect(ok.status).toBe(201);
      expect(ok.json).toMatchObject({ node_id: 'm2' });
    } finally {
      await good.stop();
    }
  });

  it('the wrong status (200 to a prepare): 502 naming it, no binding', async () => {
    node.mode = 'wrongstatus';
    const r = await prepare(e.http, 'w-1');
    expectError(r, 502);
    expect((r.json as { error: string }).error).toMatch(/unexpected status 200/);
    expectError(await e.http.request('GET', '/v1/calls/w-1'), 404);
  });

  it('the wrong status to start (204) and delete (202): 502; start keeps the binding unstarted, delete removes it', async () => {
    expect((await prepare(e.http, 'w-2')).status).toBe(201);
    node.mode = 'wrongstatus';
    expectError(await e.http.request('POST', '/v1/calls/w-2/start'), 502);
    expect((await e.http.request('GET', '/v1/calls/w-2')).json).toMatchObject({ started: false });
    expectError(await e.http.request('DELETE', '/v1/calls/w-2'), 502);
    expectError(await e.http.request('GET', '/v1/calls/w-2'), 404);
  });

  it('a body trickled one byte every 100 ms is cut at the control timeout: 502, no binding', async () => {
    node.mode = 'trickle';
    const timeout = e.t.config.controlTimeoutMs;
    let t0 = Date.now();
    const r = await prepare(e.http, 'tr-1');
    const took = Date.now() - t0;
    expectError(r, 502);
    expect((r.json as { error: string }).error).toMatch(new RegExp(`within ${timeout} ms`));
    expect(took).toBeGreaterThanOrEqual(timeout - 50);
    expect(took).toBeLessThan(timeout + 1_500);
    expectError(await e.http.request('GET', '/v1/calls/tr-1'), 404);
    // The same bound on start and delete.
    node.mode = 'ok';
    expect((await prepare(e.http, 'tr-2')).status).toBe(201);
    node.mode = 'trickle';
    t0 = Date.now();
    expectError(await e.http.request('POST', '/v1/calls/tr-2/start'), 502);
    expectError(await e.http.request('DELETE', '/v1/calls/tr-2'), 502);
    expect(Date.now() - t0).toBeLessThan(2 * (timeout + 1_500));
    expectError(await e.http.request('GET', '/v1/calls/tr-2'), 404);
  });
});

describe('faults: answers that must not be followed or swallowed', () => {
  let node: FakeMediaNode;
  let other: FakeMediaNode;
  let e: Env;
  beforeEach(async () => {
    [node, other] = [await new FakeMediaNode('h1').start(), await new FakeMediaNode('h2').start()];
    e = await app([node]);
  });
  afterEach(async () => {
    await e.close();
    await Promise.all([node.stop(), other.stop()]);
  });

  it('a redirect is never followed (no SSRF by 307): 502, and the target sees nothing', async () => {
    node.mode = 'redirect';
    node.redirectTo = other.url;
    const r = await prepare(e.http, 'r-1');
    expectError(r, 502);
    expect((r.json as { error: string }).error).toMatch(/unexpected status 307/);
    expect(other.requests).toEqual([]);
    node.mode = 'ok';
    expect((await prepare(e.http, 'r-2')).status).toBe(201);
    node.mode = 'redirect';
    expectError(await e.http.request('POST', '/v1/calls/r-2/start'), 502);
    expectError(await e.http.request('DELETE', '/v1/calls/r-2'), 502);
    expect(other.requests).toEqual([]);
  });

  it('a 4 MiB answer is refused at 1 MiB: 502, no binding, the service fine', async () => {
    node.mode = 'huge';
    const r = await prepare(e.http, 'huge-1');
    expectError(r, 502);
    expectError(await e.http.request('GET', '/v1/calls/huge-1'), 404);
    expect((r.json as { error: string }).error).toBe('unreadable answer');
    expect((await e.http.request('GET', '/v1/nodes')).status).toBe(200);
  });
});

describe('faults: registry flood', () => {
  it('12,000 distinct node ids with RTP_MAX_NODES=10000: 10,000 × 200, then 503; heartbeats still pass; memory bounded', async () => {
    const e = await app([], { RTP_MAX_NODES: '10000' }, 32);
    try {
      const ids = Array.from({ length: 12_000 }, (_, i) => `flood-${i.toString().padStart(5, '0')}`);
      const register = (id: string) => e.http.json('POST', '/v1/nodes/register', {
        node_id: id, control_url: `http://127.0.0.1:9/${id}`, media_ip: '127.0.0.1', active_legs: 1, region: 'r',
      });
      const before = heapMb();
      const first = await mapConcurrent(ids.slice(0, 10_000), 32, (id) => register(id).then((r) => r.status));
      const full = heapMb();
      const rest = await mapConcurrent(ids.slice(10_000), 32, (id) => register(id));
      const after = heapMb();
      expect(first.filter((s) => s === 200)).toHaveLength(10_000);
      expect(rest.filter((r) => r.status === 503)).toHaveLength(2_000);
      expect(rest[0].json).toEqual({ error: 'node registry is full' });
      // A registered node's heartbeat is never refused for being full.
      expect((await register('flood-00042')).status).toBe(200);
      const listed = (await e.http.request('GET', '/v1/nodes')).json as { nodes: Array<{ node_id: string }> };
      expect(listed.nodes).toHaveLength(10_000);
      expect(listed.nodes.some((n) => n.node_id === 'flood-10000')).toBe(false);
      // 10,000 nodes cost a few KB each at most; the 2,000 refused ones cost nothing lasting.
      const perNodeKb = ((full - before) * 1024) / 10_000;
      // eslint-disable-next-line no-console
      console.log(`registry flood: heap ${before.toFixed(1)} → ${full.toFixed(1)} MB after 10,000 nodes (${perNodeKb.toFixed(2)} KB/node) → ${after.toFixed(1)} MB after 2,000 refused`);
      expect(full - before).toBeLessThan(64);
      expect(after - full).toBeLessThan(8);
    } finally {
      await e.close();
    }
  }, 120_000);
});

describe('faults: registry flood with the Redis store', () => {
  it('RTP_MAX_NODES holds for the shared store too: exactly 200 of 300 concurrent registrations admitted, 503 for the rest, heartbeats pass, refused ids not listed', async () => {
    const prefix = randomPrefix('flood');
    const e = await app([], { RTP_STORE: 'redis', REDIS_URL: TEST_REDIS_URL, RTP_STORE_PREFIX: prefix, RTP_MAX_NODES: '200' }, 16);
    try {
      const ids = Array.from({ length: 300 }, (_, i) => `rflood-${i}`);
      const res = await mapConcurrent(ids, 16, (id) => e.http.json('POST', '/v1/nodes/register', { node_id: id, control_url: 'http://127.0.0.1:9' }));
      expect(res.filter((r) => r.status === 200)).toHaveLength(200);
      expect(res.filter((r) => r.status === 503)).toHaveLength(100);
      const admitted = ids.filter((_, i) => res[i].status === 200);
      expect((await e.http.json('POST', '/v1/nodes/register', { node_id: admitted[7], control_url: 'http://127.0.0.1:9' })).status).toBe(200);
      const listed = ((await e.http.request('GET', '/v1/nodes')).json as { nodes: Array<{ node_id: string }> }).nodes.map((n) => n.node_id);
      expect(listed.sort()).toEqual([...admitted].sort());
    } finally {
      await e.close();
      await deleteKeys(TEST_REDIS_URL, prefix);
    }
  }, 60_000);
});

describe('faults: 1,000 concurrent calls across 5 nodes', () => {
  it('no lost and no duplicated binding: each call once, on the node that holds its leg, even when every prepare is sent twice at once', async () => {
    const nodes = await startFakeNodes(5, 'cc');
    // A generous control timeout: this test is about bookkeeping under concurrency, and a
    // loaded CI machine must not turn it into a timeout test.
    const e = await app(nodes, { RTP_CONTROL_TIMEOUT_MS: '20000' }, 256);
    try {
      const ids = Array.from({ length: 1_000 }, (_, i) => `cc-${i}@example.org`);
      // Every call prepared twice (a retransmitted INVITE), the copies side by side, all 2,000 at once.
      const answers = await Promise.all(ids.flatMap((id) => [id, id]).map((id) => prepare(e.http, id)));
      const statuses = new Map<string, number>();
      for (const a of answers) if (a.status !== 201) statuses.set(`${a.status} ${a.text}`, (statuses.get(`${a.status} ${a.text}`) ?? 0) + 1);
      expect([...statuses]).toEqual([]);
      const nodeOf = new Map<string, string>();
      for (const a of answers) {
        const { call_id: id, node_id: nodeId } = a.json as { call_id: string; node_id: string };
        if (nodeOf.has(id)) expect(nodeOf.get(id)).toBe(nodeId); // both copies got the same answer
        nodeOf.set(id, nodeId);
      }
      expect(nodeOf.size).toBe(1_000);
      // The nodes: exactly 1,000 legs, each call on one node only. A copy that overlapped the
      // first shared its attempt; one that came after it was a re-INVITE to the same node.
      const legs = nodes.flatMap((n) => [...n.legs.keys()].map((id) => [id, n.nodeId] as const));
      expect(legs).toHaveLength(1_000);
      expect(new Set(legs.map(([id]) => id)).size).toBe(1_000);
      const preparedOn = new Map<string, Set<string>>();
      for (const n of nodes) {
        for (const r of n.requests) {
          if (r.rawPath !== '/v1/legs') continue;
          const id = (r.body as { call_id: string }).call_id;
          preparedOn.set(id, (preparedOn.get(id) ?? new Set()).add(n.nodeId));
        }
      }
      expect(preparedOn.size).toBe(1_000);
      expect([...preparedOn.values()].filter((s) => s.size !== 1)).toEqual([]);
      const prepares = nodes.reduce((s, n) => s + n.count('prepare'), 0);
      expect(prepares).toBeGreaterThanOrEqual(1_000);
      expect(prepares).toBeLessThanOrEqual(2_000);
      for (const [id, nodeId] of legs) expect(nodeOf.get(id)).toBe(nodeId);
      for (const n of nodes) expect(n.legs.size).toBeGreaterThan(0);
      // The pool's view agrees: every binding, and the per-node counts.
      const bindings = await mapConcurrent(ids, 64, (id) => e.http.request('GET', `/v1/calls/${encodeURIComponent(id)}`));
      bindings.forEach((b, i) => {
        expect(b.status).toBe(200);
        expect((b.json as { node_id: string }).node_id).toBe(nodeOf.get(ids[i]));
      });
      const listed = ((await e.http.request('GET', '/v1/nodes')).json as { nodes: Array<{ node_id: string; bound_calls: number }> }).nodes;
      for (const n of nodes) expect(listed.find((l) => l.node_id === n.nodeId)?.bound_calls).toBe(n.legs.size);
      // eslint-disable-next-line no-console
      console.log(`1,000 concurrent calls: legs per node ${nodes.map((n) => `${n.nodeId}=${n.legs.size}`).join(' ')}; ${prepares} prepares reached the nodes for 2,000 requests`);
      // Tear everything down at once: every leg deleted once, nothing left anywhere.
      const deletes = await Promise.all(ids.map((id) => e.http.request('DELETE', `/v1/calls/${encodeURIComponent(id)}`)));
      expect(deletes.every((d) => d.status === 204)).toBe(true);
      expect(nodes.reduce((s, n) => s + n.legs.size, 0)).toBe(0);
      expect(nodes.reduce((s, n) => s + n.count('delete'), 0)).toBe(1_000);
      const after = ((await e.http.request('GET', '/v1/nodes')).json as { nodes: Array<{ bound_calls: number }> }).nodes;
      expect(after.every((n) => n.bound_calls === 0)).toBe(true);
    } finally {
      await e.close();
      await Promise.all(nodes.map((n) => n.stop()));
    }
  }, 120_000);
});
