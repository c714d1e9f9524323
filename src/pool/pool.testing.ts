import { Test, type TestingModule } from '@nestjs/testing';
import { ManualClock } from '../common/clock';
import { CLOCK } from './pool.constants';
import type { PoolModuleOptions } from './pool.module-definition';
import { PoolModule } from './pool.module';

/**
 * A PoolModule testing module whose {@link CLOCK} the test advances (for the pool's own
 * unit specs; background jobs are off unless the options turn them on).
 */
export async function createPoolTestingModule(
  options: PoolModuleOptions = {}, clock = new ManualClock(),
): Promise<{ module: TestingModule; clock: ManualClock }> {
  const module = await Test.createTestingModule({
    imports: [PoolModule.forRoot({ pruneIntervalSec: 0, healthIntervalMs: 0, controlTimeoutMs: 500, ...options })],
  }).overrideProvider(CLOCK).useValue(clock).compile();
  await module.init();
  return { module, clock };
}
