import { Injectable } from '@nestjs/common';
import type {
  CallBinding, NodeInfo, PrepareCallResponse, RegisterNodeResponse, StartCallResponse,
} from '../contract/contract.types';
import { CallRouter } from './calls/call-router';
import { CircuitBreaker } from './health/circuit-breaker';
import { PoolEvents } from './pool.events';
import type { Candidate, NodeState } from './pool.types';
import { NodeRegistry, type RegisterNodeInput } from './registry/node-registry';
import { CandidateSelector, type PrepareOptions } from './selection/candidate-selector';

// Kept importable from here: these were PoolService's neighbours before the split.
export { MAX_CALL_ID_LENGTH, normalizeCallId } from '../contract/call-id';
export { toCallBinding, toNodeInfo } from '../contract/mappers';
export type { RegisterNodeInput } from './registry/node-registry';
export type { PrepareOptions } from './selection/candidate-selector';

/**
 * The Pool API: the registry of media nodes and the Call-ID → node bindings, with
 * selection and failover for new calls. The in-process twin of the HTTP contract.
 *
 * A thin facade: {@link NodeRegistry} keeps the nodes, {@link CandidateSelector} orders
 * them for a new call, {@link CallRouter} places and routes the calls. Inject those
 * directly to extend one of them.
 */
@Injectable()
export class PoolService {
  constructor(
    private readonly registry: NodeRegistry,
    private readonly selector: CandidateSelector,
    private readonly router: CallRouter,
    /** Everything the pool does, as events (metrics, logs, the dashboard listen here). */
    readonly events: PoolEvents,
    /** This instance's passive failure detection (per node). */
    readonly circuit: CircuitBreaker,
  ) {}

  // ---- registry -------------------------------------------------------------------

  /** Seconds a silent node survives. */
  get ttlSec(): number {
    return this.registry.ttlSec;
  }

  /** The heartbeat interval advertised to registrars: min(10, max(1, ⌊ttl/3⌋)). */
  get heartbeatSec(): number {
    return this.registry.heartbeatSec;
  }

  /** Changes the node TTL (the Go package's SetTTL); non-positive values are ignored. */
  setTtl(sec: number): void {
    this.registry.setTtl(sec);
  }

  /** Registers or refreshes a node (the heartbeat); every reported field is replaced. */
  register(input: RegisterNodeInput): Promise<RegisterNodeResponse> {
    return this.registry.register(input);
  }

  /** Deregisters a dynamic node; 404 for an unknown or static one. Its bindings stay. */
  unregister(nodeId: string): Promise<void> {
    return this.registry.unregister(nodeId);
  }

  /** Removes nodes silent for longer than the TTL and expired bindings; returns the pruned node ids. */
  prune(now?: number): Promise<string[]> {
    return this.registry.prune(now);
  }

  /** Every known node: static seeds first, then in registration order. */
  nodes(): Promise<NodeState[]> {
    return this.registry.nodes();
  }

  /** `GET /v1/nodes` rows. Makes no HTTP call. */
  nodeInfos(): Promise<NodeInfo[]> {
    return this.registry.nodeInfos();
  }

  /** One node's row, or 404. */
  nodeInfo(nodeId: string): Promise<NodeInfo> {
    return this.registry.nodeInfo(nodeId);
  }

  /** Operator drain: the node keeps its calls and gets no new ones, whatever it reports. */
  drain(nodeId: string): Promise<NodeInfo> {
    return this.registry.drain(nodeId);
  }

  /** Clears an operator drain. */
  undrain(nodeId: string): Promise<NodeInfo> {
    return this.registry.undrain(nodeId);
  }

  // ---- selection ------------------------------------------------------------------

  /** The nodes a new call may go to, in the order to try them (see {@link CandidateSelector.candidates}). */
  candidates(callId: string, opts: PrepareOptions = {}): Promise<Candidate[]> {
    return this.selector.candidates(callId, opts);
  }

  // ---- calls ----------------------------------------------------------------------

  /** Places a call (a bound call id: a re-INVITE on its node). See {@link CallRouter.prepare}. */
  prepare(rawCallId: string, offerSdp: string, opts: PrepareOptions = {}): Promise<PrepareCallResponse> {
    return this.router.prepare(rawCallId, offerSdp, opts);
  }

  /** The binding of a call id, or 404. */
  getCall(rawCallId: string): Promise<CallBinding> {
    return this.router.getCall(rawCallId);
  }

  /** Sends start (on ACK) to the call's node. 404 without a binding, 502 when the node fails. */
  start(rawCallId: string): Promise<StartCallResponse> {
    return this.router.start(rawCallId);
  }

  /** Sends delete (on BYE) to the call's node and drops the binding, even when the node fails (then 502). */
  delete(rawCallId: string): Promise<void> {
    return this.router.delete(rawCallId);
  }
}
