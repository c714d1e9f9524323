/**
 * In-process pool benchmark (scenario 2) and the balance run (scenario 6): PoolService
 * instances built from the real AppModule (no HTTP server in front), driven directly.
 * Each instance is named; several may share one Redis store (same RTP_STORE_PREFIX).
 */
import 'reflect-metadata';
import { HttpService } from '@nestjs/axios';
import type { INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import axios from 'axios';
import * as http from 'node:http';
import { PerformanceObserver } from 'node:perf_hooks';
import { firstValueFrom } from 'rxjs';
import { AppModule } from '../../src/app.module';
import { loadAppConfig } from '../../src/config/app.config';
import { NodeControlClient } from '../../src/node-client/node-control.client';
import { PoolService } from '../../src/pool/pool.service';
import type { Candidate } from '../../src/pool/core/pool.types';
import { SELECTION_STRATEGY, type SelectionStrategy } from '../../src/pool/core/selection-strategy.interface';
import type { FarmNode } from '../lib/context';
import { callId, keepAliveAgent, OFFER_SDP, rawRequest } from '../lib/http';
import { failStartup, serveCommands } from '../lib/proc';
import { quantileSorted } from '../lib/stats';

/**
 * The Go package's choice, as the balance baseline: least `active_legs` as last
 * reported, ties by id — blind to the legs placed since the report.
 */
class ReportedOnlyLeastLoaded implements SelectionStrategy {
  order(c: readonly Candidate[]): Candidate[] {
    return [...c].sort((a, b) => a.activeLegs - b.activeLegs || (a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0));
  }
}

interface Instance {
  app: INestApplicationContext;
  pool: PoolService;
  client: NodeControlClient;
}

const instances = new Map<string, Instance>();
const rawAgent = keepAliveAgent(256);
const now = () => process.hrtime.bigint();
const usSince = (t0: bigint) => Number(now() - t0) / 1_000;

async function open(name: string, env: Record<string, string>, nodes: FarmNode[], strategy?: string): Promise<void> {
  const config = loadAppConfig({ RTP_PRUNE_INTERVAL_SEC: '0', ...env });
  let app: INestApplicationContext;
  if (strategy === 'reported-only') {
    const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot(config)] })
      .overrideProvider(SELECTION_STRATEGY).useValue(new ReportedOnlyLeastLoaded())
      .compile();
    moduleRef.useLogger(['error', 'warn']);
    app = await moduleRef.init();
  } else {
    app = await NestFactory.createApplicationContext(AppModule.forRoot(config), { logger: ['error', 'warn'] });
  }
  const pool = app.get(PoolService);
  for (const n of nodes) await pool.register({ nodeId: n.id, controlUrl: n.url, mediaIp: '127.0.0.1' });
  instances.set(name, { app, pool, client: app.get(NodeControlClient) });
}

function get(name: unknown): Instance {
  const i = instances.get(String(name));
  if (!i) throw new Error(`no instance ${String(name)}`);
  return i;
}

async function latency(count: number, once: () => Promise<unknown>): Promise<{ p50: number; p99: number; errors: number }> {
  const lat: number[] = [];
  let errors = 0;
  for (let i = 0; i < count; i++) {
    const t0 = now();
    try {
      await once();
    } catch {
      errors++;
    }
    lat.push(usSince(t0));
  }
  lat.sort((a, b) => a - b);
  return { p50: quantileSorted(lat, 0.5), p99: quantileSorted(lat, 0.99), errors };
}

