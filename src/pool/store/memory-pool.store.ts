import { type Binding, type HealthReport, type NodeReport, type NodeState, nodeOf, nodeState } from '../pool.types';
import type {
  BindExpectation, BindOutcome, CallHold, ClaimFailure, ClaimResult, DeleteCallResult, PoolStore, RemoveOutcome, Tombstone, UpsertOutcome,
} from './pool-store.interface';
import { ExpiringMap } from './expiring-map';
import { LoadIndex } from './load-index';
import { CallIndex } from './sorted-ids';

/**
 * The embedded default store: one process, nothing shared, nothing survives a restart.
 * Plain maps; every method completes synchronously, so each is atomic on the event loop.
 *
 * Node objects are copy-on-write: a change replaces a node's object and never mutates it,
 * so `getNode`/`listNodes` hand out the stored objects themselves (read-only snapshots).
 * A prepare may list every node, and copying them all on each prepare would cost more than the prepare.
 * Every stored object is built by `nodeState`, so all share one hidden class.
 */
export class MemoryPoolStore implements PoolStore {
  /** Never unavailable: the router keeps no route cache for it. */
  readonly inProcess = true;
  private readonly nodes = new Map<string, NodeState>();
  /** The same nodes, lightest first (see nodesByLoad). */
  private readonly byLoad = new LoadIndex();
  private readonly bindings = new Map<string, Binding>();
  /** Claims of first prepares: the holder's token. */
  private readonly claims: ExpiringMap<string>;
  private readonly failures: ExpiringMap<{ token: string; failure: ClaimFailure }>;
  private readonly tombstones: ExpiringMap<Tombstone>;
  private readonly leases: ExpiringMap<string>;
  private readonly migrations: ExpiringMap<true>;
  /** Call ids by node (pages of one node's calls), and all of them (pages of every call). */
  private readonly calls = new CallIndex();
  private seq = 0;
  private dynamicCount = 0;

  /** @param now clock in epoch ms (tests pass their own). */
  constructor(private readonly now: () => number = Date.now) {
    [this.claims, this.failures, this.tombstones, this.leases, this.migrations] = [1, 2, 3, 4, 5].map(() => new ExpiringMap<never>(now));
  }

  async upsertNode(report: NodeReport, maxNodes = Infinity): Promise<UpsertOutcome> {
    const prev = this.nodes.get(report.id);
    if (prev?.static && !report.static) return 'conflict';
    if (!prev && !report.static && this.dynamicCount >= maxNodes) return 'full';
    if (!prev && !report.static) this.dynamicCount++;
    this.put(prev, nodeOf(report, {
      healthy: prev?.healthy ?? true,
      adminDrained: prev?.adminDrained ?? false,
      drainDeadline: prev?.drainDeadline ?? null,
      pendingLegs: 0,
      // A node that comes back finds the calls still bound to it (they stay through its removal).
      boundCalls: prev?.boundCalls ?? this.calls.sizeOf(report.id),
      seq: prev?.seq ?? ++this.seq,
    }));
    return prev ? 'updated' : 'created';
  }

  async getNode(id: string): Promise<Readonly<NodeState> | undefined> {
    return this.nodes.get(id);
  }

  async listNodes(): Promise<Readonly<NodeState>[]> {
    // Map iteration is insertion order, which is seq order.
    return Array.from(this.nodes.values());
  }

  nodesByLoad(): readonly Readonly<NodeState>[] {
    return this.byLoad.nodes;
  }

  async removeNode(id: string): Promise<RemoveOutcome> {
    const n = this.nodes.get(id);
    if (!n) return 'not-found';
    if (n.static) return 'static';
    this.nodes.delete(id);
    this.byLoad.delete(n);
    this.dynamicCount--;
    return 'removed';
  }

  async pruneNodes(cutoffMs: number): Promise<Readonly<NodeState>[]> {
    const removed: NodeState[] = [];
    for (const n of this.nodes.values()) {
      if (!n.static && n.lastSeen < cutoffMs) {
        this.nodes.delete(n.id);
        this.byLoad.delete(n);
        this.dynamicCount--;
        removed.push(n);
      }
    }
    return removed;
  }

