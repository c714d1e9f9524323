import { Inject, Injectable, Logger } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import type { Clock } from '../../common/clock';
import { sleep } from '../../common/sleep';
import { normalizeCallId } from '../../contract/call-id';
import type { CallBinding, PrepareCallResponse, StartCallResponse } from '../../contract/contract.types';
import { toCallBinding, toPrepareAnswer } from '../../contract/mappers';
import { ControlCallError } from '../../node-client/control-call.error';
import { NodeControlClient } from '../../node-client/node-control.client';
import { type FailoverPolicy, InjectFailoverPolicy } from '../failover/failover-policy.interface';
import { CircuitBreaker } from '../health/circuit-breaker';
import { CLOCK } from '../pool.constants';
import {
  CallNotFoundException, NodeFailedException, NoHealthyNodeException, OfferRefusedException, StoreUnavailableException,
} from '../pool.errors';
import { PoolEvents } from '../pool.events';
import { POOL_OPTIONS, type ResolvedPoolOptions } from '../pool.module-definition';
import type { Binding, NodeState } from '../pool.types';
import { CandidateSelector, type PrepareOptions } from '../selection/candidate-selector';
import { InjectPoolStore, type PoolStore } from '../store/pool-store.interface';

const CLAIM_POLL_MS = 10;

type PrepareOutcome = 'ok' | 'refused' | 'failed' | 'no_nodes';

/**
 * The calls: a new call id is claimed and placed on the selector's candidates under the
 * failover policy; a bound one (a re-INVITE) goes to its node only; start and delete go
 * to the bound node. Every control call's outcome feeds the circuit breaker.
 *
 * Timestamps (binding creation and expiry) come from {@link CLOCK}; durations (the claim
 * wait, the failover time budget, `durationMs`) from the monotonic timer, so a test clock
 * that stands still never stalls a loop.
 *
 * No HTTP call is made while holding anything: the store's atomic operations are the
 * only critical sections.
 */
@Injectable()
export class CallRouter {
  private readonly logger = new Logger(CallRouter.name);
  /** Prepares in flight on this instance, by call id: overlapping duplicates share one attempt. */
  private readonly inflight = new Map<string, Promise<PrepareCallResponse>>();

