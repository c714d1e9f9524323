import { BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { randomToken } from '../../common/token';
import { normalizeCallId } from '../../contract/call-id';
import type { CallBinding, PrepareCallResponse, StartCallResponse } from '../../contract/contract.types';
import { toCallBinding } from '../../contract/mappers';
import type { ControlCallError } from '../../node-client/control-call.error';
import { EventFeed } from '../events/event-feed.service';
import { CallNotFoundException, NodeFailedException, StoreUnavailableException } from '../core/pool.errors';
import { PoolHooks } from '../core/pool.hooks';
import { POOL_OPTIONS, type ResolvedPoolOptions } from '../core/pool.module-definition';
import type { Binding } from '../core/pool.types';
import type { PrepareOptions } from '../selection/candidate-selector';
import { type CallStore, type DeleteCallResult, InjectPoolStore } from '../core/pool-store.interface';
import { BindingCache, type CachedRoute } from './binding-cache';
import { claimTtlMs } from './call-outcomes';
import { CallPlacer } from './call-placer';
import { CallQueue } from './call-queue';
import { LeftLegs } from './left-legs';
import { NodeLegs } from './node-legs';
import { UnsettledWrites } from './unsettled-writes';

/**
 * The calls: a new call id is claimed and placed ({@link CallPlacer}); a bound one (a
 * re-INVITE) goes to its node only; start and delete go to the bound node. Every node call
 * goes through {@link NodeLegs}, whose outcome feeds the circuit breaker.
 *
 * No leg left behind (CONTRACT §7): the operations of one call id run in order on this
 * instance ({@link CallQueue}); a DELETE overtakes them and wins — the store turns the
 * binding or the first prepare's claim into a tombstone, and a prepare or re-INVITE it
 * overtook answers 409 and hands its leg to {@link LeftLegs}. A store write whose outcome
 * is unknown is settled once the store answers ({@link UnsettledWrites}); a BYE during a
 * store stall still reaches the node (this instance's {@link BindingCache}).
 *
 * Timestamps (binding creation and expiry) come from the pool's clock; durations from the
 * monotonic timer. No HTTP call is made while holding anything: the store's atomic
 * operations are the only critical sections.
 */
@Injectable()
export class CallRouter implements BeforeApplicationShutdown {
  private readonly logger = new Logger(CallRouter.name);

  constructor(
    @Inject(POOL_OPTIONS) private readonly options: ResolvedPoolOptions,
    @InjectPoolStore() private readonly store: CallStore,
    private readonly placer: CallPlacer,
    private readonly legs: NodeLegs,
    private readonly queue: CallQueue,
    private readonly cache: BindingCache,
    private readonly hooks: PoolHooks,
    private readonly leftLegs: LeftLegs,
    private readonly unsettled: UnsettledWrites,
    private readonly feed: EventFeed,
  ) {}

  /** How long a DELETE's tombstone lives: well past the longest prepare it can overtake. */
  get tombstoneTtlMs(): number {
    return Math.max(60_000, 2 * claimTtlMs(this.options));
  }

  /**
   * Places a call: a bound call id goes to its node only (a re-INVITE); a new one is
   * claimed, then tried on the ordered candidates under the failover policy.
   * Overlapping prepares of one call id share one attempt and get the same answer.
   */
  async prepare(rawCallId: string, offerSdp: string, opts: PrepareOptions = {}): Promise<PrepareCallResponse> {
    const callId = normalizeCallId(rawCallId);
    // DELETEs are counted from the prepare's arrival, not from when its turn comes: a DELETE
    // that arrives while it waits behind the call's earlier operations overtakes it too.
    const deletes = this.queue.deletes(callId);
    return this.queue.prepare(callId, () => this.placer.prepare(callId, offerSdp, opts, deletes));
  }

  /** The binding of a call id, or 404. */
  async getCall(rawCallId: string): Promise<CallBinding> {
    const b = await this.store.getBinding(normalizeCallId(rawCallId));
    if (!b) throw new CallNotFoundException();
    return toCallBinding(b);
  }

  /** Sends start (on ACK) to the call's node, after the call's earlier operations. 404 without a binding, 502 when the node fails. */
  async start(rawCallId: string): Promise<StartCallResponse> {
    const callId = normalizeCallId(rawCallId);
    return this.queue.run(callId, async () => {
      const b = await this.sendToBoundNode('start', callId, await this.store.getBinding(callId));
      // Marks the binding the start went by: one a migration wrote since has a leg that got no start.
      await this.store.markStarted(callId, { nodeId: b.nodeId, version: b.version });
      const { nodeId } = b;
      this.hooks.emit('start', { callId, nodeId, outcome: 'ok' });
      return { call_id: callId, node_id: nodeId };
    });
  }

  /**
   * Sends delete (on BYE or CANCEL) to the call's node and drops the binding — even when
   * the node fails (then 502; the leg is retried by {@link LeftLegs}). A node that no
   * longer knows the leg (404) counts as deleted. A DELETE overtakes a prepare or
   * re-INVITE in flight (204; that one answers 409). When the store's answer is unknown,
   * the node still gets its DELETE (204) if this instance knows the call's node, and the
   * store's part is finished once the store answers.
   */
  async delete(rawCallId: string): Promise<void> {
    const callId = normalizeCallId(rawCallId);
    return this.queue.overtake(callId, (overtookPrepare) => this.deleteNow(callId, { overtookPrepare }));
  }

  /** The DELETE itself, run at once by the queue; `overtookPrepare`: a prepare of the call id was in flight here. */
  private async deleteNow(callId: string, { overtookPrepare: overtook }: { overtookPrepare: boolean }): Promise<void> {
    // Held while the node DELETE is in flight: no prepare of the call id places a leg meanwhile.
    const hold = { token: randomToken(), ttlMs: this.options.controlTimeoutMs + 1_000 };
    let r;
    try {
      r = await this.store.deleteCall(callId, this.tombstoneTtlMs, hold);
    } catch (e) {
      if (!(e instanceof StoreUnavailableException)) throw e;
      this.unsettled.add(`delete:${callId}`, () => this.finishDelete(callId));
      const cached = this.cache.get(callId);
      if (!cached && !overtook) throw e;
      if (cached) await this.deleteLeg(cached);
      this.hooks.emit('delete', { callId, nodeId: cached?.nodeId, outcome: 'ok' });
      return;
    }
    this.cache.delete(callId);
    // A repeated DELETE (the first one's answer was lost): that one's node gets the DELETE again.
    this.rememberEarlier(callId, r);
    if (r.binding) {
      try {
        const { nodeId } = await this.sendToBoundNode('delete', callId, r.binding);
        this.hooks.emit('delete', { callId, nodeId, outcome: 'ok' });
      } finally {
        // Not awaited: the answer does not wait for it; a later command of this instance is sent after it.
        void this.store.giveUpClaim(callId, hold.token).catch(() => undefined);
      }
      return;
    }
    if (r.overtookClaim || overtook) {
      this.hooks.emit('delete', { callId, outcome: 'ok' });
      return;
    }
    await this.sendToBoundNode('delete', callId, undefined);
  }

  /** Prepares, starts and deletes queued or running on this instance. */
  get inFlight(): number {
    return this.queue.size;
  }

  /** True while an operation of the call id is queued or running on this instance. */
  isBusy(callId: string): boolean {
    return this.queue.busy(callId);
  }

  /** Resolves when no operation is in flight (true) or after `timeoutMs` (false). */
  whenIdle(timeoutMs: number): Promise<boolean> {
    return this.queue.idle(timeoutMs);
  }

  /** Lets in-flight prepares finish (bounded by the worst-case prepare) before the store closes. */
  async beforeApplicationShutdown(): Promise<void> {
    if (this.queue.size === 0) return;
    this.logger.log(`waiting for ${this.queue.size} call operation(s) in flight`);
    if (!(await this.whenIdle(claimTtlMs(this.options)))) this.logger.warn('call operations still in flight at shutdown');
  }

  /** The store half of a DELETE whose answer was unknown: once the store answers, the node gets its DELETE. */
  private async finishDelete(callId: string): Promise<void> {
    const r = await this.store.deleteCall(callId, this.tombstoneTtlMs);
    // The first try may have run when the store resumed: its node is in the earlier tombstone.
    if (r.binding) this.leftLegs.remember({ nodeId: r.binding.nodeId, controlUrl: r.binding.controlUrl, callId });
    this.rememberEarlier(callId, r);
  }

  /**
   * The node an earlier DELETE of the call found, unless it is the node this one found: its
   * leg is deleted again ({@link LeftLegs} leaves it alone if the call is bound there by then).
   */
  private rememberEarlier(callId: string, r: DeleteCallResult): void {
    const e = r.earlier;
    if (e?.nodeId && e.nodeId !== r.binding?.nodeId) this.leftLegs.remember({ nodeId: e.nodeId, controlUrl: e.controlUrl ?? '', callId });
  }

  /**
   * A start the node answered 404 (it does not know the leg: it restarted, say): the call
   * has no media, so its binding goes (compare-and-delete on the binding the start went by:
   * one a migrate or a re-INVITE wrote since stays) and `call_lost` tells the signaling
   * application. The start still answers 502, as the Go design's pool does; reconciliation
   * would find the same later, but only on nodes that serve `GET /v1/legs`.
   */
  private async dropLost(b: Binding): Promise<void> {
    if (!(await this.store.unbindIf(b.callId, b).catch(() => false))) return;
    this.cache.delete(b.callId);
    this.logger.warn(`call ${JSON.stringify(b.callId)}: ${b.nodeId} does not know its leg; binding dropped`);
    this.hooks.emit('repair', { kind: 'leg_missing_on_start', callId: b.callId, nodeId: b.nodeId });
    void this.feed.publish('call_lost', { call_id: b.callId, node_id: b.nodeId, reason: 'leg_missing' });
  }

  /** A DELETE of a leg; on failure the leg goes to {@link LeftLegs}. */
  private async deleteLeg(route: CachedRoute): Promise<void> {
    const target = await this.legs.target(route).catch(() => ({ url: route.controlUrl }));
    try {
      await this.legs.delete(target, route.callId);
    } catch {
      this.leftLegs.remember({ ...route, controlUrl: target.url });
    }
  }

  /**
   * Sends start or delete to a binding's node, whatever its circuit (a bound call has no
   * other node); the outcome feeds the breaker. 404 without a binding, 502 when the node
   * fails; the failure and not-found events are emitted here, success is the caller's.
   * Resolves to the binding the request went by.
   */
  private async sendToBoundNode(op: 'start' | 'delete', callId: string, b: Binding | undefined): Promise<Binding> {
    if (!b) {
      this.hooks.emit(op, { callId, outcome: 'not_found' });
      throw new CallNotFoundException();
    }
    if (op === 'start') this.cache.put(b);
    const target = await this.legs.target(b);
    try {
      await (op === 'start' ? this.legs.start(target, callId) : this.legs.delete(target, callId));
    } catch (e) {
      const err = e as ControlCallError;
      if (op === 'delete') this.leftLegs.remember({ nodeId: b.nodeId, controlUrl: target.url, callId });
      else if (err.kind === 'client' && err.status === 404) await this.dropLost(b);
      this.hooks.emit(op, { callId, nodeId: b.nodeId, outcome: 'failed' });
      throw new NodeFailedException(err.message);
    }
    return b;
  }
}
