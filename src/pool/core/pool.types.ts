/**
 * The pool's own (camelCase) view of nodes and bindings. Wire shapes live in
 * control-api/contract.types.ts; these are what stores, strategies and policies see.
 */

/** What a node reports about itself: every heartbeat replaces all of it. */
export interface NodeReport {
  /** The pool's id for the node (`seed-N` for a static seed). */
  nodeId: string;
  /** Absolute http(s) URL, no trailing `/`. */
  controlUrl: string;
  mediaIp: string;
  /** Legs the node last reported. */
  activeLegs: number;
  /** Max legs, null when unbounded. */
  capacity: number | null;
  /** Relative share for weighted strategies (> 0). */
  weight: number;
  /** Region label, null when unset. */
  region: string | null;
  /** The node said it is draining. */
  reportedDraining: boolean;
  /** Static seed from configuration: never pruned, never deregistered. */
  static: boolean;
  /** Epoch ms of the last heartbeat (start-up for a static seed). */
  lastSeen: number;
}

/** A node with the state the pool keeps beside its report. */
export interface NodeState extends NodeReport {
  /** False after a failed probe or control call, until a probe succeeds. */
  healthy: boolean;
  /** An operator drained it (survives heartbeats). */
  adminDrained: boolean;
  /** Epoch ms by which the operator wants the drained node empty; null without a deadline. */
  drainDeadline: number | null;
  /** Legs placed by the pool minus legs deleted since the last report (may be negative). */
  pendingLegs: number;
  /** Calls currently bound to the node. */
  boundCalls: number;
  /** Registration order (monotonic; static seeds sort first). */
  seq: number;
}

/** A node offered to a selection strategy, with its effective load. */
export interface Candidate extends NodeState {
  /**
   * What the strategies balance on: max(0, activeLegs + pendingLegs), plus the prepares this
   * pool instance has in flight to the node (placed, not yet answered).
   */
  load: number;
}

/** A Call-ID bound to the node that prepared its leg. */
export interface Binding {
  callId: string;
  nodeId: string;
  controlUrl: string;
  mediaIp: string;
  mediaPort: number;
  codec: string;
  started: boolean;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms after which the binding is gone (RTP_CALL_TTL_SEC after the last prepare). */
  expiresAt: number;
  /** Opaque id of the write that made this binding (compare-and-delete of a write whose outcome was unknown). */
  version?: string;
}

/** Fields a health probe may refresh; a report of activeLegs resets the pending count. */
export type HealthReport = Partial<Pick<NodeReport, 'activeLegs' | 'mediaIp' | 'capacity' | 'reportedDraining'>>;

/** The part of a node's state that its own reports do not carry (kept beside them by the pool). */
export type NodeKept = Pick<NodeState, 'healthy' | 'adminDrained' | 'drainDeadline' | 'pendingLegs' | 'boundCalls' | 'seq'>;

/**
 * A node state with every field written in one fixed order, from a report and the state kept
 * beside it, so every node object shares one V8 hidden class. Stores that keep node objects build
 * them with this (or {@link nodeState}): a prepare reads a few fields of every node, and on
 * objects of mixed shapes (spread copies) that scan costs several times as much.
 *
 * No object spread followed by literal properties here or on any per-request path: V8 builds
 * such an object far more slowly than one written out (docs/performance.md, figures behind the code).
 */
export function nodeOf(r: Readonly<NodeReport>, k: Readonly<NodeKept>): NodeState {
  return {
    nodeId: r.nodeId, controlUrl: r.controlUrl, mediaIp: r.mediaIp, activeLegs: r.activeLegs, capacity: r.capacity,
    weight: r.weight, region: r.region, reportedDraining: r.reportedDraining, static: r.static, lastSeen: r.lastSeen,
    healthy: k.healthy, adminDrained: k.adminDrained, drainDeadline: k.drainDeadline ?? null, pendingLegs: k.pendingLegs, boundCalls: k.boundCalls, seq: k.seq,
  };
}

/** A copy of a node state in the one field order of {@link nodeOf}. */
export function nodeState(n: Readonly<NodeState>): NodeState {
  return nodeOf(n, n);
}

/** A node as a selection candidate (one hidden class for all, as {@link nodeState}). */
export function candidateOf(n: Readonly<NodeState>, load: number): Candidate {
  return {
    nodeId: n.nodeId, controlUrl: n.controlUrl, mediaIp: n.mediaIp, activeLegs: n.activeLegs, capacity: n.capacity,
    weight: n.weight, region: n.region, reportedDraining: n.reportedDraining, static: n.static, lastSeen: n.lastSeen,
    healthy: n.healthy, adminDrained: n.adminDrained, drainDeadline: n.drainDeadline ?? null, pendingLegs: n.pendingLegs, boundCalls: n.boundCalls, seq: n.seq,
    load,
  };
}

export function effectiveLoad(n: Pick<NodeState, 'activeLegs' | 'pendingLegs'>): number {
  return Math.max(0, n.activeLegs + n.pendingLegs);
}

export function isDraining(n: Pick<NodeState, 'reportedDraining' | 'adminDrained'>): boolean {
  return n.reportedDraining || n.adminDrained;
}
