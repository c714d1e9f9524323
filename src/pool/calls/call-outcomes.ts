import { ConflictException, HttpException, ServiceUnavailableException } from '@nestjs/common';
import { ControlCallError } from '../../node-client/control-call.error';
import { NodeFailedException, OfferRefusedException } from '../core/pool.errors';
import type { ClaimFailure } from '../core/pool-store.interface';

/** 409: a DELETE overtook the prepare or re-INVITE (CONTRACT §7); its leg is deleted. */
export class CallDeletedException extends ConflictException {
  constructor() { super('call was deleted while it was being prepared'); }
}

/** 409: a migration moved the call while a re-INVITE was in flight on its old node (CONTRACT §5); that leg is deleted. */
export class CallMovedException extends ConflictException {
  constructor() { super('call was migrated to another node while this re-INVITE was in flight; send it again'); }
}

/** How long the failure of a first prepare stays readable for instances that waited on its claim. */
export const CLAIM_FAILURE_TTL_MS = 5_000;

/** A failed prepare as the holder records it for the instances that waited on its claim. */
export function claimFailureOf(e: unknown): ClaimFailure {
  if (e instanceof HttpException) {
    const r = e.getResponse();
    const message = typeof r === 'string' ? r : String((r as { message?: unknown }).message ?? e.message);
    return { status: e.getStatus(), message };
  }
  return { status: 502, message: e instanceof Error ? e.message : String(e) };
}

/** The same answer as the holder's: same status, same reason. */
export function exceptionOf(f: ClaimFailure): HttpException {
  if (f.status === 409) return new CallDeletedException();
  if (f.status === 422) return new OfferRefusedException(f.message);
  if (f.status === 503) return new ServiceUnavailableException(f.message);
  if (f.status === 502) return new NodeFailedException(f.message);
  return new HttpException(f.message, f.status);
}

export function asControlError(e: unknown): ControlCallError {
  if (e instanceof ControlCallError) return e;
  return new ControlCallError('protocol', e instanceof Error ? e.message : String(e));
}
