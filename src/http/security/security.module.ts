import { Module } from '@nestjs/common';
import { NodeUrlPolicy } from './node-url-policy';
import { SecurityConfigurableModule } from './security.module-definition';

/**
 * Security checks the HTTP surface uses: {@link NodeUrlPolicy} (the `control_url` allow-list).
 * Global by default, so the registry controller finds it; without this module the
 * registry accepts any host, as with an empty list.
 *
 * ```ts
 * SecurityModule.forRoot({ allowedNodeCidrs: ['10.0.0.0/8'] })
 * ```
 */
@Module({ providers: [NodeUrlPolicy], exports: [NodeUrlPolicy] })
export class SecurityModule extends SecurityConfigurableModule {}
