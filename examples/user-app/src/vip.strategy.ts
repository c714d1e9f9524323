import { Inject, Injectable } from '@nestjs/common';
import { byLoadThenId, type Candidate, type SelectionContext, type SelectionStrategy } from 'rtp-pool';
import { VIP_ROUTING, type VipRouting } from './vip-routing.js';

/**
 * VIP calls go to the reserved nodes first; every other call goes to the other nodes first
 * and reaches a reserved node only when nothing else is left (or everything else failed).
 * Least loaded first within each group. Built by Nest's DI: the routing is injected.
 */
@Injectable()
export class VipStrategy implements SelectionStrategy {
  constructor(@Inject(VIP_ROUTING) private readonly routing: VipRouting) {}

  order(candidates: readonly Candidate[], ctx: SelectionContext): Candidate[] {
    const vipCall = this.routing.callIdSuffixes.some((s) => ctx.callId.endsWith(s));
    const reserved = (c: Candidate) => this.routing.nodeIds.includes(c.nodeId);
    const sorted = [...candidates].sort(byLoadThenId);
    return [...sorted.filter((c) => reserved(c) === vipCall), ...sorted.filter((c) => reserved(c) !== vipCall)];
  }
}
