/**
 * Measuring helper (not part of `npm run bench`): heap bytes each bound call keeps, through
 * the real `PoolService.prepare` (AppModule, memory store, 10 fake nodes in their own process,
 * 16 callers, 50,000 calls kept bound, heap after two full GCs). The nodes answer with a media
 * IP of 15 characters, as a LAN or public address may have: V8 keeps one copy of a JSON string
 * of up to 10 characters by itself ('127.0.0.1' costs nothing per call), not of a longer one.
 *   node --expose-gc -r ./bench/register.js bench/profile-memory.ts [media-ip]
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../src/app.module';
import { loadAppConfig } from '../src/config/app.config';
import { PoolService } from '../src/pool/pool.service';
import { addFarmNodes, type BenchContext } from './lib/context';
import { callId, OFFER_SDP } from './lib/http';
import { Child } from './lib/proc';

async function main(): Promise<void> {
  const mediaIp = process.argv[2] ?? '192.168.100.200';
  const farm = Child.start('farm', { env: { BENCH_FARM_MEDIA_IP: mediaIp } });
  await farm.ready;
  const nodes = await addFarmNodes({ farm } as BenchContext, 10, 'mb');
  const app = await NestFactory.createApplicationContext(AppModule.forRoot(loadAppConfig({ RTP_PRUNE_INTERVAL_SEC: '0', RTP_HEALTH_INTERVAL_MS: '0' })), { logger: ['error', 'warn'] });
  const pool = app.get(PoolService);
  for (const n of nodes) await pool.register({ nodeId: n.id, controlUrl: n.url, mediaIp });
  const run = async (count: number) => {
    let k = 0;
    await Promise.all(Array.from({ length: 16 }, async () => { while (k < count) { k++; await pool.prepare(callId('mb'), OFFER_SDP); } }));
  };
  await run(5_000);
  const gc = (global as unknown as { gc: () => void }).gc;
  gc(); gc();
  const before = process.memoryUsage().heapUsed;
  const N = 50_000;
  await run(N);
  gc(); gc();
  const after = process.memoryUsage().heapUsed;
  process.stdout.write(`${((after - before) / N).toFixed(0)} B per bound call (media IP ${mediaIp})\n`);
  await app.close();
  await farm.stop();
}
main().catch((e) => { console.error(e); process.exit(1); });
