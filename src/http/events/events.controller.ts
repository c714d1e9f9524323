import {
  BadRequestException, Controller, Get, Headers, HttpException, Query, Res,
} from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { ServerResponse } from 'node:http';
import { ApiErrors } from '../../contract/dto/responses.dto';
import { parseEventId } from '../../pool/core/event-log.interface';
import { RequireToken } from '../../common/bearer.guard';
import { ContractRoutes } from '../surface/http-surface.module';
import { EventStreams } from './event-streams';

/** A raw Node response under either adapter (Fastify's reply carries it as `raw`). */
type RawCarrier = ServerResponse | { raw: ServerResponse; hijack?: () => void };

/**
 * `GET /v1/events` (CONTRACT §5): Server-Sent Events. Written straight to Node's
 * ServerResponse, so it behaves the same under Express and Fastify: `id:` on every record,
 * a `Last-Event-ID` replay of the retained events, then the live tail, `: ping` comments
 * every `eventsPingMs`, everything released when the client goes. The bounds (subscriber
 * cap, per-subscriber buffer, paced replay) are {@link EventStreams}'.
 */
@ApiTags('events')
@ApiBearerAuth('api')
@Controller('v1/events')
// Token check, validation and {"error"} answers on every route, in any app.
@ContractRoutes()
@RequireToken('api')
export class EventsController {
  constructor(private readonly streams: EventStreams) {}

  @Get()
  @ApiProduces('text/event-stream')
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'Replay the retained events after this id first.' })
  @ApiOkResponse({ description: 'An endless text/event-stream: node_down, node_up, drain_deadline, call_migrated, call_lost.' })
  @ApiErrors({
    400: 'Last-Event-ID is not an event id, or last_event_id given twice', 401: 'missing or wrong API token',
    503: 'too many event streams open on this instance (RTP_EVENTS_MAX_SUBSCRIBERS), or shutting down; see Retry-After',
  })
  async stream(
    @Res() reply: RawCarrier,
    @Headers('last-event-id') lastEventId?: string,
    @Query('last_event_id') lastEventIdQuery?: unknown,
  ): Promise<void> {
    if (lastEventIdQuery !== undefined && typeof lastEventIdQuery !== 'string') {
      throw new BadRequestException('last_event_id must be given once');
    }
    // A browser's EventSource cannot set headers on its first request: the query works too.
    const after = (lastEventId ?? lastEventIdQuery)?.trim() || undefined;
    if (after !== undefined && !parseEventId(after)) throw new BadRequestException('Last-Event-ID is not an event id of this stream');
    const res = 'raw' in reply ? reply.raw : reply;
    const refused = this.streams.refusal();
    if (refused) {
      res.setHeader('Retry-After', String(refused.retryAfterSec));
      throw new HttpException(refused.error, refused.status);
    }
    if ('hijack' in reply && typeof reply.hijack === 'function') reply.hijack();
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write(': rtp-pool events\n\n');
    await this.streams.open(res, after);
  }
}
