import { Inject, Injectable, Logger } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import type { Clock } from '../../common/clock';
import { sleep } from '../../common/sleep';
import { randomToken } from '../../common/token';
import type { PrepareCallResponse } from '../../contract/contract.types';
import { toPrepareAnswer } from '../../contract/mappers';
import { type ControlCallError, mayHaveActed } from '../../node-client/control-call.error';
import { isRefusal } from '../failover/default-failover.policy';
import { type FailoverPolicy, InjectFailoverPolicy } from '../core/failover-policy.interface';
import { CircuitBreaker } from '../health/circuit-breaker';
import { CLOCK } from '../core/pool.constants';
import { NodeFailedException, NoHealthyNodeException, StoreUnavailableException } from '../core/pool.errors';
import { type CallOutcome, PoolHooks } from '../core/pool.hooks';
import { POOL_OPTIONS, type ResolvedPoolOptions } from '../core/pool.module-definition';
import type { Binding } from '../core/pool.types';
import { CandidateSelector, type PrepareOptions } from '../selection/candidate-selector';
import { type BindOutcome, type CallStore, InjectPoolStore, type NodeStore } from '../core/pool-store.interface';
import { BindingCache } from './binding-cache';
import {
  bindingFromAnswer, CallDeletedException, CallMovedException, type CandidateList, CLAIM_FAILURE_TTL_MS, claimFailureOf,
  claimTtlMs, exceptionOf, type LegRequest, walkFailure, type WalkResult,
} from './call-outcomes';
import { CallQueue } from './call-queue';
import { LeftLegs } from './left-legs';
import { NodeLegs } from './node-legs';
import { UnsettledWrites } from './unsettled-writes';

const CLAIM_POLL_MS = 10;
/**
 * Nodes read beyond the attempt budget from a store's load index (Redis): room for that
 * many unhealthy, draining, full or tripped nodes among the lightest before the
 * selection lists every node instead.
 */
const LIGHTEST_SLACK = 13;

/** One `prepare` event's fields. */
interface PrepareEmit {
  callId: string;
  nodeId?: string;
  outcome: CallOutcome;
  started: number;
  attempts: number;
  reinvite: boolean;
}

/**
 * The prepare half of the calls: a first prepare (claim, failover walk, bind under the
 * claim) and a re-INVITE (the bound node only, bind only if the binding is still the same);
 * the walk is shared with a migrate. Node calls go through {@link NodeLegs}.
 * A binding is written only while nothing overtook the operation: a DELETE that did wins,
 * the operation answers 409 and its leg goes to {@link LeftLegs}. A write whose outcome is
 * unknown is undone by compare-and-delete once the store answers ({@link UnsettledWrites}).
 * Operations of one call id reach it in order ({@link CallQueue}, which also counts the
 * DELETEs that overtake a prepare).
 */
@Injectable()
export class CallPlacer {
  private readonly logger = new Logger(CallPlacer.name);

  constructor(
    @Inject(POOL_OPTIONS) private readonly options: ResolvedPoolOptions,
    @InjectPoolStore() private readonly store: NodeStore & CallStore,
    private readonly selector: CandidateSelector,
    @InjectFailoverPolicy() private readonly failover: FailoverPolicy,
    private readonly legs: NodeLegs,
    private readonly circuit: CircuitBreaker,
    private readonly hooks: PoolHooks,
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly leftLegs: LeftLegs,
    private readonly unsettled: UnsettledWrites,
    private readonly cache: BindingCache,
    private readonly queue: CallQueue,
  ) {}

  /** Longest a first prepare may take: its claim lives that long. */
  get claimTtlMs(): number {
    return claimTtlMs(this.options);
  }

