import { type DynamicModule, Module } from '@nestjs/common';
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
 * a {@link RegistrarModule} that registers it with the signaling service. Global, so
 * the registrar's options factory can inject the leg store it reports from.
 */
@Module({})
export class MediaNodeModule {
  static forRoot(config: MediaNodeConfig): DynamicModule {
    return {
      module: MediaNodeModule,
      global: true,
      imports: [
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
