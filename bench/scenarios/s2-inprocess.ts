import Redis from 'ioredis';
import { addFarmNodes, type BenchContext, type Scenario, type Section } from '../lib/context';
import { Child } from '../lib/proc';
import { fmtNum, fmtRatio, fmtSpread, fmtUs, spread, table } from '../lib/stats';
import { deleteKeys } from '../lib/redis';

/** The Go design's published figures, measured on another 2-core machine: quoted beside ours, never divided into them. */
const GO_P50_US: Record<number, number> = { 1: 39, 10: 191, 100: 2_400 };
const GO_PER_SEC = 3_400;

interface Lat {
  p50: number;
  p99: number;
  errors: number;
}

/** 2. In-process PoolService.prepare latency and throughput, memory and Redis stores. */
export const s2: Scenario = {
  id: '2',
  title: 'In-process PoolService.prepare: latency and throughput',
  async run(ctx: BenchContext): Promise<Section> {
    const sizes = ctx.smoke ? [1, 10] : [1, 10, 100];
    // Both stores also at 1,000 nodes (least-loaded selection reads each store's load index, not every node).
    const sizesOf = (_store: string) => (ctx.smoke ? sizes : [...sizes, 1000]);
    const perRun = ctx.smoke ? 30 : 500;
    const tputMs = ctx.smoke ? 300 : 1_500;
    const concurrency = 16;
    const nodes = await addFarmNodes(ctx, Math.max(...sizesOf('memory'), 10), 's2');
    // The client floor over N nodes in turn, as the pool spreads its calls: N keep-alive
    // connections instead of one.
    const wide = sizesOf('memory').filter((n) => n > 1);
    const urlsOf = (n: number) => nodes.slice(0, n).map((x) => x.url);
    const redisOk = await ctx.redisStore();
    const stores: { store: string; env: Record<string, string> }[] = [{ store: 'memory', env: {} }];
    const prefixes: string[] = [];
    if (redisOk.ok) stores.push({ store: 'redis', env: { RTP_STORE: 'redis', REDIS_URL: ctx.redisUrl } });

    const child = Child.start('inproc', { name: 's2-inproc' });
    await child.ready;
    const lat = new Map<string, { p50: number[]; p99: number[]; errors: number }>();
    const tput = new Map<string, { perSec: number[]; errors: number }>();
    const addLat = (k: string, r: Lat) => {
      const e = lat.get(k) ?? { p50: [], p99: [], errors: 0 };
      e.p50.push(r.p50);
      e.p99.push(r.p99);
      e.errors += r.errors;
      lat.set(k, e);
    };
    const addTput = (k: string, r: { perSec: number; errors: number }) => {
      const e = tput.get(k) ?? { perSec: [], errors: 0 };
      e.perSec.push(r.perSec);
      e.errors += r.errors;
      tput.set(k, e);
    };
    try {
      for (const s of stores) {
        for (const n of sizesOf(s.store)) {
          const env = { ...s.env };
          if (s.store === 'redis') {
            env.RTP_STORE_PREFIX = ctx.redisPrefix();
            prefixes.push(env.RTP_STORE_PREFIX);
          }
          await child.call('open', { name: `${s.store}-${n}`, env, nodes: nodes.slice(0, n) });
        }
        const tn = `${s.store}-tput`;
        const env = { ...s.env };
        if (s.store === 'redis') {
          env.RTP_STORE_PREFIX = ctx.redisPrefix();
          prefixes.push(env.RTP_STORE_PREFIX);
        }
        await child.call('open', { name: tn, env, nodes: nodes.slice(0, 10) });
      }
      ctx.log('s2: warming up');
      const first = `${stores[0].store}-${sizes[0]}`;
      await child.call('rawLatency', { url: nodes[0].url, count: perRun });
      await child.call('clientLatency', { name: first, url: nodes[0].url, count: perRun });
      await child.call('axiosLatency', { url: nodes[0].url, count: perRun });
      for (const n of wide) await child.call('clientLatency', { name: first, urls: urlsOf(n), count: Math.max(perRun, n * 3) });
      for (const s of stores) for (const n of sizesOf(s.store)) await child.call('latency', { name: `${s.store}-${n}`, count: Math.max(perRun, n * 3) });
      for (let r = 0; r < ctx.runs; r++) {
        ctx.log(`s2: run ${r + 1}/${ctx.runs}`);
        addLat('raw', await child.call<Lat>('rawLatency', { url: nodes[0].url, count: perRun }));
        addLat('client', await child.call<Lat>('clientLatency', { name: first, url: nodes[0].url, count: perRun }));
        addLat('axios', await child.call<Lat>('axiosLatency', { url: nodes[0].url, count: perRun }));
        for (const n of wide) addLat(`client-${n}`, await child.call<Lat>('clientLatency', { name: first, urls: urlsOf(n), count: perRun }));
        for (const s of stores) for (const n of sizesOf(s.store)) addLat(`${s.store}-${n}`, await child.call<Lat>('latency', { name: `${s.store}-${n}`, count: perRun }));
        const urls10 = nodes.slice(0, 10).map((x) => x.url);
        addTput('raw', await child.call('rawThroughput', { urls: urls10, concurrency, ms: tputMs }));
        addTput('client', await child.call('clientThroughput', { name: first, urls: urls10, concurrency, ms: tputMs }));
        addTput('axios', await child.call('axiosThroughput', { urls: urls10, concurrency, ms: tputMs }));
        addTput('minimal', await child.call('minimalThroughput', { name: first, urls: urls10, concurrency, ms: tputMs }));
        for (const s of stores) addTput(s.store, await child.call('throughput', { name: `${s.store}-tput`, concurrency, ms: tputMs }));
      }
    } finally {
      await child.stop();
      await ctx.farm.call('clearLegs');
      if (prefixes.length) {
        const redis = new Redis(ctx.redisUrl);
        for (const p of prefixes) await deleteKeys(redis, p);
        redis.disconnect();
      }
    }

    const raw50 = spread(lat.get('raw')!.p50).median;
    // Each run's p50 over the client floor's p50 in the same run (the target: ≤ 1.3×), median of the runs.
    const over = (k: string, floor: string) => spread(lat.get(k)!.p50.map((p, r) => p / lat.get(floor)!.p50[r])).median;
    const overClient = (k: string) => over(k, 'client');
    // The same, over the client floor to the same N nodes in turn (the one-node floor at N = 1).
    const overClientN = (n: number) => over(`memory-${n}`, n > 1 ? `client-${n}` : 'client');
    const latRow = (label: string, k: string, goN?: number) => {
      const e = lat.get(k)!;
      const p50 = spread(e.p50);
      const sameN = goN !== undefined && k.startsWith('memory-') ? ` (${fmtRatio(overClientN(goN))} over ${goN.toLocaleString('en-US')})` : '';
      return [
        label, fmtSpread(p50, fmtUs), fmtSpread(spread(e.p99), fmtUs), fmtRatio(p50.median / raw50), fmtRatio(overClient(k)) + sameN,
        String(e.errors), goN && GO_P50_US[goN] ? fmtUs(GO_P50_US[goN]) : '',
      ];
    };
    const latRows = [
      latRow('floor: raw node:http keep-alive `POST /v1/legs`', 'raw'),
      latRow('floor: `NodeControlClient.prepare` (undici) to one node', 'client'),
      ...wide.map((n) => latRow(`floor: \`NodeControlClient.prepare\` to ${n.toLocaleString('en-US')} nodes in turn`, `client-${n}`)),
      latRow('before: the same request through @nestjs/axios (the client\'s previous transport)', 'axios'),
      ...stores.flatMap((s) => sizesOf(s.store).map((n) => latRow(`\`PoolService.prepare\`, ${s.store} store, N = ${n.toLocaleString('en-US')}`, `${s.store}-${n}`, n))),
    ];
    const rawT = spread(tput.get('raw')!.perSec).median;
    const tputOverClient = (k: string) => spread(tput.get(k)!.perSec.map((x, r) => x / tput.get('client')!.perSec[r])).median;
    const tputRow = (label: string, k: string) => {
      const e = tput.get(k)!;
      const m = spread(e.perSec);
      return [label, fmtSpread(m, (x) => fmtNum(x)), fmtRatio(m.median / rawT), fmtRatio(tputOverClient(k)), String(e.errors), ''];
    };
    const tputRows = [
      tputRow('floor: raw node:http `POST /v1/legs`, 10 nodes', 'raw'),
      tputRow('floor: `NodeControlClient.prepare` (undici), 10 nodes', 'client'),
      tputRow('before: the same requests through @nestjs/axios', 'axios'),
      tputRow('a minimal pool on that client (least legs placed, prepare, binding kept in a Map; bench/procs/inproc.ts)', 'minimal'),
      ...stores.map((s) => {
        const e = tput.get(s.store)!;
        const m = spread(e.perSec);
        return [`\`PoolService.prepare\`, ${s.store} store, 10 nodes`, fmtSpread(m, (x) => fmtNum(x)), fmtRatio(m.median / rawT), fmtRatio(tputOverClient(s.store)), String(e.errors), `${fmtNum(GO_PER_SEC)}/s`];
      }),
    ];
    const skipped = redisOk.ok ? undefined : redisOk.reason;
    const md = [
      `### 2. ${this.title}`,
      '',
      `\`PoolService\` taken from the real \`AppModule\` (no HTTP in front), calling fake nodes over loopback HTTP `
      + `in another process. Latency: ${perRun} sequential prepares per run. Throughput: ${concurrency} concurrent callers `
      + `for ${tputMs / 1000} s, 10 nodes. Floors in the same run: a raw node:http keep-alive request (transport), and the `
      + `service's own \`NodeControlClient\` (the HTTP client it uses, on undici), and the same request through `
      + `@nestjs/axios with the options the client had before (the "before" of that change). The client floor is also measured `
      + `over 10, 100 and 1,000 nodes in turn, as the pool spreads its calls (a connection per node). Throughput also has a `
      + `minimal pool on the same client, the least any pool does per call (pick the node with the fewest legs placed, prepare, `
      + `keep the binding in a Map; no claim, store, events, metrics, circuits or failover). The "quoted" column is the Go design's published `
      + `figure, measured on another machine: it is not measured here and no ratio is taken against it; the same-run floors are the comparison.`,
      '',
      table(['target', 'p50', 'p99', 'p50 ÷ raw floor', 'p50 ÷ client floor, same run (÷ the floor over the same N nodes)', 'errors', 'quoted: Go p50 (another machine)'], latRows),
      '',
      table(['throughput target', 'prepares/s', '÷ raw floor', '÷ client floor, same run', 'errors', 'quoted: Go (another machine)'], tputRows),
      ...(skipped ? ['', `Redis store: skipped: ${skipped}`] : []),
    ].join('\n');
    const m1 = spread(lat.get('memory-1')!.p50).median;
    const m10 = spread(lat.get('memory-10')!.p50).median;
    return {
      markdown: md,
      summary: [
        ['2', 'in-process prepare p50, memory, N = 1', fmtUs(m1), `raw floor ${fmtUs(raw50)} → ${fmtRatio(m1 / raw50)} (quoted, another machine: Go ${fmtUs(GO_P50_US[1])})`],
        ['2', 'in-process prepare p50, memory, N = 10', fmtUs(m10), `quoted, another machine: Go ${fmtUs(GO_P50_US[10])}`],
        ['2', 'in-process prepare p50 ÷ NodeControlClient floor, memory, N = 1 / 10 / 100 / 1,000',
          sizesOf('memory').map((n) => fmtRatio(overClient(`memory-${n}`))).join(' / '), 'target ≤ 1.3× at each size'],
        ['2', 'in-process prepare p50 ÷ NodeControlClient floor to the same N nodes in turn, memory, N = 1 / 10 / 100 / 1,000',
          sizesOf('memory').map((n) => fmtRatio(overClientN(n))).join(' / '), 'target ≤ 1.3× at each size'],
        ['2', 'in-process prepares/s, memory, 16 callers', fmtNum(spread(tput.get('memory')!.perSec).median),
          `raw floor ${fmtNum(rawT)}/s; NodeControlClient floor → ${fmtRatio(tputOverClient('memory'))} (target ≥ 0.9×) (quoted, another machine: Go ${fmtNum(GO_PER_SEC)}/s)`],
        ...(redisOk.ok ? [['2', 'in-process prepares/s, Redis, 16 callers', fmtNum(spread(tput.get('redis')!.perSec).median), `memory ${fmtNum(spread(tput.get('memory')!.perSec).median)}/s`]] : []),
      ],
      skipped,
    };
  },
};