  /**
   * A prepare of `callId` (normalized), run in its turn; `deletes` is the call id's DELETE
   * count when the prepare arrived: a DELETE since then overtook it.
   */
  async prepare(callId: string, offerSdp: string, opts: PrepareOptions, deletes: number): Promise<PrepareCallResponse> {
    const started = performance.now();
    const token = randomToken();
    let waitingFor: string | undefined;
    // Overtaken while queued behind the call's earlier operations: no node is asked.
    if (this.deletedSince(callId, deletes)) throw new CallDeletedException();
    for (;;) {
      // One round trip: the claim answers with the binding when the call is bound.
      const r = await this.claim(callId, token, waitingFor);
      if (r.claimed) break;
      if ('failure' in r) throw exceptionOf(r.failure);
      if (r.bound) {
        // A store that did not hand the binding over is asked; one that lapsed since, claimed again.
        const bound = r.binding ?? await this.store.getBinding(callId);
        // A binding that appeared while we waited is the answer to the very prepare we
        // overlapped with (another instance's): share it. Found at once, it is a re-INVITE.
        if (bound) return waitingFor ? toPrepareAnswer(bound) : this.reprepare(bound, offerSdp, started, deletes);
      }
      if (r.holder) waitingFor = r.holder;
      if (performance.now() - started > this.claimTtlMs) throw new NodeFailedException('call is being prepared elsewhere');
      if (!r.bound) await sleep(CLAIM_POLL_MS);
    }
    try {
      if (this.deletedSince(callId, deletes)) throw new CallDeletedException();
      return await this.place(callId, offerSdp, opts, started, token, deletes);
    } catch (e) {
      // Waiting instances share this answer instead of trying the fleet again.
      await this.store.giveUpClaim(callId, token, claimFailureOf(e), CLAIM_FAILURE_TTL_MS).catch(() => undefined);
      throw e;
    }
  }

  /**
   * Tries `list.candidates` in order under the failover policy until one answers 201:
   * circuits (a half-open trial lets one call through), load reservations, passive health
   * (through {@link NodeLegs}), possible legs of failed attempts handed to {@link LeftLegs}.
   * Binds nothing. Shared by a first prepare and a migrate.
   */
  async walk(list: CandidateList, leg: LegRequest): Promise<WalkResult> {
    const { callId, offerSdp, started } = leg;
    let last: ControlCallError | undefined;
    let allRefused = true;
    let attempt = 0;
    for (const node of list.candidates) {
      // The circuit may have opened since the list was made (a concurrent prepare failed
      // there), and an open circuit lets exactly one half-open trial through.
      if (!list.panic && !this.circuit.tryPass(node.nodeId)) continue;
      attempt++;
      this.selector.reserve(node.nodeId);
      try {
        const answer = await this.legs.prepare({ node, url: node.controlUrl }, { call_id: callId, offer_sdp: offerSdp });
        return { ok: true, node, answer, attempt };
      } catch (e) {
        const err = e as ControlCallError;
        last = err;
        if (!isRefusal(err)) allRefused = false;
        this.releaseLateLeg(node, callId, err);
        this.hooks.emit('failover', { callId, nodeId: node.nodeId, error: err });
        this.logger.warn(`${leg.what} ${JSON.stringify(callId)} on ${node.nodeId} failed (${err.kind}): ${err.message}`);
        if (!this.failover.shouldRetry(err, attempt, performance.now() - started, node)) break;
      } finally {
        this.selector.release(node.nodeId);
      }
    }
    return { ok: false, attempt, allRefused, reason: last?.message ?? 'no node answered' };
  }

  /** True when a DELETE of the call id reached this instance since `deletes` was read. */
  private deletedSince(callId: string, deletes: number): boolean {
    return this.queue.deletes(callId) !== deletes;
  }

  /** A claim, or 503; a claim whose write timed out is given up once the store answers. */
  private async claim(callId: string, token: string, waitingFor?: string) {
    try {
      return await this.store.claim(callId, this.claimTtlMs, token, waitingFor);
    } catch (e) {
      if (e instanceof StoreUnavailableException) {
        this.unsettled.add(`claim:${callId}:${token}`, () => this.store.giveUpClaim(callId, token));
      }
      throw e;
    }
  }

