import type { ControlCallError } from '../../control-api/control-call.error';
import type { FailoverPolicy } from './failover-policy.interface';

/**
 * CONTRACT §1 "Failover": any failed attempt moves on to the next candidate (a 4xx
 * included: the Go media node answers 400 when full), up to `maxAttempts` nodes and
 * `maxTotalMs` of trying. Only connect errors, timeouts and 5xx count against a node.
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
    return error.kind === 'connect' || error.kind === 'timeout' || error.kind === 'server';
  }
}
