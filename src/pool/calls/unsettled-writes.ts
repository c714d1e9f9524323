import { Injectable, Logger, type OnApplicationShutdown } from '@nestjs/common';
import { StoreUnavailableException } from '../core/pool.errors';

interface Task {
  run: () => Promise<void>;
  attempts: number;
  timer?: NodeJS.Timeout;
}

const FIRST_RETRY_MS = 200;
const MAX_RETRY_MS = 5_000;
const MAX_TASKS = 100_000;

/**
 * Store writes whose outcome is unknown (a Redis command that timed out may still run when
 * Redis resumes) are not failures: what they may have done is undone or finished once the
 * store answers again — a late binding removed by compare-and-delete, a DELETE's store
 * half finished. Each task is retried with backoff (0.2 s doubling to 5 s) while the store
 * is unavailable; any other error ends it (logged). Tasks are idempotent and keyed: adding
 * a key already waiting replaces its task.
 */
@Injectable()
export class UnsettledWrites implements OnApplicationShutdown {
  private readonly logger = new Logger(UnsettledWrites.name);
  private readonly tasks = new Map<string, Task>();
  private closed = false;

  /** Runs `run` soon, and again while it throws {@link StoreUnavailableException}. */
  add(key: string, run: () => Promise<void>): void {
    if (this.closed) return;
    const prev = this.tasks.get(key);
    if (prev) clearTimeout(prev.timer);
    if (!prev && this.tasks.size >= MAX_TASKS) return void this.logger.error(`too many unsettled store writes: ${key} left to reconciliation`);
    const task: Task = { run, attempts: 0 };
    this.tasks.set(key, task);
    this.schedule(key, task, FIRST_RETRY_MS);
  }

  /** How many tasks wait. */
  get size(): number {
    return this.tasks.size;
  }

  onApplicationShutdown(): void {
    this.closed = true;
    for (const t of this.tasks.values()) clearTimeout(t.timer);
    this.tasks.clear();
  }

  private schedule(key: string, task: Task, ms: number): void {
    task.timer = setTimeout(() => void this.attempt(key, task), ms);
    task.timer.unref();
  }

  private async attempt(key: string, task: Task): Promise<void> {
    if (this.tasks.get(key) !== task) return;
    task.attempts++;
    try {
      await task.run();
      if (this.tasks.get(key) === task) this.tasks.delete(key);
    } catch (e) {
      if (this.tasks.get(key) !== task) return;
      if (e instanceof StoreUnavailableException && !this.closed) {
        return this.schedule(key, task, Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.min(task.attempts, 10)));
      }
      this.tasks.delete(key);
      this.logger.error(`unsettled store write ${key} failed: ${(e as Error).message}`);
    }
  }
}
