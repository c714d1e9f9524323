import { EventEmitter } from 'node:events';
import type { ControlCallError } from '../../node-client/control-call.error';
import type { StreamEvent } from './event-log.interface';

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
  /** A start found its node without the call's leg (404): the binding was dropped. */
  | 'leg_missing_on_start'
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
export interface PoolHookMap {
  prepare: [{ callId: string; nodeId?: string; outcome: CallOutcome; durationMs: number; attempts: number; reinvite: boolean }];
  failover: [{ callId: string; nodeId: string; error: ControlCallError }];
  start: [{ callId: string; nodeId?: string; outcome: CallOutcome }];
  delete: [{ callId: string; nodeId?: string; outcome: CallOutcome }];
  register: [{ nodeId: string; created: boolean }];
  /** An operator drained (or undrained) a node; `deadlineMs`: the drain's deadline (epoch ms), null without one. */
  drain: [{ nodeId: string; drained: boolean; deadlineMs: number | null }];
  /** `boundCalls`: calls bound to the node when it left. */
  unregister: [{ nodeId: string; boundCalls?: number }];
  /** `nodes`: each pruned node with the calls bound to it. */
  prune: [{ nodeIds: string[]; orphanedBindings: number; nodes?: Array<{ nodeId: string; boundCalls: number }> }];
  /** A node's health changed (probe or passive failure detection). */
  health: [{ nodeId: string; healthy: boolean; reason?: string }];
  /** A node's circuit (this instance's passive failure detection) changed state. */
  circuit: [{ nodeId: string; state: 'open' | 'half_open' | 'closed' }];
  /** One repair (CONTRACT §7); see {@link RepairKind}. */
  repair: [{ kind: RepairKind; callId: string; nodeId?: string }];
  /** A reconciliation round ran on this instance (it held the lease). */
  reconcile: [ReconcileRound];
  // The events of `GET /v1/events` (CONTRACT §5), once each, from every instance sharing
  // the event log (Redis Streams), in the log's id order.
  /** A node with bound calls stopped being usable. */
  node_down: [StreamEvent<'node_down'>];
  /** A node that was down is usable again. */
  node_up: [StreamEvent<'node_up'>];
  /** A drain's deadline passed with calls still bound. */
  drain_deadline: [StreamEvent<'drain_deadline'>];
  /** A migrate succeeded. */
  call_migrated: [StreamEvent<'call_migrated'>];
  /** A bound call's leg was found gone from its node; its binding was dropped. */
  call_lost: [StreamEvent<'call_lost'>];
}

/** The pool's event bus, provided by PoolModule; inject it to observe the pool. */
export class PoolHooks extends EventEmitter<PoolHookMap> {}
