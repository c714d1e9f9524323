import { type BeforeApplicationShutdown, Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../common/clock';
import { CallRouter } from '../calls/call-router';
import { LeftLegs } from '../calls/left-legs';
import { NodeLegs } from '../calls/node-legs';
import { EventFeed } from '../events/event-feed.service';
import { CLOCK } from '../core/pool.constants';
import { PoolHooks, type ReconcileRound } from '../core/pool.hooks';
import { POOL_OPTIONS, type ResolvedPoolOptions } from '../core/pool.module-definition';
import type { Binding, NodeState } from '../core/pool.types';
import { type CallStore, InjectPoolStore, type LeaseStore, type NodeStore } from '../core/pool-store.interface';
import { JobScheduler } from '../core/job-scheduler';

export const RECONCILE_JOB = 'rtp-pool:reconcile';
/** The store lease that lets one instance reconcile at a time. */
export const RECONCILE_LEASE = 'reconcile';
/** How long a node that answered 404 to `GET /v1/legs` is not asked again. */
const NO_LIST_RECHECK_MS = 10 * 60_000;
const PAGE = 500;

/**
 * Level-triggered repair (CONTRACT §7): every `reconcileIntervalSec` one instance (the
 * holder of a lease in the store) compares each node's `GET /v1/legs` with the bindings
 * to that node, and converges:
 * - a leg with no binding to its node, seen so for longer than the grace period (the
 *   longest prepare, `maxAttempts × controlTimeoutMs`, plus one interval), with no claim
 *   or operation of that call id in flight, is deleted on the node;
 * - a binding whose node answered the list without its leg, older than the grace period,
 *   is dropped (compare-and-delete: a newer write of the binding stays).
 * Nodes without `GET /v1/legs` (404: the Go node) are skipped and asked again after 10 min;
 * legs the pool knows it may have left there are {@link LeftLegs}' job.
 */
@Injectable()
export class ReconcileService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(ReconcileService.name);
  /** This instance, as a lease holder. */
  readonly instanceId = randomUUID();
  /** Orphan legs seen, by node and call id: when first seen. */
  private readonly suspects = new Map<string, number>();
  /** Nodes that answered 404 to the list: when to ask again. */
  private readonly noList = new Map<string, number>();
  private running = false;
  /** The last round this instance ran. */
  last?: ReconcileRound;

  constructor(
    @InjectPoolStore() private readonly store: NodeStore & CallStore & LeaseStore,
    private readonly legs: NodeLegs,
    private readonly router: CallRouter,
    private readonly leftLegs: LeftLegs,
    private readonly hooks: PoolHooks,
    private readonly feed: EventFeed,
    private readonly jobs: JobScheduler,
    @Inject(POOL_OPTIONS) private readonly options: ResolvedPoolOptions,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    const sec = this.options.reconcileIntervalSec;
    if (sec > 0) this.jobs.start(RECONCILE_JOB, { everyMs: sec * 1000 }, () => this.tick());
  }

  /** Best effort: a store that already closed lets the lease lapse instead. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.store.releaseLease(RECONCILE_LEASE, this.instanceId).catch(() => undefined);
  }

  /** How long a leg may lack a binding (or a binding its leg) before it is repaired. */
  get graceMs(): number {
    const o = this.options;
    return o.maxAttempts * o.controlTimeoutMs + Math.max(1, o.reconcileIntervalSec) * 1000;
  }

  /** One round, when this instance holds (or takes) the lease; undefined otherwise or while a round runs. */
  async tick(): Promise<ReconcileRound | undefined> {
    if (this.running) return undefined;
    this.running = true;
    try {
      // Renewed every round; lapses three intervals after its holder stopped (or hung).
      const leaseMs = 3 * Math.max(1, this.options.reconcileIntervalSec) * 1000;
      if (!(await this.store.acquireLease(RECONCILE_LEASE, this.instanceId, leaseMs))) return undefined;
      const round: ReconcileRound = { at: this.clock.now(), durationMs: 0, nodesChecked: 0, nodesSkipped: 0, legsDeleted: 0, bindingsDropped: 0 };
      const started = Date.now();
      const seen = new Set<string>();
      for (const node of await this.store.listNodes()) {
        if ((this.noList.get(node.nodeId) ?? 0) > Date.now()) {
          round.nodesSkipped++;
          continue;
        }
        try {
          if (await this.node(node, round, seen)) round.nodesChecked++;
          else round.nodesSkipped++;
        } catch (e) {
          round.nodesSkipped++;
          this.logger.warn(`reconcile ${node.nodeId}: ${(e as Error).message}`);
        }
      }
      for (const key of this.suspects.keys()) if (!seen.has(key)) this.suspects.delete(key);
      round.durationMs = Date.now() - started;
      this.last = round;
      if (round.legsDeleted || round.bindingsDropped) {
        this.logger.log(`reconcile: ${round.legsDeleted} orphan leg(s) deleted, ${round.bindingsDropped} binding(s) without a leg dropped, ${round.nodesChecked} node(s) checked`);
      }
      this.hooks.emit('reconcile', round);
      return round;
    } finally {
      this.running = false;
    }
  }

  /** Reconciles one node; false when it does not serve `GET /v1/legs` or did not answer. */
  private async node(node: Readonly<NodeState>, round: ReconcileRound, seen: Set<string>): Promise<boolean> {
    // Legs first, bindings second: a binding written in between is read, never missed.
    const legs = await this.legs.listLegs(node.controlUrl).catch(() => null);
    if (legs === null) return false;
    if (legs === undefined) {
      this.noList.set(node.nodeId, Date.now() + NO_LIST_RECHECK_MS);
      return false;
    }
    this.noList.delete(node.nodeId);
    const bindings = await this.bindingsOf(node.nodeId);
    const bound = new Set(bindings.map((b) => b.callId));
    const held = new Set(legs);
    const now = this.clock.now();
    for (const callId of legs) {
      if (bound.has(callId)) continue;
      const key = `${node.nodeId}\u0000${callId}`;
      seen.add(key);
      const first = this.suspects.get(key) ?? now;
      this.suspects.set(key, first);
      if (now - first < this.graceMs || this.router.isBusy(callId)) continue;
      // Under the call's claim: a prepare of the call id in flight anywhere is waited for.
      const outcome = await this.leftLegs.deleteUnbound({ nodeId: node.nodeId, controlUrl: node.controlUrl, callId });
      if (outcome === 'busy') continue;
      this.suspects.delete(key);
      if (outcome !== 'deleted') continue;
      round.legsDeleted++;
      this.logger.warn(`reconcile: deleted orphan leg ${JSON.stringify(callId)} on ${node.nodeId}`);
      this.hooks.emit('repair', { kind: 'orphan_leg_deleted', callId, nodeId: node.nodeId });
    }
    for (const b of bindings) {
      if (held.has(b.callId)) continue;
      const lastWrite = Math.max(b.createdAt, b.expiresAt - this.options.callTtlSec * 1000);
      if (now - lastWrite < this.graceMs || this.router.isBusy(b.callId)) continue;
      if (!(await this.store.unbindIf(b.callId, b))) continue;
      round.bindingsDropped++;
      this.logger.warn(`reconcile: dropped binding ${JSON.stringify(b.callId)}: ${node.nodeId} holds no such leg`);
      this.hooks.emit('repair', { kind: 'binding_dropped', callId: b.callId, nodeId: node.nodeId });
      // The call has no media any more: the signaling application may re-INVITE it elsewhere or end it.
      void this.feed.publish('call_lost', { call_id: b.callId, node_id: node.nodeId, reason: 'leg_missing' });
    }
    return true;
  }

  private async bindingsOf(nodeId: string): Promise<Binding[]> {
    const out: Binding[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.store.bindingsOfNode(nodeId, PAGE, cursor);
      out.push(...page.bindings);
      cursor = page.next;
    } while (cursor !== undefined);
    return out;
  }
}
