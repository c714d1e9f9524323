import { Injectable, Logger, OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CronJob } from 'cron';
import { cronProblem } from './cron-expression';
import { FailureStreak } from './failure-streak';

/** When a job runs: every `everyMs` milliseconds, or on a cron expression (six fields: with seconds). */
export type JobSchedule = { everyMs: number } | { cron: string };

/**
 * The pool's background jobs (prune, health probes), registered at runtime in
 * @nestjs/schedule's {@link SchedulerRegistry} (a decorator's arguments are evaluated
 * before configuration exists). Each tick runs inside try/catch and never overlaps the
 * previous one; every job started here is stopped at application shutdown.
 */
@Injectable()
export class JobScheduler implements OnApplicationShutdown {
  private readonly logger = new Logger(JobScheduler.name);
  private readonly started = new Map<string, 'interval' | 'cron'>();

  constructor(private readonly registry: SchedulerRegistry) {}

  /** Starts `tick` on `schedule` under `name` (unique in the SchedulerRegistry). */
  start(name: string, schedule: JobSchedule, tick: () => unknown): void {
    const run = this.guard(name, tick);
    if ('cron' in schedule) {
      const problem = cronProblem(schedule.cron);
      if (problem) throw new Error(`job ${name}: ${problem}`);
      const job = CronJob.from({ cronTime: schedule.cron, onTick: run, start: false, unrefTimeout: true });
      this.registry.addCronJob(name, job);
      job.start();
      this.started.set(name, 'cron');
    } else {
      const timer = setInterval(run, schedule.everyMs);
      timer.unref();
      this.registry.addInterval(name, timer);
      this.started.set(name, 'interval');
    }
  }

  /** Stops a job started here; no-op for an unknown name. */
  stop(name: string): void {
    const kind = this.started.get(name);
    if (!kind) return;
    this.started.delete(name);
    if (kind === 'cron' && this.registry.doesExist('cron', name)) this.registry.deleteCronJob(name);
    if (kind === 'interval' && this.registry.doesExist('interval', name)) this.registry.deleteInterval(name);
  }

  /** Whether a job of that name is running (started here and not stopped). */
  isRunning(name: string): boolean {
    return this.started.has(name);
  }

  onApplicationShutdown(): void {
    for (const name of [...this.started.keys()]) this.stop(name);
  }

  /** The tick as it is scheduled: skipped while the previous one runs, never throwing; failures logged by streak. */
  private guard(name: string, tick: () => unknown): () => Promise<void> {
    let running = false;
    const streak = new FailureStreak(this.logger, `job ${name}`);
    return async () => {
      if (running) return;
      running = true;
      try {
        await tick();
        streak.succeeded();
      } catch (e) {
        streak.failed(e);
      } finally {
        running = false;
      }
    };
  }
}
