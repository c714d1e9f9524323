import { ControlCallError } from '../../node-client/control-call.error';
import { PoolError, poolErrorOf } from '../core/pool.errors';
import type { ClaimFailure } from '../core/pool-store.interface';

export { CallDeletedException, CallMovedException } from '../core/pool.errors';

/** How long the failure of a first prepare stays readable for instances that waited on its claim. */
export const CLAIM_FAILURE_TTL_MS = 5_000;

/** A failed prepare as the holder records it for the instances that waited on its claim. */
export function claimFailureOf(e: unknown): ClaimFailure {
  if (e instanceof PoolError) return { code: e.code, message: e.message };
  return { code: 'RTP_NODE_FAILED', message: e instanceof Error ? e.message : String(e) };
}

/** The same error as the holder's: same code, same reason. */
export function exceptionOf(f: ClaimFailure): PoolError {
  return poolErrorOf(f.code, f.message);
}

export function asControlError(e: unknown): ControlCallError {
  if (e instanceof ControlCallError) return e;
  return new ControlCallError('protocol', e instanceof Error ? e.message : String(e));
}
