import type autocannon from 'autocannon';
import { cannon, type CannonResult } from '../lib/cannon';
import { addFarmNodes, type BenchContext, type FarmNode, type Scenario, type Section } from '../lib/context';
import { keepAliveAgent } from '../lib/http';
import { legOnce, prepareOnce, registerNodes, type Service, startBareExpress, startProc, startService } from '../lib/sut';
import { fmtNum, fmtRatio, fmtSpread, fmtUs, quantile, spread, table } from '../lib/stats';
import { lifecycleRequests } from './s3-lifecycle';

const HB_CONNECTIONS = 64;
const LC_CONNECTIONS = 32;

interface Target {
  key: string;
  label: string;
  /** Which floor a service row is compared with (the minimal Nest app on its adapter). */
  nestFloor?: string;
  /** A service (or bare Express): also measured on call lifecycles. */
  calls?: boolean;
  start: (nodes: FarmNode[]) => Promise<Service>;
}

/** Every target, in table order. `BENCH_S8_TARGETS=key,key` keeps some (profiling, or a branch without Fastify). */
const TARGETS: Target[] = [
  { key: 'http', label: 'bare node:http (parse JSON, Map upsert; calls forwarded with undici)', calls: true, start: (n) => startProc('bare-http', { BENCH_NODES: n.map((x) => x.url).join(',') }) },
  { key: 'express', label: 'bare Express 5 (express.json, Map upsert)', calls: true, start: (n) => startBareExpress(n) },
  { key: 'fastify', label: 'bare Fastify 5 (its JSON parser, Map upsert; calls forwarded with undici)', calls: true, start: (n) => startProc('bare-fastify', { BENCH_NODES: n.map((x) => x.url).join(',') }) },
  { key: 'nest-express', label: 'minimal Nest 12 app on Express (one controller, RegisterNodeDto, ValidationPipe)', start: () => startProc('mini-nest', { BENCH_ADAPTER: 'express' }, 'mini-nest-express') },
  { key: 'nest-fastify', label: 'minimal Nest 12 app on Fastify (same)', start: () => startProc('mini-nest', { BENCH_ADAPTER: 'fastify' }, 'mini-nest-fastify') },
  { key: 'svc-express', label: 'rtp-pool on Express (`RTP_HTTP_ADAPTER=express`)', nestFloor: 'nest-express', calls: true, start: () => startService({ RTP_HTTP_ADAPTER: 'express', RTP_HEALTH_INTERVAL_MS: '0', RTP_MAX_NODES: '100000' }, 'sut-express') },
  { key: 'svc-fastify', label: 'rtp-pool on Fastify (`RTP_HTTP_ADAPTER=fastify`)', nestFloor: 'nest-fastify', calls: true, start: () => startService({ RTP_HTTP_ADAPTER: 'fastify', RTP_HEALTH_INTERVAL_MS: '0', RTP_MAX_NODES: '100000' }, 'sut-fastify') },
];

/**
 * BENCH_BASELINE_ROOT=<dir>: the bench/ of another checkout (e.g. `git archive <commit> src bench`
 * with this bench/lib/proc.ts, for its `cpu` command): its service on Express joins the run as
 * "before", for before/after figures from one run.
 */
function baselineTarget(): Target[] {
  const root = process.env.BENCH_BASELINE_ROOT;
  if (!root) return [];
  return [{
    key: 'svc-before', label: 'rtp-pool on Express, before this work (BENCH_BASELINE_ROOT)', nestFloor: 'nest-express', calls: true,
    start: () => startService({ RTP_HEALTH_INTERVAL_MS: '0', RTP_MAX_NODES: '100000' }, 'sut-before', [], root),
  }];
}

interface Measure {
  perSec: number;
  cpuUsPerReq: number;
  errors: number;
}

/** A fixed number of requests against one target; throughput and the target's CPU µs per request. */
async function measured(svc: Service, run: () => Promise<CannonResult>): Promise<Measure> {
  const before = (await svc.child.call<{ us: number }>('cpu')).us;
  const r = await run();
  const after = (await svc.child.call<{ us: number }>('cpu')).us;
  return { perSec: r.perSec, cpuUsPerReq: (after - before) / Math.max(1, r.requests), errors: r.errors };
}

