import type { Cluster, ClusterOptions, Redis, RedisOptions } from 'ioredis';

/** How the store reaches Redis: one server, a Sentinel-monitored master, or a Cluster. */
export type RedisTopology = 'single' | 'sentinel' | 'cluster';

/** A host and port (a Sentinel, or a Cluster seed node). */
export interface RedisHostPort {
  host: string;
  port: number;
}

/** Either client the store works with. */
export type RedisClient = Redis | Cluster;

/**
 * Where and how to connect: a typed, validated description (config/app.config.ts builds
 * it from REDIS_* variables). Exactly one of `url`, `sentinels`, `clusterNodes` decides
 * the topology.
 */
export interface RedisConnectionOptions {
  /** One server: redis:// or rediss:// (user, password, db from its parts). */
  url?: string;
  /** Sentinels to ask for the master (`REDIS_SENTINELS`). Requires `sentinelName`. */
  sentinels?: RedisHostPort[];
  /** The monitored master's name (`REDIS_SENTINEL_NAME`). */
  sentinelName?: string;
  /** Seed nodes of a Redis Cluster (`REDIS_CLUSTER_NODES`); the rest is discovered. */
  clusterNodes?: RedisHostPort[];
  /** ACL user (`REDIS_USERNAME`); overrides none in a URL (config refuses both). */
  username?: string;
  /** Password (`REDIS_PASSWORD`). Never logged. */
  password?: string;
  /** TLS to every server (and sentinel) (`REDIS_TLS=true`, or a rediss:// URL). @default false */
  tls?: boolean;
  /** Milliseconds a command may take before it fails. @default 1000 */
  commandTimeoutMs?: number;
  /** Milliseconds between reconnection attempts at most. @default 1000 */
  maxReconnectDelayMs?: number;
  /** CLIENT SETNAME of the connections. @default 'rtp-pool' */
  connectionName?: string;
}

/** Defaults of {@link RedisConnectionOptions}. */
export const DEFAULT_REDIS_CONNECTION = {
  url: 'redis://127.0.0.1:6379',
  commandTimeoutMs: 1_000,
  maxReconnectDelayMs: 1_000,
  connectionName: 'rtp-pool',
} as const;

/** The topology an options object selects. */
export function redisTopology(o: RedisConnectionOptions): RedisTopology {
  if (o.clusterNodes?.length) return 'cluster';
  if (o.sentinels?.length) return 'sentinel';
  return 'single';
}

/**
 * A one-line description of the target for logs and readiness, without credentials:
 * `single 127.0.0.1:6379`, `sentinel mymaster via 10.0.0.1:26379,…`, `cluster 10.0.0.1:7000,…`.
 */
export function describeRedisTarget(o: RedisConnectionOptions): string {
  const list = (hs: RedisHostPort[]) => hs.map(formatHostPort).join(',');
  switch (redisTopology(o)) {
    case 'cluster':
      return `cluster ${list(o.clusterNodes!)}`;
    case 'sentinel':
      return `sentinel ${o.sentinelName ?? '?'} via ${list(o.sentinels!)}`;
    default: {
      try {
        const u = new URL(o.url ?? DEFAULT_REDIS_CONNECTION.url);
        return `single ${u.protocol === 'rediss:' ? 'rediss' : 'redis'}://${u.host}${u.pathname.length > 1 ? u.pathname : ''}`;
      } catch {
        return 'single (unparsable url)';
      }
    }
  }
}

export function formatHostPort(h: RedisHostPort): string {
  return h.host.includes(':') ? `[${h.host}]:${h.port}` : `${h.host}:${h.port}`;
}

/**
 * Parses `host:port,host:port` (IPv6 as `[::1]:26379`). Returns the problem of the first
 * bad item instead of throwing, so config can name the variable. Never echoes more than
 * the bad item itself (hosts and ports are not secrets).
 */
