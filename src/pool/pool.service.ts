import { Inject, Injectable, Logger, OnModuleInit, Optional } from '@nestjs/common';
import type {
  CallBinding, NodeInfo, PrepareCallResponse, RegisterNodeResponse, StartCallResponse,
} from '../contract/contract.types';
import { ControlCallError } from '../node-client/control-call.error';
import { NodeControlClient } from '../node-client/node-control.client';
import { type FailoverPolicy, InjectFailoverPolicy } from './failover/failover-policy.interface';
import { CircuitBreaker } from './health/circuit-breaker';
import { POOL_OPTIONS, type ResolvedPoolOptions } from './pool.module-definition';
import {
  CallNotFoundException, InvalidIdException, NodeFailedException, NodeNotFoundException,
  NoHealthyNodeException, OfferRefusedException, RegistryFullException, StaticNodeConflictException,
  StoreUnavailableException,
} from './pool.errors';
import { PoolEvents } from './pool.events';
import {
  type Binding, type Candidate, candidateOf, effectiveLoad, isDraining, type NodeReport, type NodeState,
} from './pool.types';
import { InjectSelectionStrategy, type SelectionStrategy } from './selection/selection-strategy.interface';
import { InjectPoolStore, type PoolStore } from './store/pool-store.interface';

/** A node's self-description, as a registration carries it (camelCase). */
export interface RegisterNodeInput {
  nodeId: string;
  controlUrl: string;
  mediaIp?: string;
  activeLegs?: number;
  capacity?: number | null;
  weight?: number;
  region?: string | null;
  draining?: boolean;
}

/** Options of one prepare. */
export interface PrepareOptions {
  /** Preferred region: its nodes are tried first, the others after. */
  region?: string;
}

export const MAX_CALL_ID_LENGTH = 256;
// C0 controls and DEL; C1 controls too (they have no business in a SIP header value).
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;
// In a `u` regex a well-formed pair is one code point: only a lone surrogate is \p{Cs}.
const LONE_SURROGATE = /\p{Cs}/u;
const CLAIM_POLL_MS = 10;

/** Trims and checks a call id (CONTRACT §1 "Inputs"); throws a 400 naming the problem. */
export function normalizeCallId(raw: unknown): string {
  if (typeof raw !== 'string') throw new InvalidIdException('call_id must be a string');
  const id = raw.trim();
  if (id.length === 0) throw new InvalidIdException('call_id must not be empty');
  if (id.length > MAX_CALL_ID_LENGTH) throw new InvalidIdException(`call_id must be at most ${MAX_CALL_ID_LENGTH} characters`);
  if (CONTROL_CHARS.test(id)) throw new InvalidIdException('call_id must not contain control characters');
  if (LONE_SURROGATE.test(id)) throw new InvalidIdException('call_id must be well-formed Unicode (no lone surrogates)');
  if (id === '.' || id === '..') throw new InvalidIdException('call_id must not be "." or ".." (a URL dot segment)');
  return id;
}

/**
 * The Pool API: the registry of media nodes and the Call-ID → node bindings, with
 * selection and failover for new calls. The in-process twin of the HTTP contract.
 *
 * No HTTP call is ever made while holding anything: the store's atomic operations are
 * the only critical sections, and listing nodes makes no HTTP call at all.
 */
@Injectable()
export class PoolService implements OnModuleInit {
  private readonly logger = new Logger(PoolService.name);
  /** Prepares in flight on this instance, by call id: overlapping duplicates share one attempt. */
  private readonly inflight = new Map<string, Promise<PrepareCallResponse>>();
  /** Prepare attempts in flight on this instance, by node id: counted as load until their binding is written. */
  private readonly placing = new Map<string, number>();
  /** Candidate objects by node snapshot (see candidateFor). */
  private readonly candidateCache = new WeakMap<Readonly<NodeState>, Candidate>();
  /** This instance's passive failure detection (per node). */
  readonly circuit: CircuitBreaker;
  private nodeTtlSec: number;

