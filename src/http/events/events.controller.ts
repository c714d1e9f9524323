import { BadRequestException, Controller, Get, Headers, Inject, OnModuleDestroy, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOkResponse, ApiProduces, ApiTags } from '@nestjs/swagger';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiErrors } from '../../contract/dto/responses.dto';
import { EventFeed } from '../../pool/events/event-feed.service';
import { parseEventId, type StreamEvent } from '../../pool/core/event-log.interface';
import { POOL_OPTIONS, type ResolvedPoolOptions } from '../../pool/core/pool.module-definition';
import { RequireToken } from '../../common/bearer.guard';
import { ContractRoutes } from '../surface/http-surface.module';

/** Events replayed per read while catching a reconnecting client up. */
const REPLAY_BATCH = 1_000;

/** A raw Node response under either adapter (Fastify's reply carries it as `raw`). */
type RawCarrier = ServerResponse | { raw: ServerResponse; hijack?: () => void };
type RawRequest = IncomingMessage | { raw: IncomingMessage };

/**
 * `GET /v1/events` (CONTRACT §5): Server-Sent Events. Written straight to Node's
 * ServerResponse, so it behaves the same under Express and Fastify: `id:` on every record,
 * a `Last-Event-ID` replay of the retained events, then the live tail, `: ping` comments
 * every `eventsPingMs`, everything released when the client goes.
 */
@ApiTags('events')
@ApiBearerAuth('api')
@Controller('v1/events')
// Token check, validation and {"error"} answers on every route, in any app.
@ContractRoutes()
@RequireToken('api')
export class EventsController implements OnModuleDestroy {
  /** Open streams: ended at shutdown, so closing the server does not wait for clients that never leave. */
  private readonly open = new Set<ServerResponse>();

  constructor(
    private readonly feed: EventFeed,
    @Inject(POOL_OPTIONS) private readonly options: ResolvedPoolOptions,
  ) {}

  @Get()
  @ApiProduces('text/event-stream')
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'Replay the retained events after this id first.' })
  @ApiOkResponse({ description: 'An endless text/event-stream: node_down, node_up, drain_deadline, call_migrated, call_lost.' })
  @ApiErrors({ 400: 'Last-Event-ID is not an event id', 401: 'missing or wrong API token' })
  async stream(
    @Req() request: RawRequest,
    @Res() reply: RawCarrier,
    @Headers('last-event-id') lastEventId?: string,
    @Query('last_event_id') lastEventIdQuery?: unknown,
  ): Promise<void> {
    // A browser's EventSource cannot set headers on its first request: the query works too.
    const after = (lastEventId ?? (typeof lastEventIdQuery === 'string' ? lastEventIdQuery : undefined))?.trim() || undefined;
    if (after !== undefined && !parseEventId(after)) throw new BadRequestException('Last-Event-ID is not an event id of this stream');
    if ('hijack' in reply && typeof reply.hijack === 'function') reply.hijack();
    const res = 'raw' in reply ? reply.raw : reply;
    const req = 'raw' in request ? request.raw : request;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    res.write(': rtp-pool events\n\n');

    let closed = false;
    let last = after;
    const buffered: StreamEvent[] = [];
    let replaying = true;
    const send = (e: StreamEvent) => {
      if (closed) return;
      last = e.id;
      res.write(`event: ${e.event}\nid: ${e.id}\ndata: ${JSON.stringify(e.data)}\n\n`);
    };
    // Subscribe first, replay second: nothing appended in between is lost, nothing is sent twice.
    const unsubscribe = this.feed.subscribe((e) => (replaying ? buffered.push(e) : send(e)));
    const ping = setInterval(() => !closed && res.write(': ping\n\n'), this.options.eventsPingMs);
    ping.unref();
    this.open.add(res);
    const cleanup = () => {
      if (closed) return;
      closed = true;
      clearInterval(ping);
      unsubscribe();
      this.open.delete(res);
    };
    req.on('close', cleanup);
    res.on('close', cleanup);
    res.on('error', cleanup);

    try {
      if (after !== undefined) {
        for (;;) {
          const batch = await this.feed.replay(last, REPLAY_BATCH);
          batch.forEach(send);
          if (batch.length < REPLAY_BATCH || closed) break;
        }
      }
    } catch {
      // A replay the log could not serve: the live stream still follows.
    }
    replaying = false;
    for (const e of buffered.splice(0)) {
      if (last === undefined || isAfter(e.id, last)) send(e);
    }
  }

  onModuleDestroy(): void {
    for (const res of this.open) res.end();
  }
}

function isAfter(id: string, than: string): boolean {
  const [am, as] = parseEventId(id)!;
  const [bm, bs] = parseEventId(than)!;
  return am > bm || (am === bm && as > bs);
}
