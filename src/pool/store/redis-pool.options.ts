import { DEFAULT_REDIS_CONNECTION, type RedisClient, type RedisConnectionOptions } from './redis-connection';

/** Options of {@link RedisPoolStore}. */
export interface RedisPoolStoreOptions {
  /**
   * An ioredis client (`Redis` or `Cluster`) to use instead of creating one. The store
   * never quits a client it was given; configure it to fail fast yourself
   * (`enableOfflineQueue: false`, `maxRetriesPerRequest: 0`, a `commandTimeout`), or
   * requests may wait on a dead Redis.
   */
  client?: RedisClient;
  /**
   * Where the store's own client connects (ignored with `client`): one server, Sentinel or
   * Cluster. Its `commandTimeoutMs`/`maxReconnectDelayMs` win over the ones below.
   */
  connection?: RedisConnectionOptions;
  /** Shorthand for `connection: { url }` (ignored with `client` or `connection`). @default 'redis://127.0.0.1:6379' */
  url?: string;
  /**
   * Names every key; instances that share a prefix share one pool. The store puts it in
   * hash tags: `{<prefix>}…` for the registry, `{<prefix>call:<id>}…` per call. A prefix
   * without `{` or `}` keeps calls spread over a cluster's masters.
   * @default 'rtp-pool:'
   */
  prefix?: string;
  /**
   * Milliseconds a Redis command may take before the request fails with 503 "store
   * unavailable" (ignored with `client`). Keep it below the control timeout.
   * @default 1000
   */
  commandTimeoutMs?: number;
  /** Milliseconds between reconnection attempts at most (ignored with `client`). @default 1000 */
  maxReconnectDelayMs?: number;
  /**
   * Replicas that must acknowledge a write a client is answered for (binding written on a
   * prepare, binding removed on a delete) before the answer: Redis `WAIT n`. Too few
   * acknowledgements → the write is undone and the request gets 503. 0 = no WAIT.
   * @default 0
   */
  waitReplicas?: number;
  /** The WAIT's timeout in milliseconds. @default 500 */
  waitTimeoutMs?: number;
  /** Clock in epoch ms (tests pass their own). @default Date.now */
  now?: () => number;
}

/** Defaults of {@link RedisPoolStoreOptions}, written once. */
export const DEFAULT_REDIS_STORE_OPTIONS = {
  url: DEFAULT_REDIS_CONNECTION.url,
  prefix: 'rtp-pool:',
  commandTimeoutMs: DEFAULT_REDIS_CONNECTION.commandTimeoutMs,
  maxReconnectDelayMs: DEFAULT_REDIS_CONNECTION.maxReconnectDelayMs,
  waitReplicas: 0,
  waitTimeoutMs: 500,
} as const;

/** A command timeout that leaves room inside a control timeout: half of it, 50 ms … 1 s. */
export function redisCommandTimeoutFor(controlTimeoutMs: number): number {
  return Math.max(50, Math.min(DEFAULT_REDIS_STORE_OPTIONS.commandTimeoutMs, Math.floor(controlTimeoutMs / 2)));
}

/** Bindings expired per sweep script call: keeps each script short. */
