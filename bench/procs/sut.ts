/**
 * The system under test: the real signaling service (AppModule + configureApp, as
 * main.ts builds it, on the adapter of RTP_HTTP_ADAPTER) on 127.0.0.1, port 0, configured from the environment the bench
 * passes in. Logs at warn and above.
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { AppModule } from '../../src/app.module';
import { configureApp } from '../../src/http/app.setup';
import { loadAppConfig } from '../../src/config/app.config';
import { createHttpAdapter } from '../../src/http/http-adapter';
import { EventFeed } from '../../src/pool/events/event-feed.service';
import { failStartup, serveCommands } from '../lib/proc';

async function main(): Promise<void> {
  const config = loadAppConfig({ ...process.env, SIP_CONTROL_HOST: '127.0.0.1', SIP_CONTROL_PORT: '0' });
  const adapter = createHttpAdapter(config.httpAdapter, { maxBodyBytes: config.maxBodyBytes });
  const app = await NestFactory.create(AppModule.forRoot(config), adapter, { logger: ['error', 'warn'] });
  configureApp(app, { maxBodyBytes: config.maxBodyBytes });
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1').replace('localhost', '127.0.0.1');
  const stop = async () => {
    await app.close().catch(() => undefined);
    process.exit(0); // flushes a --cpu-prof profile
  };
  process.once('SIGTERM', () => void stop());
  serveCommands({
    memory: () => ({ rss: process.memoryUsage().rss, heapUsed: process.memoryUsage().heapUsed }),
    // Fills the event log through the pool's own feed (as a node going down does), ~230 B a record, for scenario 11.
    publishEvents: async (m) => {
      const feed = app.get(EventFeed);
      const count = Number(m.count);
      for (let i = 0; i < count; i += 500) {
        await Promise.all(Array.from({ length: Math.min(500, count - i) }, (_, k) =>
          feed.publish('node_down', { node_id: `bench-node-${i + k}.`.padEnd(120, 'x'), reason: 'probe', bound_calls: 1 + ((i + k) % 300) })));
      }
      return { count };
    },
  }, { url });
}

main().catch(failStartup);
