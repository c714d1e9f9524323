import { Module } from '@nestjs/common';
import { requiresPoolModule } from '../../pool/pool-required';
import { CallsController } from './calls.controller';

/** The calls HTTP surface. Needs PoolModule (global by default): without it the boot fails naming it. */
@Module({ controllers: [CallsController], providers: [requiresPoolModule('CallsModule')] })
export class CallsModule {}
