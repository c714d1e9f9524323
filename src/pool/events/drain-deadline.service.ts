import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import type { Clock } from '../../common/clock';
import { JobScheduler } from '../jobs/job-scheduler';
import { CLOCK } from '../pool.constants';
import { POOL_OPTIONS, type ResolvedPoolOptions } from '../pool.module-definition';
import { InjectPoolStore, type PoolStore } from '../store/pool-store.interface';
import { EventFeed } from './event-feed.service';

export const DRAIN_DEADLINE_JOB = 'rtp-pool:drain-deadline';
/** How long the once-key of one deadline lives (longer than any deadline is late). */
const ONCE_TTL_MS = 7 * 24 * 3_600_000;

/**
 * Emits `drain_deadline` (CONTRACT §5) once per drain deadline that passed with calls still
 * bound: every `drainCheckMs` each instance looks; the once-key of (node, deadline) in the
 * event log lets exactly one of them emit.
 */
@Injectable()
export class DrainDeadlineService implements OnApplicationBootstrap {
  constructor(
    @InjectPoolStore() private readonly store: PoolStore,
    private readonly feed: EventFeed,
    private readonly jobs: JobScheduler,
    @Inject(POOL_OPTIONS) private readonly options: ResolvedPoolOptions,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    const ms = this.options.drainCheckMs;
    if (ms > 0) this.jobs.start(DRAIN_DEADLINE_JOB, { everyMs: ms }, () => this.tick());
  }

  /** One check; resolves to the node ids it emitted for. */
  async tick(): Promise<string[]> {
    const now = this.clock.now();
    const emitted: string[] = [];
    for (const n of await this.store.listNodes()) {
      if (!n.adminDrained || n.drainDeadline === null || n.drainDeadline > now || n.boundCalls <= 0) continue;
      if (!(await this.feed.once(`drain_deadline:${n.id}:${n.drainDeadline}`, ONCE_TTL_MS))) continue;
      await this.feed.publish('drain_deadline', { node_id: n.id, bound_calls: n.boundCalls });
      emitted.push(n.id);
    }
    return emitted;
  }
}
