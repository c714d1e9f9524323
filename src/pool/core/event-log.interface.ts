import { Inject } from '@nestjs/common';

/** Why a node stopped being usable (CONTRACT §5 `node_down.reason`). */
export type NodeDownReason = 'probe' | 'circuit' | 'pruned' | 'deregistered';

/** The events of `GET /v1/events` (CONTRACT §5) and their data, as the wire carries them. */
export interface StreamEventMap {
  /** A node with bound calls stopped being usable. */
  node_down: { node_id: string; reason: NodeDownReason; bound_calls: number };
  /** A node that was down is usable again. */
  node_up: { node_id: string };
  /** A drain's deadline passed with calls still bound. */
  drain_deadline: { node_id: string; bound_calls: number };
  /** A migrate succeeded. */
  call_migrated: { call_id: string; from_node_id: string; to_node_id: string };
  /**
   * A bound call's leg is gone from its node (e.g. the node restarted): the node answered the
   * call's start with 404, or reconciliation found its `GET /v1/legs` without the leg past the
   * grace period. The binding was dropped.
   */
  call_lost: { call_id: string; node_id: string; reason: CallLostReason };
}

/** Why a call was lost (CONTRACT §5 `call_lost.reason`). */
export type CallLostReason = 'leg_missing';

export type StreamEventName = keyof StreamEventMap;
export const STREAM_EVENT_NAMES: readonly StreamEventName[] = ['node_down', 'node_up', 'drain_deadline', 'call_migrated', 'call_lost'];

/** One event as the log keeps it. */
export interface StreamEvent<K extends StreamEventName = StreamEventName> {
  /** `<epoch ms>-<seq>` (a Redis Streams id): increasing, one order across instances. */
  id: string;
  event: K;
  data: StreamEventMap[K];
}

export const POOL_EVENT_LOG = Symbol('RTP_POOL_EVENT_LOG');
/** Injects the active {@link EventLog}. */
export const InjectEventLog = () => Inject(POOL_EVENT_LOG);

/**
 * Where the §5 events live: appended once, read back after an id (replay of a reconnect),
 * and tailed live. Shared by every instance when it is shared (Redis Streams), so every
 * instance's stream carries every instance's events, in one id order.
 */
export interface EventLog {
  /** Appends an event; resolves to it with its id. */
  append<K extends StreamEventName>(event: K, data: StreamEventMap[K]): Promise<StreamEvent<K>>;
  /** Up to `limit` retained events after `afterId` (exclusive), oldest first; from the oldest retained without it. */
  read(afterId: string | undefined, limit: number): Promise<StreamEvent[]>;
  /** The newest `limit` events, oldest first. */
  recent(limit: number): Promise<StreamEvent[]>;
  /**
   * Calls `listener` for every event appended from now on, by any instance, in id order.
   * Returns the unsubscribe function.
   */
  tail(listener: (e: StreamEvent) => void): () => void;
  /**
   * True for exactly one caller, across instances, until `ttlMs` passes or {@link forget}:
   * what makes an event that several instances notice be emitted once.
   */
  once(key: string, ttlMs: number): Promise<boolean>;
  /** Drops a key set by {@link once}; true when it was set. */
  forget(key: string): Promise<boolean>;
  /** Stops the live tail and closes what the log opened. */
  close(): Promise<void>;
}

/** Retention: at least this many events… */
export const EVENT_LOG_MIN_EVENTS = 10_000;
/** …and at least every event of this window (milliseconds). */
export const EVENT_LOG_MIN_AGE_MS = 10 * 60_000;

/** `<ms>-<seq>`, or undefined when `id` is not a stream id. */
export function parseEventId(id: string): [number, number] | undefined {
  const m = /^(\d{1,15})-(\d{1,15})$/.exec(id);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}

/** Negative, zero or positive as `a` is before, equal to or after `b` (both valid ids). */
export function compareEventIds(a: string, b: string): number {
  const [am, as] = parseEventId(a)!;
  const [bm, bs] = parseEventId(b)!;
  return am - bm || as - bs;
}
