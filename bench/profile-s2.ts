/**
 * Profiling helper for scenario 2 (not part of `npm run bench`): one in-process pool with
 * 10 fake nodes, 16 concurrent callers of PoolService.prepare for a few seconds, under
 * `node --cpu-prof` (the profile lands in BENCH_CPU_PROF, default ./prof). Prints the
 * throughput next to the NodeControlClient floor measured the same way, and the CPU time of
 * the process per call for each (steadier than the rates when other work shares the machine).
 *   node -r ./bench/register.js bench/profile-s2.ts [seconds]
 */
import { addFarmNodes, type BenchContext } from './lib/context';
import { Child } from './lib/proc';

async function main(): Promise<void> {
  process.env.BENCH_CPU_PROF ??= 'prof';
  const ms = Number(process.argv[2] ?? 5) * 1000;
  const farm = Child.start('farm');
  await farm.ready;
  const nodes = await addFarmNodes({ farm } as BenchContext, 10, 'p2');
  const child = Child.start('inproc', { name: 'inproc-prof' });
  await child.ready;
  try {
    await child.call('open', { name: 'memory-10', env: {}, nodes });
    const urls = nodes.map((n) => n.url);
    await child.call('throughput', { name: 'memory-10', concurrency: 16, ms: 1000 });
    type Tput = { perSec: number; cpuUsPerOp: number };
    const client = await child.call<Tput>('clientThroughput', { name: 'memory-10', concurrency: 16, ms, urls });
    const pool = await child.call<Tput>('throughput', { name: 'memory-10', concurrency: 16, ms });
    process.stdout.write(
      `16 callers: pool ${pool.perSec.toFixed(0)}/s, client floor ${client.perSec.toFixed(0)}/s → ${(pool.perSec / client.perSec).toFixed(2)}×`
      + ` (CPU per call: pool ${pool.cpuUsPerOp.toFixed(0)} µs, client ${client.cpuUsPerOp.toFixed(0)} µs)\n`,
    );
  } finally {
    await child.stop();
    await farm.stop();
  }
}

main().catch((e) => {
  process.stderr.write(String(e instanceof Error ? e.stack : e) + '\n');
  process.exit(1);
});
