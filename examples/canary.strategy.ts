import { Inject, Injectable, Optional } from '@nestjs/common';
import { byLoadThenId, type Candidate, type SelectionContext, type SelectionStrategy } from 'rtp-pool';

/**
 * Example custom strategy: send calls whose Call-ID ends in a given suffix (test calls,
 * a canary population) to nodes labelled with the `canary` region first; every other call
 * avoids canary nodes unless nothing else is left. Within each group: least-loaded.
 */
/** Optional provider: the Call-ID suffix that marks canary calls. */
export const CANARY_SUFFIX = Symbol('CANARY_SUFFIX');

@Injectable()
export class CanaryStrategy implements SelectionStrategy {
  private readonly suffix: string;

  constructor(@Optional() @Inject(CANARY_SUFFIX) suffix?: string) {
    this.suffix = suffix ?? '@canary.test';
  }

  order(candidates: readonly Candidate[], ctx: SelectionContext): Candidate[] {
    const wantsCanary = ctx.callId.endsWith(this.suffix);
    const sorted = [...candidates].sort(byLoadThenId);
    const first = sorted.filter((c) => (c.region === 'canary') === wantsCanary);
    const rest = sorted.filter((c) => (c.region === 'canary') !== wantsCanary);
    return [...first, ...rest];
  }
}
