import type { Logger } from '@nestjs/common';

/**
 * The log of a job that keeps failing the same way (a Redis outage fails every tick alike):
 * the first failure of a streak is logged, a different message is logged again with the count
 * so far, and the first success after a streak says how many runs failed. One line per
 * outage, not one per tick.
 */
export class FailureStreak {
  private message: string | undefined;
  private failures = 0;

  /** @param level of the failure lines: a job's failure is an error; a loop that retries by itself (the event tail) warns. */
  constructor(private readonly logger: Logger, private readonly what: string, private readonly level: 'warn' | 'error' = 'error') {}

  failed(e: unknown): void {
    const message = e instanceof Error ? e.message : String(e);
    this.failures++;
    if (message !== this.message) {
      this.logger[this.level](`${this.what} failed: ${message}${this.message === undefined ? '' : ` (${this.failures} failed runs so far)`}`);
    }
    this.message = message;
  }

  succeeded(): void {
    if (this.failures) this.logger.log(`${this.what} ran again after ${this.failures} failed run(s)`);
    this.message = undefined;
    this.failures = 0;
  }
}
