import { Inject } from '@nestjs/common';

/** Source of randomness for strategies (tests inject a seeded one). A function returning [0, 1). */
export const RTP_RANDOM = Symbol('RTP_RANDOM');
export const InjectRandom = () => Inject(RTP_RANDOM);
export type RandomSource = () => number;

/** Where the pool reads the time ({@link Clock}); tests inject one they control. */
export const CLOCK = Symbol('RTP_CLOCK');
export const InjectClock = () => Inject(CLOCK);
export type { Clock } from '../../common/clock';

export { POOL_STORE, InjectPoolStore } from './pool-store.interface';
export { SELECTION_STRATEGY, InjectSelectionStrategy } from './selection-strategy.interface';
export { FAILOVER_POLICY, InjectFailoverPolicy } from './failover-policy.interface';
export { POOL_OPTIONS, POOL_MODULE_OPTIONS } from './pool.module-definition';
