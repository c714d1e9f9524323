/**
 * The benchmark runner: `npm run bench` (full, writes bench/results.md) or
 * `npm run bench -- --smoke` (every scenario at tiny sizes; prints only).
 * Options: `--only=1,3` runs some scenarios; `--runs=N`; `--out=FILE` writes the report there.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import Redis from 'ioredis';
import type { BenchContext, Scenario, Section } from './lib/context';
import { Child } from './lib/proc';
import { deleteKeys, scanKeys } from './lib/redis';
import { registerNodes, startService } from './lib/sut';
import { table } from './lib/stats';
import { SCENARIOS } from './scenarios';

interface Args {
  smoke: boolean;
  only?: Set<string>;
  runs?: number;
  out?: string;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { smoke: false };
  for (const arg of argv) {
    if (arg === '--smoke') a.smoke = true;
    else if (arg.startsWith('--only=')) a.only = new Set(arg.slice(7).split(','));
    else if (arg.startsWith('--runs=')) a.runs = Number(arg.slice(7));
    else if (arg.startsWith('--out=')) a.out = arg.slice(6);
    else throw new Error(`unknown argument ${arg} (use --smoke, --only=1,3, --runs=N, --out=FILE)`);
  }
  return a;
}

function machine(): string {
  let cpu = os.cpus()[0]?.model ?? 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1].trim();
  } catch {
    /* not Linux */
  }
  const load = os.loadavg().map((l) => l.toFixed(2)).join(' ');
  return `${cpu}, ${os.availableParallelism()} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, `
    + `Node ${process.version}, ${os.platform()} ${os.release()}; load average at start ${load}`;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const runs = args.runs ?? (args.smoke ? 1 : 5);
  const started = new Date();
  const machineAtStart = machine();
  const log = (msg: string) => process.stderr.write(`[bench ${((Date.now() - started.getTime()) / 1000).toFixed(1)}s] ${msg}\n`);
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const farm = Child.start('farm');
  await farm.ready;

  let storeCheck: Promise<{ ok: true } | { ok: false; reason: string }> | undefined;
  const ctx: BenchContext = {
    smoke: args.smoke, runs, farm, log, redisUrl,
    redisPrefix: () => `rtp-bench-${randomBytes(4).toString('hex')}:`,
    redisStore: () => (storeCheck ??= checkRedisStore(redisUrl)),
  };

  const chosen = SCENARIOS.filter((s) => !args.only || args.only.has(s.id));
  const sections: Section[] = [];
  let failed = 0;
  try {
    for (const s of chosen) {
      log(`scenario ${s.id}: ${s.title}`);
      const t0 = Date.now();
      let sec: Section;
      try {
        sec = await s.run(ctx);
      } catch (e) {
        failed++;
        const msg = e instanceof Error ? e.stack ?? e.message : String(e);
        log(`scenario ${s.id} FAILED: ${msg}`);
        sec = { markdown: `### ${s.id}. ${s.title}\n\nfailed: ${msg.split('\n')[0]}`, summary: [[s.id, s.title, 'failed', '']] };
      }
      log(`scenario ${s.id} done in ${((Date.now() - t0) / 1000).toFixed(1)} s${sec.skipped ? ` (skipped: ${sec.skipped})` : ''}`);
      process.stdout.write(`\n${sec.markdown}\n`);
      sections.push(sec);
    }
  } finally {
    await farm.stop();
  }

  const seconds = (Date.now() - started.getTime()) / 1000;
  const report = [
    `# rtp-pool benchmark results${args.smoke ? ' (SMOKE MODE: tiny sizes, figures mean nothing)' : ''}`,
    '',
    `- date: ${started.toISOString()}`,
    `- machine: ${machineAtStart}`,
    `- runs per figure: ${runs}; figures are the median of the runs with (min–max); wall time ${seconds.toFixed(0)} s; `
      + `load average at the end ${os.loadavg().map((l) => l.toFixed(2)).join(' ')} (the bench itself keeps ~2 cores busy)`,
    `- command: \`npm run bench${args.smoke ? ' -- --smoke' : ''}\``,
    '',
    '## Summary',
    '',
    table(['#', 'figure', 'median', 'against its same-run baseline'], sections.flatMap((s) => s.summary)),
    '',
    '## Scenarios',
    '',
    ...sections.map((s) => s.markdown + '\n'),
  ].join('\n');
  process.stdout.write(`\n## Summary\n\n${table(['#', 'figure', 'median', 'against its same-run baseline'], sections.flatMap((s) => s.summary))}\n`);
  const out = args.out ?? (args.smoke || args.only || args.runs ? undefined : path.join(__dirname, 'results.md'));
  if (out) {
    writeFileSync(out, report);
    log(`wrote ${out}`);
  }
  log(`${chosen.length} scenario(s), ${failed} failed, ${seconds.toFixed(0)} s`);
  process.exitCode = failed ? 1 : 0;
}

/**
 * Whether the Redis store is there and works: Redis answers, and a service started
 * with RTP_STORE=redis really writes under its prefix.
 */
async function checkRedisStore(redisUrl: string): Promise<{ ok: true } | { ok: false; reason: string }> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false });
  try {
    await redis.connect();
    await redis.ping();
  } catch (e) {
    redis.disconnect();
    return { ok: false, reason: `Redis does not answer at ${redisUrl} (${e instanceof Error ? e.message : String(e)})` };
  }
  const prefix = `rtp-bench-check-${randomBytes(4).toString('hex')}:`;
  let svc: Awaited<ReturnType<typeof startService>> | undefined;
  try {
    svc = await startService({ RTP_STORE: 'redis', REDIS_URL: redisUrl, RTP_STORE_PREFIX: prefix }, 'sut-redis-check');
    await registerNodes(svc.url, [{ id: 'check-1', url: 'http://127.0.0.1:9' }]);
    const keys = await scanKeys(redis, prefix);
    if (keys.length === 0) return { ok: false, reason: 'RTP_STORE=redis is not wired yet (a registered node wrote nothing to Redis)' };
    return { ok: true };
  } catch (e) {
    return { ok: false, reason: `the service does not start with RTP_STORE=redis: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}` };
  } finally {
    await svc?.stop();
    await deleteKeys(redis, prefix);
    redis.disconnect();
  }
}

if (require.main === module) {
  main().catch((e) => {
    process.stderr.write(`bench: ${e instanceof Error ? e.stack : String(e)}\n`);
    process.exit(1);
  });
}
