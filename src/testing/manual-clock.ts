import type { Clock } from '../common/clock';

/**
 * A {@link Clock} that moves only when the test says so: install it as `CLOCK` and call
 * `advance(ms)` instead of sleeping past a TTL.
 */
export class ManualClock implements Clock {
  private ms: number;

  /** @param startMs the first `now()`. @default Date.now() at construction */
  constructor(startMs: number = Date.now()) {
    this.ms = startMs;
  }

  now(): number {
    return this.ms;
  }

  /** Moves the clock forward by `ms` (negative values are refused: time does not run back). */
  advance(ms: number): number {
    if (!(ms >= 0)) throw new RangeError(`ManualClock.advance: ${ms} is not a non-negative number of ms`);
    return (this.ms += ms);
  }

  /** Sets the clock to `ms` since the epoch. */
  set(ms: number): void {
    this.ms = ms;
  }
}
