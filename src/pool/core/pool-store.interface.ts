import { Inject } from '@nestjs/common';
import type { PoolErrorCode } from '../../contract/pool-error';
import type { Binding, HealthReport, NodeReport, NodeState } from './pool.types';

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

/** Why a first prepare gave its claim up: shared with the instances that waited on it. */
export interface ClaimFailure {
  /** The code of the holder's error (RTP_OFFER_REFUSED, RTP_NODE_FAILED, RTP_NO_HEALTHY_NODES, …). */
  code: PoolErrorCode;
  /** Its `error` text. */
  message: string;
}

/** What {@link PoolStore.claim} found. */
export type ClaimResult =
  /** The caller holds the claim now (under its token). */
  | { claimed: true }
  /**
   * Someone else holds it (`holder`: their token), or the call is bound. A store that read
   * the live binding while it looked (both built-in stores) hands it over in `binding`, which
   * saves the caller a {@link PoolStore.getBinding} (a round trip on Redis); without it the
   * caller reads the binding itself.
   */
  | { claimed: false; holder?: string; bound?: boolean; binding?: Binding }
  /** The holder the caller waited for gave up with this failure: share it. */
  | { claimed: false; failure: ClaimFailure };

/** What a binding write must find to go through. */
export type BindExpectation =
  /** A first prepare: the caller's claim still held under this token. */
  | { claim: string }
  /** A re-INVITE: the same binding still there (same node, same `createdAt`). */
  | { nodeId: string; createdAt: number };

/**
 * - `bound`: written.
 * - `deleted`: a DELETE overtook the operation (its claim was turned into a tombstone, or the binding is gone).
 * - `lost`: the claim lapsed or is someone else's; nothing written.
 */
export type BindOutcome = 'bound' | 'deleted' | 'lost';

/** What a DELETE left behind: the call's node, for a delete repeated after an unknown outcome. */
export interface Tombstone {
  callId: string;
  /** The deleted binding's node, when there was a binding. */
  nodeId?: string;
  controlUrl?: string;
  /** The claim token the DELETE overtook, when it overtook a first prepare. */
  claim?: string;
}

/**
 * A DELETE's hold on the call while its node DELETE is in flight: the call's claim, under
 * `token`, for at most `ttlMs`. A node DELETE goes by call id and removes whatever leg of
 * that id the node holds when it arrives; while the claim is held no prepare of the call id
 * (on any instance) places a leg, so a new one cannot be removed by it. The DELETE gives the
 * claim up ({@link PoolStore.giveUpClaim}) once the node answered.
 */
export interface CallHold {
  token: string;
  ttlMs: number;
}

