import { Inject } from '@nestjs/common';
import type { ControlCallError } from '../../node-client/control-call.error';
import type { Candidate } from './pool.types';

export const FAILOVER_POLICY = Symbol('RTP_FAILOVER_POLICY');
/** Injects the active {@link FailoverPolicy}. */
export const InjectFailoverPolicy = () => Inject(FAILOVER_POLICY);

/** Decides what happens after a prepare attempt towards one node failed. */
export interface FailoverPolicy {
  /** Most nodes one prepare may try. */
  readonly maxAttempts: number;
  /**
   * After attempt number `attempt` (1-based) failed with `error` at `node`, `elapsedMs`
   * into the prepare: true to try the next candidate.
   */
  shouldRetry(error: ControlCallError, attempt: number, elapsedMs: number, node: Candidate): boolean;
  /** True when the failure says the node itself is unwell (it opens its circuit / marks it unhealthy). */
  countsAgainstNode(error: ControlCallError): boolean;
}
