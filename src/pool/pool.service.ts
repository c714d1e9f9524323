import { Injectable } from '@nestjs/common';
import type {
  CallBinding, CallListResponse, MigrateCallResponse, NodeInfo, PrepareCallResponse, RegisterNodeResponse, StartCallResponse,
} from '../contract/contract.types';
import { encodeCallCursor } from '../contract/cursor';
import { toCallBinding } from '../contract/mappers';
import { CallMigrator, type MigrateOptions } from './calls/call-migrator';
import { CallRouter } from './calls/call-router';
import { PoolHooks } from './core/pool.hooks';
import type { Candidate, NodeState } from './core/pool.types';
import { NodeRegistry, type RegisterNodeInput } from './registry/node-registry';
import { CandidateSelector, type PrepareOptions } from './selection/candidate-selector';
import { type CallStore, InjectPoolStore } from './core/pool-store.interface';

/** What {@link PoolService.listCalls} pages through. */
export interface ListCallsOptions {
  /** Only this node's calls; every node's without it. */
  nodeId?: string;
  /** Calls per page (1–1,000). @default 100 */
  limit?: number;
  /** The call id the page starts after (the decoded `next_cursor` of the previous page). */
  after?: string;
}

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
    private readonly migrator: CallMigrator,
    @InjectPoolStore() private readonly store: CallStore,
    /** Everything the pool does, as events (metrics, logs, the dashboard listen here). */
    readonly hooks: PoolHooks,
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

  /**
   * Operator drain: the node keeps its calls and gets no new ones, whatever it reports.
   * With `deadlineSec`, `drain_deadline` is emitted once if calls are still bound then.
   */
  drain(nodeId: string, deadlineSec?: number): Promise<NodeInfo> {
    return this.registry.drain(nodeId, deadlineSec);
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

  /**
   * Moves a bound call to another node (or to `opts.nodeId`): a new leg with `offerSdp`,
   * the binding swapped, the old leg deleted. See {@link CallMigrator.migrate}.
   */
  migrate(rawCallId: string, offerSdp: string, opts: MigrateOptions = {}): Promise<MigrateCallResponse> {
    return this.migrator.migrate(rawCallId, offerSdp, opts);
  }

  /** One page of bindings (of one node, or all), by call id; `next_cursor` is null on the last page. */
  async listCalls(opts: ListCallsOptions = {}): Promise<CallListResponse> {
    const limit = Math.min(1_000, Math.max(1, Math.floor(opts.limit ?? 100)));
    const { bindings, next } = await this.store.bindingsOfNode(opts.nodeId, limit, opts.after);
    return { calls: bindings.map(toCallBinding), next_cursor: next === undefined ? null : encodeCallCursor(next) };
  }

  /** Sends delete (on BYE) to the call's node and drops the binding, even when the node fails (then 502). */
  delete(rawCallId: string): Promise<void> {
    return this.router.delete(rawCallId);
  }
}
