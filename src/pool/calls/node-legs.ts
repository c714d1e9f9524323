import { Injectable } from '@nestjs/common';
import type { PrepareLegRequest, PrepareLegResponse } from '../../contract/contract.types';
import type { ControlCallError } from '../../node-client/control-call.error';
import { NodeControlClient } from '../../node-client/node-control.client';
import { type FailoverPolicy, InjectFailoverPolicy } from '../core/failover-policy.interface';
import { CircuitBreaker } from '../health/circuit-breaker';
import { StoreUnavailableException } from '../core/pool.errors';
import type { NodeState } from '../core/pool.types';
import { InjectPoolStore, type NodeStore } from '../core/pool-store.interface';
import { asControlError } from './call-outcomes';

/**
 * Where a leg call goes: `url`, and the node as the store knows it (its circuit is fed by
 * the outcome). Without `node` (the node left the pool, or the store could not say) the
 * call is still sent, and no circuit is fed.
 */
export interface LegTarget {
  node?: Readonly<NodeState>;
  url: string;
}

/**
 * The one door of the pool to the media nodes for legs: every prepare, start and delete of
 * a leg — a new call's failover walk, a re-INVITE, a start, a BYE, a migration's new leg,
 * its give-back and its old leg, a left leg — is sent through here, and the outcome of a
 * call's own node call feeds the node's circuit by one rule ({@link onNodeSuccess},
 * {@link onNodeFailure}). {@link LeftLegs}' repairs are sent without a node, so they feed
 * none (see there).
 * A failed call rejects with a {@link ControlCallError}; what it means for the call (a
 * failover, a left leg, a 502) is the caller's to decide.
 *
 * To change what an outcome does to a node (e.g. also count it elsewhere), subclass it,
 * override the hooks (calling super) and give it to `PoolModule.forRoot({ nodeLegs })`
 * (or `overrideProvider(NodeLegs).useClass(...)` in a test).
 */
@Injectable()
export class NodeLegs {
  constructor(
    private readonly client: NodeControlClient,
    protected readonly circuit: CircuitBreaker,
    @InjectFailoverPolicy() protected readonly failover: FailoverPolicy,
    @InjectPoolStore() private readonly store: NodeStore,
  ) {}

  /** Asks the node for a leg (`POST /v1/legs`); 201 only. */
  prepare(target: LegTarget, req: PrepareLegRequest): Promise<PrepareLegResponse> {
    return this.send(target, (url) => this.client.prepare(url, req));
  }

  /** Starts the leg of `callId` (`POST /v1/legs/{id}/start`); 200 only. */
  start(target: LegTarget, callId: string): Promise<void> {
    return this.send(target, (url) => this.client.start(url, callId));
  }

  /** Deletes the leg of `callId`: true when the node deleted it, false when it did not know it (404). */
  delete(target: LegTarget, callId: string): Promise<boolean> {
    return this.send(target, (url) => this.client.delete(url, callId));
  }

  /**
   * The call ids of the legs a node holds (`GET /v1/legs`), or undefined when the node does
   * not serve it (the Go media node). A read for reconciliation: it feeds no circuit (probes
   * judge a node's health).
   */
  listLegs(url: string): Promise<string[] | undefined> {
    return this.client.listLegs(url);
  }

  /**
   * Where a leg made on `nodeId` at `controlUrl` is reached now: the node's current URL if it
   * re-registered elsewhere, else (the node gone, or the store stalled) the URL the leg was
   * made at. A call whose store half is done must still reach its node.
   */
  async target(leg: { nodeId: string; controlUrl: string }): Promise<LegTarget> {
    let node: Readonly<NodeState> | undefined;
    try {
      node = await this.store.getNode(leg.nodeId);
    } catch (e) {
      if (!(e instanceof StoreUnavailableException)) throw e;
    }
    return { node, url: node?.controlUrl ?? leg.controlUrl };
  }

  // ---- passive health (hooks) -----------------------------------------------------

  /** Called after a leg call to `node` succeeded: closes its circuit. Overrides should call super. */
  protected onNodeSuccess(node: Readonly<NodeState>): void {
    this.circuit.recordSuccess(node.nodeId);
  }

  /**
   * Called after a leg call to `node` failed. A failure that counts against the node
   * ({@link FailoverPolicy.countsAgainstNode}: by default a connect error, a timeout, a 5xx
   * but 503, a refused node token) opens its circuit. Any other failure is an answer of a
   * node that is reachable and serves leg calls (a refusal, a 404, an answer off the
   * contract): it closes the circuit as a success does — on every path alike, so a
   * half-open trial answered with a refusal ends the trial instead of keeping the node out
   * until the reset time passes again. Overrides should call super.
   */
  protected onNodeFailure(node: Readonly<NodeState>, error: ControlCallError): void {
    // A timeout's circuit is closed by a call's success only, not by a probe (a node whose legs hang may answer its health).
    if (this.failover.countsAgainstNode(error)) this.circuit.recordFailure(node.nodeId, error.message, error.kind === 'timeout');
    else this.circuit.recordSuccess(node.nodeId);
  }

  private async send<T>(target: LegTarget, call: (url: string) => Promise<T>): Promise<T> {
    let out: T;
    try {
      out = await call(target.url);
    } catch (e) {
      const err = asControlError(e);
      if (target.node) this.onNodeFailure(target.node, err);
      throw err;
    }
    if (target.node) this.onNodeSuccess(target.node);
    return out;
  }
}
