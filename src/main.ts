import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AddressInfo } from 'node:net';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { configureApp } from './http/app.setup';
import { createHttpAdapter } from './http/http-adapter';
import { loadAppConfig } from './config/app.config';
import { readConfigOrExit } from './common/read-config';
import { enableGracefulShutdown } from './ops/shutdown/graceful-shutdown';

async function bootstrap(): Promise<void> {
  const config = readConfigOrExit('rtp-pool', loadAppConfig);
  // RTP_HTTP_ADAPTER: Express (the default) or Fastify; everything after this line is adapter-neutral.
  const adapter = createHttpAdapter(config.httpAdapter, { maxBodyBytes: config.maxBodyBytes });
  const app = await NestFactory.create(AppModule.forRoot(config), adapter, { bufferLogs: true });
  // Every log line, Nest's own included, goes through pino (JSON, or pretty with LOG_PRETTY).
  app.useLogger(app.get(PinoNestLogger));
  configureApp(app, { maxBodyBytes: config.maxBodyBytes, lean: config.httpLean });
  const log = new Logger('rtp-pool');
  for (const [name, v] of [['RTP_REGISTRY_TOKEN', config.registryToken], ['RTP_API_TOKEN', config.apiToken], ['RTP_NODE_TOKEN', config.nodeToken]] as const) {
    if (!v) log.warn(`${name} is not set: ${name === 'RTP_NODE_TOKEN' ? 'media nodes are called without a token' : 'its paths are open'}`);
  }
  await app.listen(config.port, config.host);
  // SIGTERM/SIGINT: stop accepting, finish in-flight requests, close the store, exit 0.
  enableGracefulShutdown(app, { timeoutMs: config.shutdownTimeoutMs });
  const addr = app.getHttpServer().address() as AddressInfo;
  log.log(`listening on http://${config.host}:${addr.port} with ${config.seedUrls.length} seed node(s), strategy ${config.strategy}, ${config.httpAdapter}`);
}

void bootstrap();
