import { Module } from '@nestjs/common';
import { CallsController } from './calls.controller';

/** The calls HTTP surface. Needs a global PoolModule (the default). */
@Module({ controllers: [CallsController] })
export class CallsModule {}
