import { Inject, Injectable, Logger } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import type { Clock } from '../../common/clock';
import { internCodec, mediaIpOf } from '../../common/intern';
import { normalizeCallId } from '../../contract/call-id';
import type { MigrateCallResponse } from '../../contract/contract.types';
import { toPrepareAnswer } from '../../contract/mappers';
import { NodeControlClient } from '../../node-client/node-control.client';
import { EventFeed } from '../events/event-feed.service';
import { type FailoverPolicy, InjectFailoverPolicy } from '../failover/failover-policy.interface';
import { CircuitBreaker } from '../health/circuit-breaker';
import { CLOCK } from '../pool.constants';
import {
  CallNotFoundException, MigrationConflictException, NodeFailedException, NoOtherNodeException, OfferRefusedException,
} from '../pool.errors';
import { POOL_OPTIONS, type ResolvedPoolOptions } from '../pool.module-definition';
import type { Binding, NodeState } from '../pool.types';
import { CandidateSelector } from '../selection/candidate-selector';
import { InjectPoolStore, type PoolStore } from '../store/pool-store.interface';
import { asControlError } from './call-outcomes';
import { CallRouter } from './call-router';
import { LeftLegs } from './left-legs';

/** Options of one migrate. */
export interface MigrateOptions {
  /** Move the call to this node only (else: any eligible node but its current one). */
  nodeId?: string;
  /** Preferred region for the new node. Absent or null: none. */
  region?: string | null;
}

/**
 * Moves a bound call to another node (CONTRACT §5): a new leg with the caller's offer on a
 * node other than the current one (or on `nodeId`), under the usual selection and
 * failover; then the binding is swapped with a compare-and-set on the old node id; then
 * the old node gets a best-effort delete, and a leg that could not be deleted goes to
 * {@link LeftLegs}, as does the new leg when the swap fails and its node cannot take it
 * back. The binding is `started: false` afterwards (the caller re-INVITEs, then sends
 * start on ACK).
 *
 * Overlapping migrates of one call on this instance share one attempt; across instances a
 * migration claim in the store lets one through and the others get 409.
 */
@Injectable()
export class CallMigrator {
  private readonly logger = new Logger(CallMigrator.name);
  private readonly inflight = new Map<string, Promise<MigrateCallResponse>>();

  constructor(
    @Inject(POOL_OPTIONS) private readonly options: ResolvedPoolOptions,
    @InjectPoolStore() private readonly store: PoolStore,
    private readonly selector: CandidateSelector,
    @InjectFailoverPolicy() private readonly failover: FailoverPolicy,
    private readonly client: NodeControlClient,
    private readonly circuit: CircuitBreaker,
    private readonly feed: EventFeed,
    private readonly leftLegs: LeftLegs,
    private readonly router: CallRouter,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Migrates a call; see the class comment. 404 unbound, 409 migrating elsewhere, 422/502 as prepare, 503 no other node. */
  migrate(rawCallId: string, offerSdp: string, opts: MigrateOptions = {}): Promise<MigrateCallResponse> {
    const callId = normalizeCallId(rawCallId);
    const running = this.inflight.get(callId);
    if (running) return running;
    const p = this.migrateOnce(callId, offerSdp, opts).finally(() => this.inflight.delete(callId));
    this.inflight.set(callId, p);
    return p;
  }

  private async migrateOnce(callId: string, offerSdp: string, opts: MigrateOptions): Promise<MigrateCallResponse> {
    const bound = await this.store.getBinding(callId);
    if (!bound) throw new CallNotFoundException();
    if (opts.nodeId === bound.nodeId) throw new NoOtherNodeException();
    const ttlMs = this.options.maxAttempts * this.options.controlTimeoutMs + 1_000;
    if (!(await this.store.claimMigration(callId, ttlMs))) throw new MigrationConflictException();
    try {
      const { node, binding } = await this.place(bound, offerSdp, opts);
      if (!(await this.store.swapBinding(callId, bound.nodeId, binding))) {
        // The call was deleted, or re-bound, while the new leg was made: give the leg back,
        // unless the call is now bound to that very node (the leg is then the binding's).
        const now = await this.store.getBinding(callId);
        if (now?.nodeId !== node.id) void this.giveBack(node, callId);
        if (!now) throw new CallNotFoundException();
        throw new MigrationConflictException('the call changed while it was being migrated');
      }
      void this.feed.publish('call_migrated', { call_id: callId, from_node_id: bound.nodeId, to_node_id: node.id });
      this.logger.log(`call ${JSON.stringify(callId)} migrated ${bound.nodeId} -> ${node.id}`);
      void this.releaseOldLeg(bound);
      return { ...toPrepareAnswer(binding), previous_node_id: bound.nodeId };
    } finally {
      await this.store.releaseMigration(callId).catch(() => undefined);
    }
  }

  /** A leg on another node, with the router's failover walk; resolves to the node and the binding to write. */
  private async place(bound: Binding, offerSdp: string, opts: MigrateOptions): Promise<{ node: NodeState; binding: Binding }> {
    const started = performance.now();
    const callId = bound.callId;
    const nodes = (await this.store.listNodes()).filter((n) => (opts.nodeId === undefined ? n.id !== bound.nodeId : n.id === opts.nodeId));
    const { candidates, panic } = this.selector.select(nodes, callId, { region: opts.region }, this.options.maxAttempts);
    const walk = await this.router.placeLeg(candidates, panic, callId, offerSdp, started);
    if (!walk.ok) {
      if (walk.attempt === 0) throw new NoOtherNodeException();
      throw walk.allRefused ? new OfferRefusedException(walk.reason) : new NodeFailedException(walk.reason);
    }
    const { node, answer } = walk;
    const now = this.clock.now();
    return {
      node,
      binding: {
        callId, nodeId: node.id, controlUrl: node.controlUrl, mediaIp: mediaIpOf(answer.media_ip, node.mediaIp),
        mediaPort: answer.media_port, codec: internCodec(answer.codec), started: false, createdAt: bound.createdAt,
        expiresAt: now + this.options.callTtlSec * 1000,
      },
    };
  }

  /**
   * Deletes the new leg of a migration that could not swap the binding; a leg the node did not
   * confirm deleting goes to {@link LeftLegs} (it checks the binding again, under the call's claims).
   */
  private async giveBack(node: NodeState, callId: string): Promise<void> {
    try {
      await this.client.delete(node.controlUrl, callId);
    } catch {
      this.leftLegs.remember({ nodeId: node.id, controlUrl: node.controlUrl, callId });
    }
  }

  /** Best-effort delete of the migrated-away leg; an unreachable node's leg is remembered. */
  private async releaseOldLeg(old: Binding): Promise<void> {
    const node = await this.store.getNode(old.nodeId).catch(() => undefined);
    const url = node?.controlUrl ?? old.controlUrl;
    try {
      await this.client.delete(url, old.callId);
      if (node) this.circuit.recordSuccess(node.id);
    } catch (e) {
      const err = asControlError(e);
      if (node && this.failover.countsAgainstNode(err)) this.circuit.recordFailure(node.id, err.message, err.kind === 'timeout');
      // A refusal (4xx but 404, which is "gone") will not change: only an unreachable node's leg is kept.
      if (node && err.kind !== 'client') this.leftLegs.remember({ nodeId: old.nodeId, controlUrl: url, callId: old.callId });
    }
  }
}
