import Redis from 'ioredis';
import type autocannon from 'autocannon';
import { cannon, type CannonResult } from '../lib/cannon';
import { addFarmNodes, type BenchContext, type Scenario, type Section } from '../lib/context';
import { callId, OFFER_SDP } from '../lib/http';
import { registerNodes, type Service, startBareExpress, startService } from '../lib/sut';
import { fmtNum, fmtRatio, fmtSpread, spread, table } from '../lib/stats';
import { deleteKeys } from '../lib/redis';

const CONNECTIONS = 32;

/** prepare → start → delete of one fresh call id, per autocannon connection. */
export function lifecycleRequests(tag: string): autocannon.Request[] {
  return [
    {
      method: 'POST',
      path: '/v1/calls',
      headers: { 'content-type': 'application/json' },
      setupRequest: (req, c) => {
        c.id = callId(tag);
        return { ...req, body: JSON.stringify({ call_id: c.id, offer_sdp: OFFER_SDP }) };
      },
    },
    { method: 'POST', setupRequest: (req, c) => ({ ...req, path: `/v1/calls/${encodeURIComponent(String(c.id))}/start` }) },
    { method: 'DELETE', setupRequest: (req, c) => ({ ...req, path: `/v1/calls/${encodeURIComponent(String(c.id))}` }) },
  ];
}

/** 3. Full call lifecycle over HTTP at 32 connections vs. a bare Express app (the framework ceiling). */
export const s3: Scenario = {
  id: '3',
  title: 'Call lifecycle over HTTP (prepare, start, delete) at 32 connections',
  async run(ctx: BenchContext): Promise<Section> {
    const seconds = ctx.smoke ? undefined : 2;
    const amount = ctx.smoke ? CONNECTIONS * 3 * 2 : undefined;
    const nodes = await addFarmNodes(ctx, 10, 's3');
    const redisOk = await ctx.redisStore();
    const targets: { key: string; label: string; start: () => Promise<Service>; prefix?: string }[] = [
      { key: 'bare', label: 'ceiling: bare Express 5, one forwarding hop (node:http keep-alive), Map binding', start: () => startBareExpress(nodes) },
      { key: 'memory', label: 'rtp-pool, memory store', start: () => startService({}, 'sut-memory') },
      {
        key: 'memory-info', label: 'rtp-pool, memory store, `LOG_LEVEL=info` (the default: one JSON access-log line per request, to /dev/null)',
        start: () => startService({ LOG_LEVEL: 'info' }, 'sut-memory-info'),
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
        if (t.key !== 'bare') await registerNodes(svc.url, nodes);
        ctx.log(`s3: warming up ${t.key}`);
        if (!ctx.smoke) await cannon({ url: svc.url, connections: CONNECTIONS, seconds: seconds && 1, amount, requests: lifecycleRequests('w3'), perUnit: 3 });
        results.set(t.key, []);
      }
      for (let r = 0; r < ctx.runs; r++) {
        ctx.log(`s3: run ${r + 1}/${ctx.runs}`);
        for (const t of targets) {
          const svc = services.get(t.key)!;
          results.get(t.key)!.push(await cannon({ url: svc.url, connections: CONNECTIONS, seconds, amount, requests: lifecycleRequests('s3'), perUnit: 3 }));
        }
      }
    } finally {
      for (const s of services.values()) await s.stop();
      await ctx.farm.call('clearLegs');
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
        String(rs.reduce((s, x) => s + x.errors, 0)),
      ];
    });
    const mem = spread(results.get('memory')!.map((x) => x.perSec)).median;
    const red = results.has('redis') ? spread(results.get('redis')!.map((x) => x.perSec)).median : NaN;
    const skipped = redisOk.ok ? undefined : redisOk.reason;
    const md = [
      `### 3. ${this.title}`,
      '',
      `autocannon, ${CONNECTIONS} connections, each cycling prepare (\`POST /v1/calls\`) → start → delete of a fresh call id, `
      + `10 fake nodes. ${seconds ? `${seconds} s per run` : `${amount} requests per run`}, the targets interleaved run by run. The ceiling is a bare Express app `
      + `doing the same single forwarding hop per request with no validation, DI or store — what the framework and one `
      + `loopback hop cost on this machine. The service runs with \`LOG_LEVEL=warn\` (no access log) except in the row that says otherwise. Request latencies are autocannon's (1 ms resolution). The load generator shares the 2 cores.`,
      '',
      table(['target', 'lifecycles/s', '÷ ceiling', 'request p50', 'request p99', 'errors'], rows),
      ...(skipped ? ['', `Redis store: skipped: ${skipped}`] : []),
    ].join('\n');
    return {
      markdown: md,
      summary: [
        ['3', 'lifecycles/s over HTTP, memory store, 32 conn.', fmtNum(mem), `bare Express ceiling ${fmtNum(bare)}/s → ${fmtRatio(mem / bare)}`],
        ...(redisOk.ok ? [['3', 'lifecycles/s over HTTP, Redis store, 32 conn.', fmtNum(red), `ceiling → ${fmtRatio(red / bare)}`]] : []),
      ],
      skipped,
    };
  },
};
