import { Logger } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import type { Clock } from '../../common/clock';
import { internCodec, mediaIpOf } from '../../common/intern';
import { sleep } from '../../common/sleep';
import { randomToken } from '../../common/token';
import type { PrepareCallResponse, PrepareLegResponse } from '../../contract/contract.types';
import { toPrepareAnswer } from '../../contract/mappers';
import type { ControlCallError } from '../../node-client/control-call.error';
import type { NodeControlClient } from '../../node-client/node-control.client';
import { isRefusal } from '../failover/default-failover.policy';
import type { FailoverPolicy } from '../core/failover-policy.interface';
import type { CircuitBreaker } from '../health/circuit-breaker';
import {
  NodeFailedException, NoHealthyNodeException, OfferRefusedException, StoreUnavailableException,
} from '../core/pool.errors';
import type { CallOutcome, PoolEvents } from '../core/pool.events';
import type { ResolvedPoolOptions } from '../core/pool.module-definition';
import type { Binding, Candidate, NodeState } from '../core/pool.types';
import type { CandidateSelector, PrepareOptions } from '../selection/candidate-selector';
import type { BindOutcome, PoolStore } from '../core/pool-store.interface';
import type { BindingCache } from './binding-cache';
import {
  asControlError, CallDeletedException, CallMovedException, CLAIM_FAILURE_TTL_MS, claimFailureOf, exceptionOf,
} from './call-outcomes';
import type { LeftLegs } from './left-legs';
import type { UnsettledWrites } from './unsettled-writes';

const CLAIM_POLL_MS = 10;
/**
 * Nodes read beyond the attempt budget from a store's load index (Redis): room for that
 * many unhealthy, draining, full or tripped nodes among the lightest before the
 * selection lists every node instead.
 */
const LIGHTEST_SLACK = 13;

/** How a walk over the candidates ended: a node's answer, or why none answered. */
export type WalkResult =
  | { ok: true; node: Candidate; answer: PrepareLegResponse; attempt: number }
  | { ok: false; attempt: number; allRefused: boolean; reason: string };

/** What the placer needs from the router (which owns the passive-health hooks). */
export interface PlacerDeps {
  options: ResolvedPoolOptions;
  store: PoolStore;
  selector: CandidateSelector;
  failover: FailoverPolicy;
  client: NodeControlClient;
  circuit: CircuitBreaker;
  events: PoolEvents;
  clock: Clock;
  leftLegs: LeftLegs;
  unsettled: UnsettledWrites;
  cache: BindingCache;
  onNodeSuccess(node: NodeState): void;
  onNodeFailure(node: NodeState, error: ControlCallError): void;
  /** True when a DELETE of the call id reached this instance since `deletes` was read. */
  deletedSince(callId: string, deletes: number): boolean;
}

/**
 * The prepare half of CallRouter: a first prepare (claim, failover, bind under the claim)
 * and a re-INVITE (the bound node only, bind only if the binding is still the same).
 * A binding is written only while nothing overtook the operation: a DELETE that did wins,
 * the operation answers 409 and its leg goes to {@link LeftLegs}. A write whose outcome is
 * unknown is undone by compare-and-delete once the store answers ({@link UnsettledWrites}).
 */
export class CallPlacer {
  private readonly logger = new Logger('CallRouter');

  constructor(private readonly d: PlacerDeps) {}

  /** Longest a first prepare may take: its claim lives that long. */
  get claimTtlMs(): number {
    return this.d.options.maxAttempts * this.d.options.controlTimeoutMs + 1_000;
  }

  async prepare(callId: string, offerSdp: string, opts: PrepareOptions, deletes: number): Promise<PrepareCallResponse> {
    const started = performance.now();
    const token = randomToken();
    let waitingFor: string | undefined;
    // Overtaken while queued behind the call's earlier operations: no node is asked.
    if (this.d.deletedSince(callId, deletes)) throw new CallDeletedException();
    for (;;) {
      // One round trip: the claim answers with the binding when the call is bound.
      const r = await this.claim(callId, token, waitingFor);
      if (r.claimed) break;
      if ('failure' in r) throw exceptionOf(r.failure);
      if (r.bound) {
        // A store that did not hand the binding over is asked; one that lapsed since, claimed again.
        const bound = r.binding ?? await this.d.store.getBinding(callId);
        // A binding that appeared while we waited is the answer to the very prepare we
        // overlapped with (another instance's): share it. Found at once, it is a re-INVITE.
        if (bound) return waitingFor ? toPrepareAnswer(bound) : this.reprepare(bound, offerSdp, started, deletes);
      }
      if (r.holder) waitingFor = r.holder;
      if (performance.now() - started > this.claimTtlMs) throw new NodeFailedException('call is being prepared elsewhere');
      if (!r.bound) await sleep(CLAIM_POLL_MS);
    }
    try {
      if (this.d.deletedSince(callId, deletes)) throw new CallDeletedException();
      return await this.place(callId, offerSdp, opts, started, token, deletes);
    } catch (e) {
      // Waiting instances share this answer instead of trying the fleet again.
      await this.d.store.giveUpClaim(callId, token, claimFailureOf(e), CLAIM_FAILURE_TTL_MS).catch(() => undefined);
      throw e;
    }
  }

