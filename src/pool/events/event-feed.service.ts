import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { PoolHooks } from '../core/pool.hooks';
import { type EventLog, InjectEventLog, type StreamEvent, type StreamEventMap, type StreamEventName } from '../core/event-log.interface';

/**
 * The pool's side of the §5 event stream: parts of the pool publish here, the event log
 * stores (and, when shared, spreads) the events, and every event the log's tail delivers —
 * this instance's and every other's, once each, in id order — is emitted on
 * {@link PoolHooks} too, so an in-process user sees exactly what `GET /v1/events` streams.
 */
@Injectable()
export class EventFeed implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(EventFeed.name);
  private untail?: () => void;

  constructor(
    @InjectEventLog() private readonly log: EventLog,
    private readonly hooks: PoolHooks,
  ) {}

  onModuleInit(): void {
    this.untail = this.log.tail((e) => {
      try {
        (this.hooks.emit as (name: string, e: StreamEvent) => boolean)(e.event, e);
      } catch (err) {
        this.logger.error(`a ${e.event} listener threw: ${(err as Error).message}`);
      }
    });
  }

  onModuleDestroy(): void {
    this.untail?.();
    this.untail = undefined;
  }

  /** Appends an event; never throws (a failed append is logged and resolves undefined). */
  async publish<K extends StreamEventName>(event: K, data: StreamEventMap[K]): Promise<StreamEvent<K> | undefined> {
    try {
      return await this.log.append(event, data);
    } catch (e) {
      this.logger.error(`event ${event} not recorded: ${(e as Error).message}`);
      return undefined;
    }
  }

  /** True for one caller across instances until `ttlMs` (see {@link EventLog.once}); false when the log fails. */
  once(key: string, ttlMs: number): Promise<boolean> {
    return this.log.once(key, ttlMs).catch(() => false);
  }

  /** Drops a {@link once} key; true when it was set. */
  forget(key: string): Promise<boolean> {
    return this.log.forget(key).catch(() => false);
  }

  /** Retained events after `afterId` (a replay), oldest first. */
  replay(afterId: string | undefined, limit: number): Promise<StreamEvent[]> {
    return this.log.read(afterId, limit);
  }

  /** The newest `limit` events, oldest first. */
  recent(limit: number): Promise<StreamEvent[]> {
    return this.log.recent(limit);
  }

  /** Every event from now on, from every instance, in id order; returns the unsubscribe function. */
  subscribe(listener: (e: StreamEvent) => void): () => void {
    return this.log.tail(listener);
  }
}
