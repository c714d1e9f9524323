import { type DynamicModule, Module } from '@nestjs/common';
import { LoggerModule } from 'nestjs-pino';
import { type LoggingOptions, pinoLoggerParams } from '../common/logger.params';
import { RegistrarModule } from '../registrar/registrar.module';
import type { RegistrarModuleOptions } from '../registrar/registrar.module-definition';
import { HealthController, LegsController } from './legs.controller';
import { LegsService } from './legs.service';
import type { MediaNodeConfig } from './media-node.config';
import { MEDIA_NODE_CONFIG } from './media-node.constants';
import { NodeIdentity } from './node-identity';
import { NodeTokenGuard } from './node-token.guard';

/** Maps the media node's configuration (CONTRACT §4 names) onto {@link RegistrarModule} options. */
export function registrarOptionsFor(config: MediaNodeConfig, legs: LegsService, identity: NodeIdentity): RegistrarModuleOptions {
  return {
    registryUrl: config.registryUrl,
    registryToken: config.registryToken,
    nodeId: () => identity.nodeId,
    controlUrl: () => identity.controlUrl,
    mediaIp: config.mediaIp,
    capacity: config.maxLegs > 0 ? config.maxLegs : undefined,
    region: config.region,
    heartbeatIntervalMs: config.heartbeatSec * 1000,
    drainTimeoutMs: config.drainTimeoutSec * 1000,
    legCounter: legs,
  };
}

/**
 * The reference RTP media node: the leg API (CONTRACT §2) over real UDP sockets, and
 * a {@link RegistrarModule} that registers it with the signaling service, and request
 * logging as the service does it (pino JSON lines, LOG_LEVEL, LOG_PRETTY). Global, so
 * the registrar's options factory can inject the leg store it reports from.
 */
@Module({})
export class MediaNodeModule {
  /**
   * `logging` defaults to the config's LOG_LEVEL and LOG_PRETTY; false leaves nestjs-pino
   * out (an embedded node: nestjs-pino keeps one pino-http instance per process, which the
   * service in the same process owns then).
   */
  static forRoot(config: MediaNodeConfig, logging?: LoggingOptions | false): DynamicModule {
    return {
      module: MediaNodeModule,
      global: true,
      imports: [
        ...(logging === false ? [] : [LoggerModule.forRoot(pinoLoggerParams(logging ?? { level: config.logLevel, pretty: config.logPretty }))]),
        RegistrarModule.forRootAsync({
          inject: [MEDIA_NODE_CONFIG, LegsService, NodeIdentity],
          useFactory: registrarOptionsFor,
        }),
      ],
      controllers: [LegsController, HealthController],
      providers: [{ provide: MEDIA_NODE_CONFIG, useValue: config }, NodeIdentity, LegsService, NodeTokenGuard],
      exports: [MEDIA_NODE_CONFIG, NodeIdentity, LegsService],
    };
  }
}
