import { Inject } from '@nestjs/common';
import type { PoolErrorCode } from '../../contract/pool-error';
import type { Binding, HealthReport, NodeReport, NodeState } from './pool.types';

export const POOL_STORE = Symbol('RTP_POOL_STORE');
/** Injects the configured store. Type the parameter as the part the class uses ({@link NodeStore}, {@link CallStore}, …). */
export const InjectPoolStore = () => Inject(POOL_STORE);

/**
 * The store's parts. Every method is async so a shared store (Redis) can implement it, and
 * every read-then-write is atomic in the store: several instances may call it at once.
 * One store serves every part: a call's writes move its node's counters (`pendingLegs`,
 * `boundCalls`) in the same atomic step.
 */

// ---- NodeStore: the registry ----------------------------------------------------------

/** `'conflict'`: the id is a static seed's and the report is not static. `'full'`: a new dynamic node beyond `maxNodes`. Both change nothing. */
export type UpsertOutcome = 'created' | 'updated' | 'conflict' | 'full';
export type RemoveOutcome = 'removed' | 'not-found' | 'static';

/** The media nodes, their health, drain and load counters. Used by registration, selection, health probes, prune. */
export interface NodeStore {
  /**
   * A heartbeat: replaces every reported field, sets `lastSeen`, resets `pendingLegs`; keeps
   * `healthy`, `adminDrained`, `drainDeadline`, `seq`, `boundCalls`. `maxNodes` limits new
   * dynamic nodes only.
   */
  upsertNode(report: NodeReport, maxNodes?: number): Promise<UpsertOutcome>;
  /** The node may be the store's own object: read it, never change it. */
  getNode(id: string): Promise<Readonly<NodeState> | undefined>;
  /** Every node, by `seq` (registration order), in a fresh array. */
  listNodes(): Promise<Readonly<NodeState>[]>;
  /**
   * Optional, synchronous: every node lightest first (`effectiveLoad`, then id). With it the
   * least-loaded selection reads a few nodes per prepare instead of all. The array is the
   * store's own: read it at once, never across an await.
   */
  nodesByLoad?(): readonly Readonly<NodeState>[];
  /** Optional, for an index held elsewhere: the `count` lightest nodes in one round trip, and whether that is all of them. */
  lightestNodes?(count: number): Promise<{ nodes: readonly Readonly<NodeState>[]; complete: boolean }>;
  removeNode(id: string): Promise<RemoveOutcome>;
  /** Removes the dynamic nodes last seen before `cutoffMs` and returns them; each once among concurrent callers. */
  pruneNodes(cutoffMs: number): Promise<Readonly<NodeState>[]>;
  /** A probe or control-call outcome; a report with `activeLegs` resets `pendingLegs`. No-op for an unknown id. */
  setHealth(id: string, healthy: boolean, report?: HealthReport): Promise<void>;
  /** False for an unknown id. `deadlineMs` (epoch ms) or null; clearing the drain clears the deadline. */
  setAdminDrain(id: string, drained: boolean, deadlineMs?: number | null): Promise<boolean>;
}

// ---- CallStore: bindings, claims, tombstones --------------------------------------------

/** Why a first prepare gave its claim up: shared with the prepares that waited on it. */
export interface ClaimFailure {
  code: PoolErrorCode;
  message: string;
}

export type ClaimResult =
  | { claimed: true }
  /** Held by `holder`, or the call is bound; `binding`, when the store read it anyway, saves a getBinding. */
  | { claimed: false; holder?: string; bound?: boolean; binding?: Binding }
  /** The holder waited for gave up with this failure. */
  | { claimed: false; failure: ClaimFailure };

/** What a binding write must still find: a first prepare's claim, or a re-INVITE's binding. */
export type BindExpectation = { claim: string } | { nodeId: string; createdAt: number };

/** `'deleted'`: a DELETE overtook the claim or removed the binding. `'lost'`: the claim lapsed or is another's. */
export type BindOutcome = 'bound' | 'deleted' | 'lost';

/** What a DELETE left: the call's node (for a repeated delete) and the claim it overtook. */
export interface Tombstone {
  callId: string;
  nodeId?: string;
  controlUrl?: string;
  claim?: string;
}

/**
 * A DELETE's hold on the call while its node DELETE is in flight: the call stays claimed under
 * `token` for at most `ttlMs`, so no prepare of the same id places a leg the node DELETE could
 * remove. Given up with giveUpClaim.
 */
export interface CallHold {
  token: string;
  ttlMs: number;
}

