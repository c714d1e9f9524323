import { type DynamicModule, Module, type Provider, type Type } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { CONTROL_CLIENT_OPTIONS, type ControlClientOptions, NodeControlClient } from '../node-client/node-control.client';
import { PruneService } from './jobs/prune.service';
import { DefaultFailoverPolicy } from './failover/default-failover.policy';
import { FAILOVER_POLICY } from './failover/failover-policy.interface';
import { CircuitBreaker } from './health/circuit-breaker';
import { HealthMonitorService } from './health/health-monitor.service';
import { systemClock } from '../common/clock';
import { CLOCK, RTP_RANDOM, type RandomSource } from './pool.constants';
import {
  POOL_ASYNC_OPTIONS_TYPE, POOL_MODULE_OPTIONS, POOL_OPTIONS, POOL_OPTIONS_TYPE, PoolConfigurableModule,
  type PoolModuleOptions, type ResolvedPoolOptions, resolvePoolOptions,
} from './pool.module-definition';
import { PoolEvents } from './pool.events';
import { PoolService } from './pool.service';
import { builtinStrategy } from './selection/builtin-strategies';
import { SELECTION_STRATEGY, type SelectionStrategy } from './selection/selection-strategy.interface';
import { MemoryPoolStore } from './store/memory-pool.store';
import { POOL_STORE } from './store/pool-store.interface';

const isClass = (v: unknown): v is Type<SelectionStrategy> => typeof v === 'function';

/**
 * The media-node pool: registry, selection, failover, bindings, prune job.
 *
 * ```ts
 * PoolModule.forRoot({ seedUrls: ['http://127.0.0.1:8090'], strategy: MyStrategy })
 * PoolModule.forRootAsync({ inject: [ConfigService], useFactory: (c) => ({ ... }) })
 * ```
 * Global by default (`isGlobal: false` to scope it), so the registry and calls
 * controllers and a user's own providers can inject {@link PoolService}.
 */
@Module({
  imports: [
    ScheduleModule.forRoot(),
  ],
  providers: [
    { provide: POOL_OPTIONS, useFactory: (o: PoolModuleOptions) => resolvePoolOptions(o), inject: [POOL_MODULE_OPTIONS] },
    { provide: RTP_RANDOM, useValue: Math.random as RandomSource },
    { provide: CLOCK, useValue: systemClock },
    {
      provide: POOL_STORE,
      useFactory: (o: ResolvedPoolOptions) => o.store ?? new MemoryPoolStore(),
      inject: [POOL_OPTIONS],
    },
    {
      provide: SELECTION_STRATEGY,
      useFactory: (o: ResolvedPoolOptions, random: RandomSource): SelectionStrategy => {
        const s = o.strategy ?? 'least-loaded';
        if (typeof s === 'string') return builtinStrategy(s, { random });
        // forRootAsync: a class is constructed without DI (forRoot registers it as a provider instead).
        return isClass(s) ? new s() : s;
      },
      inject: [POOL_OPTIONS, RTP_RANDOM],
    },
    {
      provide: FAILOVER_POLICY,
      useFactory: (o: ResolvedPoolOptions) => o.failover ?? new DefaultFailoverPolicy(o.maxAttempts),
      inject: [POOL_OPTIONS],
    },
    {
      provide: CONTROL_CLIENT_OPTIONS,
      useFactory: (o: ResolvedPoolOptions): ControlClientOptions => ({ timeoutMs: o.controlTimeoutMs, nodeToken: o.nodeToken }),
      inject: [POOL_OPTIONS],
    },
    NodeControlClient,
    PoolEvents,
    {
      provide: CircuitBreaker,
      useFactory: (o: ResolvedPoolOptions, events: PoolEvents) => new CircuitBreaker(o.circuitResetMs, events),
      inject: [POOL_OPTIONS, PoolEvents],
    },
    HealthMonitorService,
    PoolService,
    PruneService,
  ],
  exports: [PoolService, PoolEvents, NodeControlClient, CircuitBreaker, HealthMonitorService, POOL_OPTIONS, POOL_STORE, SELECTION_STRATEGY, FAILOVER_POLICY, RTP_RANDOM, CLOCK],
})
export class PoolModule extends PoolConfigurableModule {
  /** Synchronous registration; a strategy class given here is built by DI (it may inject providers). */
  static forRoot(options: typeof POOL_OPTIONS_TYPE = {}): DynamicModule {
    const mod = super.forRoot(options);
    if (!isClass(options.strategy)) return mod;
    const strategyProvider: Provider = { provide: SELECTION_STRATEGY, useExisting: options.strategy };
    return {
      ...mod,
      imports: [...(mod.imports ?? []), ...(options.imports ?? [])],
      providers: [...(mod.providers ?? []), options.strategy, strategyProvider],
    };
  }

  /** Registration from a factory (e.g. ConfigService); give strategy/store/failover as instances or names. */
  static forRootAsync(options: typeof POOL_ASYNC_OPTIONS_TYPE): DynamicModule {
    return super.forRootAsync(options);
  }
}
