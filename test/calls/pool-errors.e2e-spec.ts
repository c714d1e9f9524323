import { Test } from '@nestjs/testing';
import { CallsModule } from '../../src/http/calls/calls.module';
import { createHttpAdapter } from '../../src/http/http-adapter';
import { CallNotFoundException, NoHealthyNodeException, PoolError } from '../../src/pool/core/pool.errors';
import { PoolModule } from '../../src/pool/pool.module';
import { createTestingPool } from '../../src/testing/testing-pool';

/**
 * The pool's errors: stable codes in-process, statuses only at the HTTP edge. A user of
 * PoolService switches on `code`; a user's app that imports CallsModule without configureApp
 * still answers the contract's status and `{"error"}` body (the controller carries the filter).
 */
describe('pool errors (e2e)', () => {
  it('in-process, PoolService rejects with a PoolError carrying a stable code, and no HTTP status', async () => {
    const t = await createTestingPool();
    try {
      const pool = t.pool;
      const missing = await pool.getCall('nope').catch((e: unknown) => e);
      expect(missing).toBeInstanceOf(CallNotFoundException);
      expect(missing).toMatchObject({ code: 'RTP_CALL_NOT_FOUND', message: 'call not found' });
      expect('getStatus' in (missing as object)).toBe(false);
      const none = await pool.prepare('c1', 'v=0').catch((e: unknown) => e);
      expect(none).toBeInstanceOf(NoHealthyNodeException);
      expect(none).toBeInstanceOf(PoolError);
      expect((none as PoolError).code).toBe('RTP_NO_HEALTHY_NODES');
    } finally {
      await t.close();
    }
  });

  it('a bare CallsModule (no configureApp) maps the codes to the contract\'s statuses and {"error"} bodies', async () => {
    const m = await Test.createTestingModule({ imports: [PoolModule.forRoot({ pruneIntervalSec: 0, healthIntervalMs: 0, reconcileIntervalSec: 0 }), CallsModule] }).compile();
    const adapter = process.env.RTP_TEST_ADAPTER === 'fastify' ? 'fastify' : 'express';
    const app = m.createNestApplication(createHttpAdapter(adapter), { logger: false });
    await app.listen(0, '127.0.0.1');
    try {
      const url = (await app.getUrl()).replace('[::1]', '127.0.0.1').replace('localhost', '127.0.0.1');
      const get = await fetch(`${url}/v1/calls/nope`);
      expect([get.status, await get.json()]).toEqual([404, { error: 'call not found' }]);
      const prepare = await fetch(`${url}/v1/calls`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ call_id: 'c1', offer_sdp: 'v=0' }) });
      expect([prepare.status, await prepare.json()]).toEqual([503, { error: 'no healthy rtp nodes' }]);
    } finally {
      await app.close();
    }
  });
});
