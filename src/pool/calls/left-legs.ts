import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { NodeControlClient } from '../../node-client/node-control.client';
import { PoolEvents } from '../pool.events';
import { InjectPoolStore, type PoolStore } from '../store/pool-store.interface';

/** A leg the pool may have left on a node: its delete could not be delivered. */
export interface LeftLeg {
  nodeId: string;
  controlUrl: string;
  callId: string;
}

/**
 * Legs the pool may have left on a node (CONTRACT §7), e.g. the old leg of a migrated call
 * whose node could not be reached. Each is deleted again as soon as its node is usable
 * again (a `health` healthy event: a probe or control call succeeded; or `node_up` from
 * any instance); a 204 or a 404 ends it, a failure keeps it for the next time. A node
 * that is pruned or deregistered takes its legs with it: they are dropped.
 *
 * Minimal version (this instance's memory only).
 */
@Injectable()
export class LeftLegs implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(LeftLegs.name);
  /** By node id, then call id. */
  private readonly legs = new Map<string, Map<string, LeftLeg>>();
  private readonly retrying = new Set<string>();
  private readonly off: Array<() => void> = [];

  constructor(
    private readonly client: NodeControlClient,
    private readonly events: PoolEvents,
    @InjectPoolStore() private readonly store: PoolStore,
  ) {}

  onModuleInit(): void {
    const onHealth = (e: { nodeId: string; healthy: boolean }) => {
      if (e.healthy) void this.retry(e.nodeId);
    };
    const onUp = (e: { data: { node_id: string } }) => void this.retry(e.data.node_id);
    const onPrune = (e: { nodeIds: string[] }) => e.nodeIds.forEach((id) => this.drop(id));
    const onUnregister = (e: { nodeId: string }) => this.drop(e.nodeId);
    this.events.on('health', onHealth);
    this.events.on('node_up', onUp);
    this.events.on('prune', onPrune);
    this.events.on('unregister', onUnregister);
    this.off.push(
      () => this.events.off('health', onHealth), () => this.events.off('node_up', onUp),
      () => this.events.off('prune', onPrune), () => this.events.off('unregister', onUnregister),
    );
  }

  onModuleDestroy(): void {
    for (const f of this.off.splice(0)) f();
  }

  /** Remembers a leg whose delete failed; it is retried when its node is usable again. */
  remember(leg: LeftLeg): void {
    let byCall = this.legs.get(leg.nodeId);
    if (!byCall) this.legs.set(leg.nodeId, (byCall = new Map()));
    byCall.set(leg.callId, { ...leg });
  }

  /** The legs remembered (of one node, or all). */
  pending(nodeId?: string): LeftLeg[] {
    const maps = nodeId === undefined ? [...this.legs.values()] : [this.legs.get(nodeId) ?? new Map<string, LeftLeg>()];
    return maps.flatMap((m) => [...m.values()]);
  }

  /** Deletes a node's remembered legs now; resolves to how many are done (deleted or unknown there). */
  async retry(nodeId: string): Promise<number> {
    const byCall = this.legs.get(nodeId);
    if (!byCall || this.retrying.has(nodeId)) return 0;
    this.retrying.add(nodeId);
    let done = 0;
    try {
      for (const leg of [...byCall.values()]) {
        try {
          // The call may have come back to this node since (a migrate back): that leg is live.
          if ((await this.store.getBinding(leg.callId))?.nodeId !== nodeId) await this.client.delete(leg.controlUrl, leg.callId);
          done++;
          byCall.delete(leg.callId);
        } catch (e) {
          this.logger.warn(`left leg ${JSON.stringify(leg.callId)} on ${nodeId}: delete failed again (${(e as Error).message})`);
          break;
        }
      }
      if (byCall.size === 0 && this.legs.get(nodeId) === byCall) this.legs.delete(nodeId);
    } finally {
      this.retrying.delete(nodeId);
    }
    if (done) this.logger.log(`deleted ${done} leg(s) left on ${nodeId}`);
    return done;
  }

  /** Forgets a node's legs (it left the pool). */
  drop(nodeId: string): void {
    this.legs.delete(nodeId);
  }
}
