import { Module } from '@nestjs/common';
import { requiresPoolModule } from '../../pool/pool-required';
import { HttpSurfaceModule } from '../surface/http-surface.module';
import { CallsController } from './calls.controller';

/** The calls HTTP surface. Needs PoolModule (global by default): without it the boot fails naming it. */
@Module({ imports: [HttpSurfaceModule], controllers: [CallsController], providers: [requiresPoolModule('CallsModule')] })
export class CallsModule {}
