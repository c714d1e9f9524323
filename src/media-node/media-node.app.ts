import type { INestApplication, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { Logger as PinoNestLogger } from 'nestjs-pino';
import type { DestinationStream } from 'pino';
import { configureJsonApp } from '../common/json-app';
import { RegistrarService } from '../registrar/registrar.service';
import { LegsService } from './legs.service';
import type { MediaNodeConfig } from './media-node.config';
import { MediaNodeModule } from './media-node.module';
import { NodeIdentity } from './node-identity';

/** A running reference media node. */
export interface RunningMediaNode {
  app: INestApplication;
  /** Control URL to reach it from this machine (`http://127.0.0.1:<port>` for a wildcard listen). */
  url: string;
  nodeId: string;
  port: number;
  legs: LegsService;
  registrar: RegistrarService;
  /** Drains, deregisters, closes every socket (the SIGTERM path). */
  close(): Promise<void>;
}

export interface StartMediaNodeOptions {
  /**
   * For embedding (tests, the demo): Nest's own console logger with these levels, or false
   * for none, and no request log (nestjs-pino is not loaded: it keeps one pino-http
   * instance per process). Unset: every line, Nest's own included, is pino JSON (or
   * pretty) at the config's LOG_LEVEL, as the service logs.
   */
  logger?: LogLevel[] | false;
  /** Where the pino lines go (when `logger` is unset). @default standard output */
  logDestination?: DestinationStream;
}

/** Creates, configures (as main.ts does) and starts a media node; the registrar starts once it listens. */
export async function startMediaNode(config: MediaNodeConfig, opts: StartMediaNodeOptions = {}): Promise<RunningMediaNode> {
  const pino = opts.logger === undefined;
  const logging = pino && { level: config.logLevel, pretty: config.logPretty, destination: opts.logDestination };
  const app = await NestFactory.create<NestExpressApplication>(MediaNodeModule.forRoot(config, logging), {
    abortOnError: false, ...(pino ? { bufferLogs: true } : { logger: opts.logger }),
  });
  if (pino) app.useLogger(app.get(PinoNestLogger));
  configureJsonApp(app);
  try {
    await app.listen(config.controlPort, config.controlHost);
  } catch (e) {
    await app.close().catch(() => undefined);
    throw e;
  }
  const identity = app.get(NodeIdentity);
  const host = ['0.0.0.0', '::', ''].includes(config.controlHost) ? '127.0.0.1' : config.controlHost;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${identity.port}`;
  return {
    app, url, nodeId: identity.nodeId, port: identity.port,
    legs: app.get(LegsService), registrar: app.get(RegistrarService),
    close: () => app.close(),
  };
}
