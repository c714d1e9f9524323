import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import type { Clock } from '../../common/clock';
import { JobScheduler } from '../core/job-scheduler';
import { CLOCK } from '../core/pool.constants';
import { PoolHooks } from '../core/pool.hooks';
import { POOL_OPTIONS, type ResolvedPoolOptions } from '../core/pool.module-definition';
import { InjectPoolStore, type PoolStore } from '../core/pool-store.interface';
import { EventFeed } from './event-feed.service';

export const DRAIN_DEADLINE_JOB = 'rtp-pool:drain-deadline';
/** How long the once-key of one deadline lives (longer than any deadline is late). */
const ONCE_TTL_MS = 7 * 24 * 3_600_000;

/**
 * Emits `drain_deadline` (CONTRACT §5) once per drain deadline that passed with calls still
 * bound. The instance that took the drain sets a timer for the deadline; every
 * `drainCheckMs` each instance also looks at every node (deadlines set elsewhere, or before
 * a restart). The once-key of (node, deadline) in the event log lets exactly one emit.
 */
@Injectable()
export class DrainDeadlineService implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly onDrain = (e: { nodeId: string; deadlineMs: number | null }) => this.schedule(e.nodeId, e.deadlineMs);

  constructor(
    private readonly hooks: PoolHooks,
    @InjectPoolStore() private readonly store: PoolStore,
    private readonly feed: EventFeed,
    private readonly jobs: JobScheduler,
    @Inject(POOL_OPTIONS) private readonly options: ResolvedPoolOptions,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  onApplicationBootstrap(): void {
    this.hooks.on('drain', this.onDrain);
    const ms = this.options.drainCheckMs;
    if (ms > 0) this.jobs.start(DRAIN_DEADLINE_JOB, { everyMs: ms }, () => this.tick());
  }

  onModuleDestroy(): void {
    this.hooks.off('drain', this.onDrain);
    for (const t of this.timers.values()) clearTimeout(t);
    this.timers.clear();
  }

  /** A timer for one node's deadline (replacing an earlier one); null clears it. */
  private schedule(nodeId: string, deadlineMs: number | null): void {
    clearTimeout(this.timers.get(nodeId));
    this.timers.delete(nodeId);
    if (deadlineMs === null) return;
    // Real time to wait, the deadline itself on the pool's clock (a test clock may differ).
    const t = setTimeout(() => {
      this.timers.delete(nodeId);
      void this.check(nodeId, deadlineMs);
    }, Math.max(0, Math.min(deadlineMs - this.clock.now(), 2 ** 31 - 1)));
    t.unref();
    this.timers.set(nodeId, t);
  }

  private async check(nodeId: string, deadlineMs: number): Promise<void> {
    const n = await this.store.getNode(nodeId).catch(() => undefined);
    if (n?.adminDrained && n.drainDeadline === deadlineMs) await this.fire(n.nodeId, n.drainDeadline, n.boundCalls);
  }

  private async fire(nodeId: string, deadlineMs: number, boundCalls: number): Promise<boolean> {
    if (boundCalls <= 0 || deadlineMs > this.clock.now()) return false;
    if (!(await this.feed.once(`drain_deadline:${nodeId}:${deadlineMs}`, ONCE_TTL_MS))) return false;
    await this.feed.publish('drain_deadline', { node_id: nodeId, bound_calls: boundCalls });
    return true;
  }

  /** One check; resolves to the node ids it emitted for. */
  async tick(): Promise<string[]> {
    const now = this.clock.now();
    const emitted: string[] = [];
    for (const n of await this.store.listNodes()) {
      if (!n.adminDrained || n.drainDeadline === null || n.drainDeadline > now) continue;
      if (await this.fire(n.nodeId, n.drainDeadline, n.boundCalls)) emitted.push(n.nodeId);
    }
    return emitted;
  }
}
