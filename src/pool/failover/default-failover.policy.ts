import type { ControlCallError } from '../../node-client/control-call.error';
import type { FailoverPolicy } from '../core/failover-policy.interface';

/**
 * A refusal ("not now", "not this offer"): a 4xx, or a 503, which a media node answers at
 * capacity or while draining (CONTRACT §1 "Failover", §2). When every node tried refused,
 * the prepare answers 422.
 */
export function isRefusal(error: ControlCallError): boolean {
  return error.kind === 'client' || (error.kind === 'server' && error.status === 503);
}

/**
 * CONTRACT §1 "Failover": any failed attempt moves on to the next candidate (a 4xx
 * included: the Go media node answers 400 when full), up to `maxAttempts` nodes and
 * `maxTotalMs` of trying. Only connect errors, timeouts, 5xx other than 503 and a refused
 * node token (401/403) count against a node.
 */
export class DefaultFailoverPolicy implements FailoverPolicy {
  constructor(
    readonly maxAttempts: number,
    private readonly maxTotalMs = Infinity,
  ) {}

  shouldRetry(_error: ControlCallError, attempt: number, elapsedMs: number): boolean {
    return attempt < this.maxAttempts && elapsedMs < this.maxTotalMs;
  }

  countsAgainstNode(error: ControlCallError): boolean {
    // 401/403: the node refuses the pool's RTP_NODE_TOKEN — it will refuse every call
    // until someone fixes the configuration, so it is taken out like a failing node.
    return error.kind === 'connect' || error.kind === 'timeout' || (error.kind === 'server' && error.status !== 503)
      || (error.kind === 'client' && (error.status === 401 || error.status === 403));
  }
}
