import { Module } from '@nestjs/common';
import { CallsModule, PoolModule, RegistryModule } from 'rtp-pool';
import { MediaLegs } from './media-legs.service.js';
import { VipRoutingModule } from './vip-routing.js';
import { VipStrategy } from './vip.strategy.js';

@Module({
  imports: [
    // The strategy is a class: PoolModule builds it with DI, from the modules in `imports`.
    PoolModule.forRoot({ strategy: VipStrategy, imports: [VipRoutingModule] }),
    RegistryModule, // POST /v1/nodes/register …
    CallsModule, // POST /v1/calls …
  ],
  providers: [MediaLegs],
})
export class AppModule {}
