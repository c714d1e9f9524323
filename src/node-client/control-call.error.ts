/**
 * How a control call towards a media node failed.
 * - `connect`: no connection (refused, unreachable, DNS), or the connection broke (reset,
 *   closed) — before the request was written, or after ({@link ControlCallError.requestSent}).
 * - `timeout`: no complete answer within the control timeout.
 * - `server`: a 5xx answer.
 * - `client`: a 4xx answer (for prepare: the node refused the offer, e.g. "node at capacity").
 * - `status`: any other status than the one the contract requires (e.g. 200 to a prepare).
 * - `protocol`: the right status with a body that is not the contract's shape.
 */
export type ControlFailureKind = 'connect' | 'timeout' | 'server' | 'client' | 'status' | 'protocol';

export class ControlCallError extends Error {
  constructor(
    readonly kind: ControlFailureKind,
    message: string,
    /** HTTP status, when the node answered. */
    readonly status?: number,
    /**
     * True when the connection failed after the request was written to it: the node may
     * have read it and acted on it (made the leg) before the connection broke.
     */
    readonly requestSent = false,
  ) {
    super(message);
    this.name = 'ControlCallError';
  }
}

/**
 * True when the node may have acted on a request that failed: no answer in time, an answer
 * the contract does not allow, or a connection that broke after the request was written.
 * A prepare that failed so may have left a leg. False for an answer that says no (4xx, 5xx)
 * and for a connection that failed before anything was sent (refused, unreachable).
 */
export function mayHaveActed(error: ControlCallError): boolean {
  return error.kind === 'timeout' || error.kind === 'status' || error.kind === 'protocol'
    || (error.kind === 'connect' && error.requestSent);
}
