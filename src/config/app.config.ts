import { bool, ConfigError, type Env, httpUrlProblem, int, oneOf, str } from '../common/env';
import { BUILTIN_STRATEGIES } from '../pool/selection/builtin-strategies';
import { parseControlUrls } from '../contract/control-urls';
import { DEFAULT_MAX_BODY_BYTES } from '../common/json-app';
import { DEFAULT_SHUTDOWN_TIMEOUT_MS } from '../ops/shutdown/graceful-shutdown';
import { cronProblem } from '../pool/jobs/cron-expression';
import { DEFAULT_POOL_OPTIONS } from '../pool/pool.module-definition';
import { DEFAULT_REDIS_STORE_OPTIONS } from '../pool/store/redis-pool.store';
import { parseCidrList } from '../http/security/cidr';

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
  /** RTP_EVENTS_PING_MS: between `: ping` comments on `GET /v1/events`. @default 15000 */
  eventsPingMs: number;
  /** RTP_DRAIN_CHECK_MS: between checks of drain deadlines; 0 = never. @default 1000 */
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
  /** RTP_SHUTDOWN_TIMEOUT_MS: how long SIGTERM waits for in-flight requests. @default 4000 */
  shutdownTimeoutMs: number;
  /** RTP_STORE: where nodes and bindings live, `memory` (this process) or `redis` (shared). @default memory */
  store: StoreKind;
  /** REDIS_URL: the Redis of `RTP_STORE=redis` (redis:// or rediss://). @default redis://127.0.0.1:6379 */
  redisUrl: string;
  /** RTP_STORE_PREFIX: prefix of every Redis key; instances sharing it share one pool. @default rtp-pool: */
  storePrefix: string;
}

export const STORE_KINDS = ['memory', 'redis'] as const;
export type StoreKind = (typeof STORE_KINDS)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

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
    eventsPingMs: int(env, 'RTP_EVENTS_PING_MS', d.eventsPingMs, 10, 15_000),
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
    shutdownTimeoutMs: int(env, 'RTP_SHUTDOWN_TIMEOUT_MS', DEFAULT_SHUTDOWN_TIMEOUT_MS, 0, 60_000),
    store: oneOf(env, 'RTP_STORE', 'memory', STORE_KINDS),
    redisUrl: redisUrl(env, 'REDIS_URL', DEFAULT_REDIS_STORE_OPTIONS.url),
    storePrefix: str(env, 'RTP_STORE_PREFIX', DEFAULT_REDIS_STORE_OPTIONS.prefix)!,
  };
}

/** A cron expression with seconds (six fields), or undefined when unset. */
function cron(env: Env, name: string): string | undefined {
  const v = str(env, name);
  const problem = v === undefined ? undefined : cronProblem(v);
  if (problem) throw new ConfigError(name, problem);
  return v;
}

/** A redis:// or rediss:// URL. */
function redisUrl(env: Env, name: string, def: string): string {
  const v = str(env, name, def)!;
  let u: URL;
  try {
    u = new URL(v);
  } catch {
    throw new ConfigError(name, `"${v}" is not an absolute URL`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new ConfigError(name, `must use redis:// or rediss://, got "${u.protocol}"`);
  return v;
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
