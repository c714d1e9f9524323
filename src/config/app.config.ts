import { bool, ConfigError, type Env, httpUrlProblem, int, oneOf, str } from '../common/env';
import { BUILTIN_STRATEGIES } from '../pool/selection/builtin-strategies';
import { parseControlUrls } from '../contract/control-urls';
import { DEFAULT_MAX_BODY_BYTES } from '../common/json-app';
import { DEFAULT_SHUTDOWN_TIMEOUT_MS } from '../ops/shutdown/graceful-shutdown';
import { cronProblem } from '../pool/core/cron-expression';
import { LOG_LEVELS, type LogLevel } from '../common/logger.params';
import { DEFAULT_POOL_OPTIONS } from '../pool/core/pool.module-definition';
import { DEFAULT_REDIS_STORE_OPTIONS } from '../pool/store/redis-pool.store';
import { parseHostPorts, type RedisConnectionOptions, type RedisHostPort } from '../pool/store/redis-connection';
import { parseCidrList } from '../http/security/cidr';
import { HTTP_ADAPTERS, type HttpAdapterKind } from '../http/http-adapter-kind';

/** The signaling service's whole configuration, read once from the environment. */
export interface AppConfig {
  /** SIP_CONTROL_HOST @default 0.0.0.0 */
  host: string;
  /** SIP_CONTROL_PORT @default 8080 */
  port: number;
  /** RTP_NODE_TTL_SEC @default 45 */
  nodeTtlSec: number;
  /** RTP_CONTROL_URLS or RTP_CONTROL_URL, parsed. */
  seedUrls: string[];
  /** RTP_PRUNE_INTERVAL_SEC @default 15 */
  pruneIntervalSec: number;
  /** RTP_PRUNE_CRON: when to prune, a cron expression with seconds (`*\/15 * * * * *`); wins over RTP_PRUNE_INTERVAL_SEC. */
  pruneCron?: string;
  /** RTP_CONTROL_TIMEOUT_MS @default 2000 */
  controlTimeoutMs: number;
  /** RTP_CALL_TTL_SEC @default 86400 */
  callTtlSec: number;
  /** RTP_MAX_ATTEMPTS @default 3 */
  maxAttempts: number;
  /** RTP_SELECTION_STRATEGY @default least-loaded */
  strategy: string;
  /** RTP_MAX_NODES @default 10000 */
  maxNodes: number;
  /** RTP_HEALTH_INTERVAL_MS: between background probe rounds; 0 disables probing. @default 5000 */
  healthIntervalMs: number;
  /** RTP_HEALTH_TIMEOUT_MS: one health probe's time limit. @default 1000 */
  healthTimeoutMs: number;
  /** RTP_HEALTH_CONCURRENCY: most probes in flight at once. @default 64 */
  healthConcurrency: number;
  /** RTP_CIRCUIT_RESET_MS: an open circuit's wait before one half-open trial call. @default 10000 */
  circuitResetMs: number;
  /** RTP_RECONCILE_INTERVAL_SEC: between reconciliation rounds (legs vs bindings); 0 = off. @default 60 */
  reconcileIntervalSec: number;
  /** RTP_EVENTS_PING_MS: between `: ping` comments on `GET /v1/events`. @default 15000 */
  eventsPingMs: number;
  /** RTP_EVENTS_MAX_SUBSCRIBERS: most open `GET /v1/events` streams on this instance; one more gets 503. @default 1000 */
  eventsMaxSubscribers: number;
  /** RTP_EVENTS_BUFFER_BYTES: unread bytes after which an event subscriber is dropped (it reconnects with Last-Event-ID). @default 262144 */
  eventsBufferBytes: number;
  /** RTP_DRAIN_CHECK_MS: between sweeps for passed drain deadlines (besides the draining instance's timer); 0 = none. @default 5000 */
  drainCheckMs: number;
  /** RTP_MAX_BODY_BYTES @default 262144 */
  maxBodyBytes: number;
  /** RTP_NODE_TOKEN: sent to media nodes. */
  nodeToken?: string;
  /** RTP_REGISTRY_TOKEN: required from registrars. */
  registryToken?: string;
  /** RTP_API_TOKEN: required on the calls API, node listing and admin paths. */
  apiToken?: string;
  /** LOG_PRETTY */
  logPretty: boolean;
  /** RTP_ALLOWED_NODE_CIDRS: CIDR blocks a registered control_url must point into; empty = any host. @default [] */
  allowedNodeCidrs: string[];
  /** RTP_RATE_LIMIT: requests per client address and route per window on the registry and calls API; 0 = off. @default 0 */
  rateLimit: number;
  /** RTP_RATE_LIMIT_WINDOW_MS: the rate-limit window. @default 1000 */
  rateLimitWindowMs: number;
  /** LOG_LEVEL (pino: fatal, error, warn, info, debug, trace, silent) @default info */
  logLevel: LogLevel;
  /** RTP_READY_REQUIRES_NODE: readiness also needs one healthy, undrained node. @default false */
  readyRequiresNode: boolean;
  /**
   * RTP_SHUTDOWN_TIMEOUT_MS: how long SIGTERM waits for in-flight requests.
   * @default the worst-case prepare (RTP_MAX_ATTEMPTS × RTP_CONTROL_TIMEOUT_MS) + 1 s, at least 4000
   */
  shutdownTimeoutMs: number;
  /** RTP_STORE: where nodes and bindings live, `memory` (this process) or `redis` (shared). @default memory */
  store: StoreKind;
  /** REDIS_URL: the Redis of `RTP_STORE=redis` (redis:// or rediss://). @default redis://127.0.0.1:6379 */
  redisUrl: string;
  /**
   * How `RTP_STORE=redis` reaches Redis, from exactly one of REDIS_URL, REDIS_SENTINELS
   * (+ REDIS_SENTINEL_NAME) or REDIS_CLUSTER_NODES, with REDIS_USERNAME, REDIS_PASSWORD and
   * REDIS_TLS. Holds the password: never log it.
   */
  redis: RedisConnectionOptions;
  /** RTP_REDIS_WAIT_REPLICAS: replicas that must acknowledge an answered write (Redis WAIT). @default 0 */
  redisWaitReplicas: number;
  /** RTP_REDIS_WAIT_TIMEOUT_MS: how long that WAIT may take before the request gets 503. @default 500 */
  redisWaitTimeoutMs: number;
  /** RTP_STORE_PREFIX: prefix of every Redis key; instances sharing it share one pool. @default rtp-pool: */
  storePrefix: string;
  /** RTP_HTTP_ADAPTER: the HTTP platform, `express` (@nestjs/platform-express) or `fastify` (@nestjs/platform-fastify). @default express */
  httpAdapter: HttpAdapterKind;
  /** RTP_HTTP_LEAN: serve heartbeat, prepare, start and delete through the lean lane (docs/performance-http.md). @default true */
  httpLean: boolean;
}

