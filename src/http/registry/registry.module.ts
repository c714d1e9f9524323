import { Module } from '@nestjs/common';
import { NodesController } from './nodes.controller';

/** The registry HTTP surface. Needs a global PoolModule (the default). */
@Module({ controllers: [NodesController] })
export class RegistryModule {}
