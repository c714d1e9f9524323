import { Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { createRedisClient, type RedisClient, type RedisConnectionOptions } from '../store/redis-connection';
import { quitRedis } from '../store/redis-link';
import { FailureStreak } from '../core/failure-streak';
import {
  EVENT_LOG_MIN_EVENTS, type EventLog, parseEventId, type StreamEvent, type StreamEventMap, type StreamEventName,
} from '../core/event-log.interface';

/** Options of {@link RedisEventLog}. */
export interface RedisEventLogOptions {
  /** Where to connect (the store's connection: one server, Sentinel or Cluster). */
  connection: RedisConnectionOptions;
  /** Key prefix, the store's: instances sharing it share one stream. @default 'rtp-pool:' */
  prefix?: string;
  /** Milliseconds one blocking read of the live tail waits. @default 5000 */
  blockMs?: number;
}

const RETRY_MS = 500;

/**
 * The §5 events in a Redis Stream shared by every instance with the same prefix:
 * - append: `XADD <stream> MAXLEN ~ 10000 *` — Redis makes the id (`<ms>-<seq>`, one order
 *   for every instance) and keeps at least the last 10,000 events;
 * - replay: `XRANGE <stream> (<id> +`;
 * - live tail: `XREAD BLOCK` on a connection of its own (a blocked read must not hold up
 *   the commands), delivering every instance's events in id order;
 * - once: `SET <key> 1 NX PX` (and DEL) — what lets one instance emit an event that
 *   several notice.
 *
 * Keys: the stream is `{P}events` and the once-keys `{P}once:<key>`, under the registry's
 * hash tag (`{P}`); each command touches one key, so it runs on a Cluster too.
 */
export class RedisEventLog implements EventLog, OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(RedisEventLog.name);
  private readonly client: RedisClient;
  private readonly reader: RedisClient;
  private readonly stream: string;
  private readonly tag: string;
  private readonly blockMs: number;
  private readonly listeners = new Set<(e: StreamEvent) => void>();
  /** A Redis outage fails every read alike: one line when it starts, one when the tail reads again. */
  private readonly streak = new FailureStreak(this.logger, 'event tail', 'warn');
  private tailing = false;
  private closed = false;
  /** The id the live tail starts after: the newest entry when the log started. */
  private start?: Promise<string>;

  constructor(options: RedisEventLogOptions) {
    this.tag = `{${options.prefix ?? 'rtp-pool:'}}`;
    this.stream = `${this.tag}events`;
    this.blockMs = options.blockMs ?? 5_000;
    this.client = createRedisClient({ ...options.connection, connectionName: 'rtp-pool-events' });
    this.reader = createRedisClient({
      ...options.connection, connectionName: 'rtp-pool-events-tail',
      commandTimeoutMs: this.blockMs + (options.connection.commandTimeoutMs ?? 1_000) + 1_000,
    });
    for (const c of [this.client, this.reader]) c.on('error', () => undefined);
  }

  async append<K extends StreamEventName>(event: K, data: StreamEventMap[K]): Promise<StreamEvent<K>> {
    const id = await this.client.xadd(this.stream, 'MAXLEN', '~', EVENT_LOG_MIN_EVENTS, '*', 'event', event, 'data', JSON.stringify(data));
    return { id: id!, event, data };
  }

  async read(afterId: string | undefined, limit: number): Promise<StreamEvent[]> {
    const from = afterId === undefined ? '-' : `(${afterId}`;
    // A replay asked of an instance whose connection is still coming up waits for it briefly
    // (commands fail at once while it is not ready: no offline queue).
    if (this.client.status !== 'ready') await settled(this.client, READY_WAIT_MS);
    return decode(await this.client.xrange(this.stream, from, '+', 'COUNT', limit));
  }

  async recent(limit: number): Promise<StreamEvent[]> {
    return decode(await this.client.xrevrange(this.stream, '+', '-', 'COUNT', limit)).reverse();
  }

  tail(listener: (e: StreamEvent) => void): () => void {
    this.listeners.add(listener);
    if (!this.tailing) void this.loop();
    return () => this.listeners.delete(listener);
  }

  async once(key: string, ttlMs: number): Promise<boolean> {
    return (await this.client.set(`${this.tag}once:${key}`, '1', 'PX', Math.max(1, Math.ceil(ttlMs)), 'NX')) === 'OK';
  }

  async forget(key: string): Promise<boolean> {
    return (await this.client.del(`${this.tag}once:${key}`)) === 1;
  }

  /** Fixes where the live tail starts before the application serves (bounded wait for Redis). */
  async onModuleInit(): Promise<void> {
    await Promise.all([this.startId().catch(() => undefined), settled(this.client, 5_000)]);
  }

  async onModuleDestroy(): Promise<void> {
    await this.close();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    // The tail may sit in a blocking read: cut it. quitRedis also closes a Sentinel client's
    // failover detector, which QUIT alone leaves reconnecting to the sentinels (every 60 s,
    // forever: it kept jest alive after the Sentinel suite).
    this.reader.disconnect();
    await quitRedis(this.client);
  }

  /** The live tail: one blocking read after another, from the newest id seen. */
  private async loop(): Promise<void> {
    this.tailing = true;
    let last: string | undefined;
    while (!this.closed) {
      try {
        // Start at the stream's newest entry (not '$' on every read, which would lose what
        // arrives between two reads).
        last ??= await this.startId();
        const res = await this.reader.xread('COUNT', 1000, 'BLOCK', this.blockMs, 'STREAMS', this.stream, last);
        this.streak.succeeded();
        for (const [, entries] of res ?? []) {
          for (const e of decode(entries)) {
            last = e.id;
            for (const l of this.listeners) l(e);
          }
        }
      } catch (e) {
        if (this.closed) break;
        this.streak.failed(e);
        await new Promise((r) => setTimeout(r, RETRY_MS).unref());
      }
    }
    this.tailing = false;
  }

  private startId(): Promise<string> {
    this.start ??= (async () => {
      if (this.reader.status !== 'ready') {
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(() => reject(new Error('event log: Redis not ready')), 5_000);
          t.unref();
          this.reader.once('ready', () => { clearTimeout(t); resolve(); });
        });
      }
      const newest = await this.reader.xrevrange(this.stream, '+', '-', 'COUNT', 1);
      return newest.length ? newest[0][0] : '0-0';
    })();
    // A failed start is tried again by the next caller.
    this.start.catch(() => (this.start = undefined));
    return this.start;
  }
}

function decode(entries: Array<[string, string[]]>): StreamEvent[] {
  const out: StreamEvent[] = [];
  for (const [id, fields] of entries) {
    const f: Record<string, string> = {};
    for (let i = 0; i + 1 < fields.length; i += 2) f[fields[i]] = fields[i + 1];
    if (!parseEventId(id) || !f.event) continue;
    try {
      out.push({ id, event: f.event as StreamEventName, data: JSON.parse(f.data ?? '{}') });
    } catch {
      // An entry this code did not write: skipped.
    }
  }
  return out;
}

/** How long a read waits for a connection that is still connecting. */
const READY_WAIT_MS = 1_000;

/**
 * Resolves when `c` is ready, or after `ms`, or at once when it is not connecting at all: the
 * command that follows then fails as it would have (the caller's error path decides).
 */
function settled(c: RedisClient, ms: number): Promise<void> {
  if (c.status === 'ready' || !['wait', 'connecting', 'connect', 'reconnecting'].includes(c.status)) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(t);
      c.off('ready', done);
      resolve();
    };
    const t = setTimeout(done, ms);
    t.unref();
    c.once('ready', done);
  });
}
