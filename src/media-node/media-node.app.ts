import type { INestApplication, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
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
  /** Nest log levels, or false for none. @default Nest's default levels */
  logger?: LogLevel[] | false;
}

/** Creates, configures (as main.ts does) and starts a media node; the registrar starts once it listens. */
export async function startMediaNode(config: MediaNodeConfig, opts: StartMediaNodeOptions = {}): Promise<RunningMediaNode> {
  const app = await NestFactory.create<NestExpressApplication>(MediaNodeModule.forRoot(config), {
    abortOnError: false, ...(opts.logger !== undefined ? { logger: opts.logger } : {}),
  });
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
