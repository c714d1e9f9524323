/**
 * Profiling helper (not part of `npm run bench`): the pool's own CPU per prepare, without
 * HTTP. PoolService from the real AppModule (memory store, probes and background jobs off)
 * with 10 nodes (NODES=) and a NodeControlClient that answers every prepare on the next turn of the
 * event loop (setImmediate); 16 concurrent callers (CALLERS=). Prints the process's CPU µs per prepare
 * for each round (after a 1 s warm-up). Calls stay bound, as in profile-s2, so later rounds
 * run with more bindings; CYCLE=1 deletes each call after its prepare (a steady heap).
 * STORE=redis uses the Redis store (REDIS_URL, default the local 6379) under a throwaway prefix,
 * deleted at the end: with the client answering at once, the rate shows the store's round trips.
 *   node -r ./bench/register.js bench/profile-pool.ts [seconds per round] [rounds]
 * Under `node --cpu-prof -r ./bench/register.js …` for a profile of the pool alone.
 */
import 'reflect-metadata';
import { Test } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import Redis from 'ioredis';
import { AppModule } from '../src/app.module';
import { loadAppConfig } from '../src/config/app.config';
import { NodeControlClient } from '../src/node-client/node-control.client';
import { PoolService } from '../src/pool/pool.service';
import { callId, OFFER_SDP } from './lib/http';
import { deleteKeys } from './lib/redis';

const turn = <T>(v: T) => new Promise<T>((r) => setImmediate(() => r(v)));

const NODES = Number(process.env.NODES ?? 10);
const CALLERS = Number(process.env.CALLERS ?? 16);

async function main(): Promise<void> {
  const sec = Number(process.argv[2] ?? 3);
  const rounds = Number(process.argv[3] ?? 3);
  const cycle = Boolean(process.env.CYCLE);
  let port = 20_000;
  const client = {
    prepare: (url: string, req: { call_id: string }) =>
      turn({ call_id: req.call_id, node_id: url, media_ip: '127.0.0.1', media_port: (port += 2), codec: 'PCMU' }),
    delete: () => turn(true),
    onApplicationShutdown: async () => undefined,
  };
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = `bench-pp-${randomBytes(4).toString('hex')}`;
  const store = process.env.STORE === 'redis' ? { RTP_STORE: 'redis', REDIS_URL: redisUrl, RTP_STORE_PREFIX: prefix } : {};
  const config = loadAppConfig({ RTP_PRUNE_INTERVAL_SEC: '0', RTP_HEALTH_INTERVAL_MS: '0', RTP_RECONCILE_INTERVAL_SEC: '0', ...store });
  const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot(config)] })
    .overrideProvider(NodeControlClient).useValue(client).compile();
  moduleRef.useLogger(['error', 'warn']);
  const app = await moduleRef.init();
  const pool = app.get(PoolService);
  for (let i = 0; i < NODES; i++) await pool.register({ nodeId: `p${i}`, controlUrl: `http://127.0.0.1:${9_000 + i}`, mediaIp: '127.0.0.1' });

  const run = async (ms: number): Promise<{ us: number; perSec: number }> => {
    const t0 = Date.now();
    const cpu0 = process.cpuUsage();
    let done = 0;
    const worker = async () => {
      while (Date.now() - t0 < ms) {
        const id = callId('pp');
        await pool.prepare(id, OFFER_SDP);
        done++;
        if (cycle) await pool.delete(id);
      }
    };
    await Promise.all(Array.from({ length: CALLERS }, worker));
    const cpu = process.cpuUsage(cpu0);
    return { us: (cpu.user + cpu.system) / done, perSec: done / ((Date.now() - t0) / 1000) };
  };
  try {
    await run(1_000);
    const us: string[] = [];
    const rate: string[] = [];
    for (let r = 0; r < rounds; r++) {
      const x = await run(sec * 1_000);
      us.push(x.us.toFixed(1));
      rate.push(x.perSec.toFixed(0));
    }
    process.stdout.write(`pool CPU per prepare, no HTTP, ${store.RTP_STORE ?? 'memory'} store${cycle ? ' (each call deleted)' : ''}: `
      + `${us.join(' ')} µs; prepares/s ${rate.join(' ')}\n`);
  } finally {
    await app.close();
    if (store.RTP_STORE) {
      const redis = new Redis(redisUrl);
      await deleteKeys(redis, prefix);
      redis.disconnect();
    }
  }
}

main().catch((e) => {
  process.stderr.write(String(e instanceof Error ? e.stack : e) + '\n');
  process.exit(1);
});