  constructor(
    @Inject(POOL_OPTIONS) private readonly options: ResolvedPoolOptions,
    @InjectPoolStore() private readonly store: PoolStore,
    private readonly selector: CandidateSelector,
    @InjectFailoverPolicy() private readonly failover: FailoverPolicy,
    private readonly client: NodeControlClient,
    private readonly circuit: CircuitBreaker,
    private readonly events: PoolEvents,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /**
   * Places a call: a bound call id goes to its node only (a re-INVITE); a new one is
   * claimed, then tried on the ordered candidates under the failover policy.
   * Overlapping prepares of one call id share one attempt and get the same answer.
   */
  async prepare(rawCallId: string, offerSdp: string, opts: PrepareOptions = {}): Promise<PrepareCallResponse> {
    const callId = normalizeCallId(rawCallId);
    const running = this.inflight.get(callId);
    if (running) return running;
    const p = this.prepareOnce(callId, offerSdp, opts).finally(() => this.inflight.delete(callId));
    this.inflight.set(callId, p);
    return p;
  }

  /** The binding of a call id, or 404. */
  async getCall(rawCallId: string): Promise<CallBinding> {
    const b = await this.store.getBinding(normalizeCallId(rawCallId));
    if (!b) throw new CallNotFoundException();
    return toCallBinding(b);
  }

  /** Sends start (on ACK) to the call's node. 404 without a binding, 502 when the node fails. */
  async start(rawCallId: string): Promise<StartCallResponse> {
    const callId = normalizeCallId(rawCallId);
    const { nodeId } = await this.sendToBoundNode('start', callId, await this.store.getBinding(callId));
    await this.store.markStarted(callId);
    this.events.emit('start', { callId, nodeId, outcome: 'ok' });
    return { call_id: callId, node_id: nodeId };
  }

  /**
   * Sends delete (on BYE) to the call's node and drops the binding — even when the
   * node fails (then 502). A node that no longer knows the leg (404) counts as deleted.
   */
  async delete(rawCallId: string): Promise<void> {
    const callId = normalizeCallId(rawCallId);
    // Remove first: of two concurrent BYEs exactly one owns the delete.
    const { nodeId } = await this.sendToBoundNode('delete', callId, await this.store.deleteBinding(callId));
    this.events.emit('delete', { callId, nodeId, outcome: 'ok' });
  }

  /**
   * Sends start or delete to a binding's node, whatever its circuit (a bound call has no
   * other node); the outcome feeds the breaker. 404 without a binding, 502 when the node
   * fails; the failure and not-found events are emitted here, success is the caller's.
   * Resolves to the binding the request went by.
   */
  private async sendToBoundNode(op: 'start' | 'delete', callId: string, b: Binding | undefined): Promise<Binding> {
    if (!b) {
      this.events.emit(op, { callId, outcome: 'not_found' });
      throw new CallNotFoundException();
    }
    const { node, url } = await this.route(b);
    try {
      await (op === 'start' ? this.client.start(url, callId) : this.client.delete(url, callId));
    } catch (e) {
      const err = asControlError(e);
      if (node) this.onNodeFailure(node, err);
      this.events.emit(op, { callId, nodeId: b.nodeId, outcome: 'failed' });
      throw new NodeFailedException(err.message);
    }
    if (node) this.onNodeSuccess(node);
    return b;
  }

  // ---- passive health (hooks) -----------------------------------------------------

  /** Called after a control call to `node` succeeded: closes its circuit. Overrides should call super. */
  protected onNodeSuccess(node: NodeState): void {
    this.circuit.recordSuccess(node.id);
  }

  /**
   * Called after a control call to `node` failed. A failure that counts against the node
   * (FailoverPolicy.countsAgainstNode: connect error, timeout, 5xx, a refused node token) opens its circuit; any
   * other answer proves the node is reachable and closes it. Overrides should call super.
   */
  protected onNodeFailure(node: NodeState, error: ControlCallError): void {
    if (this.failover.countsAgainstNode(error)) this.circuit.recordFailure(node.id, error.message);
    else this.circuit.recordSuccess(node.id);
  }

  // ---- placement ------------------------------------------------------------------

  private async prepareOnce(callId: string, offerSdp: string, opts: PrepareOptions): Promise<PrepareCallResponse> {
    const started = performance.now();
    const claimTtlMs = this.options.maxAttempts * this.options.controlTimeoutMs + 1_000;
    let waited = false;
    for (;;) {
      const bound = await this.store.getBinding(callId);
      // A binding that appeared while we waited is the answer to the very prepare we
      // overlapped with (another instance's): share it. Found at once, it is a re-INVITE.
      if (bound) return waited ? toPrepareAnswer(bound) : this.reprepare(bound, offerSdp, started);
      if (await this.store.claimCall(callId, claimTtlMs)) break;
      // Another instance is placing this call right now: wait for its binding (or its give-up).
      if (performance.now() - started > claimTtlMs) throw new NodeFailedException('call is being prepared elsewhere');
      waited = true;
      await sleep(CLAIM_POLL_MS);
    }
    try {
      return await this.place(callId, offerSdp, opts, started);
    } catch (e) {
      await this.store.releaseClaim(callId).catch(() => undefined);
      throw e;
    }
  }

  private async place(callId: string, offerSdp: string, opts: PrepareOptions, started: number): Promise<PrepareCallResponse> {
    // From here to the first reservation below nothing awaits: concurrent prepares see
    // each other's first choices in the load they balance on.
    const { candidates, panic } = this.selector.select(await this.store.listNodes(), callId, opts, this.options.maxAttempts);
    let last: ControlCallError | undefined;
    let allRefused = true;
    let attempt = 0;
    for (const node of candidates) {
      // The circuit may have opened since the list was made (a concurrent prepare failed
      // there), and an open circuit lets exactly one half-open trial through.
      if (!panic && !this.circuit.tryPass(node.id)) continue;
      attempt++;
      this.selector.reserve(node.id);
      try {
        const answer = await this.client.prepare(node.controlUrl, { call_id: callId, offer_sdp: offerSdp });
        this.onNodeSuccess(node);
        const now = this.clock.now();
        const binding: Binding = {
          callId, nodeId: node.id, controlUrl: node.controlUrl,
          mediaIp: answer.media_ip || node.mediaIp, mediaPort: answer.media_port, codec: answer.codec,
          started: false, createdAt: now, expiresAt: now + this.options.callTtlSec * 1000,
        };
        await this.store.putBinding(binding, true);
        this.emitPrepare(callId, node.id, 'ok', started, attempt, false);
        return toPrepareAnswer(binding);
      } catch (e) {
        // The node answered but the binding could not be written: not the node's fault, so
        // no failover (it would allocate more legs). Give the leg back and answer 503.
        if (e instanceof StoreUnavailableException) {
          void this.client.delete(node.controlUrl, callId).catch(() => undefined);
          throw e;
        }
        const err = asControlError(e);
        last = err;
        if (err.kind !== 'client') allRefused = false;
        this.releaseOrphanLeg(node, callId, err);
        this.onNodeFailure(node, err);
        this.events.emit('failover', { callId, nodeId: node.id, error: err });
        this.logger.warn(`prepare ${JSON.stringify(callId)} on ${node.id} failed (${err.kind}): ${err.message}`);
        if (!this.failover.shouldRetry(err, attempt, performance.now() - started, node)) break;
      } finally {
        this.selector.release(node.id);
      }
    }
    if (attempt === 0) {
      this.emitPrepare(callId, undefined, 'no_nodes', started, 0, false);
      throw new NoHealthyNodeException();
    }
    const reason = `${last?.message ?? 'no node answered'}`;
    if (allRefused) {
      this.emitPrepare(callId, undefined, 'refused', started, attempt, false);
      throw new OfferRefusedException(reason);
    }
    this.emitPrepare(callId, undefined, 'failed', started, attempt, false);
    throw new NodeFailedException(reason);
  }

  /**
   * A prepare that failed after the node may have read it (a timeout, an unexpected status,
   * an unreadable answer) may still have allocated a leg there, which no binding will ever
   * delete: the call goes elsewhere. Send that node a best-effort delete of the call id (a
   * node that has no such leg answers 404, which is fine). Refusals (4xx) and connection
   * errors allocated nothing. Only for a first placement: a re-INVITE's leg is the call's.
   */
  private releaseOrphanLeg(node: Readonly<NodeState>, callId: string, err: ControlCallError): void {
    if (err.kind !== 'timeout' && err.kind !== 'status' && err.kind !== 'protocol') return;
    void this.client.delete(node.controlUrl, callId).catch(() => undefined);
  }

  /** A re-INVITE: the bound node only, no failover; the binding takes the new answer. */
  private async reprepare(bound: Binding, offerSdp: string, started: number): Promise<PrepareCallResponse> {
    const { node, url } = await this.route(bound);
    try {
      const answer = await this.client.prepare(url, { call_id: bound.callId, offer_sdp: offerSdp });
      if (node) this.onNodeSuccess(node);
      const binding: Binding = {
        ...bound, controlUrl: url, mediaIp: answer.media_ip || node?.mediaIp || bound.mediaIp,
        mediaPort: answer.media_port, codec: answer.codec, started: false,
        expiresAt: this.clock.now() + this.options.callTtlSec * 1000,
      };
      await this.store.putBinding(binding, false);
      this.emitPrepare(bound.callId, bound.nodeId, 'ok', started, 1, true);
      return toPrepareAnswer(binding);
    } catch (e) {
      if (e instanceof StoreUnavailableException) throw e;
      const err = asControlError(e);
      if (node) this.onNodeFailure(node, err);
      const outcome = err.kind === 'client' ? 'refused' : 'failed';
      this.emitPrepare(bound.callId, bound.nodeId, outcome, started, 1, true);
      throw err.kind === 'client' ? new OfferRefusedException(err.message) : new NodeFailedException(err.message);
    }
  }

  /** The node of a binding and the URL to reach it: its current one if it re-registered elsewhere. */
  private async route(b: Binding): Promise<{ node?: NodeState; url: string }> {
    const node = await this.store.getNode(b.nodeId);
    return { node, url: node?.controlUrl ?? b.controlUrl };
  }

  private emitPrepare(
    callId: string, nodeId: string | undefined, outcome: PrepareOutcome, started: number, attempts: number, reinvite: boolean,
  ): void {
    const durationMs = Math.round(performance.now() - started);
    this.events.emit('prepare', { callId, nodeId, outcome, durationMs, attempts, reinvite });
  }
}

function asControlError(e: unknown): ControlCallError {
  if (e instanceof ControlCallError) return e;
  return new ControlCallError('protocol', e instanceof Error ? e.message : String(e));
}
