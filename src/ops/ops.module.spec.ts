import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Counter, Registry } from 'prom-client';
import { PoolModule } from '../pool/pool.module';
import { PoolMetrics } from './metrics/pool-metrics.service';
import { OpsModule } from './ops.module';
import { DEFAULT_OPS_OPTIONS, OPS_OPTIONS, type OpsModuleOptions, RTP_METRICS_REGISTRY } from './core/ops.module-definition';

const pool = () => PoolModule.forRoot({ pruneIntervalSec: 0, healthIntervalMs: 0 });

describe('OpsModule registration', () => {
  it('forRoot({}): defaults and a registry of its own, holding the rtp_* and process metrics', async () => {
    const m = await Test.createTestingModule({ imports: [pool(), OpsModule.forRoot({})] }).compile();
    await m.init();
    expect(m.get(OPS_OPTIONS)).toEqual(DEFAULT_OPS_OPTIONS);
    const registry = m.get<Registry>(RTP_METRICS_REGISTRY);
    expect(registry).toBeInstanceOf(Registry);
    expect(m.get(PoolMetrics).registry).toBe(registry);
    const text = await registry.metrics();
    expect(text).toContain('# TYPE rtp_calls_total counter');
    expect(text).toContain('process_cpu_user_seconds_total');
    await m.close();
  });

  it('forRoot({ registry }): uses the given registry and, on close, removes only its own metrics', async () => {
    const registry = new Registry();
    const mine = new Counter({ name: 'my_app_total', help: 'the owner\'s', registers: [registry] });
    const m = await Test.createTestingModule({ imports: [pool(), OpsModule.forRoot({ registry, defaultMetrics: false })] }).compile();
    await m.init();
    expect(m.get(RTP_METRICS_REGISTRY)).toBe(registry);
    expect(registry.getSingleMetric('rtp_failovers_total')).toBeDefined();
    expect(registry.getSingleMetric('process_cpu_user_seconds_total')).toBeUndefined();
    await m.close();
    expect(registry.getSingleMetric('rtp_failovers_total')).toBeUndefined();
    expect(registry.getSingleMetric('my_app_total')).toBe(mine);
  });

  it('forRootAsync with useFactory', async () => {
    const m = await Test.createTestingModule({
      imports: [pool(), OpsModule.forRootAsync({ useFactory: () => ({ readyRequiresNode: true, apiToken: 't' }) })],
    }).compile();
    expect(m.get(OPS_OPTIONS)).toMatchObject({ readyRequiresNode: true, apiToken: 't', readyTimeoutMs: 1000 });
    await m.close();
  });

  it('forRootAsync with useClass', async () => {
    @Injectable()
    class Factory {
      create(): OpsModuleOptions {
        return { recentWindowSec: 30, defaultMetrics: false };
      }
    }
    const m = await Test.createTestingModule({ imports: [pool(), OpsModule.forRootAsync({ useClass: Factory })] }).compile();
    expect(m.get(OPS_OPTIONS)).toMatchObject({ recentWindowSec: 30, defaultMetrics: false, readyRequiresNode: false });
    await m.close();
  });
});
