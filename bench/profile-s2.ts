/**
 * Profiling helper for scenario 2 (not part of `npm run bench`): one in-process pool with
 * 10 fake nodes, 16 concurrent callers of PoolService.prepare for a few seconds, under
 * `node --cpu-prof` (the profile lands in BENCH_CPU_PROF, default ./prof). Prints the
 * throughput next to the NodeControlClient floor measured the same way, and the CPU time of
 * the process per call for each (steadier than the rates when other work shares the machine).
 * Also the same callers through a minimal pool (bench/procs/inproc.ts MinimalPool: pick, call, Map).
 * With `only` = pool, client or minimal, profiles that side alone (one profile per side to compare).
 *   node -r ./bench/register.js bench/profile-s2.ts [seconds] [pool|client|minimal]
 * BENCH_S2_ROUNDS=n: n rounds of the three in turn, then the medians.
 */
import { addFarmNodes, type BenchContext } from './lib/context';
import { Child } from './lib/proc';

async function main(): Promise<void> {
  process.env.BENCH_CPU_PROF ??= 'prof';
  const ms = Number(process.argv[2] ?? 5) * 1000;
  const only = process.argv[3];
  const farm = Child.start('farm');
  await farm.ready;
  const nodes = await addFarmNodes({ farm } as BenchContext, 10, 'p2');
  const child = Child.start('inproc', { name: 'inproc-prof' });
  await child.ready;
  try {
    await child.call('open', { name: 'memory-10', env: {}, nodes });
    const urls = nodes.map((n) => n.url);
    type Tput = { perSec: number; cpuUsPerOp: number; gcUsPerOp: number };
    const run = (side: string, t: number) => (side === 'pool'
      ? child.call<Tput>('throughput', { name: 'memory-10', concurrency: 16, ms: t })
      : child.call<Tput>(side === 'minimal' ? 'minimalThroughput' : 'clientThroughput', { name: 'memory-10', concurrency: 16, ms: t, urls }));
    type Stats = { cpuUs: number; accepted: number };
    const fmt = (side: string, r: Tput & { farm: Stats }) => `${side} ${r.perSec.toFixed(0)}/s, ${r.cpuUsPerOp.toFixed(0)} µs CPU per call (GC ${r.gcUsPerOp.toFixed(1)})`
      + ` (fake nodes: ${r.farm.cpuUs.toFixed(0)} µs per call, ${r.farm.accepted} connections opened)`;
    const measure = async (side: string, t: number) => {
      const s0 = await farm.call<Stats>('stats', {});
      const r = await run(side, t);
      const s1 = await farm.call<Stats>('stats', {});
      const calls = r.perSec * t / 1000;
      return { ...r, farm: { cpuUs: (s1.cpuUs - s0.cpuUs) / calls, accepted: s1.accepted - s0.accepted } };
    };
    if (only === 'pool' || only === 'client' || only === 'minimal') {
      await run(only, 1000);
      process.stdout.write(`16 callers: ${fmt(only, await measure(only, ms))}\n`);
      return;
    }
    await run('pool', 1000);
    await run('minimal', 1000);
    // Rounds of the three in turn (a drift of the machine hits them alike); medians of the rounds.
    const rounds = Number(process.env.BENCH_S2_ROUNDS ?? 1);
    const per = { client: [] as number[], pool: [] as number[], minimal: [] as number[], poolX: [] as number[], minimalX: [] as number[] };
    for (let i = 0; i < rounds; i++) {
      const client = await measure('client', ms);
      const pool = await measure('pool', ms);
      const minimal = await measure('minimal', ms);
      process.stdout.write(`16 callers: ${fmt('pool', pool)}; ${fmt('client floor', client)} → ${(pool.perSec / client.perSec).toFixed(2)}×\n`
        + `  ${fmt('minimal pool', minimal)} → ${(minimal.perSec / client.perSec).toFixed(2)}× of the client floor\n`);
      per.client.push(client.cpuUsPerOp);
      per.pool.push(pool.cpuUsPerOp);
      per.minimal.push(minimal.cpuUsPerOp);
      per.poolX.push(pool.perSec / client.perSec);
      per.minimalX.push(minimal.perSec / client.perSec);
    }
    if (rounds > 1) {
      const med = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1];
      process.stdout.write(`medians of ${rounds} rounds: CPU per call client ${med(per.client).toFixed(1)} µs, minimal pool ${med(per.minimal).toFixed(1)} µs, `
        + `pool ${med(per.pool).toFixed(1)} µs; throughput ÷ client floor: minimal pool ${med(per.minimalX).toFixed(2)}×, pool ${med(per.poolX).toFixed(2)}×\n`);
    }
  } finally {
    await child.stop();
    await farm.stop();
  }
}

main().catch((e) => {
  process.stderr.write(String(e instanceof Error ? e.stack : e) + '\n');
  process.exit(1);
});
