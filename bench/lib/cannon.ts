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
  // Our own clock, from the first request sent to the last answer received: autocannon's
  // `duration` is rounded, and with `amount` it only notices the end on its 1 s tick (20,000
  // requests read 9,950/s, 6,614/s or 4,975/s: 20,000 over 2, 3 or 4 s and a bit).
  let first = 0;
  let last = 0;
  const r = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = withCallback({
      url: opts.url,
      connections: opts.connections,
      ...(opts.amount ? { amount: opts.amount } : { duration: opts.seconds ?? 1 }),
      timeout: 10,
      // autocannon notices its end (amount reached, or duration over) only on its sampling tick: at the
      // default 1 s every run lasts whole seconds, most of a smoke run's time. The figures use our clock.
      sampleInt: 100,
      requests: opts.requests,
    }, (err, result) => (err ? reject(err) : resolve(result!)));
    instance.on('response', () => {
      last = performance.now();
    });
    first = performance.now();
  });
  const seconds = (last - first) / 1000;
  const total = r['2xx'] + r.non2xx;
  return {
    perSec: r['2xx'] / (opts.perUnit ?? 1) / seconds,
    p50ms: r.latency.p50,
    p99ms: r.latency.p99,
    errors: r.non2xx + r.errors + r.timeouts,
    requests: total,
  };
}

/** autocannon's callback form (it returns the instance, with its 'response' events) and `sampleInt`, which its types omit. */
const withCallback = autocannon as unknown as (o: autocannon.Options & { sampleInt?: number }, cb: (err: Error | null, r?: autocannon.Result) => void) => NodeJS.EventEmitter;