  constructor(
    @Inject(POOL_OPTIONS) private readonly options: ResolvedPoolOptions,
    @InjectPoolStore() private readonly store: PoolStore,
    @InjectSelectionStrategy() private readonly strategy: SelectionStrategy,
    @InjectFailoverPolicy() private readonly failover: FailoverPolicy,
    private readonly client: NodeControlClient,
    readonly events: PoolEvents,
    @Optional() circuit?: CircuitBreaker,
  ) {
    this.nodeTtlSec = options.nodeTtlSec;
    this.circuit = circuit ?? new CircuitBreaker(options.circuitResetMs, events);
  }

  async onModuleInit(): Promise<void> {
    const now = Date.now();
    for (const [i, url] of this.options.seedUrls.entries()) {
      await this.store.upsertNode({
        id: `seed-${i + 1}`, controlUrl: url, mediaIp: hostOf(url), activeLegs: 0, capacity: null,
        weight: 1, region: null, reportedDraining: false, static: true, lastSeen: now,
      });
    }
  }

  // ---- registry -------------------------------------------------------------------

  /** Seconds a silent node survives. */
  get ttlSec(): number {
    return this.nodeTtlSec;
  }

  /** The heartbeat interval advertised to registrars: min(10, max(1, ⌊ttl/3⌋)). */
  get heartbeatSec(): number {
    return Math.min(10, Math.max(1, Math.floor(this.nodeTtlSec / 3)));
  }

  /** Changes the node TTL (the Go package's SetTTL); non-positive values are ignored. */
  setTtl(sec: number): void {
    if (Number.isFinite(sec) && sec > 0) this.nodeTtlSec = sec;
  }

  /**
   * Registers or refreshes a node (the heartbeat). Every reported field is replaced:
   * omitted means default (CONTRACT §1 "Heartbeats describe the whole node").
   */
  async register(input: RegisterNodeInput): Promise<RegisterNodeResponse> {
    const report: NodeReport = {
      id: input.nodeId,
      controlUrl: input.controlUrl,
      mediaIp: input.mediaIp ?? '',
      activeLegs: input.activeLegs ?? 0,
      capacity: input.capacity ?? null,
      weight: input.weight ?? 1,
      region: input.region ?? null,
      reportedDraining: input.draining ?? false,
      static: false,
      lastSeen: Date.now(),
    };
    const outcome = await this.store.upsertNode(report, this.options.maxNodes);
    if (outcome === 'conflict') throw new StaticNodeConflictException(report.id);
    if (outcome === 'full') throw new RegistryFullException();
    this.events.emit('register', { nodeId: report.id, created: outcome === 'created' });
    if (outcome === 'created') this.logger.log(`node ${report.id} registered at ${report.controlUrl}`);
    return { node_id: report.id, ttl_sec: this.nodeTtlSec, heartbeat_sec: this.heartbeatSec };
  }

  /** Deregisters a dynamic node; 404 for an unknown or static one. Its bindings stay. */
  async unregister(nodeId: string): Promise<void> {
    const outcome = await this.store.removeNode(nodeId);
    if (outcome !== 'removed') throw new NodeNotFoundException();
    this.circuit.forget(nodeId);
    this.events.emit('unregister', { nodeId });
    this.logger.log(`node ${nodeId} deregistered`);
  }

  /** Removes nodes silent for longer than the TTL and expired bindings; returns the pruned node ids. */
  async prune(now = Date.now()): Promise<string[]> {
    const removed = await this.store.pruneNodes(now - this.nodeTtlSec * 1000);
    await this.store.sweepBindings(now);
    const ids = removed.map((n) => n.id);
    for (const id of ids) this.circuit.forget(id);
    // Bindings to a pruned node stay (until deleted or expired): start/delete still go to
    // its last control URL, and the node may come back. Say how many calls that concerns.
    const orphaned = removed.reduce((sum, n) => sum + n.boundCalls, 0);
    if (ids.length) {
      this.logger.warn(`pruned ${ids.length} silent node(s): ${ids.join(', ')}; ${orphaned} bound call(s) keep their last control URL`);
    }
    this.events.emit('prune', { nodeIds: ids, orphanedBindings: orphaned });
    return ids;
  }

