import { EventEmitter } from 'node:events';
import type { ControlCallError } from '../node-client/control-call.error';

/** What happened to one call operation. */
export type CallOutcome = 'ok' | 'refused' | 'failed' | 'no_nodes' | 'not_found' | 'error';

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
}

/** The pool's event bus, provided by PoolModule; inject it to observe the pool. */
export class PoolEvents extends EventEmitter<PoolEventMap> {}