export interface DeleteCallResult {
  binding?: Binding;
  /** It removed the claim of a first prepare in flight. */
  overtookClaim: boolean;
  /** An earlier DELETE's tombstone: its node may still hold the leg. */
  earlier?: Tombstone;
}

/**
 * A call's binding to its node and the claims around it. Expired bindings (`expiresAt` passed
 * by the store's clock) are invisible to every method. Every write that adds, moves or removes
 * a binding moves its node's `pendingLegs`/`boundCalls` in the same atomic step.
 * Used by prepare, start, delete, migrate, live calls and reconciliation.
 */
export interface CallStore {
  /**
   * A first prepare's claim under `token`, lapsing after `ttlMs`. Refused while the call is
   * bound (checked first) or claimed. With `waitingFor`, that holder's recorded failure is
   * returned instead (checked before the claim).
   */
  claim(callId: string, ttlMs: number, token: string, waitingFor?: string): Promise<ClaimResult>;
  /** No-op unless the claim is held under `token`; keeps `failure` for `failureTtlMs` for the waiters. */
  giveUpClaim(callId: string, token: string, failure?: ClaimFailure, failureTtlMs?: number): Promise<void>;
  /** Writes the binding if `expect` holds; a first prepare's drops the claim and counts the node up. */
  bindCall(binding: Binding, expect: BindExpectation): Promise<BindOutcome>;
  getBinding(callId: string): Promise<Binding | undefined>;
  /**
   * Marks the binding started and returns it. With `expect`, only when it is on that node (and
   * has that `version`): a start sent to a binding a migrate has replaced must not mark the new one.
   */
  markStarted(callId: string, expect?: { nodeId: string; version?: string }): Promise<Binding | undefined>;
  /**
   * Removes the binding or the claim of a prepare in flight and leaves a tombstone for
   * `tombstoneTtlMs` (the binding's node, else the earlier tombstone's; the claim overtaken).
   * With `hold`, a removed binding leaves the call claimed under `hold.token`.
   */
  deleteCall(callId: string, tombstoneTtlMs: number, hold?: CallHold): Promise<DeleteCallResult>;
  /** Removes the binding only if it is still on that node with that `createdAt` (and `version`, when given). */
  unbindIf(callId: string, match: { nodeId: string; createdAt: number; version?: string }): Promise<boolean>;
  /**
   * A page of live bindings, of one node or (undefined) of all, ordered by call id, after
   * `cursor`; `next` is set when more may follow. From a per-node index, never a scan of all calls.
   */
  bindingsOfNode(nodeId: string | undefined, limit: number, cursor?: string): Promise<{ bindings: Binding[]; next?: string }>;
  /** A migrate: replaces the binding with `next` only if it is on `expectedNodeId`; counts and index move with it. */
  swapBinding(callId: string, expectedNodeId: string, next: Binding): Promise<boolean>;
  /** True for one of concurrent claimants until `ttlMs` passes or releaseMigration. Independent of `claim`. */
  claimMigration(callId: string, ttlMs: number): Promise<boolean>;
  releaseMigration(callId: string): Promise<void>;
  /** Drops the bindings expired before `nowMs` and their counts; returns how many. */
  sweepBindings(nowMs: number): Promise<number>;
  /** Writes a binding unconditionally and drops any claim; `isNew` counts the node up (a re-INVITE passes false). */
  putBinding(binding: Binding, isNew: boolean): Promise<void>;
  /** Removes the binding and its counts; returns it. */
  deleteBinding(callId: string): Promise<Binding | undefined>;
}

// ---- LeaseStore: one instance at a time -------------------------------------------------

/** Named leases, so one instance at a time runs a background job (reconciliation). */
export interface LeaseStore {
  /** Takes or renews (same `holder`) the lease for `ttlMs`; false while another holds it. */
  acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean>;
  /** No-op unless `holder` holds it. */
  releaseLease(name: string, holder: string): Promise<void>;
}

// ---- StoreStatus: readiness -------------------------------------------------------------

/** What readiness shows of a store: never credentials. */
export type StoreDescription = Record<string, string | number | boolean>;

/** What `/health/ready` and the route cache ask of a store. */
export interface StoreStatus {
  /** Resolves when the store can serve requests; rejects otherwise. */
  ping(): Promise<void>;
  /** Optional, synchronous and cheap: kind and connection state for readiness. */
  describe?(): StoreDescription;
  /** Optional: true for a store in this process that never stalls; the router then keeps no route cache for it. */
  readonly inProcess?: boolean;
}

/** Every part: what `PoolModule.forRoot({ store })` takes and the built-in stores implement. */
export interface PoolStore extends NodeStore, CallStore, LeaseStore, StoreStatus {}
