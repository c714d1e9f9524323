import Redis from 'ioredis';
import { BUILTIN_STRATEGIES } from '../../src/pool/selection/builtin-strategies';
import { addFarmNodes, type BenchContext, type Scenario, type Section } from '../lib/context';
import { Child } from '../lib/proc';
import { fmtNum, fmtRatio, fmtSpread, spread, table } from '../lib/stats';
import { deleteKeys } from '../lib/redis';

const INSTANCES = 3;
const NODES = 20;
const REPORT_EVERY_SEC = 10;

/** 6. Balance: 3 instances on one Redis, 20 nodes heartbeating, 10,000 calls in bursts. */
export const s6: Scenario = {
  id: '6',
  title: 'Balance: 3 instances on one Redis, 20 nodes, calls in bursts',
  async run(ctx: BenchContext): Promise<Section> {
    const calls = ctx.smoke ? 200 : 10_000;
    const burst = ctx.smoke ? 40 : 100;
    const head = `### 6. ${this.title}`;
    const redisOk = await ctx.redisStore();
    if (!redisOk.ok) {
      return { markdown: `${head}\n\nskipped: ${redisOk.reason}`, summary: [['6', 'balance (max/mean legs per node)', 'skipped', redisOk.reason]], skipped: redisOk.reason };
    }
    // The Go package's choice (least reported active_legs, blind to legs placed since) is the baseline.
    const strategies = ['reported-only', ...Object.keys(BUILTIN_STRATEGIES)];
    const res = new Map<string, { ratio: number[]; max: number[]; errors: number }>();
    // Two lanes side by side (each its own process, its own 20 nodes) use both cores: a full run is 300,000 prepares.
    const laneCount = ctx.smoke ? 1 : 2;
    const jobs: { r: number; strategy: string }[] = [];
    for (let r = 0; r < ctx.runs; r++) for (const strategy of strategies) jobs.push({ r, strategy });
    const redis = new Redis(ctx.redisUrl);
    const lane = async (li: number) => {
      const tag = `s6${String.fromCharCode(97 + li)}`;
      const nodes = await addFarmNodes(ctx, NODES, tag);
      const child = Child.start('inproc', { name: `s6-inproc-${tag}` });
      await child.ready;
      try {
        for (let job = jobs.shift(); job; job = jobs.shift()) {
          const { r, strategy } = job;
          ctx.log(`s6: run ${r + 1}/${ctx.runs}, ${strategy} (lane ${li + 1})`);
          await ctx.farm.call('clearLegs', { prefix: `${tag}-` });
          const prefix = ctx.redisPrefix();
          const env = {
            RTP_STORE: 'redis', REDIS_URL: ctx.redisUrl, RTP_STORE_PREFIX: prefix,
            RTP_SELECTION_STRATEGY: strategy === 'reported-only' ? 'least-loaded' : strategy,
          };
          const names = Array.from({ length: INSTANCES }, (_, i) => `s6-${strategy}-${r}-${i}`);
          try {
            for (const name of names) await child.call('open', { name, env, nodes, strategy });
            const out = await child.call<{ errors: number }>('balance', { names, nodes, calls, burst, reportEverySec: REPORT_EVERY_SEC });
            const { counts } = await ctx.farm.call<{ counts: Record<string, number> }>('legs');
            const legs = nodes.map((n) => counts[n.id] ?? 0);
            const mean = legs.reduce((a, b) => a + b, 0) / legs.length;
            const e = res.get(strategy) ?? { ratio: [], max: [], errors: 0 };
            e.ratio.push(Math.max(...legs) / mean);
            e.max.push(Math.max(...legs));
            e.errors += out.errors;
            res.set(strategy, e);
          } finally {
            for (const name of names) await child.call('close', { name }).catch(() => undefined);
            await deleteKeys(redis, prefix);
          }
        }
      } finally {
        await child.stop();
        await ctx.farm.call('clearLegs', { prefix: `${tag}-` });
      }
    };
    try {
      await Promise.all(Array.from({ length: laneCount }, (_, i) => lane(i)));
    } finally {
      redis.disconnect();
    }
    const label = (s: string) => (s === 'reported-only' ? 'baseline: least reported `active_legs`, no accounting of legs placed since (the Go rule, minus its per-call probes)' : `\`${s}\``);
    const rows = strategies.map((s) => {
      const e = res.get(s)!;
      return [label(s), fmtSpread(spread(e.ratio), (x) => x.toFixed(2)), fmtSpread(spread(e.max), (x) => fmtNum(x)), fmtNum(calls / NODES), String(e.errors)];
    });
    const best = strategies.filter((s) => s !== 'reported-only').map((s) => [s, spread(res.get(s)!.ratio).median] as const).sort((a, b) => a[1] - b[1]);
    const base = spread(res.get('reported-only')!.ratio).median;
    const md = [
      head,
      '',
      `${INSTANCES} pool instances (separate \`AppModule\`s, one process) share one Redis store; ${NODES} fake nodes `
      + `(two such set-ups run side by side, each on its own strategies, to use both cores). `
      + `${fmtNum(calls)} prepares arrive in bursts of ${burst} (all of a burst at once, spread round-robin over the instances), one burst per `
      + `simulated second; every node heartbeats every ${REPORT_EVERY_SEC} simulated seconds (staggered) with the legs it really holds, `
      + `and the background probes run as configured. Calls are long (no deletes during the run). Figure: max ÷ mean legs per node at the end `
      + `(1.00 = perfect). Baseline: least \`active_legs\` as last reported, blind to legs placed since — the Go package's rule fed by heartbeats `
      + `(the Go package itself probes every node on every prepare instead, which scenario 1 and 5 show the price of).`,
      '',
      table(['strategy', 'max ÷ mean', 'max legs on one node', 'mean', 'failed prepares'], rows),
    ].join('\n');
    return {
      markdown: md,
      summary: [['6', `balance max/mean, best strategy (${best[0][0]})`, best[0][1].toFixed(2), `Go-style reported-only least-loaded ${base.toFixed(2)}; worst built-in ${best[best.length - 1][0]} ${best[best.length - 1][1].toFixed(2)}`]],
    };
  },
};
