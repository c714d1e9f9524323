import { Inject } from '@nestjs/common';
import type { Binding, HealthReport, NodeReport, NodeState } from '../pool.types';

export const POOL_STORE = Symbol('RTP_POOL_STORE');
/** Injects the active {@link PoolStore}. */
export const InjectPoolStore = () => Inject(POOL_STORE);

export type UpsertOutcome =
  /** A new node. */
  | 'created'
  /** An existing node refreshed. */
  | 'updated'
  /** The id belongs to a static seed and the report is not static: nothing changed. */
  | 'conflict'
  /** The node is new and the store already holds `maxNodes` dynamic nodes: nothing changed. */
  | 'full';

export type RemoveOutcome = 'removed' | 'not-found' | 'static';

/** What a store says about itself for readiness (`/health/ready`): never credentials. */
export type StoreDescription = Record<string, string | number | boolean>;

/**
 * Where the pool keeps nodes, bindings and load counters. Every method is async so a
 * shared store (Redis) can implement it; every method that reads-then-writes is atomic
 * in the store, because several signaling instances may call it at once.
 */
export interface PoolStore {
  /**
   * Heartbeat upsert: replaces every reported field, refreshes `lastSeen`, resets the
   * pending count; keeps `healthy`, `adminDrained`, `seq` of an existing node.
   * @param maxNodes refuse a *new* dynamic node beyond this many (`'full'`); static reports are never refused.
   */
  upsertNode(report: NodeReport, maxNodes?: number): Promise<UpsertOutcome>;
  /** One node, or undefined. Read-only: the store may hand out its own snapshot object. */
  getNode(id: string): Promise<Readonly<NodeState> | undefined>;
  /**
   * Every node, ordered by `seq`, in a fresh array. The node objects are read-only: a store
   * may hand out its own snapshots (the memory store does, so a prepare copies nothing).
   */
  listNodes(): Promise<Readonly<NodeState>[]>;
  /** Deregisters a dynamic node; static seeds are refused. */
  removeNode(id: string): Promise<RemoveOutcome>;
  /** Removes every dynamic node whose `lastSeen` is before `cutoffMs`; returns them as they were. */
  pruneNodes(cutoffMs: number): Promise<Readonly<NodeState>[]>;
  /** Records a probe or control-call outcome; a report with `activeLegs` resets the pending count. No-op for an unknown id. */
  setHealth(id: string, healthy: boolean, report?: HealthReport): Promise<void>;
  /**
   * Sets or clears the operator drain; false when the node is unknown. `deadlineMs` (epoch
   * ms) is the drain's deadline; omitted or null, none. Clearing the drain clears it too.
   */
  setAdminDrain(id: string, drained: boolean, deadlineMs?: number | null): Promise<boolean>;

  /**
   * Claims a call id for a first prepare: true for exactly one of concurrent claimants. The claim lapses after `ttlMs`.
   * False while the call id has a live binding: a claimant that read "unbound" just before another
   * instance bound the call must not place it a second time.
   */
  claimCall(callId: string, ttlMs: number): Promise<boolean>;
  /** Gives a claim up without binding (every node failed). */
  releaseClaim(callId: string): Promise<void>;
  /** True while a claim is held. */
  isClaimed(callId: string): Promise<boolean>;
  /**
   * Writes a binding (valid until `binding.expiresAt`) and releases the claim. When
   * `isNew`, the node's pending and bound counts go up by one; a re-INVITE passes false.
   */
  putBinding(binding: Binding, isNew: boolean): Promise<void>;
  /** The live binding of a call id, or undefined (expired bindings are invisible). */
  getBinding(callId: string): Promise<Binding | undefined>;
  /** Marks a binding started; returns it, or undefined when unbound. */
  markStarted(callId: string): Promise<Binding | undefined>;
  /** Removes a binding, lowering its node's pending and bound counts; returns it, or undefined. */
  deleteBinding(callId: string): Promise<Binding | undefined>;
  /**
   * One page of live bindings: of one node, or of every node when `nodeId` is undefined,
   * in a stable order (by call id), after `cursor` (a `next` of an earlier page). `next` is
   * set when more may follow. Served from a per-node index: never a scan over all calls.
   */
  bindingsOfNode(nodeId: string | undefined, limit: number, cursor?: string): Promise<{ bindings: Binding[]; next?: string }>;
  /**
   * Compare-and-set of a call's node (a migrate): when the call's live binding is on
   * `expectedNodeId`, replaces it with `next` (and moves the bound and pending counts and the
   * per-node index from the old node to the new one) and returns true; otherwise changes
   * nothing and returns false. Atomic.
   */
  swapBinding(callId: string, expectedNodeId: string, next: Binding): Promise<boolean>;
  /**
   * Claims the migration of a bound call: true for exactly one of concurrent claimants
   * (across instances) until `ttlMs` passes or {@link releaseMigration}. Independent of
   * {@link claimCall} (a bound call is migrated, not placed).
   */
  claimMigration(callId: string, ttlMs: number): Promise<boolean>;
  /** Gives a migration claim up. */
  releaseMigration(callId: string): Promise<void>;
  /** Drops bindings that expired before `nowMs` (and their bound counts); returns how many. */
  sweepBindings(nowMs: number): Promise<number>;
  /** Resolves when the store can serve requests (readiness); rejects otherwise. */
  ping(): Promise<void>;
  /**
   * Optional: the store's kind and connection state, shown by readiness (the Redis store:
   * topology, target without credentials, connected or not). Synchronous and cheap.
   */
  describe?(): StoreDescription;
}
