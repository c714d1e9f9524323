import type * as http from 'node:http';
import type { FarmNode } from './context';
import { callId, keepAliveAgent, OFFER_SDP, rawRequest, timed } from './http';
import { Child } from './proc';
import { quantileSorted } from './stats';

/** Environment every service under test gets unless a scenario overrides it. */
export const SUT_ENV: Record<string, string> = {
  RTP_PRUNE_INTERVAL_SEC: '0',
  LOG_LEVEL: 'warn',
};

/** A running service (the real app) in its own process. */
export interface Service {
  child: Child;
  url: string;
  stop(): Promise<void>;
}

export async function startService(env: Record<string, string> = {}, name = 'sut', nodeArgs: string[] = [], root?: string): Promise<Service> {
  const child = Child.start('sut', { env: { ...SUT_ENV, ...env }, name, nodeArgs, root });
  const ready = await child.ready;
  return { child, url: String(ready.url), stop: () => child.stop() };
}

export async function startBareExpress(nodes: FarmNode[]): Promise<Service> {
  const child = Child.start('bare-express', { env: { BENCH_NODES: nodes.map((n) => n.url).join(',') } });
  const ready = await child.ready;
  return { child, url: String(ready.url), stop: () => child.stop() };
}

/** Starts one of the bench's own processes (bench/procs/<entry>.ts) that announces a URL. */
export async function startProc(entry: string, env: Record<string, string> = {}, name = entry): Promise<Service> {
  const child = Child.start(entry, { env, name });
  const ready = await child.ready;
  return { child, url: String(ready.url), stop: () => child.stop() };
}

/** Runs `fn` over `items` with at most `limit` in flight. */
export async function pool<T>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Registers nodes through `POST /v1/nodes/register` (16 at a time); throws on any non-200. */
export async function registerNodes(baseUrl: string, nodes: FarmNode[], extra: Record<string, unknown> = {}): Promise<void> {
  const agent = keepAliveAgent(16);
  await pool(nodes, 16, async (n) => {
    const r = await rawRequest(agent, 'POST', `${baseUrl}/v1/nodes/register`, { node_id: n.id, control_url: n.url, media_ip: '127.0.0.1', ...extra });
    if (r.status !== 200) throw new Error(`register ${n.id}: ${r.status} ${r.body}`);
  });
  agent.destroy();
}

export interface LatencyRun {
  p50: number;
  p99: number;
  /** Requests that did not get the expected status. */
  errors: number;
  count: number;
}

/** `count` sequential requests on one keep-alive connection; latencies in µs. */
export async function sequentialLatency(count: number, once: () => Promise<{ us: number; ok: boolean }>): Promise<LatencyRun> {
  const lat: number[] = [];
  let errors = 0;
  for (let i = 0; i < count; i++) {
    const r = await once();
    lat.push(r.us);
    if (!r.ok) errors++;
  }
  lat.sort((a, b) => a - b);
  return { p50: quantileSorted(lat, 0.5), p99: quantileSorted(lat, 0.99), errors, count };
}

/** One prepare through `POST /v1/calls`. */
export function prepareOnce(agent: http.Agent, baseUrl: string, tag: string): Promise<{ us: number; ok: boolean }> {
  return timed(agent, 'POST', `${baseUrl}/v1/calls`, { call_id: callId(tag), offer_sdp: OFFER_SDP }).then((r) => ({ us: r.us, ok: r.status === 201 }));
}

/** One direct `POST /v1/legs` to a node: the floor. */
export function legOnce(agent: http.Agent, nodeUrl: string, tag: string): Promise<{ us: number; ok: boolean }> {
  return timed(agent, 'POST', `${nodeUrl}/v1/legs`, { call_id: callId(tag), offer_sdp: OFFER_SDP }).then((r) => ({ us: r.us, ok: r.status === 201 }));
}
