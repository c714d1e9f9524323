/**
 * Profiling helper for scenario 8 (not part of `npm run bench`): the service on one adapter,
 * started as s8 starts it (LOG_LEVEL=warn, probes off), under `node --cpu-prof` (the profile
 * lands in BENCH_CPU_PROF, default ./prof), driven by the heartbeat load or the lifecycle
 * load of s8, then stopped so the profile is written. Prints the CPU µs per request.
 *   node -r ./bench/register.js bench/profile-s8.ts express|fastify|http heartbeat|lifecycle|prepare1 [requests]
 * (http: scenario 8's bare node:http server, which forwards calls with undici: the floor.)
 * (prepare1: one connection sending prepares one after the other, as s8's sequential latency run.)
 * BENCH_CPU_PROF= (empty) measures without profiling; BENCH_SUT_ROOT=<other checkout>/bench runs that service.
 * Summarise a profile with `node bench/cpuprofile-top.js <file>`.
 */
import type autocannon from 'autocannon';
import { cannon } from './lib/cannon';
import { addFarmNodes, type BenchContext } from './lib/context';
import { Child } from './lib/proc';
import { registerNodes, startProc, startService } from './lib/sut';
import { lifecycleRequests } from './scenarios/s3-lifecycle';

async function main(): Promise<void> {
  const adapter = process.argv[2] ?? 'express';
  const load = process.argv[3] ?? 'heartbeat';
  const amount = Number(process.argv[4] ?? 30_000);
  const farm = Child.start('farm');
  await farm.ready;
  const ctx = { farm } as BenchContext;
  const ids = 10_000;
  const nodes = load === 'heartbeat' ? await addFarmNodes(ctx, ids / 10, 'p8h') : await addFarmNodes(ctx, 10, 'p8c');
  process.env.BENCH_CPU_PROF ??= 'prof';
  const svc = adapter === 'http'
    ? await startProc('bare-http', { BENCH_NODES: nodes.map((x) => x.url).join(',') }, `prof-http-${load}`)
    : await startService({ RTP_HTTP_ADAPTER: adapter, RTP_HEALTH_INTERVAL_MS: '0', RTP_MAX_NODES: '100000' }, `prof-${adapter}-${load}`, [], process.env.BENCH_SUT_ROOT);
  delete process.env.BENCH_CPU_PROF;
  try {
    let k = 0;
    const heartbeats: autocannon.Request[] = [{
      method: 'POST', path: '/v1/nodes/register', headers: { 'content-type': 'application/json' },
      setupRequest: (req) => {
        const i = k++ % ids;
        return { ...req, body: JSON.stringify({ node_id: `hb-${i}`, control_url: nodes[i % nodes.length].url, media_ip: '127.0.0.1', active_legs: i % 50 }) };
      },
    }];
    const run = load === 'heartbeat'
      ? (n: number) => cannon({ url: svc.url, connections: 64, amount: n, requests: heartbeats })
      : load === 'prepare1'
        ? (n: number) => cannon({ url: svc.url, connections: 1, amount: n, requests: lifecycleRequests('p8').slice(0, 1) })
        : (n: number) => cannon({ url: svc.url, connections: 32, amount: n, requests: lifecycleRequests('p8'), perUnit: 3 });
    if (load !== 'heartbeat' && adapter !== 'http') await registerNodes(svc.url, nodes);
    await run(load === 'heartbeat' ? ids : 3_000);
    const before = (await svc.child.call<{ us: number }>('cpu')).us;
    const r = await run(amount);
    const after = (await svc.child.call<{ us: number }>('cpu')).us;
    process.stdout.write(`${adapter} ${load}: ${r.perSec.toFixed(0)}/s, ${((after - before) / r.requests).toFixed(0)} µs CPU per request, ${r.errors} errors\n`);
  } finally {
    await svc.stop();
    await farm.stop();
  }
}

main().catch((e) => {
  process.stderr.write(String(e instanceof Error ? e.stack : e) + '\n');
  process.exit(1);
});
