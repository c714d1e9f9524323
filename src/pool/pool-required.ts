import type { Provider } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { PoolService } from './pool.service';

/** Thrown at boot when a module that serves the pool finds no PoolModule. */
export class PoolModuleMissingError extends Error {
  constructor(moduleName: string) {
    super(`${moduleName} needs PoolModule: import PoolModule.forRoot() or PoolModule.forRootAsync() (global by default) in the same application`);
    this.name = 'PoolModuleMissingError';
  }
}

/**
 * A provider that states a module's need for the pool: listed first in the module's
 * providers, it fails the boot with one line naming PoolModule when PoolService cannot be
 * injected, instead of Nest's generic "can't resolve dependencies" of some controller.
 */
export function requiresPoolModule(moduleName: string): Provider {
  return {
    provide: Symbol(`${moduleName} requires PoolModule`),
    // Providers are built concurrently, so this one looks PoolService up through its own
    // ModuleRef (resolved at once) to fail before any sibling's own lookup does.
    useFactory: (moduleRef: ModuleRef) => {
      try {
        moduleRef.get(PoolService, { strict: false });
      } catch {
        throw new PoolModuleMissingError(moduleName);
      }
      return true;
    },
    inject: [ModuleRef],
  };
}
