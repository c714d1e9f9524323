import { type HealthReport, type NodeReport, type NodeState, nodeOf, nodeState } from '../core/pool.types';
import type { RemoveOutcome, UpsertOutcome } from '../core/pool-store.interface';
import { LoadIndex } from './load-index';

/**
 * The nodes of {@link MemoryPoolStore}: a map by id and the same nodes lightest first.
 *
 * Node objects are copy-on-write: a change replaces a node's object and never mutates it,
 * so readers get the stored objects themselves (read-only snapshots). A prepare lists every
 * node; copying 1,000 of them per prepare cost ~0.4 ms (bench/ §2). Every stored object is
 * built by `nodeState`, so all share one hidden class.
 */
export class MemoryNodeTable {
  private readonly nodes = new Map<string, NodeState>();
  /** The same nodes, lightest first (see nodesByLoad). */
  private readonly byLoad = new LoadIndex();
  private seq = 0;
  private dynamicCount = 0;

  /** @param boundCalls for a node first seen (or seen again after its removal): the calls still bound to it. */
  upsert(report: NodeReport, maxNodes: number, boundCalls: (id: string) => number): UpsertOutcome {
    const prev = this.nodes.get(report.nodeId);
    if (prev?.static && !report.static) return 'conflict';
    if (!prev && !report.static && this.dynamicCount >= maxNodes) return 'full';
    if (!prev && !report.static) this.dynamicCount++;
    this.put(prev, nodeOf(report, {
      healthy: prev?.healthy ?? true,
      adminDrained: prev?.adminDrained ?? false,
      drainDeadline: prev?.drainDeadline ?? null,
      pendingLegs: 0,
      // A node that comes back finds the calls still bound to it (they stay through its removal).
      boundCalls: prev?.boundCalls ?? boundCalls(report.nodeId),
      seq: prev?.seq ?? ++this.seq,
    }));
    return prev ? 'updated' : 'created';
  }

  get(id: string): Readonly<NodeState> | undefined {
    return this.nodes.get(id);
  }

  has(id: string): boolean {
    return this.nodes.has(id);
  }

  list(): Readonly<NodeState>[] {
    // Map iteration is insertion order, which is seq order.
    return Array.from(this.nodes.values());
  }

  lightestFirst(): readonly Readonly<NodeState>[] {
    return this.byLoad.nodes;
  }

  remove(id: string): RemoveOutcome {
    const n = this.nodes.get(id);
    if (!n) return 'not-found';
    if (n.static) return 'static';
    this.drop(n);
    return 'removed';
  }

  prune(cutoffMs: number): Readonly<NodeState>[] {
    const removed: NodeState[] = [];
    for (const n of this.nodes.values()) {
      if (!n.static && n.lastSeen < cutoffMs) {
        this.drop(n);
        removed.push(n);
      }
    }
    return removed;
  }

  setHealth(id: string, healthy: boolean, report?: HealthReport): void {
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

  setAdminDrain(id: string, drained: boolean, deadlineMs: number | null): boolean {
    const n = this.nodes.get(id);
    if (!n) return false;
    this.replace(n, { adminDrained: drained, drainDeadline: drained ? deadlineMs : null });
    return true;
  }

  /** A call bound to (+1) or unbound from (-1) the node; `pending` also moves its legs placed since its last report. */
  count(nodeId: string, delta: number, pending: boolean): void {
    const n = this.nodes.get(nodeId);
    if (!n) return;
    this.replace(n, { boundCalls: Math.max(0, n.boundCalls + delta), pendingLegs: pending ? n.pendingLegs + delta : n.pendingLegs });
  }

  private drop(n: NodeState): void {
    this.nodes.delete(n.nodeId);
    this.byLoad.delete(n);
    this.dynamicCount--;
  }

  /** Copy-on-write: the node's object is replaced, never changed (readers hold snapshots). */
  private replace(n: NodeState, patch: Partial<NodeState>): void {
    this.put(n, Object.assign(nodeState(n), patch));
  }

  /** Every node change goes through here: the map and the load index. */
  private put(prev: NodeState | undefined, next: NodeState): void {
    this.nodes.set(next.nodeId, next);
    this.byLoad.put(prev, next);
  }
}
