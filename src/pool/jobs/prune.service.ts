import { Inject, Injectable, Logger, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { POOL_OPTIONS, type ResolvedPoolOptions } from '../pool.module-definition';
import { PoolService } from '../pool.service';

export const PRUNE_JOB = 'rtp-pool:prune';

/**
 * Runs `pool.prune()` every `pruneIntervalSec`. The interval is registered at runtime
 * through SchedulerRegistry, because a decorator argument is evaluated before config exists.
 */
@Injectable()
export class PruneService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly logger = new Logger(PruneService.name);
  private running = false;

  constructor(
    private readonly pool: PoolService,
    private readonly scheduler: SchedulerRegistry,
    @Inject(POOL_OPTIONS) private readonly options: ResolvedPoolOptions,
  ) {}

  onApplicationBootstrap(): void {
    const sec = this.options.pruneIntervalSec;
    if (sec <= 0) return;
    const timer = setInterval(() => void this.tick(), sec * 1000);
    timer.unref();
    this.scheduler.addInterval(PRUNE_JOB, timer);
  }

  onApplicationShutdown(): void {
    if (this.scheduler.doesExist('interval', PRUNE_JOB)) this.scheduler.deleteInterval(PRUNE_JOB);
  }

  /** One prune run; never throws, never overlaps the previous one. */
  async tick(): Promise<number> {
    if (this.running) return 0;
    this.running = true;
    try {
      const removed = await this.pool.prune();
      if (removed.length) this.logger.log(`prune removed ${removed.length} node(s)`);
      return removed.length;
    } catch (e) {
      this.logger.error(`prune failed: ${(e as Error).message}`);
      return 0;
    } finally {
      this.running = false;
    }
  }
}
