import {
  compareEventIds, EVENT_LOG_MIN_AGE_MS, EVENT_LOG_MIN_EVENTS, type EventLog, type StreamEvent, type StreamEventMap,
  type StreamEventName,
} from '../core/event-log.interface';

/** Hard cap, so a flood within the age window cannot grow the log without bound. */
const MAX_EVENTS = 100_000;

/**
 * The embedded event log: one process. Keeps the last {@link EVENT_LOG_MIN_EVENTS} events
 * and every event younger than {@link EVENT_LOG_MIN_AGE_MS} (at most {@link MAX_EVENTS}).
 * Ids are `<ms>-<seq>` as Redis Streams makes them, increasing even when the clock steps back.
 */
export class MemoryEventLog implements EventLog {
  private readonly events: Array<StreamEvent & { at: number }> = [];
  private readonly listeners = new Set<(e: StreamEvent) => void>();
  private readonly keys = new Map<string, number>();
  private lastMs = 0;
  private lastSeq = 0;

  /** @param now clock in epoch ms (tests pass their own). */
  constructor(private readonly now: () => number = Date.now) {}

  async append<K extends StreamEventName>(event: K, data: StreamEventMap[K]): Promise<StreamEvent<K>> {
    const at = this.now();
    if (at > this.lastMs) {
      this.lastMs = at;
      this.lastSeq = 0;
    } else this.lastSeq++;
    const e: StreamEvent<K> = { id: `${this.lastMs}-${this.lastSeq}`, event, data };
    this.events.push({ id: e.id, event, data, at });
    this.trim(at);
    for (const l of this.listeners) l(e);
    return e;
  }

  async read(afterId: string | undefined, limit: number): Promise<StreamEvent[]> {
    let lo = 0;
    if (afterId !== undefined) {
      let hi = this.events.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (compareEventIds(this.events[mid].id, afterId) <= 0) lo = mid + 1;
        else hi = mid;
      }
    }
    return this.events.slice(lo, lo + limit).map(strip);
  }

  async recent(limit: number): Promise<StreamEvent[]> {
    return this.events.slice(Math.max(0, this.events.length - limit)).map(strip);
  }

  tail(listener: (e: StreamEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async once(key: string, ttlMs: number): Promise<boolean> {
    const now = this.now();
    const until = this.keys.get(key);
    if (until !== undefined && until > now) return false;
    this.keys.set(key, now + ttlMs);
    if (this.keys.size > MAX_EVENTS) {
      for (const [k, u] of this.keys) if (u <= now) this.keys.delete(k);
    }
    return true;
  }

  async forget(key: string): Promise<boolean> {
    const until = this.keys.get(key);
    this.keys.delete(key);
    return until !== undefined && until > this.now();
  }

  async close(): Promise<void> {
    this.listeners.clear();
  }

  private trim(now: number): void {
    let drop = 0;
    const excess = this.events.length - EVENT_LOG_MIN_EVENTS;
    while (drop < excess && (this.events.length - drop > MAX_EVENTS || now - this.events[drop].at > EVENT_LOG_MIN_AGE_MS)) drop++;
    if (drop) this.events.splice(0, drop);
  }
}

function strip(e: StreamEvent & { at: number }): StreamEvent {
  return { id: e.id, event: e.event, data: e.data };
}
