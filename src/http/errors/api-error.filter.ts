import { Catch, type Logger } from '@nestjs/common';
import { describeHttpError, JsonErrorFilter } from '../../common/http-exception.filter';
import { PoolError, type PoolErrorCode } from '../../pool/core/pool.errors';

/**
 * The HTTP status of each pool error code (docs/public-api.md): the one place where the pool's
 * errors meet HTTP. The pool and its stores know codes only.
 */
export const POOL_ERROR_STATUS: Readonly<Record<PoolErrorCode, number>> = {
  RTP_INVALID_ID: 400,
  RTP_INVALID_CURSOR: 400,
  RTP_CALL_NOT_FOUND: 404,
  RTP_NODE_NOT_FOUND: 404,
  RTP_STATIC_NODE: 409,
  RTP_MIGRATION_CONFLICT: 409,
  RTP_CALL_DELETED: 409,
  RTP_CALL_MOVED: 409,
  RTP_OFFER_REFUSED: 422,
  RTP_NODE_FAILED: 502,
  RTP_NO_HEALTHY_NODES: 503,
  RTP_NO_OTHER_NODE: 503,
  RTP_REGISTRY_FULL: 503,
  RTP_STORE_UNAVAILABLE: 503,
};

/**
 * The status and `error` text of anything thrown on a request of the signaling service: a
 * {@link PoolError} by its code, anything else as {@link describeHttpError} says. The
 * {@link ApiErrorFilter} and the lean lane (src/http/lean) answer with it alike.
 */
export function describeApiError(e: unknown, logger: Pick<Logger, 'error'>): { status: number; error: string } {
  if (e instanceof PoolError) {
    const status = POOL_ERROR_STATUS[e.code];
    if (status !== undefined) return { status, error: e.message };
  }
  return describeHttpError(e, logger);
}

/**
 * The `{"error": "..."}` filter of the signaling service: {@link JsonErrorFilter} that also
 * knows the pool's error codes. configureApp registers it for the whole app, and the
 * controllers that serve routes carry it too, so a module imported without configureApp
 * still answers with the contract's statuses and bodies.
 */
@Catch()
export class ApiErrorFilter extends JsonErrorFilter {
  protected override describe(exception: unknown): { status: number; error: string } {
    return describeApiError(exception, this.logger);
  }
}
