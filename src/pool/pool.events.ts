import { EventEmitter } from 'node:events';
import type { ControlCallError } from '../node-client/control-call.error';

/** What happened to one call operation. */
export type CallOutcome = 'ok' | 'refused' | 'failed' | 'no_nodes' | 'not_found' | 'error';

/** A repair towards "a leg if and only if a binding" (CONTRACT §7). */
export type RepairKind =
  /** A leg the pool knew it may have left was deleted on its node. */
  | 'left_leg_deleted'
  /** A delete of such a leg failed and will be retried. */
  | 'left_leg_retry'
  /** Reconciliation deleted a leg no binding points to. */
  | 'orphan_leg_deleted'
  /** Reconciliation dropped a binding whose node no longer holds the leg. */
  | 'binding_dropped'
  /** A binding written after its prepare had answered an error was removed again. */
  | 'late_binding_undone';

/** What one reconciliation round did. */
export interface ReconcileRound {
  /** Epoch ms the round started. */
  at: number;
  durationMs: number;
  /** Nodes whose `GET /v1/legs` answered. */
  nodesChecked: number;
  /** Nodes skipped: no `GET /v1/legs` (404), or no answer. */
  nodesSkipped: number;
  legsDeleted: number;
  bindingsDropped: number;
}

/** Events the pool emits for observers (metrics, logs). Listeners must not throw. */
export interface PoolEventMap {
  prepare: [{ callId: string; nodeId?: string; outcome: CallOutcome; durationMs: number; attempts: number; reinvite: boolean }];
  failover: [{ callId: string; nodeId: string; error: ControlCallError }];
  start: [{ callId: string; nodeId?: string; outcome: CallOutcome }];
  delete: [{ callId: string; nodeId?: string; outcome: CallOutcome }];
  register: [{ nodeId: string; created: boolean }];
  unregister: [{ nodeId: string }];
  prune: [{ nodeIds: string[]; orphanedBindings: number }];
  /** A node's health changed (probe or passive failure detection). */
  health: [{ nodeId: string; healthy: boolean; reason?: string }];
  /** A node's circuit (this instance's passive failure detection) changed state. */
  circuit: [{ nodeId: string; state: 'open' | 'half_open' | 'closed' }];
  /** One repair (CONTRACT §7); see {@link RepairKind}. */
  repair: [{ kind: RepairKind; callId: string; nodeId?: string }];
  /** A reconciliation round ran on this instance (it held the lease). */
  reconcile: [ReconcileRound];
}

/** The pool's event bus, provided by PoolModule; inject it to observe the pool. */
export class PoolEvents extends EventEmitter<PoolEventMap> {}