/** What {@link PoolStore.deleteCall} did. */
export interface DeleteCallResult {
  /** The binding it removed. */
  binding?: Binding;
  /** True when it overtook a first prepare in flight (a claim, no binding yet). */
  overtookClaim: boolean;
  /**
   * The tombstone an earlier DELETE of this call left, whatever this one found: that
   * delete's node, whose leg may still be there (the earlier DELETE's own answer may have
   * been lost while the store stalled).
   */
  earlier?: Tombstone;
}

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
  /**
   * Optional, synchronous: every node, lightest first — `effectiveLoad` then id —
   * kept up to date by the store (the memory store's `LoadIndex`). With it, the default
   * least-loaded selection reads the first few nodes of a prepare instead of every node.
   * The array is the store's own: read it at once, do not keep it across an await.
   */
  nodesByLoad?(): readonly Readonly<NodeState>[];
  /**
   * Optional, for a store whose load index lives elsewhere (the Redis store's `load` zset):
   * the `count` lightest nodes in the same order as `nodesByLoad`, and whether they are
   * every node. Read in one round trip; the selection lists every node when the page
   * cannot settle it.
   */
  lightestNodes?(count: number): Promise<{ nodes: readonly Readonly<NodeState>[]; complete: boolean }>;
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
   * @deprecated The pool no longer calls it: prepares, left-leg deletes and reconciliation go
   * through {@link claim} (with a token) and {@link giveUpClaim}. Still part of the interface,
   * and still checked by the store contract tests; to be removed in a release that says so.
   */
  claimCall(callId: string, ttlMs: number): Promise<boolean>;
  /**
   * Gives a claim up without binding (every node failed).
   * @deprecated As {@link claimCall}: use {@link giveUpClaim}, which only gives up the caller's own claim.
   */
  releaseClaim(callId: string): Promise<void>;
  /**
   * True while a claim is held.
   * @deprecated As {@link claimCall}: a read of the claim cannot stop a prepare that starts right after it; the pool takes the claim itself.
   */
  isClaimed(callId: string): Promise<boolean>;
  /**
   * Writes a binding (valid until `binding.expiresAt`) and releases the claim. When
   * `isNew`, the node's pending and bound counts go up by one; a re-INVITE passes false.
   */
  putBinding(binding: Binding, isNew: boolean): Promise<void>;
  /** The live binding of a call id, or undefined (expired bindings are invisible). */
  getBinding(callId: string): Promise<Binding | undefined>;
  /**
   * Marks a binding started; returns it, or undefined when unbound. With `expect`, only the
   * binding described (same node, and same `version` when given): a start that went to the
   * node of a binding a migration has replaced since must not mark the new one, whose leg
   * got no start (undefined then).
   */
  markStarted(callId: string, expect?: { nodeId: string; version?: string }): Promise<Binding | undefined>;
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

  // ---- no leg left behind (CONTRACT §7) -------------------------------------------

  /**
   * Claims a call id for a first prepare under `token`. Refused while bound (looked at first:
   * a live binding is the answer whoever holds a claim) or claimed.
   * With `waitingFor` (the token of a holder this caller saw), a failure that holder
   * recorded when it gave up is returned instead (looked at before the claim: another may
   * hold it by now, e.g. a left leg's delete), so waiters share the outcome.
   */
  claim(callId: string, ttlMs: number, token: string, waitingFor?: string): Promise<ClaimResult>;
  /** Gives up a claim held under `token` (no-op otherwise); records `failure` for waiters for `failureTtlMs`. */
  giveUpClaim(callId: string, token: string, failure?: ClaimFailure, failureTtlMs?: number): Promise<void>;
  /**
   * Writes a binding when `expect` still holds, atomically: the first prepare's claim
   * (then the claim is dropped and counts go up) or the re-INVITE's binding.
   */
  bindCall(binding: Binding, expect: BindExpectation): Promise<BindOutcome>;
  /**
   * A DELETE: removes the binding, or the claim of a first prepare in flight, and leaves a
   * tombstone (for `tombstoneTtlMs`) naming the binding's node (without a binding, the
   * earlier tombstone's node) and the overtaken claim. It reports the tombstone of an
   * earlier delete, if any. With `hold`, a binding removed leaves the call claimed under
   * `hold.token` ({@link CallHold}); a store without it behaves as before, minus that guard.
   */
  deleteCall(callId: string, tombstoneTtlMs: number, hold?: CallHold): Promise<DeleteCallResult>;
  /**
   * Compare-and-delete: removes the binding only if it is still the one described (same
   * node and `createdAt`, and same `version` when given). True when it removed it.
   */
  unbindIf(callId: string, match: { nodeId: string; createdAt: number; version?: string }): Promise<boolean>;
  /** Bindings to one node, in pages of at most `limit`; `next` is the cursor of the next page. */
  bindingsOfNode(nodeId: string, limit: number, cursor?: string): Promise<{ bindings: Binding[]; next?: string }>;
  /** Takes or renews (same `holder`) a named lease for `ttlMs`; false while another holder has it. */
  acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Gives a lease up if `holder` has it. */
  releaseLease(name: string, holder: string): Promise<void>;

  /** Resolves when the store can serve requests (readiness); rejects otherwise. */
  ping(): Promise<void>;
  /**
   * Optional: the store's kind and connection state, shown by readiness (the Redis store:
   * topology, target without credentials, connected or not). Synchronous and cheap.
   */
  describe?(): StoreDescription;
  /**
   * Optional: true for a store held in this process, whose calls answer or throw at once and
   * never time out (the memory store). It is never unavailable, so the router keeps no cache
   * of recent routes for it (that cache lets a BYE reach its node while a shared store stalls).
   */
  readonly inProcess?: boolean;
}