export { HTTP_ADAPTERS, type HttpAdapterKind };

export const STORE_KINDS = ['memory', 'redis'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

export { LOG_LEVELS, type LogLevel } from '../common/logger.params';

/** Reads and validates the configuration; throws a ConfigError naming the first bad variable. */
export function loadAppConfig(env: Env = process.env): AppConfig {
  const d = DEFAULT_POOL_OPTIONS;
  const seedVar = str(env, 'RTP_CONTROL_URLS') ? 'RTP_CONTROL_URLS' : 'RTP_CONTROL_URL';
  const seedUrls = parseControlUrls(env.RTP_CONTROL_URLS, env.RTP_CONTROL_URL);
  for (const u of seedUrls) {
    const problem = httpUrlProblem(u);
    if (problem) throw new ConfigError(seedVar, `"${u}" ${problem}`);
  }
  return {
    host: str(env, 'SIP_CONTROL_HOST', '0.0.0.0')!,
    port: int(env, 'SIP_CONTROL_PORT', 8080, 0, 65535),
    nodeTtlSec: int(env, 'RTP_NODE_TTL_SEC', d.nodeTtlSec, 1),
    seedUrls,
    pruneIntervalSec: int(env, 'RTP_PRUNE_INTERVAL_SEC', d.pruneIntervalSec, 0),
    pruneCron: cron(env, 'RTP_PRUNE_CRON'),
    controlTimeoutMs: int(env, 'RTP_CONTROL_TIMEOUT_MS', d.controlTimeoutMs, 1, 600_000),
    callTtlSec: int(env, 'RTP_CALL_TTL_SEC', d.callTtlSec, 1),
    maxAttempts: int(env, 'RTP_MAX_ATTEMPTS', d.maxAttempts, 1, 100),
    strategy: oneOf(env, 'RTP_SELECTION_STRATEGY', d.strategy, Object.keys(BUILTIN_STRATEGIES)),
    maxNodes: int(env, 'RTP_MAX_NODES', d.maxNodes, 1),
    healthIntervalMs: int(env, 'RTP_HEALTH_INTERVAL_MS', d.healthIntervalMs, 0, 3_600_000),
    healthTimeoutMs: int(env, 'RTP_HEALTH_TIMEOUT_MS', d.healthTimeoutMs, 1, 600_000),
    healthConcurrency: int(env, 'RTP_HEALTH_CONCURRENCY', d.healthConcurrency, 1, 10_000),
    circuitResetMs: int(env, 'RTP_CIRCUIT_RESET_MS', d.circuitResetMs, 1, 86_400_000),
    reconcileIntervalSec: int(env, 'RTP_RECONCILE_INTERVAL_SEC', d.reconcileIntervalSec, 0, 86_400),
    eventsPingMs: int(env, 'RTP_EVENTS_PING_MS', d.eventsPingMs, 10, 15_000),
    eventsMaxSubscribers: int(env, 'RTP_EVENTS_MAX_SUBSCRIBERS', d.eventsMaxSubscribers, 1, 100_000),
    eventsBufferBytes: int(env, 'RTP_EVENTS_BUFFER_BYTES', d.eventsBufferBytes, 4_096, 64 * 1024 * 1024),
    drainCheckMs: int(env, 'RTP_DRAIN_CHECK_MS', d.drainCheckMs, 0, 60_000),
    maxBodyBytes: int(env, 'RTP_MAX_BODY_BYTES', DEFAULT_MAX_BODY_BYTES, 1024, 64 * 1024 * 1024),
    nodeToken: token(env, 'RTP_NODE_TOKEN'),
    registryToken: token(env, 'RTP_REGISTRY_TOKEN'),
    apiToken: token(env, 'RTP_API_TOKEN'),
    logPretty: bool(env, 'LOG_PRETTY', false),
    allowedNodeCidrs: cidrs(env, 'RTP_ALLOWED_NODE_CIDRS'),
    rateLimit: int(env, 'RTP_RATE_LIMIT', 0, 0, 1_000_000),
    rateLimitWindowMs: int(env, 'RTP_RATE_LIMIT_WINDOW_MS', 1_000, 1, 3_600_000),
    logLevel: oneOf(env, 'LOG_LEVEL', 'info', LOG_LEVELS),
    readyRequiresNode: bool(env, 'RTP_READY_REQUIRES_NODE', false),
    shutdownTimeoutMs: int(env, 'RTP_SHUTDOWN_TIMEOUT_MS', shutdownDefault(env), 0, 600_000),
    store: oneOf(env, 'RTP_STORE', 'memory', STORE_KINDS),
    redisUrl: redisUrl(env, 'REDIS_URL', DEFAULT_REDIS_STORE_OPTIONS.url),
    redis: redisConnection(env),
    redisWaitReplicas: int(env, 'RTP_REDIS_WAIT_REPLICAS', DEFAULT_REDIS_STORE_OPTIONS.waitReplicas, 0, 64),
    redisWaitTimeoutMs: int(env, 'RTP_REDIS_WAIT_TIMEOUT_MS', DEFAULT_REDIS_STORE_OPTIONS.waitTimeoutMs, 1, 60_000),
    storePrefix: str(env, 'RTP_STORE_PREFIX', DEFAULT_REDIS_STORE_OPTIONS.prefix)!,
    httpAdapter: oneOf(env, 'RTP_HTTP_ADAPTER', 'express', HTTP_ADAPTERS),
    httpLean: bool(env, 'RTP_HTTP_LEAN', true),
  };
}

/** A SIGTERM must let the longest prepare finish: RTP_MAX_ATTEMPTS × RTP_CONTROL_TIMEOUT_MS + 1 s, at least the library default. */
function shutdownDefault(env: Env): number {
  const d = DEFAULT_POOL_OPTIONS;
  const worst = int(env, 'RTP_MAX_ATTEMPTS', d.maxAttempts, 1, 100) * int(env, 'RTP_CONTROL_TIMEOUT_MS', d.controlTimeoutMs, 1, 600_000);
  return Math.max(DEFAULT_SHUTDOWN_TIMEOUT_MS, worst + 1_000);
}

/** A cron expression with seconds (six fields), or undefined when unset. */
function cron(env: Env, name: string): string | undefined {
  const v = str(env, name);
  const problem = v === undefined ? undefined : cronProblem(v);
  if (problem) throw new ConfigError(name, problem);
  return v;
}

/**
 * A redis:// or rediss:// URL. Errors never echo the value: it may hold a password.
 */
function redisUrl(env: Env, name: string, def: string): string {
  const v = str(env, name, def)!;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new ConfigError(name, 'is not an absolute URL (redis://[user:password@]host:port[/db])');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new ConfigError(name, `must use redis:// or rediss://, got "${u.protocol}"`);
  if (!u.hostname) throw new ConfigError(name, 'has no host');
  if (u.pathname.length > 1 && !/^\/\d+$/.test(u.pathname)) throw new ConfigError(name, 'path must be a database number, like /0');
  return v;
}

/** A `host:port,…` list. */
function hostPorts(env: Env, name: string): RedisHostPort[] | undefined {
  const v = str(env, name);
  if (v === undefined) return undefined;
  const parsed = parseHostPorts(v);
  if ('problem' in parsed) throw new ConfigError(name, parsed.problem);
  return parsed.ok;
}

/**
 * The Redis connection: exactly one topology variable, credentials from the variables or
 * the URL (not both), TLS from REDIS_TLS or rediss://. No message echoes a credential.
 */
function redisConnection(env: Env): RedisConnectionOptions {
  const set = (['REDIS_URL', 'REDIS_SENTINELS', 'REDIS_CLUSTER_NODES'] as const).filter((n) => str(env, n) !== undefined);
  if (set.length > 1) throw new ConfigError(set[1], `cannot be combined with ${set[0]}: set one of REDIS_URL, REDIS_SENTINELS, REDIS_CLUSTER_NODES`);
  const sentinels = hostPorts(env, 'REDIS_SENTINELS');
  const clusterNodes = hostPorts(env, 'REDIS_CLUSTER_NODES');
  const sentinelName = str(env, 'REDIS_SENTINEL_NAME');
  if (sentinels && !sentinelName) throw new ConfigError('REDIS_SENTINEL_NAME', 'is required with REDIS_SENTINELS (the monitored master\'s name)');
  if (sentinelName && !sentinels) throw new ConfigError('REDIS_SENTINEL_NAME', 'only applies with REDIS_SENTINELS');
  if (sentinelName && !/^[A-Za-z0-9._-]+$/.test(sentinelName)) throw new ConfigError('REDIS_SENTINEL_NAME', 'may hold letters, digits, ".", "_" and "-" only');
  // Credentials are taken as they are (no trim: a password may start or end with a space).
  const username = env.REDIS_USERNAME || undefined;
  const password = env.REDIS_PASSWORD || undefined;
  const tlsVar = bool(env, 'REDIS_TLS', false);
  const url = str(env, 'REDIS_URL');
  if (url !== undefined) {
    const u = new URL(redisUrl(env, 'REDIS_URL', ''));
    if (password !== undefined && u.password) throw new ConfigError('REDIS_PASSWORD', 'REDIS_URL holds a password too: set it in one place');
    if (username !== undefined && u.username) throw new ConfigError('REDIS_USERNAME', 'REDIS_URL holds a user name too: set it in one place');
    if (str(env, 'REDIS_TLS') !== undefined && !tlsVar && u.protocol === 'rediss:') throw new ConfigError('REDIS_TLS', 'is false but REDIS_URL uses rediss://');
    return { url, username, password, tls: tlsVar || u.protocol === 'rediss:' };
  }
  if (sentinels) return { sentinels, sentinelName, username, password, tls: tlsVar };
  if (clusterNodes) return { clusterNodes, username, password, tls: tlsVar };
  return { url: DEFAULT_REDIS_STORE_OPTIONS.url, username, password, tls: tlsVar };
}

/**
 * A bearer token: it travels as `Authorization: Bearer <token>`, so whitespace or a control
 * character in it could never match — refuse it at start-up instead of answering 401 forever.
 */
function token(env: Env, name: string): string | undefined {
  const v = str(env, name);
  // eslint-disable-next-line no-control-regex
  if (v !== undefined && /[\s\u0000-\u001f\u007f]/.test(v)) throw new ConfigError(name, 'must not contain whitespace or control characters');
  return v;
}

/** A comma-separated CIDR list, normalized to `address/prefix` items. */
function cidrs(env: Env, name: string): string[] {
  try {
    return parseCidrList(str(env, name)).map((c) => `${c.address}/${c.prefix}`);
  } catch (e) {
    throw new ConfigError(name, (e as Error).message);
  }
}

/** Token under which ConfigModule serves the loaded {@link AppConfig}. */
export const APP_CONFIG = 'rtp';
