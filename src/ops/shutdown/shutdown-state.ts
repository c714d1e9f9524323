import { Injectable } from '@nestjs/common';

/**
 * Whether the process is shutting down. Graceful shutdown sets it first, so readiness
 * answers 503 (load balancers stop sending) while in-flight requests finish.
 */
@Injectable()
export class ShutdownState {
  private since?: number;
  private readonly listeners: Array<() => void> = [];

  /** True once shutdown began. */
  get shuttingDown(): boolean {
    return this.since !== undefined;
  }

  /** Marks the start of shutdown (idempotent). */
  begin(): void {
    if (this.since !== undefined) return;
    this.since = Date.now();
    for (const fn of this.listeners.splice(0)) fn();
  }

  /** Calls `fn` when shutdown begins (at once if it has): what must stop first, such as open event streams. */
  onBegin(fn: () => void): void {
    if (this.since !== undefined) fn();
    else this.listeners.push(fn);
  }
}
