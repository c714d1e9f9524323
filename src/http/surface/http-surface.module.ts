import {
  applyDecorators, Inject, Injectable, Logger, Module, type OnApplicationBootstrap, Optional, UseFilters, UseGuards, UsePipes,
} from '@nestjs/common';
import { ApplicationConfig, HttpAdapterHost } from '@nestjs/core';
import { JsonValidationPipe } from '../../common/json-validation.pipe';
import { ApiErrorFilter } from '../errors/api-error.filter';
import { AUTH_OPTIONS, type AuthOptions, BearerGuard } from '../../common/bearer.guard';
import { SECURITY_MODULE_OPTIONS, type SecurityModuleOptions } from '../security/security.module-definition';
import { installSurfaceJsonGate } from './surface-json-gate';

/**
 * What every route of `RegistryModule`, `CallsModule` and `EventsModule` carries, so that the
 * contract holds in any Nest app, with or without `configureApp`: the bearer check of the
 * route's token, the validation pipe, and `{"error"}` answers with the statuses of the pool's error codes. In an app set up by
 * `configureApp` the app-wide pipe has validated the body already and the route's own pipe
 * passes it on.
 */
export const ContractRoutes = (): ClassDecorator => applyDecorators(
  UseGuards(BearerGuard), UsePipes(JsonValidationPipe), UseFilters(ApiErrorFilter),
);

/**
 * Puts the HTTP modules' JSON gate in front of the app's body parsers as soon as the HTTP
 * adapter is known (see {@link installSurfaceJsonGate}), and warns once at start-up when a
 * token is unset.
 */
@Injectable()
export class SurfaceSafety implements OnApplicationBootstrap {
  private readonly logger = new Logger('rtp-pool');

  constructor(
    host: HttpAdapterHost,
    config: ApplicationConfig,
    @Optional() @Inject(AUTH_OPTIONS) private readonly auth: AuthOptions = {},
    @Optional() @Inject(SECURITY_MODULE_OPTIONS) security: SecurityModuleOptions = {},
  ) {
    // init$ replays: it fires now if the adapter is set (NestFactory.create), else when it
    // is (a testing module's createNestApplication); both before init() adds body parsers.
    host.init$.subscribe(() => {
      if (host.httpAdapter) installSurfaceJsonGate(host.httpAdapter, () => config.getGlobalPrefix(), security.maxBodyBytes);
    });
  }

  onApplicationBootstrap(): void {
    if (this.auth.warnIfOpen === false) return;
    const open = [!this.auth.registryToken && 'registry (register, deregister)', !this.auth.apiToken && 'API (calls, nodes, drain, events)'].filter(Boolean);
    if (open.length) {
      this.logger.warn(`no ${open.join(' and no ')} token: those routes are open to anyone who reaches them; set them with SecurityModule.forRoot({ registryToken, apiToken })`);
    }
  }
}

/**
 * Shared by the HTTP modules (imported by each; Nest builds it once per app): the
 * enhancers {@link ContractRoutes} names, the JSON gate and the open-API warning.
 * BearerGuard is exported for the lean lane, which runs the same check.
 */
@Module({
  providers: [BearerGuard, JsonValidationPipe, ApiErrorFilter, SurfaceSafety],
  exports: [BearerGuard],
})
export class HttpSurfaceModule {}
