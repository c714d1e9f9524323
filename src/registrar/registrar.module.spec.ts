import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { LEG_COUNTER, type LegCounter, SimpleLegCounter } from './leg-counter.interface';
import { DEFAULT_REGISTRAR_OPTIONS, REGISTRAR_OPTIONS, type ResolvedRegistrarOptions, resolveRegistrarOptions } from './registrar.module-definition';
import { RegistrarModule } from './registrar.module';

@Injectable()
class Legs {
  readonly n = 3;
}

/** A leg counter with a dependency: both registration paths must build it through DI. */
@Injectable()
class DiLegCounter implements LegCounter {
  constructor(readonly legs: Legs) {}
  activeLegs(): number {
    return this.legs.n;
  }
}

@Module({ providers: [Legs], exports: [Legs] })
class LegsModule {}

const base = { nodeId: 'n', controlUrl: 'http://127.0.0.1:1', autoStart: false };

describe('RegistrarModule registration paths', () => {
  it('forRoot without a counter: a SimpleLegCounter and the defaults', async () => {
    const m = await Test.createTestingModule({ imports: [RegistrarModule.forRoot(base)] }).compile();
    expect(m.get(LEG_COUNTER)).toBeInstanceOf(SimpleLegCounter);
    expect(m.get<ResolvedRegistrarOptions>(REGISTRAR_OPTIONS)).toMatchObject({ ...DEFAULT_REGISTRAR_OPTIONS, autoStart: false });
    await m.close();
  });

  it('forRootAsync with a counter class: built by DI from the async options\' imports', async () => {
    const m = await Test.createTestingModule({
      imports: [RegistrarModule.forRootAsync({ imports: [LegsModule], useFactory: () => ({ ...base, legCounter: DiLegCounter }) })],
    }).compile();
    const c = m.get<DiLegCounter>(LEG_COUNTER);
    expect(c).toBeInstanceOf(DiLegCounter);
    expect(c.activeLegs()).toBe(3);
    await m.close();
  });

  it('forRootAsync with a counter instance uses it as it is', async () => {
    const counter = new SimpleLegCounter();
    const m = await Test.createTestingModule({ imports: [RegistrarModule.forRootAsync({ useFactory: () => ({ ...base, legCounter: counter }) })] }).compile();
    expect(m.get(LEG_COUNTER)).toBe(counter);
    await m.close();
  });

  it('resolveRegistrarOptions: non-positive durations and a negative drain time fall back to the defaults', () => {
    const o = resolveRegistrarOptions({ ...base, heartbeatIntervalMs: 0, minBackoffMs: Number.NaN, requestTimeoutMs: 700, drainTimeoutMs: -1 });
    expect(o).toMatchObject({ heartbeatIntervalMs: 10_000, minBackoffMs: 500, requestTimeoutMs: 700, drainTimeoutMs: 0, autoStart: false });
  });
});
