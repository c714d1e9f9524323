import type { Provider } from '@nestjs/common';
import { Test, type TestingModule, type TestingModuleBuilder } from '@nestjs/testing';
import { CLOCK, RTP_RANDOM, type RandomSource } from '../pool/core/pool.constants';
import type { PoolModuleOptions } from '../pool/core/pool.module-definition';
import { PoolModule } from '../pool/pool.module';
import { PoolService } from '../pool/pool.service';
import { ManualClock } from './manual-clock';
import { seededRandom } from './seeded-random';

/**
 * What a test changes from {@link DEFAULT_POOL_OPTIONS}: no prune job and no background
 * health probes (the test prunes and probes when it wants to), short control timeouts.
 */
export const TESTING_POOL_OPTIONS: PoolModuleOptions = { pruneIntervalSec: 0, healthIntervalMs: 0, controlTimeoutMs: 500 };

export interface TestingPoolOptions {
  /** `PoolModule.forRoot` options, over {@link TESTING_POOL_OPTIONS}. */
  pool?: PoolModuleOptions;
  /** Extra providers of the testing module (e.g. the service under test that injects `PoolService`). */
  providers?: Provider[];
  /** `RTP_RANDOM`: a seed for {@link seededRandom}, or a source of your own. @default 42 */
  random?: number | RandomSource;
  /** `CLOCK`: a clock you keep a handle on, or the start time of a new {@link ManualClock}. @default new ManualClock() */
  clock?: ManualClock | number;
  /** Last changes before compile (`overrideProvider` …). */
  customize?: (builder: TestingModuleBuilder) => TestingModuleBuilder;
}

export interface TestingPool {
  module: TestingModule;
  pool: PoolService;
  clock: ManualClock;
  random: RandomSource;
  /** `module.get(token)`. */
  get<T>(token: unknown): T;
  /** Closes the module (idempotent). */
  close(): Promise<void>;
}

/**
 * Builds and initialises a testing module around `PoolModule.forRoot(...)` with a seeded
 * `RTP_RANDOM` and a `CLOCK` the test controls.
 *
 * ```ts
 * const t = await createTestingPool({ pool: { strategy: MyStrategy } });
 * await t.pool.register({ nodeId: 'a', controlUrl: node.url });
 * t.clock.advance(60_000);
 * await t.close();
 * ```
 */
export async function createTestingPool(opts: TestingPoolOptions = {}): Promise<TestingPool> {
  const clock = opts.clock instanceof ManualClock ? opts.clock : new ManualClock(opts.clock);
  const random = typeof opts.random === 'function' ? opts.random : seededRandom(opts.random ?? 42);
  let builder = Test.createTestingModule({
    imports: [PoolModule.forRoot({ ...TESTING_POOL_OPTIONS, ...opts.pool })],
    providers: opts.providers ?? [],
  })
    .overrideProvider(RTP_RANDOM).useValue(random)
    .overrideProvider(CLOCK).useValue(clock);
  if (opts.customize) builder = opts.customize(builder);
  const module = await builder.compile();
  await module.init();
  let closing: Promise<void> | undefined;
  return {
    module, clock, random,
    pool: module.get(PoolService),
    get: <T>(token: unknown) => module.get<T>(token as never),
    close: () => (closing ??= module.close()),
  };
}
