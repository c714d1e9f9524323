import { Module } from '@nestjs/common';
import { requiresPoolModule } from '../../pool/pool-required';
import { HttpSurfaceModule } from '../surface/http-surface.module';
import { NodesController } from './nodes.controller';

/** The registry HTTP surface. Needs PoolModule (global by default): without it the boot fails naming it. */
@Module({ imports: [HttpSurfaceModule], controllers: [NodesController], providers: [requiresPoolModule('RegistryModule')] })
export class RegistryModule {}
