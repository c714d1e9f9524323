import { Inject, Injectable } from '@nestjs/common';

/** Token of the {@link LegCounter} the registrar reports from. */
export const LEG_COUNTER = Symbol('RTP_LEG_COUNTER');
/** Injects the active {@link LegCounter}. */
export const InjectLegCounter = () => Inject(LEG_COUNTER);

/**
 * How a media node tells its registrar how busy it is. The reference media node's leg
 * store implements it; a custom node passes its own (an instance, or a class
 * that DI builds) or drives the default {@link SimpleLegCounter}.
 */
export interface LegCounter {
  /** Legs the node holds now; sent as `active_legs` with every heartbeat. */
  activeLegs(): number | Promise<number>;
  /**
   * Called once when the node starts draining at application shutdown, before the
   * draining heartbeat: the node should refuse new legs from then on (503).
   */
  onDrain?(): void | Promise<void>;
}

/** The default counter: a number the node moves itself (`increment`, `decrement`, `set`). */
@Injectable()
export class SimpleLegCounter implements LegCounter {
  private legs = 0;
  /** True once the registrar started draining. */
  draining = false;

  activeLegs(): number {
    return this.legs;
  }

  increment(by = 1): void {
    this.legs += by;
  }

  decrement(by = 1): void {
    this.legs = Math.max(0, this.legs - by);
  }

  set(legs: number): void {
    this.legs = Math.max(0, Math.floor(legs));
  }

  onDrain(): void {
    this.draining = true;
  }
}
