/** Where the pool reads the time. Tests inject one they advance by hand instead of sleeping. */
export interface Clock {
  /** Milliseconds since the epoch, like `Date.now()`. */
  now(): number;
}

/** The real clock. */
export const systemClock: Clock = { now: () => Date.now() };

/** A clock that stands still until told to move: tests advance it instead of sleeping. */
export class ManualClock implements Clock {
  constructor(private ms = Date.now()) {}

  now(): number {
    return this.ms;
  }

  /** Moves the time forward by `ms` milliseconds. */
  advance(ms: number): void {
    this.ms += ms;
  }
}
