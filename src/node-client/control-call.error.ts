/**
 * How a control call towards a media node failed.
 * - `connect`: no connection (refused, reset, unreachable, DNS).
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
  ) {
    super(message);
    this.name = 'ControlCallError';
  }
}
