import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import { POOL_OPTIONS, type ResolvedPoolOptions } from '../core/pool.module-definition';
import { NodeRegistry } from '../registry/node-registry';
import { FailureStreak } from '../core/failure-streak';
import { JobScheduler } from '../core/job-scheduler';

export const PRUNE_JOB = 'rtp-pool:prune';

/**
 * Runs the registry's prune: on `pruneCron` (a cron expression with seconds) when set,
 * else every `pruneIntervalSec` (0 disables it). Registered at runtime through the
 * {@link JobScheduler}, because a decorator argument is evaluated before config exists.
 */
@Injectable()
export class PruneService implements OnApplicationBootstrap {
  private readonly logger = new Logger(PruneService.name);
  private readonly streak = new FailureStreak(this.logger, 'prune');
  private running = false;

  constructor(
    private readonly registry: NodeRegistry,
    private readonly jobs: JobScheduler,
    @Inject(POOL_OPTIONS) private readonly options: ResolvedPoolOptions,
  ) {}

  onApplicationBootstrap(): void {
    const { pruneCron, pruneIntervalSec } = this.options;
    if (pruneCron) this.jobs.start(PRUNE_JOB, { cron: pruneCron }, () => this.tick());
    else if (pruneIntervalSec > 0) this.jobs.start(PRUNE_JOB, { everyMs: pruneIntervalSec * 1000 }, () => this.tick());
  }

  /** One prune run; never throws, never overlaps the previous one. */
  async tick(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    try {
      const removed = await this.registry.prune();
      this.streak.succeeded();
      if (removed.length) this.logger.log(`prune removed ${removed.length} node(s)`);
      return removed.length;
    } catch (e) {
      this.streak.failed(e);
      return 0;
    } finally {
      this.running = false;
    }
  }
}
