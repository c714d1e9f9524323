import autocannon from 'autocannon';

export interface CannonResult {
  /** Completed units of work per second (requests, or lifecycles when `perUnit` > 1). */
  perSec: number;
  /** Request latency percentiles, ms (autocannon's resolution). */
  p50ms: number;
  p99ms: number;
  /** Non-2xx answers plus connection errors and timeouts. */
  errors: number;
  requests: number;
}

/**
 * Runs autocannon and reduces its result. `requests` is the per-connection sequence
 * autocannon cycles through; `perUnit` requests make one unit of work.
 */
export async function cannon(opts: { url: string; connections: number; seconds?: number; amount?: number; requests: autocannon.Request[]; perUnit?: number }): Promise<CannonResult> {
  const started = performance.now();
  const r = await autocannon({
    url: opts.url,
    connections: opts.connections,
    ...(opts.amount ? { amount: opts.amount } : { duration: opts.seconds ?? 1 }),
    timeout: 10,
    requests: opts.requests,
  });
  // Our own clock: autocannon's `duration` is rounded (20,000 requests in 2.01 s read 9,950/s for
  // every target between 9,000 and 11,000/s).
  const seconds = (performance.now() - started) / 1000;
  const total = r['2xx'] + r.non2xx;
  return {
    perSec: r['2xx'] / (opts.perUnit ?? 1) / seconds,
    p50ms: r.latency.p50,
    p99ms: r.latency.p99,
    errors: r.non2xx + r.errors + r.timeouts,
    requests: total,
  };
}
