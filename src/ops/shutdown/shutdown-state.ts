import { Injectable } from '@nestjs/common';

/**
 * Whether the process is shutting down. Graceful shutdown sets it first, so readiness
 * answers 503 (load balancers stop sending) while in-flight requests finish.
 */
@Injectable()
export class ShutdownState {
  private since?: number;

  /** True once shutdown began. */
  get shuttingDown(): boolean {
    return this.since !== undefined;
  }

  /** Marks the start of shutdown (idempotent). */
  begin(): void {
    this.since ??= Date.now();
  }
}
