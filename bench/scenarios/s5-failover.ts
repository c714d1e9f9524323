import { addFarmNodes, type BenchContext, type Scenario, type Section } from '../lib/context';
import { keepAliveAgent } from '../lib/http';
import { prepareOnce, registerNodes, startService } from '../lib/sut';
import { fmtNum, fmtSpread, fmtUs, quantileSorted, spread, table } from '../lib/stats';

const GO_US = 5_000_000;

interface Run {
  p50: number;
  p99: number;
  max: number;
  slow: number;
  done: number;
  errors: number;
}

/** 5. Failover cost: one of three nodes black-holed (accepts connections, never answers). */
export const s5: Scenario = {
  id: '5',
  title: 'Failover cost: one of three nodes black-holed',
  async run(ctx: BenchContext): Promise<Section> {
    const prepares = ctx.smoke ? 40 : 200;
    const budgetMs = ctx.smoke ? 15_000 : 60_000;
    const nodes = await addFarmNodes(ctx, 3, 's5');
    const runs: Record<'healthy' | 'blackhole', Run[]> = { healthy: [], blackhole: [] };
    for (let r = 0; r < ctx.runs; r++) {
      for (const kind of ['healthy', 'blackhole'] as const) {
        ctx.log(`s5: run ${r + 1}/${ctx.runs}, ${kind}`);
        const svc = await startService({}, `sut-${kind}`);
        const agent = keepAliveAgent(1);
        try {
          await registerNodes(svc.url, nodes);
          // Warm-up on three healthy nodes; then the node dies (the first one in the tie-break order).
          for (let i = 0; i < prepares; i++) await prepareOnce(agent, svc.url, 'w5');
          if (kind === 'blackhole') await ctx.farm.call('mode', { nodeId: nodes[0].id, mode: 'blackhole' });
          const lat: number[] = [];
          let errors = 0;
          const t0 = Date.now();
          for (let i = 0; i < prepares && Date.now() - t0 < budgetMs; i++) {
            const x = await prepareOnce(agent, svc.url, 's5');
            lat.push(x.us);
            if (!x.ok) errors++;
          }
          lat.sort((a, b) => a - b);
          runs[kind].push({
            p50: quantileSorted(lat, 0.5), p99: quantileSorted(lat, 0.99), max: lat[lat.length - 1],
            slow: lat.filter((x) => x > 100_000).length, done: lat.length, errors,
          });
        } finally {
          agent.destroy();
          await svc.stop();
          await ctx.farm.call('mode', { nodeId: nodes[0].id, mode: 'ok' });
          await ctx.farm.call('clearLegs');
        }
      }
    }
    const row = (label: string, rs: Run[]) => [
      label, fmtSpread(spread(rs.map((x) => x.p50)), fmtUs), fmtSpread(spread(rs.map((x) => x.p99)), fmtUs),
      fmtSpread(spread(rs.map((x) => x.max)), fmtUs), fmtSpread(spread(rs.map((x) => x.slow)), (x) => fmtNum(x)),
      `${fmtNum(rs.reduce((s, x) => s + x.done, 0))} / ${fmtNum(rs.length * prepares)}`, String(rs.reduce((s, x) => s + x.errors, 0)),
    ];
    const b = spread(runs.blackhole.map((x) => x.p50)).median;
    const h = spread(runs.healthy.map((x) => x.p50)).median;
    const b99 = spread(runs.blackhole.map((x) => x.p99)).median;
    const md = [
      `### 5. ${this.title}`,
      '',
      `Three fake nodes registered on a freshly started service (default settings: 2 s control timeout, background probes `
      + `every 5 s, circuit breaker), warmed up with ${prepares} prepares; then the first node (first in the tie-break order) turns into a black hole `
      + `(accepts connections, never answers — its open keep-alive connections included). Then ${prepares} sequential prepares through \`POST /v1/calls\`. Baseline in the same `
      + `run: the same with all three nodes healthy. "slow" counts prepares over 100 ms. The Go design waits the full `
      + `client timeout (${fmtUs(GO_US)}) on every prepare while a node is black-holed.`,
      '',
      table(['setup', 'p50', 'p99', 'max', 'slow prepares', 'completed', 'errors'], [
        row('baseline: three healthy nodes', runs.healthy),
        row('one of three black-holed', runs.blackhole),
      ]),
    ].join('\n');
    return {
      markdown: md,
      summary: [['5', 'prepare p50 / p99 with one of 3 nodes black-holed', `${fmtUs(b)} / ${fmtUs(b99)}`, `healthy p50 ${fmtUs(h)}; Go: ${fmtUs(GO_US)} each`]],
    };
  },
};
