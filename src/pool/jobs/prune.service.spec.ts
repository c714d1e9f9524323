import { SchedulerRegistry } from '@nestjs/schedule';
import { sleep } from '../../common/sleep';
import { createTestingPool } from '../../testing/testing-pool';
import { NodeRegistry } from '../registry/node-registry';
import { PRUNE_JOB, PruneService } from './prune.service';

describe('PruneService (the prune job)', () => {
  it('pruneCron runs the prune as a CronJob and wins over pruneIntervalSec', async () => {
    const { module: m, clock } = await createTestingPool({ pool: { nodeTtlSec: 1, pruneCron: '* * * * * *', pruneIntervalSec: 3_600 } });
    try {
      const scheduler = m.get(SchedulerRegistry);
      expect(scheduler.doesExist('cron', PRUNE_JOB)).toBe(true);
      expect(scheduler.doesExist('interval', PRUNE_JOB)).toBe(false);
      const registry = m.get(NodeRegistry);
      await registry.register({ nodeId: 'quiet', controlUrl: 'http://h:1' });
      clock.advance(2_000);
      const deadline = Date.now() + 3_000;
      while ((await registry.nodes()).length && Date.now() < deadline) await sleep(50);
      expect(await registry.nodes()).toEqual([]);
    } finally {
      await m.close();
    }
  });

  it('pruneIntervalSec registers an interval; 0 (and no cron) registers nothing', async () => {
    const on = await createTestingPool({ pool: { pruneIntervalSec: 15 } });
    expect(on.module.get(SchedulerRegistry).doesExist('interval', PRUNE_JOB)).toBe(true);
    await on.module.close();
    expect(on.module.get(SchedulerRegistry).doesExist('interval', PRUNE_JOB)).toBe(false);
    const off = await createTestingPool({ pool: { pruneIntervalSec: 0 } });
    expect(off.module.get(SchedulerRegistry).getIntervals()).not.toContain(PRUNE_JOB);
    await off.module.close();
  });

  it('a bad pruneCron stops start-up with one line naming the option', async () => {
    await expect(createTestingPool({ pool: { pruneCron: '*/15 * * * *' } })).rejects.toThrow(/^PoolModule pruneCron: must be a cron expression with seconds/);
  });

  it('tick() prunes through the registry and never throws', async () => {
    const { module: m, clock } = await createTestingPool({ pool: { nodeTtlSec: 1 } });
    try {
      await m.get(NodeRegistry).register({ nodeId: 'quiet', controlUrl: 'http://h:1' });
      clock.advance(1_001);
      expect(await m.get(PruneService).tick()).toBe(1);
    } finally {
      await m.close();
    }
  });
});