  private async place(
    callId: string, offerSdp: string, opts: PrepareOptions, started: number, token: string, deletes: number,
  ): Promise<PrepareCallResponse> {
    const { selector, store } = this;
    const limit = this.options.maxAttempts;
    // A store that keeps its load index elsewhere (Redis) sends the lightest few nodes.
    const page = store.lightestNodes && selector.usesLoadIndex(opts, limit) ? await store.lightestNodes(limit + LIGHTEST_SLACK) : undefined;
    // From the nodes read to the first reservation below nothing awaits: concurrent
    // prepares see each other's first choices in the load they balance on.
    const list = selector.selectLightest(callId, opts, limit, page) ?? selector.select(await store.listNodes(), callId, opts, limit);
    const walk = await this.walk(list, { callId, offerSdp, started, what: 'prepare' });
    if (!walk.ok) {
      const outcome = walk.attempt === 0 ? 'no_nodes' : walk.allRefused ? 'refused' : 'failed';
      this.emit({ callId, outcome, started, attempts: walk.attempt, reinvite: false });
      throw walkFailure(walk, () => new NoHealthyNodeException());
    }
    const { node, answer, attempt } = walk;
    const now = this.clock.now();
    const binding = bindingFromAnswer({ callId, node, answer, now, createdAt: now, version: token }, this.options);
    // The node answered: no failover from here on (it would allocate more legs).
    await this.bind(binding, { expect: { claim: token }, deletes, started });
    this.emit({ callId, nodeId: node.nodeId, outcome: 'ok', started, attempts: attempt, reinvite: false });
    return toPrepareAnswer(binding);
  }

  /** A re-INVITE: the bound node only, no failover; the binding takes the new answer. */
  private async reprepare(bound: Binding, offerSdp: string, started: number, deletes: number): Promise<PrepareCallResponse> {
    const target = await this.legs.target(bound);
    let answer;
    try {
      answer = await this.legs.prepare(target, { call_id: bound.callId, offer_sdp: offerSdp });
    } catch (e) {
      const err = e as ControlCallError;
      // Usually a late leg here is the call's own (legs are keyed by call id), but a migration
      // may move the call meanwhile and delete this node's leg before the late one is made.
      this.releaseLateLeg({ nodeId: bound.nodeId, controlUrl: target.url }, bound.callId, err);
      const refused = isRefusal(err);
      this.emit({ callId: bound.callId, nodeId: bound.nodeId, outcome: refused ? 'refused' : 'failed', started, attempts: 1, reinvite: true });
      throw walkFailure({ ok: false, attempt: 1, allRefused: refused, reason: err.message }, () => new NoHealthyNodeException());
    }
    const node = { nodeId: bound.nodeId, controlUrl: target.url, mediaIp: target.node?.mediaIp || bound.mediaIp };
    const binding = bindingFromAnswer(
      { callId: bound.callId, node, answer, now: this.clock.now(), createdAt: bound.createdAt, version: randomToken() }, this.options,
    );
    // An unknown outcome needs no undo here: either version binds the call's own leg.
    await this.bind(binding, { expect: { nodeId: bound.nodeId, createdAt: bound.createdAt }, deletes, started, undoUnknown: false });
    this.emit({ callId: bound.callId, nodeId: bound.nodeId, outcome: 'ok', started, attempts: 1, reinvite: true });
    return toPrepareAnswer(binding);
  }

