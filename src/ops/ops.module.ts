import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { Registry } from 'prom-client';
import { requiresPoolModule } from '../pool/pool-required';
import { DashboardController, OpsSummaryController } from './dashboard/dashboard.controller';
import { OpsSummaryService } from './dashboard/ops-summary';
import { HealthController } from './health/health.controller';
import { PoolHealthIndicator } from './health/pool.health';
import { MetricsController } from './metrics/metrics.controller';
import { PoolMetrics } from './metrics/pool-metrics.service';
import {
  OPS_MODULE_OPTIONS, OPS_OPTIONS, OpsConfigurableModule, type OpsModuleOptions, type ResolvedOpsOptions,
  resolveOpsOptions, RTP_METRICS_REGISTRY,
} from './core/ops.module-definition';
import { ShutdownState } from './shutdown/shutdown-state';

/**
 * Operations surface of the signaling service: `GET /health`, `GET /health/ready`
 * (terminus), `GET /metrics` (Prometheus, fed by PoolHooks), the dashboard at `GET /`
 * with its JSON at `GET /v1/ops/summary`. Needs PoolModule (global by default): without it
 * the boot fails naming it.
 *
 * ```ts
 * OpsModule.forRoot({ readyRequiresNode: true })
 * OpsModule.forRootAsync({ inject: [ConfigService], useFactory: (c) => ({ ... }) })
 * ```
 */
@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController, MetricsController, DashboardController, OpsSummaryController],
  providers: [
    requiresPoolModule('OpsModule'),
    { provide: OPS_OPTIONS, useFactory: (o: OpsModuleOptions) => resolveOpsOptions(o), inject: [OPS_MODULE_OPTIONS] },
    { provide: RTP_METRICS_REGISTRY, useFactory: (o: ResolvedOpsOptions) => o.registry ?? new Registry(), inject: [OPS_OPTIONS] },
    ShutdownState,
    PoolHealthIndicator,
    PoolMetrics,
    OpsSummaryService,
  ],
  exports: [OPS_OPTIONS, RTP_METRICS_REGISTRY, ShutdownState, PoolMetrics, OpsSummaryService],
})
export class OpsModule extends OpsConfigurableModule {}
