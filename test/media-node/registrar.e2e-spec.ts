import { Test, type TestingModule } from '@nestjs/testing';
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { LEG_COUNTER, SimpleLegCounter } from '../../src/registrar/leg-counter.interface';
import { RegistrarModule } from '../../src/registrar/registrar.module';
import type { RegistrarModuleOptions } from '../../src/registrar/registrar.module-definition';
import { RegistrarService } from '../../src/registrar/registrar.service';
import { eventually } from '../support/media-nodes';
import { sleep } from '../../src/common/sleep';
import { CaptureLogger } from '../support/capture-logger';

interface Hit {
  method: string;
  path: string;
  auth?: string;
  body: Record<string, unknown>;
  at: number;
}

/**
 * A stand-in for the signaling service's registry: a real HTTP server on 127.0.0.1.
 * `status` decides the answer to register; `stop()`/`restart()` simulate a crash and
 * a restart on the same port (the restarted one has forgotten every node).
 */
class FakeRegistry {
  readonly hits: Hit[] = [];
  readonly nodes = new Map<string, Record<string, unknown>>();
  status = 200;
  heartbeatSec?: number;
  port = 0;
  private server?: http.Server;
  private readonly sockets = new Set<Socket>();

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  registers(): Hit[] {
    return this.hits.filter((h) => h.method === 'POST');
  }

  async start(port = 0): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString()) : {};
        this.hits.push({ method: req.method!, path: req.url!, auth: req.headers.authorization, body, at: Date.now() });
        const send = (status: number, b?: unknown) => {
          res.writeHead(status, b ? { 'content-type': 'application/json' } : {});
          res.end(b ? JSON.stringify(b) : undefined);
        };
        if (req.method === 'POST' && req.url === '/v1/nodes/register') {
          if (this.status !== 200) return send(this.status, { error: 'registry unavailable' });
          this.nodes.set(body.node_id, body);
          return send(200, { node_id: body.node_id, ttl_sec: 45, ...(this.heartbeatSec ? { heartbeat_sec: this.heartbeatSec } : {}) });
        }
        const m = /^\/v1\/nodes\/([^/]+)$/.exec(req.url!);
        if (req.method === 'DELETE' && m) {
          return this.nodes.delete(decodeURIComponent(m[1])) ? send(204) : send(404, { error: 'node not found' });
        }
        send(404, { error: 'not found' });
      });
    });
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    this.server = undefined;
  }

  /** Comes back on the same port with no memory of any node. */
  async restart(): Promise<void> {
    this.nodes.clear();
    await this.start(this.port);
  }
}


const gaps = (hits: Hit[]) => hits.slice(1).map((h, i) => h.at - hits[i].at);