  /** A claim, or 503; a claim whose write timed out is given up once the store answers. */
  private async claim(callId: string, token: string, waitingFor?: string) {
    try {
      return await this.d.store.claim(callId, this.claimTtlMs, token, waitingFor);
    } catch (e) {
      if (e instanceof StoreUnavailableException) {
        this.d.unsettled.add(`claim:${callId}:${token}`, () => this.d.store.giveUpClaim(callId, token));
      }
      throw e;
    }
  }

  private async place(
    callId: string, offerSdp: string, opts: PrepareOptions, started: number, token: string, deletes: number,
  ): Promise<PrepareCallResponse> {
    const { selector, store } = this.d;
    const limit = this.d.options.maxAttempts;
    // A store that keeps its load index elsewhere (Redis) sends the lightest few nodes.
    const page = store.lightestNodes && selector.usesLoadIndex(opts, limit) ? await store.lightestNodes(limit + LIGHTEST_SLACK) : undefined;
    // From the nodes read to the first reservation below nothing awaits: concurrent
    // prepares see each other's first choices in the load they balance on.
    const { candidates, panic } = selector.selectLightest(callId, opts, limit, page)
      ?? selector.select(await store.listNodes(), callId, opts, limit);
    const walk = await this.walk(candidates, panic, callId, offerSdp, started, 'prepare');
    if (!walk.ok) {
      if (walk.attempt === 0) {
        this.emit(callId, undefined, 'no_nodes', started, 0, false);
        throw new NoHealthyNodeException();
      }
      this.emit(callId, undefined, walk.allRefused ? 'refused' : 'failed', started, walk.attempt, false);
      throw walk.allRefused ? new OfferRefusedException(walk.reason) : new NodeFailedException(walk.reason);
    }
    const { node, answer, attempt } = walk;
    const now = this.d.clock.now();
    const binding: Binding = {
      callId, nodeId: node.id, controlUrl: node.controlUrl,
      mediaIp: mediaIpOf(answer.media_ip, node.mediaIp), mediaPort: answer.media_port, codec: internCodec(answer.codec),
      started: false, createdAt: now, expiresAt: now + this.d.options.callTtlSec * 1000, version: token,
    };
    // The node answered: no failover from here on (it would allocate more legs).
    await this.bind(binding, { claim: token }, deletes, started);
    this.emit(callId, node.id, 'ok', started, attempt, false);
    return toPrepareAnswer(binding);
  }

  /**
   * Tries `candidates` in order under the failover policy until one answers 201: circuits
   * (a half-open trial lets one call through), load reservations, passive health, late
   * legs handed to {@link LeftLegs}. Shared by a first prepare and a migrate.
   */
  async walk(
    candidates: readonly Candidate[], panic: boolean, callId: string, offerSdp: string, started: number, what: string,
  ): Promise<WalkResult> {
    let last: ControlCallError | undefined;
    let allRefused = true;
    let attempt = 0;
    for (const node of candidates) {
      // The circuit may have opened since the list was made (a concurrent prepare failed
      // there), and an open circuit lets exactly one half-open trial through.
      if (!panic && !this.d.circuit.tryPass(node.id)) continue;
      attempt++;
      this.d.selector.reserve(node.id);
      try {
        const answer = await this.d.client.prepare(node.controlUrl, { call_id: callId, offer_sdp: offerSdp });
        this.d.onNodeSuccess(node);
        return { ok: true, node, answer, attempt };
      } catch (e) {
        const err = asControlError(e);
        last = err;
        if (!isRefusal(err)) allRefused = false;
        this.releaseLateLeg(node, callId, err);
        this.d.onNodeFailure(node, err);
        this.d.events.emit('failover', { callId, nodeId: node.id, error: err });
        this.logger.warn(`${what} ${JSON.stringify(callId)} on ${node.id} failed (${err.kind}): ${err.message}`);
        if (!this.d.failover.shouldRetry(err, attempt, performance.now() - started, node)) break;
      } finally {
        this.d.selector.release(node.id);
      }
    }
    return { ok: false, attempt, allRefused, reason: last?.message ?? 'no node answered' };
  }