/**
 * 8. The HTTP front, side by side: bare node:http, bare Express, bare Fastify, a minimal
 * Nest app on each adapter, and the service on each adapter, runs interleaved.
 */
export const s8: Scenario = {
  id: '8',
  title: 'HTTP front: adapters side by side (heartbeat ingest, lifecycles, latency, CPU per request)',
  async run(ctx: BenchContext): Promise<Section> {
    const keep = process.env.BENCH_S8_TARGETS ? new Set(process.env.BENCH_S8_TARGETS.split(',')) : undefined;
    const targets = [...TARGETS, ...baselineTarget()].filter((t) => !keep || keep.has(t.key));
    const ids = ctx.smoke ? 200 : 10_000;
    const hbAmount = ctx.smoke ? HB_CONNECTIONS * 4 : 20_000;
    const lcUnits = ctx.smoke ? LC_CONNECTIONS * 2 : 3_000;
    const seqCount = ctx.smoke ? 20 : 400;
    const hbNodes = await addFarmNodes(ctx, Math.ceil(ids / 10), 's8h');
    const callNodes = await addFarmNodes(ctx, 10, 's8c');
    let k = 0;
    const heartbeats: autocannon.Request[] = [{
      method: 'POST',
      path: '/v1/nodes/register',
      headers: { 'content-type': 'application/json' },
      setupRequest: (req) => {
        const i = k++ % ids;
        return { ...req, body: JSON.stringify({ node_id: `hb-${i}`, control_url: hbNodes[i % hbNodes.length].url, media_ip: '127.0.0.1', active_legs: i % 50 }) };
      },
    }];
    const services = new Map<string, Service>();
    const hb = new Map<string, Measure[]>();
    const lc = new Map<string, Measure[]>();
    const seq = new Map<string, { p50: number[]; p99: number[]; ratio: number[] }>();
    const floorP50: number[] = [];
    const floorAgent = keepAliveAgent(1);
    const agents = new Map<string, ReturnType<typeof keepAliveAgent>>();
    try {
      // A service measured on calls gets a second instance with the 10 call nodes only: the
      // heartbeat instance holds 10,000 nodes, which would make it a selection benchmark.
      const isService = (t: Target) => t.key.startsWith('svc-');
      const jobs: Array<{ key: string; start: () => Promise<Service> }> = targets.flatMap((t) => [
        { key: t.key, start: () => t.start(callNodes) },
        ...(t.calls && isService(t) ? [{ key: `${t.key}:calls`, start: () => t.start(callNodes) }] : []),
      ]);
      const started = await Promise.allSettled(jobs.map((j) => j.start()));
      jobs.forEach((j, i) => {
        const x = started[i];
        if (x.status === 'fulfilled') services.set(j.key, x.value);
      });
      const failed = started.find((x) => x.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
      for (const t of targets) {
        const svc = services.get(t.key)!;
        hb.set(t.key, []);
        ctx.log(`s8: warming up ${t.key}`);
        await cannon({ url: svc.url, connections: HB_CONNECTIONS, amount: ctx.smoke ? HB_CONNECTIONS : ids, requests: heartbeats });
        if (t.calls) {
          lc.set(t.key, []);
          const cs = services.get(`${t.key}:calls`) ?? svc;
          if (isService(t)) await registerNodes(cs.url, callNodes);
          // The bare servers forward POST /v1/calls to a node too: the latency of a forwarding hop with no pool behind it.
          seq.set(t.key, { p50: [], p99: [], ratio: [] });
          agents.set(t.key, keepAliveAgent(1));
          await cannon({ url: cs.url, connections: LC_CONNECTIONS, amount: ctx.smoke ? LC_CONNECTIONS * 3 : 3_000, requests: lifecycleRequests('w8'), perUnit: 3 });
        }
      }
      for (let r = 0; r < ctx.runs; r++) {
        ctx.log(`s8: run ${r + 1}/${ctx.runs}`);
        for (const t of targets) {
          const svc = services.get(t.key)!;
          hb.get(t.key)!.push(await measured(svc, () => cannon({ url: svc.url, connections: HB_CONNECTIONS, amount: hbAmount, requests: heartbeats })));
        }
        for (const t of targets.filter((x) => x.calls)) {
          const svc = services.get(`${t.key}:calls`) ?? services.get(t.key)!;
          lc.get(t.key)!.push(await measured(svc, () => cannon({ url: svc.url, connections: LC_CONNECTIONS, amount: lcUnits * 3, requests: lifecycleRequests('s8'), perUnit: 3 })));
        }
        // Sequential latency: one request to each target in turn (the direct hop first), so
        // every row samples the same moments of a shared machine and their ratios hold.
        const direct: number[] = [];
        const lat = new Map([...seq.keys()].map((key) => [key, [] as number[]]));
        for (let i = 0; i < seqCount && seq.size > 0; i++) {
          direct.push((await legOnce(floorAgent, callNodes[0].url, 'f8')).us);
          for (const key of seq.keys()) {
            const svc = services.get(`${key}:calls`) ?? services.get(key)!;
            lat.get(key)!.push((await prepareOnce(agents.get(key)!, svc.url, 's8')).us);
          }
        }
        if (seq.size > 0) floorP50.push(quantile(direct, 0.5));
        for (const [key, row] of seq) {
          const xs = lat.get(key)!;
          row.p50.push(quantile(xs, 0.5));
          row.p99.push(quantile(xs, 0.99));
          row.ratio.push(quantile(xs, 0.5) / floorP50[floorP50.length - 1]);
        }
      }
    } finally {
      floorAgent.destroy();
      for (const a of agents.values()) a.destroy();
      for (const s of services.values()) await s.stop();
      await ctx.farm.call('clearLegs');
    }

    const med = (xs: Measure[] | undefined, f: (m: Measure) => number) => spread((xs ?? []).map(f)).median;
    const ceiling = med(hb.get('http'), (m) => m.perSec);
    const hbRows = targets.map((t) => {
      const rs = hb.get(t.key)!;
      const ps = spread(rs.map((m) => m.perSec));
      const floor = t.nestFloor ? med(hb.get(t.nestFloor), (m) => m.perSec) : NaN;
      return [
        t.label, fmtSpread(ps, (x) => fmtNum(x)), fmtRatio(ps.median / ceiling),
        t.nestFloor && hb.has(t.nestFloor) ? fmtRatio(ps.median / floor) : '',
        fmtSpread(spread(rs.map((m) => m.cpuUsPerReq)), (x) => `${fmtNum(x)} µs`),
        String(rs.reduce((s, m) => s + m.errors, 0)),
      ];
    });
    const lcRows = targets.filter((t) => t.calls).map((t) => {
      const rs = lc.get(t.key)!;
      return [
        t.label, fmtSpread(spread(rs.map((m) => m.perSec)), (x) => fmtNum(x)),
        fmtSpread(spread(rs.map((m) => m.cpuUsPerReq)), (x) => `${fmtNum(x)} µs`), String(rs.reduce((s, m) => s + m.errors, 0)),
      ];
    });
    const floorMed = spread(floorP50).median;
    const seqRows = [...seq].map(([key, row]) => [
      `\`POST /v1/calls\`, ${targets.find((t) => t.key === key)!.label}`,
      fmtSpread(spread(row.p50), fmtUs), fmtSpread(spread(row.p99), fmtUs), fmtSpread(spread(row.ratio), fmtRatio),
    ]);
    const ratio = (a: string, b: string) => med(hb.get(a), (m) => m.perSec) / med(hb.get(b), (m) => m.perSec);
    const summary: string[][] = [];
    for (const [key, adapter, target] of [['svc-fastify', 'Fastify', 0.5], ['svc-express', 'Express', 0.2]] as const) {
      if (!hb.has(key)) continue;
      const nest = key === 'svc-fastify' ? 'nest-fastify' : 'nest-express';
      summary.push(['8', `heartbeats/s, service on ${adapter}, 64 conn.`, fmtNum(med(hb.get(key), (m) => m.perSec)),
        `${fmtRatio(ratio(key, 'http'))} of bare node:http (target ≥ ${target}×), ${fmtRatio(ratio(key, nest))} of minimal Nest on ${adapter} (target ≥ 0.8×)`]);
    }
    // Each run's p50 over a bare forwarding hop in the same run (node:http's; Fastify's for the
    // service on Fastify): what the service adds to any forwarder here.
    const overHop = (key: string, floor: string, name: string) => {
      const bare = seq.get(floor);
      if (!bare || key === floor) return '';
      const row = seq.get(key)!;
      return `; ${fmtRatio(spread(row.p50.map((p, i) => p / bare.p50[i])).median)} of bare ${name}'s forwarding hop`;
    };
    const forwarderRatio = (key: string) => overHop(key, 'http', 'node:http') + (key === 'svc-fastify' ? overHop(key, 'fastify', 'Fastify') : '');
    for (const [key, row] of seq) {
      summary.push(['8', `POST /v1/calls p50, ${key.startsWith('svc-') ? key.slice(4) : `bare ${key}, one forwarding hop`}`, fmtUs(spread(row.p50).median),
        `direct /v1/legs ${fmtUs(floorMed)} → ${fmtRatio(spread(row.ratio).median)}${key === 'svc-fastify' ? ' (target ≤ 2.0×)' : ''}${forwarderRatio(key)}`]);
    }
    for (const key of ['svc-before', 'svc-express', 'svc-fastify']) {
      if (!hb.has(key)) continue;
      summary.push(['8', `CPU per heartbeat / per lifecycle request, ${key.slice(4)}`,
        `${fmtNum(med(hb.get(key), (m) => m.cpuUsPerReq))} µs / ${fmtNum(med(lc.get(key), (m) => m.cpuUsPerReq))} µs`, 'process CPU time ÷ requests']);
    }
    const md = [
      `### 8. ${this.title}`,
      '',
      `Every target runs at once in its own process; each run measures them one after the other (interleaved), so a `
      + `drift of the machine hits them alike. Heartbeats: autocannon, ${HB_CONNECTIONS} keep-alive connections, ${fmtNum(hbAmount)} full `
      + `heartbeat bodies per run cycling ${fmtNum(ids)} node ids (after a warm-up pass that creates them). Lifecycles: `
      + `${LC_CONNECTIONS} connections, ${fmtNum(lcUnits)} prepare → start → delete per run, 10 fake nodes (a service is measured on calls in a second instance that holds only those 10 nodes). CPU per request is the `
      + `target process's CPU time (user + system) over the run divided by its requests. Sequential latency: ${seqCount} `
      + `prepares per target on one keep-alive connection each, and ${seqCount} direct \`POST /v1/legs\` to a fake node, sent one to each in turn (the direct one first) so all rows sample the same moments. `
      + `The services run at \`LOG_LEVEL=warn\` with background probes off (\`RTP_HEALTH_INTERVAL_MS=0\`), so the rows compare the HTTP path. `
      + `The load generator shares the machine's cores with the targets.`,
      '',
      '**Heartbeat ingest**',
      '',
      table(['target', 'heartbeats/s', '÷ bare node:http', '÷ minimal Nest, same adapter', 'CPU per request', 'errors'], hbRows),
      '',
      '**Call lifecycles at 32 connections**',
      '',
      table(['target', 'lifecycles/s', 'CPU per request', 'errors'], lcRows),
      ...(seqRows.length ? [
        '',
        '**Sequential prepare latency**',
        '',
        table(['target', 'p50', 'p99', 'p50 ÷ direct /v1/legs p50'], [['direct `POST /v1/legs` to a fake node', fmtUs(floorMed), '', '1.00×'], ...seqRows]),
      ] : []),
    ].join('\n');
    return { markdown: md, summary };
  },
};