  /** Every known node: static seeds first, then in registration order. */
  async nodes(): Promise<NodeState[]> {
    const all = await this.store.listNodes();
    return all.sort((a, b) => Number(b.static) - Number(a.static) || a.seq - b.seq);
  }

  /** `GET /v1/nodes` rows. Makes no HTTP call. */
  async nodeInfos(): Promise<NodeInfo[]> {
    return (await this.nodes()).map((n) => this.toInfo(n));
  }

  /** One node's row, or 404. */
  async nodeInfo(nodeId: string): Promise<NodeInfo> {
    const n = await this.store.getNode(nodeId);
    if (!n) throw new NodeNotFoundException();
    return this.toInfo(n);
  }

  /** A node's row as this instance sees it: an open circuit shows as unhealthy. */
  private toInfo(n: NodeState): NodeInfo {
    const info = toNodeInfo(n);
    if (this.circuit.state(n.id) !== 'closed') info.healthy = false;
    return info;
  }

  /** Operator drain: the node keeps its calls and gets no new ones, whatever it reports. */
  async drain(nodeId: string): Promise<NodeInfo> {
    return this.setAdminDrain(nodeId, true);
  }

  /** Clears an operator drain. */
  async undrain(nodeId: string): Promise<NodeInfo> {
    return this.setAdminDrain(nodeId, false);
  }

  private async setAdminDrain(nodeId: string, drained: boolean): Promise<NodeInfo> {
    if (!(await this.store.setAdminDrain(nodeId, drained))) throw new NodeNotFoundException();
    return this.nodeInfo(nodeId);
  }

  /**
   * The nodes a new call may go to, in the order to try them: healthy, not draining,
   * below capacity, circuit closed (or due for its half-open trial), then ordered by the
   * strategy, the caller's region first. `load` counts this instance's prepares in flight.
   *
   * When every node that is otherwise eligible has an open circuit, the circuits are
   * ignored (a panic mode, as Envoy's): trying a node that failed a moment ago beats
   * refusing every call until the reset time, and probes still keep out dead nodes.
   */
  async candidates(callId: string, opts: PrepareOptions = {}): Promise<Candidate[]> {
    return this.selectFrom(await this.store.listNodes(), callId, opts).candidates;
  }

  /** Synchronous, so a prepare can reserve its first choice before any other prepare plans. */
  private selectFrom(
    nodes: readonly Readonly<NodeState>[], callId: string, opts: PrepareOptions, limit?: number,
  ): { candidates: Candidate[]; panic: boolean } {
    const eligible: Candidate[] = [];
    const tripped: Candidate[] = [];
    for (const n of nodes) {
      const load = effectiveLoad(n) + (this.placing.get(n.id) ?? 0);
      if (!this.isEligible(n, load)) continue;
      const c = this.candidateFor(n, load);
      if (this.circuit.isCallable(n.id)) eligible.push(c);
      // A node whose half-open trial is running stays out even in panic mode.
      else if (this.circuit.state(n.id) === 'open') tripped.push(c);
    }
    const panic = eligible.length === 0 && tripped.length > 0;
    return { candidates: this.order(panic ? tripped : eligible, callId, opts, limit), panic };
  }

  /**
   * The candidate for a node snapshot. Stores hand out read-only snapshots (the memory
   * store its own, replaced on every change), so the candidate copy is made once per
   * snapshot and only its load is refreshed: copying every node on every prepare was the
   * largest cost at 1,000 nodes. Selection is synchronous, so no one sees a load change mid-order.
   */
  private candidateFor(n: Readonly<NodeState>, load: number): Candidate {
    let c = this.candidateCache.get(n);
    if (!c) {
      c = candidateOf(n, load);
      this.candidateCache.set(n, c);
    } else c.load = load;
    return c;
  }

