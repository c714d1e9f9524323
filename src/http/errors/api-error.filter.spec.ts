import { Logger } from '@nestjs/common';
import * as errors from '../../pool/core/pool.errors';
import { exceptionOf, claimFailureOf } from '../../pool/calls/call-outcomes';
import { describeApiError, POOL_ERROR_STATUS } from './api-error.filter';

const logger = new Logger('test');

describe('pool error codes at the HTTP edge', () => {
  it('every code has a status, and only the codes do', () => {
    expect(Object.keys(POOL_ERROR_STATUS).sort()).toEqual([...errors.POOL_ERROR_CODES].sort());
  });

  it('each exception class carries its code and message, is a PoolError and no HttpException', () => {
    const cases: [errors.PoolError, errors.PoolErrorCode, number, string][] = [
      [new errors.NoHealthyNodeException(), 'RTP_NO_HEALTHY_NODES', 503, 'no healthy rtp nodes'],
      [new errors.OfferRefusedException('node at capacity'), 'RTP_OFFER_REFUSED', 422, 'node at capacity'],
      [new errors.NodeFailedException('timeout'), 'RTP_NODE_FAILED', 502, 'timeout'],
      [new errors.CallNotFoundException(), 'RTP_CALL_NOT_FOUND', 404, 'call not found'],
      [new errors.NodeNotFoundException(), 'RTP_NODE_NOT_FOUND', 404, 'node not found'],
      [new errors.StaticNodeConflictException('seed-1'), 'RTP_STATIC_NODE', 409, 'node_id "seed-1" belongs to a static seed node'],
      [new errors.RegistryFullException(), 'RTP_REGISTRY_FULL', 503, 'node registry is full'],
      [new errors.StoreUnavailableException(), 'RTP_STORE_UNAVAILABLE', 503, 'store unavailable'],
      [new errors.NoOtherNodeException(), 'RTP_NO_OTHER_NODE', 503, 'no other eligible rtp node'],
      [new errors.CallDeletedException(), 'RTP_CALL_DELETED', 409, 'call was deleted while it was being prepared'],
      [new errors.InvalidIdException('call_id must not be empty'), 'RTP_INVALID_ID', 400, 'call_id must not be empty'],
      [new errors.InvalidCursorException(), 'RTP_INVALID_CURSOR', 400, 'cursor is not valid (pass the next_cursor of an earlier page, or omit it)'],
    ];
    for (const [e, code, status, message] of cases) {
      expect(e).toBeInstanceOf(errors.PoolError);
      expect('getStatus' in e).toBe(false);
      expect([e.code, e.message]).toEqual([code, message]);
      expect(describeApiError(e, logger)).toEqual({ status, error: message });
    }
  });

  it('a failure recorded in the store comes back as the same class, code and message', () => {
    for (const e of [new errors.OfferRefusedException('no codec'), new errors.NoHealthyNodeException(), new errors.CallDeletedException()]) {
      const back = exceptionOf(claimFailureOf(e));
      expect(back.constructor).toBe(e.constructor);
      expect([back.code, back.message]).toEqual([e.code, e.message]);
    }
    expect(claimFailureOf(new Error('socket hang up'))).toEqual({ code: 'RTP_NODE_FAILED', message: 'socket hang up' });
  });

  it('anything else is answered as before: an unexpected error is a 500 whose details stay in the log', () => {
    const logged: unknown[] = [];
    expect(describeApiError(new Error('boom'), { error: (m: unknown) => logged.push(m) })).toEqual({ status: 500, error: 'internal error' });
    expect(String(logged[0])).toContain('boom');
  });
});