describe('RegistrarService against a loopback registry', () => {
  let registry: FakeRegistry;
  let mod: TestingModule | undefined;
  let logs: CaptureLogger;

  async function startRegistrar(opts: Partial<RegistrarModuleOptions> = {}): Promise<{ reg: RegistrarService; legs: SimpleLegCounter }> {
    logs = new CaptureLogger();
    mod = await Test.createTestingModule({
      imports: [RegistrarModule.forRoot({
        registryUrl: registry.url, nodeId: 'rtp-a', controlUrl: 'http://127.0.0.1:8090', mediaIp: '127.0.0.1',
        heartbeatIntervalMs: 150, minBackoffMs: 20, requestTimeoutMs: 500, deregisterTimeoutMs: 500, ...opts,
      })],
    }).setLogger(logs).compile();
    await mod.init();
    return { reg: mod.get(RegistrarService), legs: mod.get(LEG_COUNTER) };
  }

  beforeEach(async () => {
    registry = await new FakeRegistry().start();
  });
  afterEach(async () => {
    await mod?.close();
    mod = undefined;
    await registry.stop();
  });

  it('registers at start, then heartbeats every interval with active_legs, capacity, region and the token', async () => {
    const { reg, legs } = await startRegistrar({ capacity: 50, region: 'eu-1', registryToken: 's3cret' });
    await eventually(() => registry.registers().length >= 1, 2000, 'the first register');
    legs.set(3);
    await eventually(() => registry.registers().length >= 5, 3000, 'five heartbeats');
    const hits = registry.registers();
    expect(hits[0].body).toEqual({ node_id: 'rtp-a', control_url: 'http://127.0.0.1:8090', media_ip: '127.0.0.1', active_legs: 0, capacity: 50, region: 'eu-1' });
    expect(hits.at(-1)!.body.active_legs).toBe(3);
    expect(hits.every((h) => h.auth === 'Bearer s3cret')).toBe(true);
    // The cadence is the interval: no bursts, no long silences (bounds generous for a busy
    // machine; arrival gaps also carry the requests' latency jitter, so the mean is checked).
    const g = gaps(hits.slice(0, 5));
    expect(g.reduce((x, y) => x + y, 0) / g.length).toBeGreaterThanOrEqual(120);
    for (const x of g) expect(x).toBeLessThan(1000);
    expect(reg.status()).toMatchObject({ state: 'registered', nodeId: 'rtp-a', failures: 0, intervalMs: 150 });
  });

  it('follows the heartbeat_sec the registry answers', async () => {
    registry.heartbeatSec = 1;
    const { reg } = await startRegistrar({ heartbeatIntervalMs: 60_000 });
    await eventually(() => registry.registers().length >= 2, 3000, 'a second heartbeat after heartbeat_sec');
    expect(reg.status().intervalMs).toBe(1000);
    const [a, b] = registry.registers();
    expect(b.at - a.at).toBeGreaterThanOrEqual(900);
  });

  it('keeps retrying through an outage with growing, capped backoff, logging once at its start and once at its end', async () => {
    registry.status = 503;
    const { reg } = await startRegistrar({ heartbeatIntervalMs: 400, minBackoffMs: 20 });
    await eventually(() => registry.registers().length >= 6, 4000, 'six failed attempts');
    expect(reg.status()).toMatchObject({ state: 'outage', lastError: 'registry answered 503: registry unavailable' });
    const attempts = registry.registers().slice(0, 6);
    const g = gaps(attempts);
    // Jittered exponential backoff: attempt n waits between half and all of min(400, 20·2^(n-1)).
    expect(g[0]).toBeLessThan(400); // 20 ms → 10–20 ms
    expect(g[4]).toBeGreaterThanOrEqual(120); // 20·2^4 = 320 → 160–320 ms
    expect(g[4]).toBeGreaterThan(g[0]);
    for (const x of g) expect(x).toBeLessThan(1200); // capped at the interval (400), plus scheduling slack
    registry.status = 200;
    await eventually(() => reg.status().state === 'registered', 3000, 'recovery');
    expect(logs.matching('warn', /heartbeat to .* failed/)).toHaveLength(1);
    expect(logs.matching('log', /reachable again after \d+ failed heartbeat/)).toHaveLength(1);
  });

  it('re-registers after the registry restarts and forgets the node (connection refused meanwhile)', async () => {
    const { reg } = await startRegistrar();
    await eventually(() => registry.nodes.has('rtp-a'), 2000, 'registration');
    await registry.stop();
    await eventually(() => reg.status().state === 'outage', 3000, 'the outage to be noticed');
    expect(reg.status().lastError).toMatch(/fetch failed|ECONNREFUSED/);
    await registry.restart();
    expect(registry.nodes.has('rtp-a')).toBe(false);
    await eventually(() => registry.nodes.has('rtp-a'), 3000, 're-registration');
    // The registry holds the node once it has read the request; the registrar knows once it has read the answer.
    await eventually(() => reg.status().state === 'registered', 1000, 'the registrar to read the answer');
    expect(logs.matching('warn', /failed/)).toHaveLength(1);
  });

  it('at shutdown: drains the counter, sends a draining heartbeat, waits for legs to reach 0, then deregisters', async () => {
    const { legs } = await startRegistrar({ drainTimeoutMs: 3000 });
    await eventually(() => registry.nodes.has('rtp-a'), 2000, 'registration');
    legs.set(2);
    let zeroAt = 0;
    const closing = mod!.close();
    await eventually(() => registry.registers().some((h) => h.body.draining === true), 2000, 'the draining heartbeat');
    expect(legs.draining).toBe(true);
    await sleep(300);
    expect(registry.hits.some((h) => h.method === 'DELETE')).toBe(false); // still waiting for legs
    zeroAt = Date.now();
    legs.set(0);
    await closing;
    mod = undefined;
    const del = registry.hits.filter((h) => h.method === 'DELETE');
    expect(del).toHaveLength(1);
    expect(del[0]).toMatchObject({ path: '/v1/nodes/rtp-a' });
    expect(del[0].at).toBeGreaterThanOrEqual(zeroAt);
    const firstDraining = registry.registers().findIndex((h) => h.body.draining === true);
    expect(registry.registers().slice(firstDraining).every((h) => h.body.draining === true)).toBe(true);
    expect(registry.nodes.has('rtp-a')).toBe(false);
  });

  it('with no drain timeout deregisters at once, and shuts down promptly when the registry is gone (404 or down)', async () => {
    const { legs } = await startRegistrar({ drainTimeoutMs: 0 });
    await eventually(() => registry.nodes.has('rtp-a'), 2000, 'registration');
    legs.set(5);
    // The registry forgot the node and refuses the draining heartbeat: the sequence goes on, a 404 is fine.
    registry.nodes.clear();
    registry.status = 409;
    const t0 = Date.now();
    await mod!.close();
    mod = undefined;
    expect(Date.now() - t0).toBeLessThan(1000);
    const last = registry.hits.slice(-2);
    expect(last.map((h) => h.method)).toEqual(['POST', 'DELETE']);
    expect(last[0].body).toMatchObject({ draining: true, active_legs: 5 });
    expect(logs.matching('warn', /draining heartbeat failed: registry answered 409/)).toHaveLength(1);
    expect(logs.matching('log', /already unknown/)).toHaveLength(1);
    registry.status = 200;

    // Registry down: every shutdown request fails fast (connection refused), close still completes.
    await startRegistrar();
    await eventually(() => registry.nodes.has('rtp-a'), 2000, 'registration');
    await registry.stop();
    const t1 = Date.now();
    await mod!.close();
    mod = undefined;
    expect(Date.now() - t1).toBeLessThan(2000);
    await registry.restart();
  });

  it('stays idle after one warning without a registry URL', async () => {
    const { reg } = await startRegistrar({ registryUrl: undefined });
    await sleep(200);
    reg.start();
    expect(registry.hits).toHaveLength(0);
    expect(reg.status().state).toBe('idle');
    expect(logs.matching('warn', /SIP_REGISTRY_URL is not set/)).toHaveLength(1);
  });
});

describe('RegistrarModule registration paths', () => {
  class MyCounter { activeLegs() { return 7; } }

  it('forRoot: default SimpleLegCounter; a class is built by DI; forRootAsync takes an instance', async () => {
    const base = { nodeId: 'n', controlUrl: 'http://127.0.0.1:1', autoStart: false };
    const m1 = await Test.createTestingModule({ imports: [RegistrarModule.forRoot(base)] }).compile();
    expect(m1.get(LEG_COUNTER)).toBeInstanceOf(SimpleLegCounter);
    const m2 = await Test.createTestingModule({ imports: [RegistrarModule.forRoot({ ...base, legCounter: MyCounter })] }).compile();
    expect(m2.get(LEG_COUNTER)).toBeInstanceOf(MyCounter);
    const inst = new MyCounter();
    const m3 = await Test.createTestingModule({
      imports: [RegistrarModule.forRootAsync({ useFactory: () => ({ ...base, legCounter: inst }) })],
    }).compile();
    expect(m3.get(LEG_COUNTER)).toBe(inst);
    expect(m3.get(RegistrarService)).toBeInstanceOf(RegistrarService);
    await Promise.all([m1.close(), m2.close(), m3.close()]);
  });
});