  /**
   * Writes the binding unless a DELETE overtook the operation (then 409 and the leg is
   * deleted). A write whose outcome is unknown answers 503 and, unless `undoUnknown` is
   * false (a re-INVITE), is undone once the store answers, and the leg deleted.
   */
  private async bind(
    binding: Binding,
    o: { expect: { claim: string } | { nodeId: string; createdAt: number }; deletes: number; started: number; undoUnknown?: boolean },
  ): Promise<void> {
    const { callId } = binding;
    const { expect } = o;
    const leg = { nodeId: binding.nodeId, controlUrl: binding.controlUrl, callId };
    let outcome: BindOutcome;
    try {
      outcome = await this.store.bindCall(binding, expect);
    } catch (e) {
      if (o.undoUnknown !== false) this.unsettled.add(`unbind:${callId}:${binding.version}`, () => this.undo(binding));
      throw e;
    }
    if (outcome === 'bound' && this.deletedSince(callId, o.deletes)) {
      // A DELETE on this instance overtook us after it found nothing to delete in the store.
      await this.store.unbindIf(callId, binding).catch(() => undefined);
      outcome = 'deleted';
    }
    if (outcome === 'bound') return this.cache.put(binding);
    this.leftLegs.remember(leg);
    this.emit({ callId, nodeId: binding.nodeId, outcome: 'error', started: o.started, attempts: 1, reinvite: !('claim' in expect) });
    // A re-INVITE whose call is bound elsewhere now was overtaken by a migration, not a DELETE.
    if (outcome === 'deleted' && 'nodeId' in expect && await this.movedAway(callId, expect.nodeId)) throw new CallMovedException();
    if (outcome === 'deleted') throw new CallDeletedException();
    throw new NodeFailedException('the claim of this call lapsed before its node answered');
  }

  /** True when the call is bound to a node other than `nodeId` (a store that fails says no). */
  private async movedAway(callId: string, nodeId: string): Promise<boolean> {
    const now = await this.store.getBinding(callId).catch(() => undefined);
    return now !== undefined && now.nodeId !== nodeId;
  }

  /** Removes a binding written after its prepare answered an error, then deletes its leg. */
  private async undo(b: Binding): Promise<void> {
    if (await this.store.unbindIf(b.callId, b)) {
      this.logger.warn(`removed the late binding of ${JSON.stringify(b.callId)} (its prepare answered 503)`);
      this.hooks.emit('repair', { kind: 'late_binding_undone', callId: b.callId, nodeId: b.nodeId });
    }
    this.leftLegs.remember({ nodeId: b.nodeId, controlUrl: b.controlUrl, callId: b.callId });
  }

  /**
   * A prepare whose outcome is unknown ({@link mayHaveActed}: a timeout, an answer off the
   * contract, a connection that broke after the request was written) may have made a leg
   * there, perhaps after this instance gave up: {@link LeftLegs} deletes it, and keeps trying
   * while a late 201 is still possible; while the call is bound to that node (a re-INVITE's
   * own leg) it is left alone. A refusal, an error answer and a connection refused before
   * anything was sent made nothing.
   */
  private releaseLateLeg(node: { readonly nodeId: string; readonly controlUrl: string }, callId: string, err: ControlCallError): void {
    if (!mayHaveActed(err)) return;
    const { controlTimeoutMs, maxAttempts } = this.options;
    // A timed-out prepare may still be running on the node: its first delete waits one timeout.
    const delayMs = err.kind === 'timeout' ? controlTimeoutMs : 0;
    // Until every attempt of the walk could have ended, a 404 may mean "not made yet".
    const settleMs = err.kind === 'timeout' || err.kind === 'connect' ? maxAttempts * controlTimeoutMs + controlTimeoutMs : 0;
    this.leftLegs.remember({ nodeId: node.nodeId, controlUrl: node.controlUrl, callId }, { delayMs, settleMs });
  }

  private emit(e: PrepareEmit): void {
    const durationMs = Math.round(performance.now() - e.started);
    this.hooks.emit('prepare', {
      callId: e.callId, nodeId: e.nodeId, outcome: e.outcome, durationMs, attempts: e.attempts, reinvite: e.reinvite,
    });
  }
}
