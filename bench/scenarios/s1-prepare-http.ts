import { addFarmNodes, type BenchContext, type Scenario, type Section } from '../lib/context';
import { keepAliveAgent } from '../lib/http';
import { legOnce, prepareOnce, registerNodes, sequentialLatency, startService } from '../lib/sut';
import { fmtRatio, fmtSpread, fmtUs, spread, table } from '../lib/stats';

/**
 * 1. Prepare latency through `POST /v1/calls` with N registered nodes, against a direct
 * `POST /v1/legs` to one node (the floor), paired run by run.
 */
export const s1: Scenario = {
  id: '1',
  title: 'Prepare latency over HTTP vs. number of nodes',
  async run(ctx: BenchContext): Promise<Section> {
    const sizes = ctx.smoke ? [1, 10] : [1, 10, 100, 1000];
    const perRun = ctx.smoke ? 30 : 400;
    const nodes = await addFarmNodes(ctx, Math.max(...sizes), 's1');
    const floorP50: number[] = [];
    const floorP99: number[] = [];
    const rows: { n: number; p50: number[]; p99: number[]; ratioFloor: number[]; errors: number }[] = [];
    // Two services per N (one in smoke mode), all running at once, and the runs interleaved
    // (N = 1, 10, …, then again): a drift of the machine's speed hits every N alike, and the
    // speed one service process happens to get (it varies by ±30% from process to process
    // on this VM) is averaged over two. Each N's figures are over every run of both.
    const copies = ctx.smoke ? 1 : 2;
    const services: { row: number; svc: Awaited<ReturnType<typeof startService>>; agent: ReturnType<typeof keepAliveAgent> }[] = [];
    const floorAgent = keepAliveAgent(1);
    try {
      for (const n of sizes) rows.push({ n, p50: [], p99: [], ratioFloor: [], errors: 0 });
      for (let c = 0; c < copies; c++) {
        for (const [row, n] of sizes.entries()) {
          ctx.log(`s1: N=${n} (service ${c + 1}/${copies}): starting the service, registering ${n} nodes through the HTTP API`);
          const svc = await startService();
          services.push({ row, svc, agent: keepAliveAgent(1) });
          await registerNodes(svc.url, nodes.slice(0, n));
        }
      }
      // Warm-up: JIT, keep-alive sockets to every node.
      for (const { row, svc, agent } of services) {
        const n = sizes[row];
        await sequentialLatency(ctx.smoke ? n : Math.max(perRun, n), () => prepareOnce(agent, svc.url, 'w1'));
      }
      await sequentialLatency(perRun, () => legOnce(floorAgent, nodes[0].url, 'w1f'));
      for (let r = 0; r < ctx.runs; r++) {
        ctx.log(`s1: run ${r + 1}/${ctx.runs}`);
        for (const { row: i, svc, agent } of services) {
          const row = rows[i];
          const floor = await sequentialLatency(perRun, () => legOnce(floorAgent, nodes[0].url, 'f1'));
          const pool = await sequentialLatency(perRun, () => prepareOnce(agent, svc.url, 's1'));
          floorP50.push(floor.p50);
          floorP99.push(floor.p99);
          row.p50.push(pool.p50);
          row.p99.push(pool.p99);
          row.ratioFloor.push(pool.p50 / floor.p50);
          row.errors += pool.errors + floor.errors;
        }
      }
    } finally {
      floorAgent.destroy();
      for (const { svc, agent } of services) {
        agent.destroy();
        await svc.stop();
      }
      await ctx.farm.call('clearLegs');
    }
    const n1 = spread(rows[0].p50).median;
    const body = table(
      ['target', 'p50', 'p99', 'p50 ÷ floor', 'p50 ÷ p50 at N = 1', 'errors'],
      [
        ['floor: direct `POST /v1/legs` to one node', fmtSpread(spread(floorP50), fmtUs), fmtSpread(spread(floorP99), fmtUs), '1.00×', '', '0'],
        ...rows.map((r) => [
          `\`POST /v1/calls\`, N = ${r.n.toLocaleString('en-US')}`,
          fmtSpread(spread(r.p50), fmtUs), fmtSpread(spread(r.p99), fmtUs),
          fmtSpread(spread(r.ratioFloor), fmtRatio), fmtRatio(spread(r.p50).median / n1), String(r.errors),
        ]),
      ],
    );
    const last = rows[rows.length - 1];
    const flat = spread(last.p50).median / n1;
    const md = [
      `### 1. ${this.title}`,
      '',
      `Sequential prepares (one caller, one keep-alive connection) through the whole service — HTTP, validation, `
      + `store, selection, one control call to a fake node — with N nodes registered through \`POST /v1/nodes/register\`. Two services per N, all running at once, runs interleaved across N; each N's figures are over every run of both. `
      + `Default settings otherwise: background probes of every node every 5 s run during the measurement, as in production. `
      + `The floor is the same request sent straight to one fake node. ${perRun} prepares per run; each run of the `
      + `service is paired with a floor run just before it. Target: p50 at N = ${last.n.toLocaleString('en-US')} within 1.2× of N = 1.`,
      '',
      body,
      '',
      `p50 at N = ${last.n.toLocaleString('en-US')} is ${fmtRatio(flat)} of N = 1 (${flat <= 1.2 ? 'within' : 'NOT within'} the 1.2× target).`,
    ].join('\n');
    return {
      markdown: md,
      summary: [
        ['1', 'prepare p50 over HTTP, N = 1', fmtUs(n1), `floor ${fmtUs(spread(floorP50).median)} → ${fmtRatio(n1 / spread(floorP50).median)}`],
        ['1', `prepare p50 over HTTP, N = ${last.n.toLocaleString('en-US')}`, fmtUs(spread(last.p50).median), `${fmtRatio(flat)} of N = 1 (target ≤ 1.2×)`],
      ],
    };
  },
};
