import { Module } from '@nestjs/common';
import { AUTH_OPTIONS, type AuthOptions } from '../../common/bearer.guard';
import { NodeUrlPolicy } from './node-url-policy';
import { SECURITY_MODULE_OPTIONS, SecurityConfigurableModule, type SecurityModuleOptions } from './security.module-definition';

/**
 * Security checks the HTTP surface uses: {@link NodeUrlPolicy} (the `control_url` allow-list)
 * and the bearer tokens ({@link AUTH_OPTIONS}, read by `BearerGuard` on every route of
 * `RegistryModule`, `CallsModule` and `EventsModule`). Global by default, so those modules
 * find it; without this module the registry accepts any host, as with an empty list, and
 * every route is open (with a warning at start-up).
 *
 * ```ts
 * SecurityModule.forRoot({ registryToken: 'r…', apiToken: 'a…', allowedNodeCidrs: ['10.0.0.0/8'] })
 * ```
 */
@Module({
  providers: [
    NodeUrlPolicy,
    {
      provide: AUTH_OPTIONS,
      inject: [SECURITY_MODULE_OPTIONS],
      useFactory: (o: SecurityModuleOptions): AuthOptions => ({
        registryToken: o.registryToken || undefined, apiToken: o.apiToken || undefined, warnIfOpen: o.warnIfOpen,
      }),
    },
  ],
  exports: [NodeUrlPolicy, AUTH_OPTIONS, SECURITY_MODULE_OPTIONS],
})
export class SecurityModule extends SecurityConfigurableModule {}