  /** A re-INVITE: the bound node only, no failover; the binding takes the new answer. */
  private async reprepare(bound: Binding, offerSdp: string, started: number, deletes: number): Promise<PrepareCallResponse> {
    const node = await this.d.store.getNode(bound.nodeId);
    const url = node?.controlUrl ?? bound.controlUrl;
    let answer;
    try {
      answer = await this.d.client.prepare(url, { call_id: bound.callId, offer_sdp: offerSdp });
    } catch (e) {
      const err = asControlError(e);
      if (node) this.d.onNodeFailure(node, err);
      // Usually a late leg here is the call's own (legs are keyed by call id), but a migration
      // may move the call meanwhile and delete this node's leg before the late one is made.
      this.releaseLateLeg({ id: bound.nodeId, controlUrl: url }, bound.callId, err);
      const refused = isRefusal(err);
      this.emit(bound.callId, bound.nodeId, refused ? 'refused' : 'failed', started, 1, true);
      throw refused ? new OfferRefusedException(err.message) : new NodeFailedException(err.message);
    }
    if (node) this.d.onNodeSuccess(node);
    const binding: Binding = {
      ...bound, controlUrl: url, mediaIp: mediaIpOf(answer.media_ip, node?.mediaIp || bound.mediaIp),
      mediaPort: answer.media_port, codec: internCodec(answer.codec), started: false,
      expiresAt: this.d.clock.now() + this.d.options.callTtlSec * 1000, version: randomToken(),
    };
    // An unknown outcome needs no undo here: either version binds the call's own leg.
    await this.bind(binding, { nodeId: bound.nodeId, createdAt: bound.createdAt }, deletes, started, false);
    this.emit(bound.callId, bound.nodeId, 'ok', started, 1, true);
    return toPrepareAnswer(binding);
  }

  /**
   * Writes the binding unless a DELETE overtook the operation (then 409 and the leg is
   * deleted). A write whose outcome is unknown answers 503 and, for a first prepare, is
   * undone once the store answers, and the leg deleted.
   */
  private async bind(
    binding: Binding, expect: { claim: string } | { nodeId: string; createdAt: number }, deletes: number, started: number,
    undoUnknown = true,
  ): Promise<void> {
    const { callId } = binding;
    const leg = { nodeId: binding.nodeId, controlUrl: binding.controlUrl, callId };
    let outcome: BindOutcome;
    try {
      outcome = await this.d.store.bindCall(binding, expect);
    } catch (e) {
      if (undoUnknown) this.d.unsettled.add(`unbind:${callId}:${binding.version}`, () => this.undo(binding));
      throw e;
    }
    if (outcome === 'bound' && this.d.deletedSince(callId, deletes)) {
      // A DELETE on this instance overtook us after it found nothing to delete in the store.
      await this.d.store.unbindIf(callId, binding).catch(() => undefined);
      outcome = 'deleted';
    }
    if (outcome === 'bound') return this.d.cache.put(binding);
    this.d.leftLegs.remember(leg);
    this.emit(callId, binding.nodeId, 'error', started, 1, !('claim' in expect));
    // A re-INVITE whose call is bound elsewhere now was overtaken by a migration, not a DELETE.
    if (outcome === 'deleted' && 'nodeId' in expect && await this.movedAway(callId, expect.nodeId)) throw new CallMovedException();
    if (outcome === 'deleted') throw new CallDeletedException();
    throw new NodeFailedException('the claim of this call lapsed before its node answered');
  }

  /** True when the call is bound to a node other than `nodeId` (a store that fails says no). */
  private async movedAway(callId: string, nodeId: string): Promise<boolean> {
    const now = await this.d.store.getBinding(callId).catch(() => undefined);
    return now !== undefined && now.nodeId !== nodeId;
  }

  /** Removes a binding written after its prepare answered an error, then deletes its leg. */
  private async undo(b: Binding): Promise<void> {
    if (await this.d.store.unbindIf(b.callId, b)) {
      this.logger.warn(`removed the late binding of ${JSON.stringify(b.callId)} (its prepare answered 503)`);
      this.d.events.emit('repair', { kind: 'late_binding_undone', callId: b.callId, nodeId: b.nodeId });
    }
    this.d.leftLegs.remember({ nodeId: b.nodeId, controlUrl: b.controlUrl, callId: b.callId });
  }

  /**
   * A prepare that failed after the node may have read it (a timeout, an unexpected status,
   * an unreadable answer) may still make a leg there, perhaps after this instance gave up:
   * {@link LeftLegs} deletes it, and keeps trying while a late 201 is still possible; while
   * the call is bound to that node (a re-INVITE's own leg) it is left alone.
   * Refusals and connection errors allocated nothing.
   */
  private releaseLateLeg(node: { readonly id: string; readonly controlUrl: string }, callId: string, err: ControlCallError): void {
    if (err.kind !== 'timeout' && err.kind !== 'status' && err.kind !== 'protocol') return;
    const { controlTimeoutMs, maxAttempts } = this.d.options;
    const late = err.kind === 'timeout';
    this.d.leftLegs.remember(
      { nodeId: node.id, controlUrl: node.controlUrl, callId },
      { delayMs: late ? controlTimeoutMs : 0, settleMs: late ? maxAttempts * controlTimeoutMs + controlTimeoutMs : 0 },
    );
  }

  private emit(callId: string, nodeId: string | undefined, outcome: CallOutcome, started: number, attempts: number, reinvite: boolean): void {
    const durationMs = Math.round(performance.now() - started);
    this.d.events.emit('prepare', { callId, nodeId, outcome, durationMs, attempts, reinvite });
  }
}