export function parseHostPorts(value: string): { ok: RedisHostPort[] } | { problem: string } {
  const out: RedisHostPort[] = [];
  const items = value.split(',').map((s) => s.trim());
  for (const item of items) {
    if (!item) return { problem: 'has an empty item (write host:port,host:port)' };
    const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?)):(\d{1,5})$/.exec(item);
    if (!m) return { problem: `"${item}" is not host:port` };
    const port = Number(m[3]);
    if (port < 1 || port > 65535) return { problem: `"${item}" has a port outside 1..65535` };
    out.push({ host: m[1] ?? m[2], port });
  }
  return { ok: out };
}

/** The fail-fast settings every connection gets (server, sentinel-managed master, or each cluster node). */
function baseOptions(o: RedisConnectionOptions): RedisOptions {
  const d = DEFAULT_REDIS_CONNECTION;
  const timeout = o.commandTimeoutMs ?? d.commandTimeoutMs;
  return {
    // Fail, never queue: a request must not wait for a Redis that is not there.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    commandTimeout: timeout,
    connectTimeout: Math.max(timeout, 1_000),
    // A forced close (disconnect) destroys a socket still open after this long. ioredis arms the
    // timer even when the socket is gone already (between reconnection attempts), where its
    // 2 s default held a stopped process (and jest) open for 2 s.
    disconnectTimeout: 500,
    connectionName: o.connectionName ?? d.connectionName,
    // A master demoted under us (failover) answers writes with READONLY: reconnect (the
    // failing command itself is not resent: its request gets 503).
    reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 1 : false),
    ...(o.username !== undefined ? { username: o.username } : {}),
    ...(o.password !== undefined ? { password: o.password } : {}),
    ...(o.tls ? { tls: {} } : {}),
  };
}

/**
 * Builds the ioredis client for a topology: `Redis` for one server or Sentinel, `Cluster`
 * for a cluster. Every variant fails fast (no offline queue, no retries per request, a
 * command timeout) and reconnects forever by itself.
 */
export function createRedisClient(o: RedisConnectionOptions): RedisClient {
  // Loaded here, when a Redis store or event log is built: the package root does not load ioredis.
  const { Cluster, Redis } = require('ioredis') as typeof import('ioredis');
  const maxDelay = o.maxReconnectDelayMs ?? DEFAULT_REDIS_CONNECTION.maxReconnectDelayMs;
  const retry = (times: number) => Math.min(50 * times, maxDelay);
  const base = baseOptions(o);
  switch (redisTopology(o)) {
    case 'cluster': {
      const { enableOfflineQueue: _q, ...redisOptions } = base;
      const options: ClusterOptions = {
        redisOptions,
        enableOfflineQueue: false,
        clusterRetryStrategy: retry,
        // A MOVED/ASK/TRYAGAIN/CLUSTERDOWN is retried briefly inside the command timeout.
        retryDelayOnFailover: 100,
        retryDelayOnClusterDown: 100,
        retryDelayOnTryAgain: 100,
        maxRedirections: 4,
        slotsRefreshTimeout: Math.max(base.commandTimeout ?? 1_000, 1_000),
      };
      return new Cluster(o.clusterNodes!.map((h) => ({ host: h.host, port: h.port })), options);
    }
    case 'sentinel':
      return new Redis({
        ...base,
        sentinels: o.sentinels!.map((h) => ({ host: h.host, port: h.port })),
        name: o.sentinelName,
        role: 'master',
        // Sentinels usually share the servers' credentials and TLS; ACL users on
        // sentinels are rare enough not to get variables of their own.
        ...(o.password !== undefined ? { sentinelPassword: o.password } : {}),
        ...(o.tls ? { enableTLSForSentinelMode: true } : {}),
        sentinelRetryStrategy: retry,
        retryStrategy: retry,
        // Subscribe to +switch-master: reconnect to a new master as soon as Sentinel names it.
        failoverDetector: true,
      });
    default:
      return new Redis(o.url ?? DEFAULT_REDIS_CONNECTION.url, { ...base, retryStrategy: retry });
  }
}

/** True for a Cluster client. */
export function isCluster(c: RedisClient): c is Cluster {
  return (c as { isCluster?: boolean }).isCluster === true;
}
