import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { PoolService } from '../../pool/pool.service';
import { InjectPoolStore, type PoolStore } from '../../pool/store/pool-store.interface';
import { InjectOpsOptions, type ResolvedOpsOptions } from '../ops.module-definition';

/** Terminus indicators of the pool: its store answers; at least one node can take calls. */
@Injectable()
export class PoolHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    @InjectPoolStore() private readonly store: PoolStore,
    private readonly pool: PoolService,
    @InjectOpsOptions() private readonly options: ResolvedOpsOptions,
  ) {}

  /** `store`: up when {@link PoolStore.ping} resolves within `readyTimeoutMs`. */
  storeCheck() {
    return this.indicators.check('store').attempt(() => this.store.ping()).withTimeout(this.options.readyTimeoutMs);
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
