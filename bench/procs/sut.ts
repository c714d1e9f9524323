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
  }, { url });
}

main().catch(failStartup);
