import { type DynamicModule, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerModule } from '@nestjs/throttler';
import { LoggerModule } from 'nestjs-pino';
import { CallsModule } from './http/calls/calls.module';
import { EventsModule } from './http/events/events.module';
import { APP_CONFIG, type AppConfig } from './config/app.config';
import { PoolModule } from './pool/pool.module';
import type { PoolModuleOptions } from './pool/core/pool.module-definition';
import { RedisEventLog } from './pool/events/redis-event-log';
import { RedisPoolStore, redisCommandTimeoutFor } from './pool/store/redis-pool.store';
import { pinoLoggerParams } from './ops/logging/logger.params';
import { OpsModule } from './ops/ops.module';
import { RegistryModule } from './http/registry/registry.module';
import { RATE_LIMIT_MESSAGE, RateLimitGuard } from './http/security/rate-limit.guard';
import { SecurityModule } from './http/security/security.module';

/**
 * The signaling service: wires @nestjs/config to the library modules. The configuration
 * is loaded and validated once (main.ts, or a test) and handed in here; library modules
 * never read process.env.
 */
@Module({})
export class AppModule {
  static forRoot(config: AppConfig): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({ isGlobal: true, ignoreEnvFile: true, load: [() => ({ [APP_CONFIG]: config })] }),
        PoolModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (c: ConfigService): PoolModuleOptions => {
            const cfg = c.getOrThrow<AppConfig>(APP_CONFIG);
            return {
              seedUrls: cfg.seedUrls, nodeTtlSec: cfg.nodeTtlSec, callTtlSec: cfg.callTtlSec,
              controlTimeoutMs: cfg.controlTimeoutMs, maxAttempts: cfg.maxAttempts,
              pruneIntervalSec: cfg.pruneIntervalSec, pruneCron: cfg.pruneCron, maxNodes: cfg.maxNodes, nodeToken: cfg.nodeToken,
              strategy: cfg.strategy,
              healthIntervalMs: cfg.healthIntervalMs, healthTimeoutMs: cfg.healthTimeoutMs,
              healthConcurrency: cfg.healthConcurrency, circuitResetMs: cfg.circuitResetMs,
              reconcileIntervalSec: cfg.reconcileIntervalSec,
              eventsPingMs: cfg.eventsPingMs, drainCheckMs: cfg.drainCheckMs,
              eventsMaxSubscribers: cfg.eventsMaxSubscribers, eventsBufferBytes: cfg.eventsBufferBytes,
              // The store creates (and so quits, in its onModuleDestroy) its own Redis client.
              store: cfg.store === 'redis'
                ? new RedisPoolStore({
                  connection: cfg.redis, prefix: cfg.storePrefix, commandTimeoutMs: redisCommandTimeoutFor(cfg.controlTimeoutMs),
                  waitReplicas: cfg.redisWaitReplicas, waitTimeoutMs: cfg.redisWaitTimeoutMs,
                })
                : undefined,
              // The §5 events in a Redis Stream beside the store (its own two connections).
              eventLog: cfg.store === 'redis' ? new RedisEventLog({ connection: cfg.redis, prefix: cfg.storePrefix }) : undefined,
            };
          },
        }),
        SecurityModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (c: ConfigService) => {
            const cfg = c.getOrThrow<AppConfig>(APP_CONFIG);
            // main.ts warns about unset tokens itself, naming their environment variables.
            return { allowedNodeCidrs: cfg.allowedNodeCidrs, registryToken: cfg.registryToken, apiToken: cfg.apiToken, warnIfOpen: false };
          },
        }),
        // Rate limiting is off by default (RTP_RATE_LIMIT=0): then neither the module nor its guard exists.
        ...(config.rateLimit > 0 ? [ThrottlerModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (c: ConfigService) => {
            const cfg = c.getOrThrow<AppConfig>(APP_CONFIG);
            return { throttlers: [{ limit: cfg.rateLimit, ttl: cfg.rateLimitWindowMs }], errorMessage: RATE_LIMIT_MESSAGE };
          },
        })] : []),
        RegistryModule,
        CallsModule,
        EventsModule,
        LoggerModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (c: ConfigService) => {
            const cfg = c.getOrThrow<AppConfig>(APP_CONFIG);
            return pinoLoggerParams({ level: cfg.logLevel, pretty: cfg.logPretty });
          },
        }),
        OpsModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (c: ConfigService) => {
            const cfg = c.getOrThrow<AppConfig>(APP_CONFIG);
            return { readyRequiresNode: cfg.readyRequiresNode, apiToken: cfg.apiToken };
          },
        }),
      ],
      // Global, so it runs before the routes' own token check: a token guesser is limited too.
      providers: config.rateLimit > 0 ? [{ provide: APP_GUARD, useClass: RateLimitGuard }] : [],
    };
  }
}
