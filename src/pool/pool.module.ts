import { type DynamicModule, Module, type Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ScheduleModule } from '@nestjs/schedule';
import { type Clock, systemClock } from '../common/clock';
import { instanceOrBuilt, isClass, withClassProvider } from '../common/di';
import { CONTROL_CLIENT_OPTIONS, type ControlClientOptions, NodeControlClient } from '../node-client/node-control.client';
import { BindingCache } from './calls/binding-cache';
import { CallMigrator } from './calls/call-migrator';
import { CallPlacer } from './calls/call-placer';
import { CallQueue } from './calls/call-queue';
import { CallRouter } from './calls/call-router';
import { LeftLegs } from './calls/left-legs';
import { NodeLegs } from './calls/node-legs';
import { UnsettledWrites } from './calls/unsettled-writes';
import { DrainDeadlineService } from './events/drain-deadline.service';
import { EventFeed } from './events/event-feed.service';
import { POOL_EVENT_LOG } from './core/event-log.interface';
import { MemoryEventLog } from './events/memory-event-log';
import { NodeWatch } from './events/node-watch.service';
import { DefaultFailoverPolicy } from './failover/default-failover.policy';
import { FAILOVER_POLICY } from './core/failover-policy.interface';
import { CircuitBreaker } from './health/circuit-breaker';
import { HealthMonitorService } from './health/health-monitor.service';
import { JobScheduler } from './core/job-scheduler';
import { PruneService } from './jobs/prune.service';
import { ReconcileService } from './jobs/reconcile.service';
import { CLOCK, RTP_RANDOM, type RandomSource } from './core/pool.constants';
import {
  POOL_ASYNC_OPTIONS_TYPE, POOL_MODULE_OPTIONS, POOL_OPTIONS, POOL_OPTIONS_TYPE, PoolConfigurableModule,
  type PoolModuleOptions, type ResolvedPoolOptions, resolvePoolOptions,
} from './core/pool.module-definition';
import { PoolHooks } from './core/pool.hooks';
import { PoolService } from './pool.service';
import { NodeRegistry } from './registry/node-registry';
import { builtinStrategy } from './selection/builtin-strategies';
import { CandidateSelector } from './selection/candidate-selector';
import { SELECTION_STRATEGY, type SelectionStrategy } from './core/selection-strategy.interface';
import { MemoryPoolStore } from './store/memory-pool.store';
import { POOL_STORE, type StoreStatus } from './core/pool-store.interface';

/**
 * The media-node pool: registry, selection, call routing, failover, bindings, and the
 * background jobs (prune, health probes, reconciliation).
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
      useFactory: (o: ResolvedPoolOptions, clock: Clock) => o.store ?? new MemoryPoolStore(() => clock.now()),
      inject: [POOL_OPTIONS, CLOCK],
    },
    {
      provide: POOL_EVENT_LOG,
      useFactory: (o: ResolvedPoolOptions, clock: Clock) => o.eventLog ?? new MemoryEventLog(() => clock.now()),
      inject: [POOL_OPTIONS, CLOCK],
    },
    {
      provide: SELECTION_STRATEGY,
      // A class (from forRootAsync; forRoot registers it as a provider instead) is built by DI.
      useFactory: (o: ResolvedPoolOptions, random: RandomSource, moduleRef: ModuleRef): SelectionStrategy | Promise<SelectionStrategy> => {
        const s = o.strategy!;
        return typeof s === 'string' ? builtinStrategy(s, { random }) : instanceOrBuilt(moduleRef, s);
      },
      inject: [POOL_OPTIONS, RTP_RANDOM, ModuleRef],
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
    PoolHooks,
    {
      provide: CircuitBreaker,
      useFactory: (o: ResolvedPoolOptions, events: PoolHooks, clock: Clock) => new CircuitBreaker(o.circuitResetMs, events, () => clock.now()),
      inject: [POOL_OPTIONS, PoolHooks, CLOCK],
    },
    NodeRegistry,
    CandidateSelector,
    NodeLegs,
    LeftLegs,
    UnsettledWrites,
    CallQueue,
    {
      // A store in this process never stalls: no cache of recent routes for a BYE during a stall.
      provide: BindingCache,
      useFactory: (store: StoreStatus) => new BindingCache(store.inProcess ? 0 : undefined),
      inject: [POOL_STORE],
    },
    CallPlacer,
    CallRouter,
    EventFeed,
    NodeWatch,
    CallMigrator,
    PoolService,
    JobScheduler,
    HealthMonitorService,
    PruneService,
    ReconcileService,
    DrainDeadlineService,
  ],
  exports: [
    PoolService, NodeRegistry, CandidateSelector, NodeLegs, CallPlacer, CallRouter, CallMigrator, LeftLegs, EventFeed, NodeWatch,
    DrainDeadlineService, POOL_EVENT_LOG, PoolHooks, NodeControlClient, CircuitBreaker,
    HealthMonitorService, PruneService, ReconcileService, POOL_OPTIONS, POOL_STORE, SELECTION_STRATEGY, FAILOVER_POLICY, RTP_RANDOM, CLOCK,
  ],
})
export class PoolModule extends PoolConfigurableModule {
  /**
   * Synchronous registration; a strategy class and a `nodeLegs` subclass given here are built
   * by DI (they may inject providers of `imports`).
   */
  static forRoot(options: typeof POOL_OPTIONS_TYPE & { nodeLegs?: Type<NodeLegs> } = {}): DynamicModule {
    const mod = withClassProvider(super.forRoot(options), SELECTION_STRATEGY, options.strategy, options.imports);
    if (!options.nodeLegs) return mod;
    const legs = nodeLegsClass(options.nodeLegs);
    return {
      ...mod,
      imports: isClass(options.strategy) ? mod.imports : [...(mod.imports ?? []), ...(options.imports ?? [])],
      providers: [...(mod.providers ?? []), { provide: NodeLegs, useClass: legs }],
    };
  }

  /**
   * Registration from a factory (e.g. ConfigService). Strategy, store and failover may be
   * instances or names; a strategy class and a `nodeLegs` subclass are built by DI from the
   * module's scope (the async options' `imports`, global modules).
   */
  static forRootAsync(options: typeof POOL_ASYNC_OPTIONS_TYPE): DynamicModule {
    const mod = super.forRootAsync(options);
    return {
      ...mod,
      providers: [...(mod.providers ?? []), {
        provide: NodeLegs,
        useFactory: (o: ResolvedPoolOptions, moduleRef: ModuleRef) => moduleRef.create(o.nodeLegs ? nodeLegsClass(o.nodeLegs) : NodeLegs),
        inject: [POOL_OPTIONS, ModuleRef],
      }],
    };
  }
}

/** The `nodeLegs` option, refused at start-up unless it is NodeLegs or a subclass of it. */
function nodeLegsClass(c: Type): Type<NodeLegs> {
  if (c !== NodeLegs && !(c.prototype instanceof NodeLegs)) {
    throw new Error(`PoolModule nodeLegs: ${c.name || 'the class given'} does not extend NodeLegs`);
  }
  return c as Type<NodeLegs>;
}
