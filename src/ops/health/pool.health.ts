import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { PoolService } from '../../pool/pool.service';
import { InjectPoolStore, type PoolStore } from '../../pool/core/pool-store.interface';
import { InjectOpsOptions, type ResolvedOpsOptions } from '../core/ops.module-definition';

/** Terminus indicators of the pool: its store answers; at least one node can take calls. */
@Injectable()
export class PoolHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    @InjectPoolStore() private readonly store: PoolStore,
    private readonly pool: PoolService,
    @InjectOpsOptions() private readonly options: ResolvedOpsOptions,
  ) {}

  /**
   * `store`: up when {@link PoolStore.ping} resolves within `readyTimeoutMs`, with what the
   * store says of itself (the Redis store: topology, target, connection state). Down, the
   * message names the topology and the connection state too.
   */
  storeCheck() {
    return this.indicators.check('store').attempt(async () => {
      try {
        await this.store.ping();
      } catch (e) {
        const d = this.store.describe?.();
        const why = e instanceof Error ? e.message : String(e);
        throw new Error(d?.topology ? `${why}: redis ${d.topology}, connection ${d.connection}` : why);
      }
      return this.store.describe?.();
    }).withTimeout(this.options.readyTimeoutMs);
  }

  /** `nodes`: up when at least one node is healthy and not draining. Reads the store only. */
  async nodesCheck() {
    const session = this.indicators.check('nodes');
    const all = await this.pool.nodeInfos();
    const usable = all.filter((n) => n.healthy && !n.draining).length;
    const data = { total: all.length, usable };
    return usable > 0 ? session.up(data) : session.down({ ...data, message: 'no healthy undrained node' });
  }
}
