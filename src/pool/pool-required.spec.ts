import { Test } from '@nestjs/testing';
import { CallsModule } from '../http/calls/calls.module';
import { RegistryModule } from '../http/registry/registry.module';
import { OpsModule } from '../ops/ops.module';
import { PoolModule } from './pool.module';

describe('modules that need PoolModule', () => {
  it.each([
    ['RegistryModule', RegistryModule],
    ['CallsModule', CallsModule],
  ])('%s without PoolModule fails the boot with one line naming PoolModule', async (name, mod) => {
    await expect(Test.createTestingModule({ imports: [mod] }).compile())
      .rejects.toThrow(`${name} needs PoolModule: import PoolModule.forRoot() or PoolModule.forRootAsync()`);
  });

  it('OpsModule without PoolModule fails the boot naming OpsModule', async () => {
    // Nest builds a module's providers concurrently: its own "can't resolve … in the OpsModule
    // module" (a pool token) may come before the declared requirement's message.
    await expect(Test.createTestingModule({ imports: [OpsModule.forRoot({ defaultMetrics: false })] }).compile())
      .rejects.toThrow(/OpsModule/);
  });

  it('boot with PoolModule', async () => {
    const m = await Test.createTestingModule({
      imports: [PoolModule.forRoot({ healthIntervalMs: 0, pruneIntervalSec: 0 }), RegistryModule, CallsModule, OpsModule.forRoot({ defaultMetrics: false })],
    }).compile();
    await m.close();
  });
});
