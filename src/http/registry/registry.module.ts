import { Module } from '@nestjs/common';
import { requiresPoolModule } from '../../pool/pool-required';
import { NodesController } from './nodes.controller';

/** The registry HTTP surface. Needs PoolModule (global by default): without it the boot fails naming it. */
@Module({ controllers: [NodesController], providers: [requiresPoolModule('RegistryModule')] })
export class RegistryModule {}