  private order(eligible: Candidate[], callId: string, opts: PrepareOptions, limit?: number): Candidate[] {
    if (eligible.length === 0) return eligible;
    // With a region the whole order is needed (the region's nodes first, then the rest).
    const ordered = this.strategy.order(eligible, { callId, region: opts.region, limit: opts.region ? undefined : limit });
    if (!opts.region) return ordered;
    const inRegion = ordered.filter((c) => c.region === opts.region);
    return inRegion.length === 0 || inRegion.length === ordered.length
      ? ordered
      : [...inRegion, ...ordered.filter((c) => c.region !== opts.region)];
  }

  /** Whether a node may take a new call. Subclasses may add conditions. */
  protected isEligible(n: Readonly<NodeState>, load: number): boolean {
    return n.healthy && !isDraining(n) && (n.capacity === null || load < n.capacity);
  }

  // ---- calls ----------------------------------------------------------------------

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

  private async prepareOnce(callId: string, offerSdp: string, opts: PrepareOptions): Promise<PrepareCallResponse> {
    const started = Date.now();
    const claimTtlMs = this.options.maxAttempts * this.options.controlTimeoutMs + 1_000;
    let waited = false;
    for (;;) {
      const bound = await this.store.getBinding(callId);
      // A binding that appeared while we waited is the answer to the very prepare we
      // overlapped with (another instance's): share it. Found at once, it is a re-INVITE.
      if (bound) return waited ? toAnswer(bound) : this.reprepare(bound, offerSdp, started);
      if (await this.store.claimCall(callId, claimTtlMs)) break;
      // Another instance is placing this call right now: wait for its binding (or its give-up).
      if (Date.now() - started > claimTtlMs) throw new NodeFailedException('call is being prepared elsewhere');
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
    const { candidates, panic } = this.selectFrom(await this.store.listNodes(), callId, opts, this.options.maxAttempts);
    let last: ControlCallError | undefined;
    let allRefused = true;
    let attempt = 0;
    for (const node of candidates) {
      // The circuit may have opened since the list was made (a concurrent prepare failed
      // there), and an open circuit lets exactly one half-open trial through.
      if (!panic && !this.circuit.tryPass(node.id)) continue;
      attempt++;
      this.placing.set(node.id, (this.placing.get(node.id) ?? 0) + 1);
      try {
        const answer = await this.client.prepare(node.controlUrl, { call_id: callId, offer_sdp: offerSdp });
        this.onNodeSuccess(node);
        const now = Date.now();
        const binding: Binding = {
          callId, nodeId: node.id, controlUrl: node.controlUrl,
          mediaIp: answer.media_ip || node.mediaIp, mediaPort: answer.media_port, codec: answer.codec,
          started: false, createdAt: now, expiresAt: now + this.options.callTtlSec * 1000,
        };
        await this.store.putBinding(binding, true);
        this.emitPrepare(callId, node.id, 'ok', started, attempt, false);
        return toAnswer(binding);
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
        if (!this.failover.shouldRetry(err, attempt, Date.now() - started, node)) break;
      } finally {
        const left = (this.placing.get(node.id) ?? 1) - 1;
        if (left > 0) this.placing.set(node.id, left);
        else this.placing.delete(node.id);
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
    const node = await this.store.getNode(bound.nodeId);
    const url = node?.controlUrl ?? bound.controlUrl;
    try {
      const answer = await this.client.prepare(url, { call_id: bound.callId, offer_sdp: offerSdp });
      if (node) this.onNodeSuccess(node);
      const now = Date.now();
      const binding: Binding = {
        ...bound, controlUrl: url, mediaIp: answer.media_ip || node?.mediaIp || bound.mediaIp,
        mediaPort: answer.media_port, codec: answer.codec, started: false,
        expiresAt: now + this.options.callTtlSec * 1000,
      };
      await this.store.putBinding(binding, false);
      this.emitPrepare(bound.callId, bound.nodeId, 'ok', started, 1, true);
      return toAnswer(binding);
    } catch (e) {
      if (e instanceof StoreUnavailableException) throw e;
      const err = asControlError(e);
      if (node) this.onNodeFailure(node, err);
      const outcome = err.kind === 'client' ? 'refused' : 'failed';
      this.emitPrepare(bound.callId, bound.nodeId, outcome, started, 1, true);
      throw err.kind === 'client' ? new OfferRefusedException(err.message) : new NodeFailedException(err.message);
    }
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
    const b = await this.store.getBinding(callId);
    if (!b) {
      this.events.emit('start', { callId, outcome: 'not_found' });
      throw new CallNotFoundException();
    }
    const { node, url } = await this.route(b);
    try {
      await this.client.start(url, callId);
    } catch (e) {
      const err = asControlError(e);
      if (node) this.onNodeFailure(node, err);
      this.events.emit('start', { callId, nodeId: b.nodeId, outcome: 'failed' });
      throw new NodeFailedException(err.message);
    }
    if (node) this.onNodeSuccess(node);
    await this.store.markStarted(callId);
    this.events.emit('start', { callId, nodeId: b.nodeId, outcome: 'ok' });
    return { call_id: callId, node_id: b.nodeId };
  }

  /**
   * Sends delete (on BYE) to the call's node and drops the binding — even when the
   * node fails (then 502). A node that no longer knows the leg (404) counts as deleted.
   */
  async delete(rawCallId: string): Promise<void> {
    const callId = normalizeCallId(rawCallId);
    // Remove first: of two concurrent BYEs exactly one owns the delete.
    const b = await this.store.deleteBinding(callId);
    if (!b) {
      this.events.emit('delete', { callId, outcome: 'not_found' });
      throw new CallNotFoundException();
    }
    const { node, url } = await this.route(b);
    try {
      await this.client.delete(url, callId);
    } catch (e) {
      const err = asControlError(e);
      if (node) this.onNodeFailure(node, err);
      this.events.emit('delete', { callId, nodeId: b.nodeId, outcome: 'failed' });
      throw new NodeFailedException(err.message);
    }
    if (node) this.onNodeSuccess(node);
    this.events.emit('delete', { callId, nodeId: b.nodeId, outcome: 'ok' });
  }

  /** The node of a binding and the URL to reach it: its current one if it re-registered elsewhere. */
  private async route(b: Binding): Promise<{ node?: NodeState; url: string }> {
    const node = await this.store.getNode(b.nodeId);
    return { node, url: node?.controlUrl ?? b.controlUrl };
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

  private emitPrepare(
    callId: string, nodeId: string | undefined, outcome: 'ok' | 'refused' | 'failed' | 'no_nodes',
    started: number, attempts: number, reinvite: boolean,
  ): void {
    this.events.emit('prepare', { callId, nodeId, outcome, durationMs: Date.now() - started, attempts, reinvite });
  }
}

function asControlError(e: unknown): ControlCallError {
  if (e instanceof ControlCallError) return e;
  return new ControlCallError('protocol', e instanceof Error ? e.message : String(e));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return '';
  }
}

export function toNodeInfo(n: NodeState): NodeInfo {
  return {
    node_id: n.id, control_url: n.controlUrl, media_ip: n.mediaIp, active_legs: n.activeLegs,
    healthy: n.healthy, static: n.static, capacity: n.capacity, weight: n.weight, region: n.region,
    draining: isDraining(n), last_seen: new Date(n.lastSeen).toISOString(), bound_calls: n.boundCalls,
  };
}

export function toCallBinding(b: Binding): CallBinding {
  return {
    call_id: b.callId, node_id: b.nodeId, control_url: b.controlUrl, media_ip: b.mediaIp,
    media_port: b.mediaPort, codec: b.codec, started: b.started, created_at: new Date(b.createdAt).toISOString(),
  };
}

function toAnswer(b: Binding): PrepareCallResponse {
  return {
    call_id: b.callId, node_id: b.nodeId, media_ip: b.mediaIp, media_port: b.mediaPort,
    codec: b.codec, control_url: b.controlUrl,
  };
}
