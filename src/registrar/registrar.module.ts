import { type DynamicModule, Module, type Provider, type Type } from '@nestjs/common';
import { LEG_COUNTER, type LegCounter, SimpleLegCounter } from './leg-counter.interface';
import {
  REGISTRAR_ASYNC_OPTIONS_TYPE, REGISTRAR_MODULE_OPTIONS, REGISTRAR_OPTIONS, REGISTRAR_OPTIONS_TYPE,
  RegistrarConfigurableModule, type ResolvedRegistrarOptions, resolveRegistrarOptions, type RegistrarModuleOptions,
} from './registrar.module-definition';
import { RegistrarService } from './registrar.service';

const isClass = (v: unknown): v is Type<LegCounter> => typeof v === 'function';

/**
 * The media-node side of the registry, importable by any Nest media node:
 *
 * ```ts
 * RegistrarModule.forRoot({ registryUrl: 'http://sip:8080', nodeId: 'rtp-a', controlUrl: 'http://10.0.0.5:8090', legCounter: MyLegs })
 * RegistrarModule.forRootAsync({ inject: [ConfigService, MyLegs], useFactory: (c, legs) => ({ ..., legCounter: legs }) })
 * ```
 * Exports {@link RegistrarService} and the {@link LEG_COUNTER} in use (a
 * {@link SimpleLegCounter} when none is given).
 */
@Module({
  providers: [
    {
      provide: REGISTRAR_OPTIONS,
      useFactory: (o: RegistrarModuleOptions) => resolveRegistrarOptions(o),
      inject: [REGISTRAR_MODULE_OPTIONS],
    },
    {
      provide: LEG_COUNTER,
      // forRootAsync: a class is constructed without DI (forRoot registers it as a provider instead).
      useFactory: (o: ResolvedRegistrarOptions): LegCounter => {
        const c = o.legCounter;
        if (!c) return new SimpleLegCounter();
        return isClass(c) ? new c() : c;
      },
      inject: [REGISTRAR_OPTIONS],
    },
    RegistrarService,
  ],
  exports: [RegistrarService, LEG_COUNTER, REGISTRAR_OPTIONS],
})
export class RegistrarModule extends RegistrarConfigurableModule {
  /** Synchronous registration; a leg-counter class given here is built by DI (it may inject providers). */
  static forRoot(options: typeof REGISTRAR_OPTIONS_TYPE): DynamicModule {
    const mod = super.forRoot(options);
    if (!isClass(options.legCounter)) return mod;
    const counter: Provider = { provide: LEG_COUNTER, useExisting: options.legCounter };
    return { ...mod, providers: [...(mod.providers ?? []), options.legCounter, counter] };
  }

  /** Registration from a factory (e.g. ConfigService); give the leg counter as an instance. */
  static forRootAsync(options: typeof REGISTRAR_ASYNC_OPTIONS_TYPE): DynamicModule {
    return super.forRootAsync(options);
  }
}