  async setHealth(id: string, healthy: boolean, report?: HealthReport): Promise<void> {
    const n = this.nodes.get(id);
    if (!n) return;
    const patch: Partial<NodeState> = { healthy };
    if (report) {
      if (report.activeLegs !== undefined) {
        patch.activeLegs = report.activeLegs;
        patch.pendingLegs = 0;
      }
      if (report.mediaIp !== undefined) patch.mediaIp = report.mediaIp;
      if (report.capacity !== undefined) patch.capacity = report.capacity;
      if (report.reportedDraining !== undefined) patch.reportedDraining = report.reportedDraining;
    }
    this.replace(n, patch);
  }

  async setAdminDrain(id: string, drained: boolean, deadlineMs: number | null = null): Promise<boolean> {
    const n = this.nodes.get(id);
    if (!n) return false;
    this.replace(n, { adminDrained: drained, drainDeadline: drained ? deadlineMs : null });
    return true;
  }

  async claimCall(callId: string, ttlMs: number): Promise<boolean> {
    return (await this.claim(callId, ttlMs, '')).claimed;
  }

  async releaseClaim(callId: string): Promise<void> {
    this.claims.delete(callId);
  }

  async isClaimed(callId: string): Promise<boolean> {
    return this.claims.get(callId) !== undefined;
  }

  async claim(callId: string, ttlMs: number, token: string, waitingFor?: string): Promise<ClaimResult> {
    const b = this.live(callId);
    if (b) return { claimed: false, bound: true, binding: { ...b } };
    // The failure of the holder waited for is shared even if another holds the claim by now.
    const f = this.failures.get(callId);
    if (waitingFor !== undefined && f?.token === waitingFor) return { claimed: false, failure: f.failure };
    const held = this.claims.get(callId);
    if (held !== undefined) return { claimed: false, holder: held };
    this.claims.set(callId, token, ttlMs);
    return { claimed: true };
  }

  async giveUpClaim(callId: string, token: string, failure?: ClaimFailure, failureTtlMs = 5_000): Promise<void> {
    if (this.claims.get(callId) !== token) return;
    this.claims.delete(callId);
    if (failure) this.failures.set(callId, { token, failure }, failureTtlMs);
  }

  async bindCall(binding: Binding, expect: BindExpectation): Promise<BindOutcome> {
    if ('claim' in expect) {
      if (this.claims.get(binding.callId) !== expect.claim) {
        return this.tombstones.get(binding.callId)?.claim === expect.claim ? 'deleted' : 'lost';
      }
      this.tombstones.delete(binding.callId);
      await this.putBinding(binding, true);
      return 'bound';
    }
    const cur = this.live(binding.callId);
    if (!cur || cur.nodeId !== expect.nodeId || cur.createdAt !== expect.createdAt) return 'deleted';
    await this.putBinding(binding, false);
    return 'bound';
  }

  async deleteCall(callId: string, tombstoneTtlMs: number, hold?: CallHold): Promise<DeleteCallResult> {
    const earlier = this.tombstones.get(callId);
    const binding = await this.deleteBinding(callId);
    const claim = this.claims.get(callId);
    if (claim !== undefined) this.claims.delete(callId);
    if (binding && hold) this.claims.set(callId, hold.token, hold.ttlMs);
    if (binding || claim !== undefined) {
      // Without a binding, the earlier DELETE's node stays named: its leg may still be there.
      const from = binding ?? earlier;
      const t: Tombstone = { callId, nodeId: from?.nodeId, controlUrl: from?.controlUrl, claim };
      this.tombstones.set(callId, t, tombstoneTtlMs);
    }
    return earlier ? { binding, overtookClaim: claim !== undefined, earlier } : { binding, overtookClaim: claim !== undefined };
  }

  async unbindIf(callId: string, match: { nodeId: string; createdAt: number; version?: string }): Promise<boolean> {
    const b = this.live(callId);
    if (!b || b.nodeId !== match.nodeId || b.createdAt !== match.createdAt) return false;
    if (match.version !== undefined && b.version !== match.version) return false;
    await this.deleteBinding(callId);
    return true;
  }

