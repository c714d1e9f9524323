import { Module } from '@nestjs/common';
import { requiresPoolModule } from '../../pool/pool-required';
import { HttpSurfaceModule } from '../surface/http-surface.module';
import { EventsController } from './events.controller';
import { EventStreams } from './event-streams';

/** `GET /v1/events` (CONTRACT §5). Needs PoolModule (global by default). */
@Module({ imports: [HttpSurfaceModule], controllers: [EventsController], providers: [EventStreams, requiresPoolModule('EventsModule')], exports: [EventStreams] })
export class EventsModule {}
