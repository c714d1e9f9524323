/**
 * The stable codes of the pool's errors. A code names what went wrong in the pool's own terms;
 * it never changes meaning, and new ones are only added. The HTTP edge (src/http/api-error.filter.ts)
 * maps each to a status; docs/public-api.md lists them with their statuses and meanings.
 */
export const POOL_ERROR_CODES = [
  'RTP_INVALID_ID',
  'RTP_INVALID_CURSOR',
  'RTP_CALL_NOT_FOUND',
  'RTP_NODE_NOT_FOUND',
  'RTP_STATIC_NODE',
  'RTP_MIGRATION_CONFLICT',
  'RTP_CALL_DELETED',
  'RTP_CALL_MOVED',
  'RTP_OFFER_REFUSED',
  'RTP_NODE_FAILED',
  'RTP_NO_HEALTHY_NODES',
  'RTP_NO_OTHER_NODE',
  'RTP_REGISTRY_FULL',
  'RTP_STORE_UNAVAILABLE',
] as const;

/** One of {@link POOL_ERROR_CODES}. */
export type PoolErrorCode = (typeof POOL_ERROR_CODES)[number];

const CODES: ReadonlySet<string> = new Set(POOL_ERROR_CODES);

/** Whether `code` is one of {@link POOL_ERROR_CODES} (a code read back from a store, say). */
export function isPoolErrorCode(code: unknown): code is PoolErrorCode {
  return typeof code === 'string' && CODES.has(code);
}

/**
 * An error of the pool: a stable `code`, a message for people, and nothing about HTTP (as
 * Fastify's `FST_ERR_CTP_BODY_TOO_LARGE`). A user of `PoolService` in-process switches on
 * `code`; each code also has a subclass (`NoHealthyNodeException`, …) for `instanceof`.
 */
export class PoolError extends Error {
  constructor(readonly code: PoolErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}
