import { randomFillSync } from 'node:crypto';

/** Tokens drawn from one fill of the random buffer. */
const BATCH = 256;
const pool = Buffer.allocUnsafe(16 * BATCH);
let next = BATCH;

/**
 * A random 128-bit token as 32 lowercase hex digits: a first prepare's claim token (which
 * becomes its binding's version) and a re-INVITE's version. Not `randomUUID()`: its result is
 * a tree of cons strings, kept with every bound call (the memory store holds each binding's
 * version); `Buffer#toString` builds one flat string, and a batch refill makes it cheaper
 * (docs/performance.md, figures behind the code).
 */
export function randomToken(): string {
  if (next === BATCH) {
    randomFillSync(pool);
    next = 0;
  }
  const at = 16 * next++;
  return pool.toString('hex', at, at + 16);
}
