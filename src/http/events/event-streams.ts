import { Inject, Injectable, Logger, type OnApplicationBootstrap, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { ServerResponse } from 'node:http';
import { EventFeed } from '../../pool/events/event-feed.service';
import { parseEventId, type StreamEvent } from '../../pool/core/event-log.interface';
import { POOL_OPTIONS, type ResolvedPoolOptions } from '../../pool/core/pool.module-definition';
import { ShutdownState } from '../../ops/shutdown/shutdown-state';
import { drained, LoopBudget } from './replay-pacing';

/** Events read and written per step of a replay: small, so one step is a fraction of a millisecond. */
export const REPLAY_CHUNK = 200;
/** Milliseconds of replay steps (of all subscribers together) per iteration of the event loop. */
const REPLAY_BUDGET_MS = 5;

/** Least milliseconds between two writes of live events to the streams (events in between are written together). */
const FLUSH_EVERY_MS = 20;
/** Full replay chunks kept serialized, so many subscribers replaying the same range serialize it once. */
const CACHED_CHUNKS = 64;

const PING = Buffer.from(': ping\n\n');

/** One SSE record, exactly as the live tail and a replay write it. */
export function sseRecord(e: StreamEvent): string {
  return `event: ${e.event}\nid: ${e.id}\ndata: ${JSON.stringify(e.data)}\n\n`;
}

/** An event id as two numbers, compared without parsing again per subscriber. */
type Id = readonly [number, number];
const after = (a: Id, b: Id | undefined) => b === undefined || a[0] > b[0] || (a[0] === b[0] && a[1] > b[1]);

interface Subscriber {
  res: ServerResponse;
  /** The newest id written: nothing at or before it is written again (the replay's hand-over to the live tail). */
  last?: Id;
  /** Live events that arrived while the replay ran, written when it ends; absent once live. */
  pending?: Array<{ id: Id; buf: Buffer }>;
  pendingBytes: number;
  /** Set at one ping when the connection's buffer waits for a drain; still set at the next: it is dropped. */
  stalled: boolean;
  closed: boolean;
}

/** Why {@link EventStreams.open} refused a stream. */
export type OpenRefusal = { status: 503; error: string; retryAfterSec: number };

/**
 * The open `GET /v1/events` streams of this instance, with bounds, so that no client can
 * stall the service:
 * - **fan-out**: one subscription to the feed; each event is serialized once, and events that
 *   come close together (within {@link FLUSH_EVERY_MS}) are written to every live stream in
 *   one write of the same bytes: a burst costs one write per subscriber, a slow subscriber
 *   nothing more;
 * - **per-subscriber buffer**: a subscriber whose unread bytes (its connection's write buffer,
 *   or the live events held during its replay) pass `eventsBufferBytes`, or whose buffer
 *   did not drain between two pings, is dropped; it reconnects with `Last-Event-ID`;
 * - **subscriber cap**: `eventsMaxSubscribers` streams at most; one more is refused (503);
 * - **replay**: in chunks of {@link REPLAY_CHUNK} events, a few milliseconds of chunks of all
 *   subscribers per iteration of the event loop, each subscriber waiting for its connection to
 *   drain before its next chunk: a thousand replays share the loop with every other request
 *   and hold a chunk each;
 * - **hand-over**: each stream writes strictly increasing ids (an event the replay already
 *   wrote is not written again when the live tail delivers it late);
 * - a replay the log cannot serve ends the stream with an `error` record (logged), so the
 *   client reconnects with the last id it got and misses nothing.
 */
@Injectable()
export class EventStreams implements OnModuleInit, OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger('EventStreams');
  private readonly subs = new Set<Subscriber>();
  private readonly budget = new LoopBudget(REPLAY_BUDGET_MS);
  /**
   * Full chunks by the id they follow. The log only grows at its end (ids increase) and loses
   * its oldest events, so the {@link REPLAY_CHUNK} events after an id never change once there
   * are that many: a cached chunk is what a read would give, or older events still in order.
   */
  private readonly chunks = new Map<string, { text: string; lastId: string; full: boolean }>();
  /** Live events not yet written (this turn of the event loop's). */
  private batch: Array<{ id: Id; buf: Buffer }> = [];
  private lastFlush = -Infinity;
  private unsubscribe?: () => void;
  private ping?: NodeJS.Timeout;
  private closing = false;

  constructor(
    private readonly feed: EventFeed,
    @Inject(POOL_OPTIONS) private readonly options: ResolvedPoolOptions,
    private readonly moduleRef: ModuleRef,
  ) {}

  onModuleInit(): void {
    this.unsubscribe = this.feed.subscribe((e) => this.fanOut(e));
    this.ping = setInterval(() => this.pingAll(), this.options.eventsPingMs);
    this.ping.unref();
  }

  /** Streams end as soon as shutdown begins (the app's OpsModule, when it has one, owns that state). */
  onApplicationBootstrap(): void {
    let state: ShutdownState | undefined;
    try {
      state = this.moduleRef.get(ShutdownState, { strict: false });
    } catch {
      return; // an app without OpsModule: its own shutdown closes the server, and onModuleDestroy ends the streams
    }
    state?.onBegin(() => this.endAll());
  }

  onModuleDestroy(): void {
    this.endAll();
    this.unsubscribe?.();
    clearInterval(this.ping);
  }

  /** Open streams (replaying or live). */
  get size(): number {
    return this.subs.size;
  }

  /** Whether one more stream would be taken; the refusal otherwise (checked before the answer's head is written). */
  refusal(): OpenRefusal | undefined {
    if (this.closing) return { status: 503, error: 'shutting down: reconnect to another instance', retryAfterSec: 1 };
    if (this.subs.size >= this.options.eventsMaxSubscribers) {
      return { status: 503, error: `too many event streams open (${this.options.eventsMaxSubscribers}); retry later`, retryAfterSec: 5 };
    }
    return undefined;
  }

  /**
   * Serves one stream on `res` (its 200 head already written): the replay after `afterId`
   * when given, then the live tail, until the client goes or the stream is ended.
   */
  async open(res: ServerResponse, afterId?: string): Promise<void> {
    const s: Subscriber = { res, pendingBytes: 0, stalled: false, closed: false };
    const last = afterId === undefined ? undefined : parseEventId(afterId);
    if (last) {
      s.last = last;
      s.pending = [];
    }
    this.subs.add(s);
    const gone = () => this.remove(s);
    res.on('close', gone);
    res.on('error', gone);
    if (afterId === undefined || this.closing) return;
    try {
      await this.replay(s, afterId);
    } catch (e) {
      if (s.closed) return;
      const reason = (e as Error).message;
      this.logger.warn(`event replay after ${afterId} failed (${reason}): stream ended, the client reconnects with Last-Event-ID`);
      res.end(`event: error\ndata: ${JSON.stringify({ error: `replay failed: ${reason}; reconnect with Last-Event-ID` })}\n\n`);
      this.remove(s);
      return;
    }
    if (s.closed) return;
    const pending = s.pending ?? [];
    s.pending = undefined;
    s.pendingBytes = 0;
    const out = pending.filter((p) => after(p.id, s.last));
    if (out.length) {
      s.last = out[out.length - 1].id;
      res.write(Buffer.concat(out.map((p) => p.buf)));
    }
  }

  /**
   * Ends every stream (a clean end of the response: an EventSource reconnects, to another
   * instance behind the load balancer) and refuses new ones. Called first at shutdown, so
   * the server's wait for in-flight requests does not wait for streams that never end.
   */
  endAll(): void {
    this.closing = true;
    for (const s of [...this.subs]) {
      this.remove(s);
      s.res.end();
    }
  }

  private async replay(s: Subscriber, afterId: string): Promise<void> {
    let from = afterId;
    for (;;) {
      // One step: read a chunk and write it. Waiting for the connection to drain is outside
      // the step, so a client that does not read holds no one else up.
      const step = await this.budget.run(async () => {
        if (s.closed) return { done: true, full: true };
        const chunk = this.chunks.get(from) ?? this.cache(from, await this.feed.replay(from, REPLAY_CHUNK));
        if (s.closed || !chunk.text) return { done: true, full: true };
        from = chunk.lastId;
        s.last = parseEventId(from);
        return { done: !chunk.full, full: !s.res.write(chunk.text) };
      });
      if (step.full && !step.done) await drained(s.res);
      if (step.done || s.closed) return;
    }
  }

  private cache(from: string, batch: StreamEvent[]): { text: string; lastId: string; full: boolean } {
    let text = '';
    for (const e of batch) text += sseRecord(e);
    const chunk = { text, lastId: batch.length ? batch[batch.length - 1].id : from, full: batch.length === REPLAY_CHUNK };
    if (chunk.full) {
      this.chunks.set(from, chunk);
      if (this.chunks.size > CACHED_CHUNKS) this.chunks.delete(this.chunks.keys().next().value!);
    }
    return chunk;
  }

  /**
   * Queues a live event. An event after a quiet spell goes out on the next turn of the event
   * loop; events that follow one another closely go out together, at most every
   * {@link FLUSH_EVERY_MS}: a write per stream costs ~10 µs, so a steady stream of events (500
   * migrations in a second) to a thousand streams would otherwise cost seconds of CPU.
   */
  private fanOut(e: StreamEvent): void {
    if (this.subs.size === 0) return;
    const id = parseEventId(e.id);
    if (!id) return;
    this.batch.push({ id, buf: Buffer.from(sseRecord(e)) });
    if (this.batch.length > 1) return;
    const wait = this.lastFlush + FLUSH_EVERY_MS - performance.now();
    if (wait > 0) setTimeout(() => this.flush(), wait).unref();
    else setImmediate(() => this.flush());
  }

  /**
   * Writes the queued events to every stream: one write per stream for a whole burst (a
   * prune of many nodes), with the bytes concatenated once per starting point, not per stream.
   */
  private flush(): void {
    const batch = this.batch;
    this.batch = [];
    this.lastFlush = performance.now();
    if (!batch.length) return;
    const cap = this.options.eventsBufferBytes;
    const tails = new Map<number, Buffer>();
    const tail = (from: number) => {
      let b = tails.get(from);
      if (!b) tails.set(from, (b = from === 0 && batch.length === 1 ? batch[0].buf : Buffer.concat(batch.slice(from).map((x) => x.buf))));
      return b;
    };
    for (const s of this.subs) {
      // The cap is on what is still unread from before: a burst bigger than the cap (its bytes
      // shared by every stream) does not drop a stream that keeps up.
      if (s.pending) {
        if (s.pendingBytes > cap) {
          this.drop(s, `${s.pendingBytes} bytes of live events held during its replay`);
          continue;
        }
        for (const x of batch) {
          s.pendingBytes += x.buf.length;
          s.pending.push(x);
        }
        continue;
      }
      // Usually 0: only a stream whose replay wrote some of these events already skips them.
      let from = 0;
      while (from < batch.length && !after(batch[from].id, s.last)) from++;
      if (from === batch.length) continue;
      if (s.res.writableLength > cap) {
        this.drop(s, `${s.res.writableLength} bytes unread`);
        continue;
      }
      const buf = tail(from);
      s.last = batch[batch.length - 1].id;
      s.res.write(buf);
    }
  }

  private pingAll(): void {
    for (const s of this.subs) {
      if (s.res.writableNeedDrain) {
        if (s.stalled) {
          this.drop(s, `its connection did not drain for ${this.options.eventsPingMs} ms`);
          continue;
        }
        s.stalled = true;
      } else s.stalled = false;
      s.res.write(PING);
    }
  }

  private drop(s: Subscriber, why: string): void {
    this.logger.warn(`event subscriber dropped: ${why} (cap ${this.options.eventsBufferBytes} bytes); it may reconnect with Last-Event-ID`);
    this.remove(s);
    s.res.destroy();
  }

  private remove(s: Subscriber): void {
    if (s.closed) return;
    s.closed = true;
    s.pending = undefined;
    this.subs.delete(s);
  }
}