  async acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    const cur = this.leases.get(name);
    if (cur !== undefined && cur !== holder) return false;
    this.leases.set(name, holder, ttlMs);
    return true;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    if (this.leases.get(name) === holder) this.leases.delete(name);
  }

  async putBinding(binding: Binding, isNew: boolean): Promise<void> {
    const prev = this.live(binding.callId);
    this.bindings.set(binding.callId, { ...binding });
    this.claims.delete(binding.callId);
    if (prev) this.unindex(prev);
    this.index(binding);
    if (isNew || !prev) this.count(binding.nodeId, +1, true);
    else if (prev.nodeId !== binding.nodeId) {
      this.count(prev.nodeId, -1, false);
      this.count(binding.nodeId, +1, false);
    }
  }

  async getBinding(callId: string): Promise<Binding | undefined> {
    const b = this.live(callId);
    return b && { ...b };
  }

  async markStarted(callId: string): Promise<Binding | undefined> {
    const b = this.live(callId);
    if (!b) return undefined;
    b.started = true;
    return { ...b };
  }

  async deleteBinding(callId: string): Promise<Binding | undefined> {
    const b = this.live(callId);
    if (!b) return undefined;
    this.bindings.delete(callId);
    this.unindex(b);
    this.count(b.nodeId, -1, true);
    return b;
  }

  async bindingsOfNode(nodeId: string | undefined, limit: number, cursor?: string): Promise<{ bindings: Binding[]; next?: string }> {
    return this.calls.page(nodeId, limit, cursor, (id) => {
      const b = this.live(id);
      return b && { ...b };
    });
  }

  async swapBinding(callId: string, expectedNodeId: string, next: Binding): Promise<boolean> {
    const prev = this.live(callId);
    if (!prev || prev.nodeId !== expectedNodeId) return false;
    this.bindings.set(callId, { ...next, callId });
    this.unindex(prev);
    this.index(next);
    if (prev.nodeId !== next.nodeId) {
      this.count(prev.nodeId, -1, true);
      this.count(next.nodeId, +1, true);
    }
    return true;
  }

  async claimMigration(callId: string, ttlMs: number): Promise<boolean> {
    if (this.migrations.get(callId)) return false;
    this.migrations.set(callId, true, ttlMs);
    return true;
  }

  async releaseMigration(callId: string): Promise<void> {
    this.migrations.delete(callId);
  }

  async sweepBindings(nowMs: number): Promise<number> {
    for (const m of [this.claims, this.failures, this.tombstones, this.leases, this.migrations]) m.sweep(nowMs);
    let n = 0;
    for (const b of this.bindings.values()) {
      if (b.expiresAt <= nowMs) {
        this.expire(b);
        n++;
      }
    }
    return n;
  }

  async ping(): Promise<void> {}

  /** The binding if it has not expired; an expired one is dropped on sight. */
  private live(callId: string): Binding | undefined {
    const b = this.bindings.get(callId);
    if (b && b.expiresAt <= this.now()) {
      this.expire(b);
      return undefined;
    }
    return b;
  }

  private expire(b: Binding): void {
    this.bindings.delete(b.callId);
    this.unindex(b);
    // An expired binding's leg is long gone from the node's own report: only the bound count moves.
    const n = this.nodes.get(b.nodeId);
    if (n) this.replace(n, { boundCalls: Math.max(0, n.boundCalls - 1) });
  }

  private index(b: Binding): void {
    this.calls.add(b.callId, b.nodeId, this.nodes.has(b.nodeId));
  }

  private unindex(b: Binding): void {
    this.calls.delete(b.callId, b.nodeId);
  }

  private count(nodeId: string, delta: number, pending: boolean): void {
    const n = this.nodes.get(nodeId);
    if (!n) return;
    this.replace(n, { boundCalls: Math.max(0, n.boundCalls + delta), pendingLegs: pending ? n.pendingLegs + delta : n.pendingLegs });
  }

  /** Copy-on-write: the node's object is replaced, never changed (readers hold snapshots). */
  private replace(n: NodeState, patch: Partial<NodeState>): void {
    this.put(n, Object.assign(nodeState(n), patch));
  }

  /** Every node change goes through here: the map and the load index. */
  private put(prev: NodeState | undefined, next: NodeState): void {
    this.nodes.set(next.id, next);
    this.byLoad.put(prev, next);
  }
}
