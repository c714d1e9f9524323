import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { DefaultFailoverPolicy } from './failover/default-failover.policy';
import { FAILOVER_POLICY } from './core/failover-policy.interface';
import { type Clock, systemClock } from '../common/clock';
import { CallMigrator } from './calls/call-migrator';
import { CallPlacer } from './calls/call-placer';
import { CallRouter } from './calls/call-router';
import { NodeLegs } from './calls/node-legs';
import { JobScheduler } from './core/job-scheduler';
import { CLOCK } from './core/pool.constants';
import { DEFAULT_POOL_OPTIONS, POOL_OPTIONS, type PoolModuleOptions, type ResolvedPoolOptions } from './core/pool.module-definition';
import { NodeRegistry } from './registry/node-registry';
import { CandidateSelector } from './selection/candidate-selector';
import { PoolModule } from './pool.module';
import { PoolService } from './pool.service';
import type { Candidate } from './core/pool.types';
import { LeastLoadedStrategy } from './selection/least-loaded.strategy';
import { SELECTION_STRATEGY, type SelectionStrategy } from './core/selection-strategy.interface';
import { MemoryPoolStore } from './store/memory-pool.store';
import { POOL_STORE } from './core/pool-store.interface';

@Injectable()
class Greeting {
  readonly word = 'hi';
}

/** A strategy with a dependency: forRoot must build it through DI. */
@Injectable()
class ReverseStrategy implements SelectionStrategy {
  constructor(readonly greeting: Greeting) {}
  order(c: readonly Candidate[]): Candidate[] {
    return [...c].reverse();
  }
}

@Module({ providers: [Greeting], exports: [Greeting] })
class GreetingModule {}

@Injectable()
class OptionsFactory {
  create(): PoolModuleOptions {
    return { nodeTtlSec: 7 };
  }
}

@Module({ providers: [OptionsFactory], exports: [OptionsFactory] })
class FactoryModule {}

const compile = async (imports: unknown[], providers: unknown[] = []) =>
  (await Test.createTestingModule({ imports: imports as never[], providers: providers as never[] }).compile());

describe('PoolModule registration paths', () => {
  it('forRoot({}) resolves the memory store, least-loaded, the default failover policy and the defaults', async () => {
    const m = await compile([PoolModule.forRoot({})]);
    expect(m.get(POOL_STORE)).toBeInstanceOf(MemoryPoolStore);
    expect(m.get(SELECTION_STRATEGY)).toBeInstanceOf(LeastLoadedStrategy);
    expect(m.get(FAILOVER_POLICY)).toBeInstanceOf(DefaultFailoverPolicy);
    expect(m.get<ResolvedPoolOptions>(POOL_OPTIONS)).toMatchObject({ nodeTtlSec: 45, callTtlSec: 86_400, controlTimeoutMs: 2_000, maxAttempts: 3 });
    expect(m.get(PoolService)).toBeInstanceOf(PoolService);
    await m.close();
  });

  it('forRoot takes a given store instance and a strategy class built by DI', async () => {
    const store = new MemoryPoolStore();
    const m = await compile([PoolModule.forRoot({ store, strategy: ReverseStrategy, imports: [GreetingModule] })]);
    expect(m.get(POOL_STORE)).toBe(store);
    const s = m.get<ReverseStrategy>(SELECTION_STRATEGY);
    expect(s).toBeInstanceOf(ReverseStrategy);
    expect(s.greeting.word).toBe('hi');
    await m.close();
  });

  it('forRootAsync with useFactory', async () => {
    const strategy = new LeastLoadedStrategy();
    const m = await compile([PoolModule.forRootAsync({ useFactory: () => ({ nodeTtlSec: 5, strategy }) })]);
    expect(m.get<ResolvedPoolOptions>(POOL_OPTIONS).nodeTtlSec).toBe(5);
    expect(m.get(SELECTION_STRATEGY)).toBe(strategy);
    await m.close();
  });

  it('forRootAsync with useClass', async () => {
    const m = await compile([PoolModule.forRootAsync({ useClass: OptionsFactory })]);
    expect(m.get<ResolvedPoolOptions>(POOL_OPTIONS).nodeTtlSec).toBe(7);
    expect(m.get(POOL_STORE)).toBeInstanceOf(MemoryPoolStore);
    await m.close();
  });

  it('forRootAsync with useExisting', async () => {
    const m = await compile([PoolModule.forRootAsync({ imports: [FactoryModule], useExisting: OptionsFactory })]);
    expect(m.get<ResolvedPoolOptions>(POOL_OPTIONS).nodeTtlSec).toBe(7);
    await m.close();
  });

  it('forRootAsync with a strategy class: built by DI from the async options\' imports', async () => {
    const m = await compile([PoolModule.forRootAsync({ imports: [GreetingModule], useFactory: () => ({ strategy: ReverseStrategy }) })]);
    const s = m.get<ReverseStrategy>(SELECTION_STRATEGY);
    expect(s).toBeInstanceOf(ReverseStrategy);
    expect(s.greeting.word).toBe('hi');
    await m.close();
  });

  it('forRootAsync with a strategy class whose dependency is missing fails the boot naming it', async () => {
    await expect(compile([PoolModule.forRootAsync({ useFactory: () => ({ strategy: ReverseStrategy }) })])).rejects.toThrow(/ReverseStrategy/);
  });

  it('resolves the real clock, the parts of the split pool, and the defaults written once', async () => {
    const m = await compile([PoolModule.forRoot({ pruneCron: '*/15 * * * * *' })]);
    expect(m.get<Clock>(CLOCK)).toBe(systemClock);
    for (const part of [NodeRegistry, CandidateSelector, CallRouter, NodeLegs, CallPlacer, CallMigrator, JobScheduler]) expect(m.get(part)).toBeInstanceOf(part);
    expect(m.get<ResolvedPoolOptions>(POOL_OPTIONS)).toEqual({ ...DEFAULT_POOL_OPTIONS, pruneCron: '*/15 * * * * *' });
    await m.close();
  });

  it('refuses an unknown built-in strategy name', async () => {
    await expect(compile([PoolModule.forRoot({ strategy: 'no-such' })])).rejects.toThrow(/unknown selection strategy "no-such"/);
  });
});
