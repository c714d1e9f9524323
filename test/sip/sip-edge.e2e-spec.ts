import type { ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { RtpCaller } from '../../src/demo/rtp-caller';
import { runSipDemo } from '../../src/demo/sip-demo';
import { findSipTools, KamailioEdge, type KamailioOptions, type SipTools, sipRequest } from '../../src/demo/sip-tools';
import { startSipp } from '../../src/demo/sipp-runner';
import { type FakeMediaNode, startFakeNodes } from '../../src/testing/fake-media-node';
import { spawnBuilt } from '../support/dist';
import { createTestApp, type TestApp } from '../support/test-app';
import { randomPrefix, TEST_REDIS_URL, deleteKeys } from '../support/redis';
import { eventually } from '../support/media-nodes';
import { sdpOffer, SipUa } from '../support/sip-ua';
import { bindingsOf } from '../../src/demo/sip-move-scene';

/**
 * rtp-pool behind a real Kamailio (deploy/kamailio/kamailio.cfg), driven by raw SIP and by SIPp
 * (deploy/sipp): what a SIP peer that misbehaves, a media node that dies and a pool instance
 * that dies do to the legs. After each scene the system converges: a node holds a leg for a
 * call if and only if the pool binds the call to that node (CONTRACT §7).
 */

const found = findSipTools();
let tools: SipTools;

beforeAll(() => {
  // The test command's provisioning installs these (scripts/provision-test-env.js).
  if (!found.tools) throw new Error(found.missing);
  tools = found.tools;
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`GET ${url} answered ${res.status}`);
  return (await res.json()) as T;
}

interface NodeView {
  id: string;
  /** Call ids of the legs the node holds. */
  legs(): Promise<string[]>;
}

/** What disagrees between the nodes' legs and the pool's bindings (empty when converged). */
async function disagreements(poolUrl: string, nodes: NodeView[]): Promise<string[]> {
  const out: string[] = [];
  for (const n of nodes) {
    const legs = new Set(await n.legs());
    const bound = new Set(await bindingsOf(poolUrl, n.id));
    for (const id of legs) if (!bound.has(id)) out.push(`${id}@${n.id}: leg, no binding`);
    for (const id of bound) if (!legs.has(id)) out.push(`${id}@${n.id}: bound, no leg`);
  }
  return out;
}

async function expectConverged(poolUrl: string, nodes: NodeView[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: string[] = [];
  while (Date.now() < deadline) {
    last = await disagreements(poolUrl, nodes).catch((e: Error) => [e.message]);
    if (!last.length) return;
    await sleep(100);
  }
  throw new Error(`not converged within ${timeoutMs} ms: ${last.slice(0, 10).join('; ')}${last.length > 10 ? ` (+${last.length - 10})` : ''}`);
}

const fakeView = (id: string, f: FakeMediaNode): NodeView => ({ id, legs: async () => [...f.legs.keys()] });
const totalLegs = (fakes: FakeMediaNode[]) => fakes.reduce((n, f) => n + f.legs.size, 0);

/** An edge in front of `poolUrl`; stopped by the caller. */
function edge(poolUrl: string, o: Partial<KamailioOptions> = {}): Promise<KamailioEdge> {
  return new KamailioEdge(tools.kamailio, { poolUrl, children: 8, ...o }).start();
}

/** Fails with Kamailio's log when `fn` throws (what the edge said is the first thing to read). */
async function withLog<T>(k: KamailioEdge, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    (e as Error).message += `\n--- kamailio ---\n${k.log.split('\n').filter((l) => /WARN|ERR|CRIT/.test(l)).slice(-30).join('\n')}`;
    throw e;
  }
}

// Fake media nodes send no RTP: the ports in these suites' offers are never written to.
describe('SIP edge: Kamailio in front of rtp-pool, two fake media nodes', () => {
  let fakes: FakeMediaNode[];
  let pool: TestApp;
  let nodes: NodeView[];
  let k: KamailioEdge | undefined;

  beforeAll(async () => {
    fakes = await startFakeNodes(2, 'sip');
    pool = await createTestApp({ listen: true, env: { RTP_CONTROL_URLS: fakes.map((f) => f.url).join(','), RTP_CONTROL_TIMEOUT_MS: '1000' } });
    nodes = fakes.map((f, i) => fakeView(`seed-${i + 1}`, f));
  });
  afterEach(async () => {
    await k?.stop();
    k = undefined;
    for (const f of fakes) f.reset();
  });
  afterAll(async () => {
    await pool?.close();
    await Promise.all((fakes ?? []).map((f) => f.stop()));
  });

  it('INVITE → 100, 200 with the node\'s address in an SDP answer; ACK → start; BYE → DELETE, 200; OPTIONS → 200', async () => {
    k = await edge(pool.url, { logLevel: 2 });
    await withLog(k, async () => {
      expect(await sipRequest(k!.port, 'OPTIONS')).toMatch(/^SIP\/2\.0 200 /);
      const ua = await new SipUa(k!.port).open();
      try {
        const offer = sdpOffer(41000);
        ua.send(ua.invite(offer));
        await ua.waitFor((m) => m.status === 100, 3000, '100 Trying');
        const ok = await ua.final('INVITE');
        expect(ok.status).toBe(200);
        expect(ok.headers.contact).toMatch(/^<sip:rtp-pool@127\.0\.0\.1:\d+;transport=udp>$/);
        expect(ok.headers['content-type']).toBe('application/sdp');
        const node = fakes.find((f) => f.legs.has(ua.callId))!;
        const leg = node.legs.get(ua.callId)!;
        expect(leg.offer).toBe(offer);
        expect(ok.body).toContain(`c=IN IP4 127.0.0.1\r\n`);
        expect(ok.body).toContain(`m=audio ${leg.port} RTP/AVP 0\r\n`);
        expect(ok.body).toContain('a=rtpmap:0 PCMU/8000\r\n');
        expect(leg.started).toBe(false);
        ua.send(ua.ack());
        await eventually(() => leg.started, 3000, 'start');
        ua.send(ua.bye());
        expect((await ua.final('BYE')).status).toBe(200);
        expect(node.legs.has(ua.callId)).toBe(false);
        expect(node.count('delete')).toBe(1);
        await expectConverged(pool.url, nodes, 2000);
      } finally {
        ua.close();
      }
    });
  });

  it('one INVITE sent 8 times makes one leg, and copies that arrive after the call ended make none', async () => {
    k = await edge(pool.url);
    for (const f of fakes) f.prepareDelayMs = 300;
    await withLog(k, async () => {
      const ua = await new SipUa(k!.port).open();
      try {
        const invite = ua.invite(sdpOffer(41002));
        for (let i = 0; i < 8; i++) {
          ua.send(invite);
          await sleep(20);
        }
        expect((await ua.final('INVITE')).status).toBe(200);
        ua.send(ua.ack());
        await sleep(200);
        ua.send(ua.bye());
        expect((await ua.final('BYE')).status).toBe(200);
        // tm still holds the answered INVITE's transaction for a few seconds (it absorbs copies);
        // after that the edge's record of ended calls does.
        ua.send(invite);
        await sleep(6000);
        ua.send(invite);
        ua.send(invite);
        await sleep(1000);
        const prepares = fakes.reduce((n, f) => n + f.count('prepare'), 0);
        expect(prepares).toBe(1);
        expect(totalLegs(fakes)).toBe(0);
        await expectConverged(pool.url, nodes, 2000);
      } finally {
        ua.close();
      }
    });
  }, 30_000);

  it('a caller that never ACKs the 200: the leg is deleted when the ACK timer runs out', async () => {
    k = await edge(pool.url, { ackTimeoutSec: 2 });
    await withLog(k, async () => {
      const ua = await new SipUa(k!.port).open();
      try {
        ua.send(ua.invite(sdpOffer(41004)));
        expect((await ua.final('INVITE')).status).toBe(200);
        const node = fakes.find((f) => f.legs.has(ua.callId))!;
        expect(node).toBeDefined();
        await eventually(() => !node.legs.has(ua.callId), 6000, 'the leg to be deleted');
        expect(node.count('start')).toBe(0);
        await expectConverged(pool.url, nodes, 2000);
        // The call is over for the edge: a late BYE finds nothing.
        ua.send(ua.bye());
        expect((await ua.final('BYE')).status).toBe(481);
      } finally {
        ua.close();
      }
    });
  }, 20_000);

  it('a call whose BYE never comes: the leg is deleted when the call timer runs out', async () => {
    k = await edge(pool.url, { callTimeoutSec: 2 });
    await withLog(k, async () => {
      const ua = await new SipUa(k!.port).open();
      try {
        ua.send(ua.invite(sdpOffer(41010)));
        expect((await ua.final('INVITE')).status).toBe(200);
        const node = fakes.find((f) => f.legs.has(ua.callId))!;
        ua.send(ua.ack());
        await eventually(() => node.legs.get(ua.callId)?.started === true, 3000, 'start');
        await eventually(() => !node.legs.has(ua.callId), 6000, 'the leg to be deleted');
        await expectConverged(pool.url, nodes, 2000);
      } finally {
        ua.close();
      }
    });
  }, 20_000);

  it('re-INVITEs through SIPp stay on the call\'s node; every call succeeds and leaves no leg', async () => {
    k = await edge(pool.url);
    await withLog(k, async () => {
      const calls = 10;
      const run = await startSipp(tools.sipp, {
        scenario: 'uac-reinvite.xml', target: k!.address, calls, rate: 10, pauseMs: 200,
        callers: Array.from({ length: calls }, (_, i) => ({ ip: '127.0.0.1', port: 42000 + 2 * i })),
      });
      const res = await run.done;
      expect({ successful: res.successful, failed: res.failed, exit: res.exitCode, errors: res.errors }).toMatchObject({ successful: calls, failed: 0, exit: 0 });
      // Two prepares per call, both on one node.
      for (const id of res.callIds) {
        const on = fakes.filter((f) => f.requests.some((r) => r.method === 'POST' && r.rawPath === '/v1/legs' && (r.body as { call_id?: string })?.call_id === id));
        expect(on).toHaveLength(1);
        expect(on[0].requests.filter((r) => r.rawPath === '/v1/legs' && (r.body as { call_id?: string })?.call_id === id)).toHaveLength(2);
      }
      expect(totalLegs(fakes)).toBe(0);
      await expectConverged(pool.url, nodes, 2000);
    });
  }, 60_000);

  it('CANCELs racing the answers under load leave no leg', async () => {
    // No delay on the nodes: a CANCEL lands before, during or after the prepare, as it happens.
    k = await edge(pool.url, { ackTimeoutSec: 2 });
    await withLog(k, async () => {
      const calls = 200;
      const run = await startSipp(tools.sipp, {
        scenario: 'uac-cancel.xml', target: k!.address, calls, rate: 100,
        callers: Array.from({ length: calls }, (_, i) => ({ ip: '127.0.0.1', port: 43000 + 2 * i })),
      });
      const res = await run.done;
      expect(res.created).toBe(calls);
      // A CANCEL that arrives after the edge decided on the 200 is too late (RFC 3261 §9.2): SIPp
      // gets the INVITE's 200 before or after the CANCEL's, where it expects the 487, and counts the
      // call failed; the edge's ACK timer deletes its leg. That is the only failure.
      const aborted = [...res.errors.matchAll(/Aborting call on unexpected message[^']*'[^']*': while expecting '(\d+)'[^']*received 'SIP\/2\.0 (\d+)[^']*?CSeq: 1 (\w+)/gs)]
        .map((m) => `expected ${m[1]}, got ${m[2]} to ${m[3]}`);
      expect(aborted).toHaveLength(res.failed);
      expect(aborted.filter((a) => a !== 'expected 487, got 200 to CANCEL' && a !== 'expected 487, got 200 to INVITE')).toEqual([]);
      expect(res.successful).toBeGreaterThan(0);
      await eventually(() => totalLegs(fakes) === 0, 8000, 'no leg on the nodes');
      await expectConverged(pool.url, nodes, 3000);
      process.stdout.write(`CANCEL race: ${res.successful}/${calls} answered 487, ${res.failed} answered 200 (their CANCEL too late); legs left 0\n`);
    });
  }, 90_000);

  it('a CANCEL is answered at once while prepares hold workers; its INVITE gets 487 and leaves no leg', async () => {
    k = await edge(pool.url, { children: 8 });
    // Below the pool's control timeout (1 s here), so the other prepares succeed.
    for (const f of fakes) f.prepareDelayMs = 800;
    await withLog(k, async () => {
      const uas = await Promise.all(Array.from({ length: 5 }, () => new SipUa(k!.port).open()));
      try {
        for (const [i, ua] of uas.entries()) ua.send(ua.invite(sdpOffer(41020 + 2 * i)));
        const target = uas[0];
        await target.waitFor((m) => m.status === 100, 3000, '100 Trying');
        const t0 = Date.now();
        target.send([
          `CANCEL sip:edge@127.0.0.1:${k!.port} SIP/2.0`,
          `Via: SIP/2.0/UDP 127.0.0.1:${target.port};branch=${target.branch}`,
          `From: <sip:ua@127.0.0.1:${target.port}>;tag=${target.fromTag}`,
          `To: <sip:edge@127.0.0.1:${k!.port}>`,
          `Call-ID: ${target.callId}`, 'CSeq: 1 CANCEL', 'Max-Forwards: 70', 'Content-Length: 0', '', '',
        ].join('\r\n'));
        const cancelOk = await target.final('CANCEL', 3000);
        const answeredIn = Date.now() - t0;
        expect(cancelOk.status).toBe(200);
        // Four prepares still hold their workers: the CANCEL did not wait for them.
        expect(answeredIn).toBeLessThan(600);
        expect((await target.final('INVITE', 5000)).status).toBe(487);
        for (const ua of uas.slice(1)) expect((await ua.final('INVITE', 8000)).status).toBe(200);
        // The node makes the leg when its late answer goes out; the pool deletes it then (CONTRACT §7).
        await eventually(() => !fakes.some((f) => f.legs.has(target.callId)), 3000, 'the cancelled call\'s leg to go');
        for (const ua of uas.slice(1)) {
          ua.send(ua.ack());
          ua.send(ua.bye());
          expect((await ua.final('BYE')).status).toBe(200);
        }
        await expectConverged(pool.url, nodes, 3000);
        expect(totalLegs(fakes)).toBe(0);
      } finally {
        for (const ua of uas) ua.close();
      }
    });
  }, 30_000);

  it('errors as SIP: no node → 503 with Retry-After; a Call-ID the pool refuses (400) → 488', async () => {
    const empty = await createTestApp({ listen: true });
    const k2 = await edge(empty.url);
    try {
      await withLog(k2, async () => {
        const ua = await new SipUa(k2.port).open();
        try {
          ua.send(ua.invite(sdpOffer(41006)));
          const r = await ua.final('INVITE');
          expect(r.status).toBe(503);
          expect(r.headers['retry-after']).toBe('5');
          const long = `${'x'.repeat(300)}@127.0.0.1`;
          ua.send(ua.invite(sdpOffer(41006), { callId: long, branch: 'z9hG4bKlong' }));
          expect((await ua.waitFor((m) => m.headers['call-id'] === long && (m.status ?? 0) >= 200)).status).toBe(488);
        } finally {
          ua.close();
        }
      });
    } finally {
      await k2.stop();
      await empty.close();
    }
  });

  it('a pool that accepts the connection and never answers → 503 within the edge\'s timeout, not a hang', async () => {
    const held = new Set<Socket>();
    const silent: Server = createServer((s) => {
      held.add(s);
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    const k2 = await edge(url, { httpTimeoutSec: 1 });
    try {
      await withLog(k2, async () => {
        const ua = await new SipUa(k2.port).open();
        try {
          const t0 = Date.now();
          ua.send(ua.invite(sdpOffer(41008)));
          const r = await ua.final('INVITE', 8000);
          expect(r.status).toBe(503);
          expect(Date.now() - t0).toBeLessThan(5000);
          // The edge still answers (no worker hangs).
          expect(await sipRequest(k2.port, 'OPTIONS')).toMatch(/^SIP\/2\.0 200 /);
        } finally {
          ua.close();
        }
      });
    } finally {
      await k2.stop();
      for (const s of held) s.destroy();
      await new Promise<void>((r) => silent.close(() => r()));
    }
  }, 20_000);
});

/** A reference media node process (dist/media-node/main.js) registering with `registry`. */
function mediaNodeProcess(id: string, registry: string): { child: ChildProcess; out: () => string } {
  const min = 20000 + 2 * randomInt(0, 19000);
  return spawnBuilt('media-node/main.js', {
    RTP_CONTROL_HOST: '127.0.0.1', RTP_CONTROL_PORT: '0', RTP_NODE_ID: id, RTP_MEDIA_IP: '127.0.0.1', RTP_MEDIA_BIND_IP: '127.0.0.1',
    RTP_PORT_MIN: String(min), RTP_PORT_MAX: String(min + 1999), SIP_REGISTRY_URL: registry, RTP_DRAIN_TIMEOUT_SEC: '0', LOG_LEVEL: 'warn',
  });
}

describe('SIP edge: a media node SIGKILLed under SIPp load', () => {
  it('calls placed after the kill all succeed on the other node; the only failures were in setup on the killed one', async () => {
    const pool = await createTestApp({ listen: true, env: { RTP_HEALTH_INTERVAL_MS: '200', RTP_HEALTH_TIMEOUT_MS: '500', RTP_CONTROL_TIMEOUT_MS: '1000', RTP_NODE_TTL_SEC: '30' } });
    const procs = [mediaNodeProcess('kill-a', pool.url), mediaNodeProcess('kill-b', pool.url)];
    let k: KamailioEdge | undefined;
    const callers: RtpCaller[] = [];
    try {
      let lastListed: unknown;
      const listed = async () => (lastListed = (await getJson<{ nodes: { node_id: string; control_url: string }[] }>(`${pool.url}/v1/nodes`)).nodes) as { node_id: string; control_url: string }[];
      // Process start-up on a loaded 2-core machine can take many seconds.
      await eventually(async () => (await listed()).length === 2, 30_000, 'both nodes registered').catch((e: Error) => {
        throw new Error(`${e.message}; listed: ${JSON.stringify(lastListed)}\n${procs.map((p) => p.out()).join('\n')}`);
      });
      const urls = Object.fromEntries((await listed()).map((n) => [n.node_id, n.control_url]));
      k = await edge(pool.url, { children: 16 });
      const calls = 150;
      const rate = 30;
      // The reference nodes send RTP to the offers: each points at a socket of this test.
      for (let i = 0; i < calls; i++) callers.push(await new RtpCaller().open());
      const run = await startSipp(tools.sipp, {
        scenario: 'uac-basic.xml', target: k.address, calls, rate, pauseMs: 1000,
        callers: callers.map((c) => ({ ip: c.address, port: c.port })),
      });
      const startedAt = Date.now();
      await sleep(2000);
      procs[0].child.kill('SIGKILL');
      const killedAt = Date.now() - startedAt;
      const res = await withLog(k, () => run.done);
      // Call n was placed about (n - 1) / rate s after the start. Calls placed one second after the
      // kill (the pool's probes mark the node down within ~0.5 s) must all have succeeded.
      const failedNumbers = [...res.errors.matchAll(/Call-Id '(\d+)-\d+@/g)].map((m) => Number(m[1]));
      const afterKill = failedNumbers.filter((n) => (n - 1) / rate * 1000 > killedAt + 1000);
      if (afterKill.length) {
        throw new Error(`calls placed after the kill failed: ${afterKill.join(', ')}\n${res.errors}\n--- kamailio ---\n${k.log.split('\n').filter((l) => /WARN|ERR/.test(l)).slice(-30).join('\n')}`);
      }
      expect(res.exitCode).toBe(failedNumbers.length ? 1 : 0);
      // The failures, if any, are calls in setup around the kill: at most one second's worth.
      expect(res.failed).toBeLessThanOrEqual(rate);
      expect(res.successful + res.failed).toBe(calls);
      // Every call ended: the survivor holds no leg, the pool binds nothing to either node.
      const survivor: NodeView = { id: 'kill-b', legs: async () => (await getJson<{ legs: { call_id: string }[] }>(`${urls['kill-b']}/v1/legs`)).legs.map((l) => l.call_id) };
      await expectConverged(pool.url, [survivor], 5000);
      expect(await bindingsOf(pool.url, 'kill-a')).toEqual([]);
      // Calls placed after the kill got their media from the survivor.
      const late = callers.filter((_, i) => i / rate * 1000 > killedAt + 1000);
      expect(late.length).toBeGreaterThan(0);
      expect(late.filter((c) => c.stats.fromNode === 0)).toHaveLength(0);
      process.stdout.write(`media node killed at ${killedAt} ms: ${res.successful}/${calls} calls succeeded, ${res.failed} failed\n`);
    } finally {
      await k?.stop();
      for (const p of procs) p.child.kill('SIGKILL');
      await Promise.all(callers.map((c) => c.close()));
      await pool.close();
    }
  }, 120_000);
});

describe('SIP edge: two rtp-pool instances on one Redis store behind one Kamailio', () => {
  it('calls succeed when one instance is SIGKILLed under load; nodes and bindings converge', async () => {
    const prefix = randomPrefix('sip-edge');
    const fakes = await startFakeNodes(2, 'redis-sip');
    for (const f of fakes) f.listsLegs = true;
    const env = {
      SIP_CONTROL_HOST: '127.0.0.1', RTP_STORE: 'redis', REDIS_URL: TEST_REDIS_URL, RTP_STORE_PREFIX: prefix,
      RTP_CONTROL_URLS: fakes.map((f) => f.url).join(','), RTP_CONTROL_TIMEOUT_MS: '1000', RTP_RECONCILE_INTERVAL_SEC: '1', LOG_LEVEL: 'warn',
    };
    const ports = [await freeTcpPort(), await freeTcpPort()];
    const instances = ports.map((port) => spawnBuilt('main.js', { ...env, SIP_CONTROL_PORT: String(port) }));
    let k: KamailioEdge | undefined;
    try {
      const urls = ports.map((p) => `http://127.0.0.1:${p}`);
      for (const [i, url] of urls.entries()) {
        // Process start-up on a loaded 2-core machine can take many seconds.
        await eventually(async () => (await fetch(`${url}/v1/nodes`).catch(() => undefined))?.status === 200, 30_000, `rtp-pool instance ${i + 1} serving`)
          .catch((e: Error) => {
            throw new Error(`${e.message}\n${instances[i].out()}`);
          });
      }
      k = await edge(urls.join(','), { children: 16 });
      const calls = 120;
      const run = await startSipp(tools.sipp, {
        scenario: 'uac-basic.xml', target: k.address, calls, rate: 30, pauseMs: 1000,
        callers: Array.from({ length: calls }, (_, i) => ({ ip: '127.0.0.1', port: 45000 + 2 * i })),
      });
      await sleep(1500);
      instances[0].child.kill('SIGKILL');
      const res = await withLog(k, () => run.done);
      expect({ successful: res.successful, failed: res.failed, exit: res.exitCode, errors: res.errors }).toMatchObject({ successful: calls, failed: 0, exit: 0 });
      // The survivor's reconciliation removes a leg the killed instance may have made and not bound.
      const views = fakes.map((f, i) => fakeView(`seed-${i + 1}`, f));
      await expectConverged(urls[1], views, 10_000);
      expect(totalLegs(fakes)).toBe(0);
    } finally {
      await k?.stop();
      for (const i of instances) i.child.kill('SIGKILL');
      await Promise.all(fakes.map((f) => f.stop()));
      await deleteKeys(TEST_REDIS_URL, prefix).catch(() => undefined);
    }
  }, 120_000);
});

/** A TCP port free on 127.0.0.1 right now, for a process that must be told its port. */
async function freeTcpPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('npm run sip:demo', () => {
  it('places its calls through Kamailio: each succeeds, carries RTP from its node, and leaves no leg', async () => {
    const lines: string[] = [];
    const r = await runSipDemo({ calls: 6, rate: 6, durationMs: 600, log: (l) => lines.push(l) });
    if (!r.ok) throw new Error(lines.join('\n'));
    expect(r).toMatchObject({ calls: 6, successful: 6, failed: 0, legsLeft: 0, bindingsLeft: 0 });
    expect(r.rtp.every((n) => n > 0)).toBe(true);
    expect(r.afterBye.every((n) => n === 0)).toBe(true);
    expect(lines.join('\n')).toMatch(/calls\s+success\s+setup p50\s+setup p99/);
  }, 60_000);
});
