import { type ExecutionContext, Injectable } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import { requestPath } from '../../common/raw-http';

/** Path prefixes the rate limit applies to: the registry and the calls API. */
export const RATE_LIMITED_PREFIXES: readonly string[] = ['/v1/nodes', '/v1/calls'];

/**
 * @nestjs/throttler's guard, limited to the registry and the calls API (health,
 * metrics and the dashboard stay unlimited: probes must never be refused). Counts per
 * client address and route; over the limit: 429 `{"error": "too many requests"}` with
 * `Retry-After`.
 */
@Injectable()
export class RateLimitGuard extends ThrottlerGuard {
  protected override async shouldSkip(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const path = requestPath(context.switchToHttp().getRequest());
    return !RATE_LIMITED_PREFIXES.some((p) => path === p || path.startsWith(p + '/'));
  }
}

/** The message of a 429. */
export const RATE_LIMIT_MESSAGE = 'too many requests';
