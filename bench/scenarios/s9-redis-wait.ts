import Redis from 'ioredis';
import { RedisChild } from '../../test/support/redis';
import { addFarmNodes, type BenchContext, type Scenario, type Section } from '../lib/context';
import { Child } from '../lib/proc';
import { fmtRatio, fmtSpread, fmtUs, spread, table } from '../lib/stats';

interface Lat {
  p50: number;
  p99: number;
  errors: number;
}

/**
 * 9. What RTP_REDIS_WAIT_REPLICAS costs per prepare: the same in-process PoolService.prepare
 * on one master with one replica (both started here), WAIT 0 vs WAIT 1, runs interleaved.
 */
export const s9: Scenario = {
  id: '9',
  title: 'Redis WAIT: prepare latency with RTP_REDIS_WAIT_REPLICAS 0 vs 1 (one replica)',
  async run(ctx: BenchContext): Promise<Section> {
    const perRun = ctx.smoke ? 30 : 500;
    const servers: RedisChild[] = [];
    const child = Child.start('inproc', { name: 's9-inproc' });
    const lat = new Map<string, Lat[]>();
    try {
      // Throwaway redis-servers on ports of their own (never 6379's data), the same helper the tests use.
      const master = await new RedisChild().start();
      servers.push(master);
      servers.push(await new RedisChild(['--replicaof', '127.0.0.1', String(master.port)]).start());
      const admin = new Redis(master.port, '127.0.0.1');
      for (let i = 0; i < 100 && !(await admin.info('replication')).includes('state=online'); i++) await new Promise((r) => setTimeout(r, 100));
      admin.disconnect();
      const [node] = await addFarmNodes(ctx, 1, 's9');
      await child.ready;
      const url = `redis://127.0.0.1:${master.port}`;
      const variants = [0, 1];
      for (const w of variants) {
        await child.call('open', {
          name: `wait-${w}`, nodes: [node],
          env: { RTP_STORE: 'redis', REDIS_URL: url, RTP_STORE_PREFIX: `rtp-bench-wait${w}:`, RTP_REDIS_WAIT_REPLICAS: String(w) },
        });
      }
      ctx.log('s9: warming up');
      for (const w of variants) await child.call('latency', { name: `wait-${w}`, count: perRun });
      for (let r = 0; r < ctx.runs; r++) {
        ctx.log(`s9: run ${r + 1}/${ctx.runs}`);
        for (const w of r % 2 ? [...variants].reverse() : variants) {
          const k = `wait-${w}`;
          lat.set(k, [...(lat.get(k) ?? []), await child.call<Lat>('latency', { name: k, count: perRun })]);
        }
      }
    } finally {
      await child.stop();
      await ctx.farm.call('clearLegs');
      for (const r of servers) await r.kill();
    }
    const p50 = (k: string) => spread(lat.get(k)!.map((x) => x.p50));
    const p99 = (k: string) => spread(lat.get(k)!.map((x) => x.p99));
    const errors = (k: string) => lat.get(k)!.reduce((s, x) => s + x.errors, 0);
    const base = p50('wait-0').median;
    const rows = [0, 1].map((w) => {
      const k = `wait-${w}`;
      return [`\`PoolService.prepare\`, RTP_REDIS_WAIT_REPLICAS=${w}`, fmtSpread(p50(k), fmtUs), fmtSpread(p99(k), fmtUs), fmtRatio(p50(k).median / base), String(errors(k))];
    });
    const cost = p50('wait-1').median - base;
    const md = [
      `### 9. ${this.title}`,
      '',
      `\`PoolService\` from the real \`AppModule\`, one fake node over loopback HTTP, a Redis master and one replica started `
      + `by the scenario on loopback (its own ports and directory). ${perRun} sequential prepares per run; the two settings `
      + `alternate within each run. With WAIT 1 the binding write and \`WAIT 1 500\` go in one pipeline on a connection of their own.`,
      '',
      table(['target', 'p50', 'p99', 'p50 ÷ WAIT 0', 'errors'], rows),
    ].join('\n');
    return {
      markdown: md,
      summary: [['9', 'in-process prepare p50, Redis, WAIT 1 (one replica)', fmtUs(p50('wait-1').median), `WAIT 0 ${fmtUs(base)} → ${fmtRatio(p50('wait-1').median / base)} (+${fmtUs(cost)})`]],
    };
  },
};
