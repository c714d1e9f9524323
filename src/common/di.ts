import type { DynamicModule, InjectionToken, ModuleMetadata, Type } from '@nestjs/common';
import type { ModuleRef } from '@nestjs/core';

/** Whether an option is a class (to be built by DI) rather than an instance or a name. */
export const isClass = <T>(v: unknown): v is Type<T> => typeof v === 'function';

/**
 * forRoot: when `option` is a class, registers it as a provider and points `token` at it,
 * so DI builds it (it may inject providers of the module's `imports`).
 */
export function withClassProvider(
  mod: DynamicModule, token: InjectionToken, option: unknown, imports: ModuleMetadata['imports'] = [],
): DynamicModule {
  if (!isClass(option)) return mod;
  return {
    ...mod,
    imports: [...(mod.imports ?? []), ...imports],
    providers: [...(mod.providers ?? []), option, { provide: token, useExisting: option }],
  };
}

/**
 * forRootAsync: an option resolved at runtime. A class is built by DI through
 * `ModuleRef.create` (its constructor dependencies come from the module's scope: its
 * providers, its `imports`, global modules); an instance is used as it is.
 */
export async function instanceOrBuilt<T>(moduleRef: ModuleRef, option: T | Type<T>): Promise<T> {
  return isClass<T>(option) ? moduleRef.create(option) : option;
}