async function throughput(
  concurrency: number, ms: number, once: (i: number) => Promise<unknown>,
): Promise<{ perSec: number; errors: number; done: number; cpuUsPerOp: number; gcUsPerOp: number }> {
  const t0 = Date.now();
  // CPU time of this process per operation: steadier than the rate on a shared machine.
  const cpu0 = process.cpuUsage();
  // Wall time the main thread spent in garbage collection (helpers' threads not counted).
  let gcMs = 0;
  const gc = new PerformanceObserver((list) => { for (const e of list.getEntries()) gcMs += e.duration; });
  gc.observe({ entryTypes: ['gc'] });
  let done = 0;
  let errors = 0;
  let k = 0;
  const worker = async () => {
    while (Date.now() - t0 < ms) {
      try {
        await once(k++);
        done++;
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const sec = (Date.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  gc.disconnect();
  const ops = Math.max(1, done + errors);
  return { perSec: done / sec, errors, done, cpuUsPerOp: (cpu.user + cpu.system) / ops, gcUsPerOp: gcMs * 1000 / ops };
}

/**
 * The transport NodeControlClient used before it moved to undici: @nestjs/axios over
 * keep-alive node:http agents, with exactly the request options it had. Kept here so
 * every run measures both side by side (the "before" of that change).
 */
const axiosHttp = new HttpService(axios.create({ httpAgent: new http.Agent({ keepAlive: true, maxSockets: 256 }) }) as never);
async function axiosPrepare(url: string, tag: string): Promise<void> {
  const res = await firstValueFrom(axiosHttp.request({
    method: 'POST', url: `${url}/v1/legs`, data: { call_id: callId(tag), offer_sdp: OFFER_SDP }, headers: {},
    timeout: 2_000, signal: AbortSignal.timeout(2_000), validateStatus: () => true, maxRedirects: 0, responseType: 'json',
    maxContentLength: 1 << 20,
  }));
  if (res.status !== 201 || typeof res.data !== 'object') throw new Error(`HTTP ${res.status}`);
}

async function rawPrepare(url: string, tag: string): Promise<void> {
  const r = await rawRequest(rawAgent, 'POST', `${url}/v1/legs`, { call_id: callId(tag), offer_sdp: OFFER_SDP });
  if (r.status !== 201) throw new Error(`HTTP ${r.status}`);
  JSON.parse(r.body);
}

/**
 * The least a pool can do per call, written out in a few lines: the lightest of the nodes by
 * legs placed here, the client's prepare, the binding kept in a Map. No claim, no store, no
 * events, metrics, circuits or failover: the floor any pool built on this client stands on.
 */
class MinimalPool {
  private readonly load: number[];
  readonly bound = new Map<string, { nodeId: string; mediaIp: string; mediaPort: number; codec: string }>();

  constructor(private readonly client: NodeControlClient, private readonly urls: readonly string[]) {
    this.load = urls.map(() => 0);
  }

  async prepare(id: string): Promise<void> {
    let best = 0;
    for (let i = 1; i < this.load.length; i++) if (this.load[i] < this.load[best]) best = i;
    this.load[best]++;
    const a = await this.client.prepare(this.urls[best], { call_id: id, offer_sdp: OFFER_SDP });
    this.bound.set(id, { nodeId: this.urls[best], mediaIp: a.media_ip, mediaPort: a.media_port, codec: a.codec });
  }
}

// Exit cleanly on SIGTERM so a --cpu-prof profile gets written.
process.once('SIGTERM', () => {
  void Promise.allSettled([...instances.values()].map((i) => i.app.close())).then(() => process.exit(0));
});

const main = async () => serveCommands({
  async open(m) {
    await open(String(m.name), (m.env ?? {}) as Record<string, string>, (m.nodes ?? []) as FarmNode[], m.strategy as string | undefined);
    return {};
  },
  async close(m) {
    await get(m.name).app.close();
    instances.delete(String(m.name));
    return {};
  },
  /** Sequential PoolService.prepare. */
  latency(m) {
    const { pool } = get(m.name);
    return latency(Number(m.count), () => pool.prepare(callId('s2'), OFFER_SDP));
  },
  /** Sequential NodeControlClient.prepare to one node (the client floor). */
  /** Sequential client prepares to `url`, or to each of `urls` in turn (the floor at N nodes). */
  clientLatency(m) {
    const { client } = get(m.name);
    const urls = Array.isArray(m.urls) ? (m.urls as string[]) : [String(m.url)];
    let i = 0;
    return latency(Number(m.count), () => client.prepare(urls[i++ % urls.length], { call_id: callId('s2c'), offer_sdp: OFFER_SDP }));
  },
  /** Sequential raw node:http POST /v1/legs (the transport floor). */
  rawLatency(m) {
    const url = String(m.url);
    return latency(Number(m.count), () => rawPrepare(url, 's2r'));
  },
  /** Sequential prepares through the previous transport (@nestjs/axios). */
  axiosLatency(m) {
    const url = String(m.url);
    return latency(Number(m.count), () => axiosPrepare(url, 's2a'));
  },
  axiosThroughput(m) {
    const urls = m.urls as string[];
    return throughput(Number(m.concurrency), Number(m.ms), (i) => axiosPrepare(urls[i % urls.length], 's2at'));
  },
  clientThroughput(m) {
    const { client } = get(m.name);
    const urls = m.urls as string[];
    return throughput(Number(m.concurrency), Number(m.ms), (i) => client.prepare(urls[i % urls.length], { call_id: callId('s2ct'), offer_sdp: OFFER_SDP }));
  },
  /** The same 16 callers through {@link MinimalPool}: what the pool's own work costs above the least a pool does. */
  minimalThroughput(m) {
    const { client } = get(m.name);
    const mini = new MinimalPool(client, m.urls as string[]);
    return throughput(Number(m.concurrency), Number(m.ms), () => mini.prepare(callId('s2mt')));
  },
  throughput(m) {
    const { pool } = get(m.name);
    return throughput(Number(m.concurrency), Number(m.ms), () => pool.prepare(callId('s2t'), OFFER_SDP));
  },
  rawThroughput(m) {
    const urls = m.urls as string[];
    return throughput(Number(m.concurrency), Number(m.ms), (i) => rawPrepare(urls[i % urls.length], 's2rt'));
  },
  /**
   * Scenario 6: `calls` prepares in bursts of `burst`, spread round-robin over the named
   * instances; one burst per simulated second; node i heartbeats (through instance
   * i mod k, with the active_legs its /v1/health reports) every `reportEverySec`
   * simulated seconds, staggered. Returns how many calls failed.
   */
  async balance(m) {
    const names = m.names as string[];
    const nodes = m.nodes as FarmNode[];
    const pools = names.map((n) => get(n).pool);
    const calls = Number(m.calls);
    const burst = Number(m.burst);
    const every = Number(m.reportEverySec);
    let placed = 0;
    let errors = 0;
    for (let sec = 0; placed < calls; sec++) {
      const due = nodes.filter((_, i) => (sec + i) % every === 0);
      await Promise.all(due.map(async (n, i) => {
        const h = await rawRequest(rawAgent, 'GET', `${n.url}/v1/health`);
        const legs = (JSON.parse(h.body) as { active_legs: number }).active_legs;
        await pools[i % pools.length].register({ nodeId: n.id, controlUrl: n.url, mediaIp: '127.0.0.1', activeLegs: legs });
      }));
      const size = Math.min(burst, calls - placed);
      await Promise.all(Array.from({ length: size }, (_, j) =>
        pools[(placed + j) % pools.length].prepare(callId('s6'), OFFER_SDP).catch(() => void errors++)));
      placed += size;
    }
    return { errors };
  },
});

main().catch(failStartup);
