import { type DynamicModule, Module } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { instanceOrBuilt, withClassProvider } from '../common/di';
import { LEG_COUNTER, type LegCounter, SimpleLegCounter } from './leg-counter.interface';
import {
  REGISTRAR_ASYNC_OPTIONS_TYPE, REGISTRAR_MODULE_OPTIONS, REGISTRAR_OPTIONS, REGISTRAR_OPTIONS_TYPE,
  RegistrarConfigurableModule, type ResolvedRegistrarOptions, resolveRegistrarOptions, type RegistrarModuleOptions,
} from './registrar.module-definition';
import { RegistrarService } from './registrar.service';

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
      // A class (from forRootAsync; forRoot registers it as a provider instead) is built by DI.
      useFactory: (o: ResolvedRegistrarOptions, moduleRef: ModuleRef): LegCounter | Promise<LegCounter> =>
        o.legCounter ? instanceOrBuilt(moduleRef, o.legCounter) : new SimpleLegCounter(),
      inject: [REGISTRAR_OPTIONS, ModuleRef],
    },
    RegistrarService,
  ],
  exports: [RegistrarService, LEG_COUNTER, REGISTRAR_OPTIONS],
})
export class RegistrarModule extends RegistrarConfigurableModule {
  /** Synchronous registration; a leg-counter class given here is built by DI (it may inject providers). */
  static forRoot(options: typeof REGISTRAR_OPTIONS_TYPE): DynamicModule {
    return withClassProvider(super.forRoot(options), LEG_COUNTER, options.legCounter);
  }

  /**
   * Registration from a factory (e.g. ConfigService). The leg counter may be an instance,
   * or a class built by DI from the module's scope (the async options' `imports`, global modules).
   */
  static forRootAsync(options: typeof REGISTRAR_ASYNC_OPTIONS_TYPE): DynamicModule {
    return super.forRootAsync(options);
  }
}
