import Redis from 'ioredis';
import type autocannon from 'autocannon';
import { cannon, type CannonResult } from '../lib/cannon';
import { addFarmNodes, type BenchContext, type Scenario, type Section } from '../lib/context';
import { type Service, startBareExpress, startService } from '../lib/sut';
import { fmtNum, fmtRatio, fmtSpread, spread, table } from '../lib/stats';
import { deleteKeys } from '../lib/redis';

const CONNECTIONS = 64;
/** The Go registry's published figure, measured on another machine: quoted beside ours, never divided into them. */
const GO_PER_SEC = 57_000;

/** 4. Heartbeat ingest: `POST /v1/nodes/register` at 64 connections cycling 10,000 node ids. */
export const s4: Scenario = {
  id: '4',
  title: 'Heartbeat ingest at 64 connections, 10,000 node ids',
  async run(ctx: BenchContext): Promise<Section> {
    const ids = ctx.smoke ? 200 : 10_000;
    const seconds = ctx.smoke ? undefined : 2;
    const amount = ctx.smoke ? CONNECTIONS * 4 : undefined;
    // Heartbeats point at live fake nodes (10 node ids per fake node), so the service's background probes get answers, as in production.
    const nodes = await addFarmNodes(ctx, Math.ceil(ids / 10), 's4');
    let k = 0;
    const requests: autocannon.Request[] = [{
      method: 'POST',
      path: '/v1/nodes/register',
      headers: { 'content-type': 'application/json' },
      setupRequest: (req) => {
        const i = k++ % ids;
        return { ...req, body: JSON.stringify({ node_id: `hb-${i}`, control_url: nodes[i % nodes.length].url, media_ip: '127.0.0.1', active_legs: i % 50 }) };
      },
    }];
    const redisOk = await ctx.redisStore();
    const targets: { key: string; label: string; start: () => Promise<Service>; prefix?: string }[] = [
      { key: 'bare', label: 'ceiling: bare Express 5, Map upsert', start: () => startBareExpress(nodes) },
      { key: 'memory', label: 'rtp-pool, memory store', start: () => startService({}, 'sut-memory') },
      {
        key: 'memory-noprobe', label: 'rtp-pool, memory store, background probes off (`RTP_HEALTH_INTERVAL_MS=0`)',
        start: () => startService({ RTP_HEALTH_INTERVAL_MS: '0' }, 'sut-memory-noprobe'),
      },
    ];
    if (redisOk.ok) {
      const prefix = ctx.redisPrefix();
      targets.push({ key: 'redis', label: 'rtp-pool, Redis store', prefix, start: () => startService({ RTP_STORE: 'redis', REDIS_URL: ctx.redisUrl, RTP_STORE_PREFIX: prefix }, 'sut-redis') });
    }
    const services = new Map<string, Service>();
    const results = new Map<string, CannonResult[]>();
    try {
      // Start them side by side (start-up is not measured).
      const started = await Promise.allSettled(targets.map((t) => t.start()));
      targets.forEach((t, i) => {
        const x = started[i];
        if (x.status === 'fulfilled') services.set(t.key, x.value);
      });
      const failed = started.find((x) => x.status === 'rejected');
      if (failed) throw (failed as PromiseRejectedResult).reason;
      for (const t of targets) {
        const svc = services.get(t.key)!;
        ctx.log(`s4: warming up ${t.key} (registers all ${ids} ids)`);
        if (!ctx.smoke) await cannon({ url: svc.url, connections: CONNECTIONS, seconds: seconds && 2, amount, requests });
        results.set(t.key, []);
      }
      for (let r = 0; r < ctx.runs; r++) {
        ctx.log(`s4: run ${r + 1}/${ctx.runs}`);
        for (const t of targets) results.get(t.key)!.push(await cannon({ url: services.get(t.key)!.url, connections: CONNECTIONS, seconds, amount, requests }));
      }
    } finally {
      for (const s of services.values()) await s.stop();
      const prefixes = targets.flatMap((t) => (t.prefix ? [t.prefix] : []));
      if (prefixes.length) {
        const redis = new Redis(ctx.redisUrl);
        for (const p of prefixes) await deleteKeys(redis, p);
        redis.disconnect();
      }
    }
    const bare = spread(results.get('bare')!.map((x) => x.perSec)).median;
    const rows = targets.map((t) => {
      const rs = results.get(t.key)!;
      const ps = spread(rs.map((x) => x.perSec));
      return [
        t.label, fmtSpread(ps, (x) => fmtNum(x)), fmtRatio(ps.median / bare),
        fmtSpread(spread(rs.map((x) => x.p50ms)), (x) => `${fmtNum(x, 1)} ms`), fmtSpread(spread(rs.map((x) => x.p99ms)), (x) => `${fmtNum(x, 1)} ms`),
        String(rs.reduce((s, x) => s + x.errors, 0)), t.key === 'bare' ? '' : `${fmtNum(GO_PER_SEC)}/s`,
      ];
    });
    const mem = spread(results.get('memory')!.map((x) => x.perSec)).median;
    const skipped = redisOk.ok ? undefined : redisOk.reason;
    const md = [
      `### 4. ${this.title}`,
      '',
      `autocannon, ${CONNECTIONS} connections, each request a full heartbeat (\`POST /v1/nodes/register\` with node id, control `
      + `URL, media IP, active legs) cycling ${fmtNum(ids)} node ids; ${seconds ? `${seconds} s per run` : `${amount} requests per run`}, after a 2 s warm-up (the first pass over the ids creates the nodes, later passes refresh them); ${fmtNum(nodes.length)} fake nodes answer the probes. `
      + `The ceiling is a bare Express app that parses the JSON and upserts a Map. The service validates the body `
      + `(class-validator), checks the control URL, and keeps probing every registered node in the background (every 5 s by default: `
      + `with ${fmtNum(ids)} nodes that is ${fmtNum(ids / 5)} probes/s competing with the heartbeats; one row turns probing off to show that share). `
      + `The "quoted" column is the Go registry's published figure, measured on another machine: not measured here, and no ratio is taken against it.`,
      '',
      table(['target', 'heartbeats/s', '÷ ceiling', 'p50', 'p99', 'errors', 'quoted: Go (another machine)'], rows),
      ...(skipped ? ['', `Redis store: skipped: ${skipped}`] : []),
    ].join('\n');
    return {
      markdown: md,
      summary: [
        ['4', 'heartbeats/s, memory store, 64 conn.', fmtNum(mem), `bare Express ceiling ${fmtNum(bare)}/s → ${fmtRatio(mem / bare)}`],
        ...(results.has('redis') ? [['4', 'heartbeats/s, Redis store, 64 conn.', fmtNum(spread(results.get('redis')!.map((x) => x.perSec)).median), `memory ${fmtNum(mem)}/s`]] : []),
      ],
      skipped,
    };
  },
};
