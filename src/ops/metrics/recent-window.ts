/**
 * Counts events over the last `windowSec` seconds, in one-second buckets (a ring), so
 * the dashboard can show a recent rate without querying Prometheus. Memory is fixed.
 */
export class RecentWindow {
  private readonly buckets: Float64Array;
  private readonly stamps: Float64Array;

  constructor(readonly windowSec: number, private readonly now: () => number = Date.now) {
    this.buckets = new Float64Array(windowSec);
    this.stamps = new Float64Array(windowSec).fill(-1);
  }

  /** Adds `n` at the current second. */
  add(n = 1): void {
    const sec = Math.floor(this.now() / 1000);
    const i = sec % this.windowSec;
    if (this.stamps[i] !== sec) {
      this.stamps[i] = sec;
      this.buckets[i] = 0;
    }
    this.buckets[i] += n;
  }

  /** The sum over the last `windowSec` seconds (the current one included). */
  sum(): number {
    const sec = Math.floor(this.now() / 1000);
    let total = 0;
    for (let i = 0; i < this.windowSec; i++) {
      if (this.stamps[i] > sec - this.windowSec) total += this.buckets[i];
    }
    return total;
  }

  /** The mean rate per second over the window. */
  rate(): number {
    return this.sum() / this.windowSec;
  }
}
