import { ConfigurableModuleBuilder, type ModuleMetadata, type Type } from '@nestjs/common';
import { withDefaults } from '../../common/options';
import { cronProblem } from './cron-expression';
import type { EventLog } from './event-log.interface';
import type { FailoverPolicy } from './failover-policy.interface';
import type { SelectionStrategy } from './selection-strategy.interface';
import type { PoolStore } from './pool-store.interface';

/** Options of {@link PoolModule}. Every field has a default in {@link DEFAULT_POOL_OPTIONS}. */
export interface PoolModuleOptions {
  /** Static seed control URLs (already parsed); they become `seed-1`, `seed-2`, … @default [] */
  seedUrls?: string[];
  /** Seconds a node may stay silent before it is pruned. @default 45 */
  nodeTtlSec?: number;
  /** Seconds a binding lives without a delete. @default 86400 */
  callTtlSec?: number;
  /** Milliseconds one control call towards a node may take. @default 2000 */
  controlTimeoutMs?: number;
  /** Most nodes one prepare tries. @default 3 */
  maxAttempts?: number;
  /** Seconds between prune runs; 0 disables the prune job (unless `pruneCron` is set). @default 15 */
  pruneIntervalSec?: number;
  /**
   * When to prune, as a cron expression with seconds (`*\/15 * * * * *`); when set it wins
   * over `pruneIntervalSec`. A bad expression fails start-up.
   */
  pruneCron?: string;
  /** Most dynamic (registered) nodes; a new node beyond it gets 503. @default 10000 */
  maxNodes?: number;
  /**
   * Milliseconds between background health probe rounds (every node's `GET /v1/health`,
   * concurrently); 0 disables probing. @default 5000
   */
  healthIntervalMs?: number;
  /** Milliseconds one health probe may take. @default 1000 */
  healthTimeoutMs?: number;
  /**
   * Most health probes in flight at once; a round works through the nodes with this many
   * probes open, so 10,000 nodes do not mean 10,000 sockets opened in the same tick. @default 64
   */
  healthConcurrency?: number;
  /**
   * Milliseconds a node's circuit stays open after a failed control call before one
   * half-open trial call is let through. @default 10000
   */
  circuitResetMs?: number;
  /**
   * Seconds between reconciliation rounds (CONTRACT §7): nodes serving `GET /v1/legs` are
   * compared with the bindings; orphan legs are deleted, bindings without a leg dropped.
   * One instance reconciles at a time (a lease in the store). 0 disables it. @default 60
   */
  reconcileIntervalSec?: number;
  /** Bearer token the pool sends to media nodes (CONTRACT §3 `RTP_NODE_TOKEN`). */
  nodeToken?: string;
  /**
   * The selection strategy: a built-in name (`'least-loaded'` …), a class (built by DI,
   * so it may inject providers: with `forRoot` from `imports`, with `forRootAsync` from
   * the async options' `imports`), or an instance.
   * @default 'least-loaded'
   */
  strategy?: string | Type<SelectionStrategy> | SelectionStrategy;
  /** With `forRoot`: modules whose providers a strategy class or a `nodeLegs` class may inject. */
  imports?: ModuleMetadata['imports'];
  /** The state store: one object serving every part of {@link PoolStore}. @default a new MemoryPoolStore */
  store?: PoolStore;
  /** The failover policy. @default DefaultFailoverPolicy(maxAttempts) */
  failover?: FailoverPolicy;
  /**
   * A subclass of `NodeLegs` (the pool's one door to the media nodes for legs), built by DI
   * in its place: override its `onNodeSuccess` / `onNodeFailure` hooks to see every leg call's
   * outcome. Its own dependencies come from `imports` (with `forRootAsync`, the async
   * options' `imports`). Typed loosely here because the options sit below `NodeLegs`;
   * `PoolModule` refuses a class that does not extend it. @default NodeLegs
   */
  nodeLegs?: Type;
  /** Where the §5 events live (shared across instances when it is shared). @default a new MemoryEventLog */
  eventLog?: EventLog;
  /** Milliseconds between `: ping` comments on an open `GET /v1/events`. @default 15000 */
  eventsPingMs?: number;
  /** Most open `GET /v1/events` streams at once on this instance; one more is answered 503 with Retry-After. @default 1000 */
  eventsMaxSubscribers?: number;
  /**
   * Bytes a `GET /v1/events` subscriber may leave unread (its connection's write buffer, or the
   * live events held while its replay runs) before it is dropped; it reconnects with
   * `Last-Event-ID`. @default 262144
   */
  eventsBufferBytes?: number;
  /**
   * Milliseconds between sweeps over every node for drain deadlines that passed (the
   * instance that took a drain also keeps a timer for it); 0 disables the sweep. @default 5000
   */
  drainCheckMs?: number;
}

type OptionalKeys = 'nodeToken' | 'store' | 'failover' | 'eventLog' | 'strategy' | 'imports' | 'pruneCron' | 'nodeLegs';
export type ResolvedPoolOptions = Required<Omit<PoolModuleOptions, OptionalKeys>> & Pick<PoolModuleOptions, OptionalKeys>;

/** Defaults, written once. */
export const DEFAULT_POOL_OPTIONS = {
  seedUrls: [] as string[],
  nodeTtlSec: 45,
  callTtlSec: 86_400,
  controlTimeoutMs: 2_000,
  maxAttempts: 3,
  pruneIntervalSec: 15,
  maxNodes: 10_000,
  healthIntervalMs: 5_000,
  healthTimeoutMs: 1_000,
  healthConcurrency: 64,
  circuitResetMs: 10_000,
  reconcileIntervalSec: 60,
  eventsPingMs: 15_000,
  eventsMaxSubscribers: 1_000,
  eventsBufferBytes: 256 * 1024,
  drainCheckMs: 5_000,
  strategy: 'least-loaded',
} as const;

/** The options with every default applied; throws on a `pruneCron` that cron cannot run. */
export function resolvePoolOptions(o: PoolModuleOptions): ResolvedPoolOptions {
  const problem = o.pruneCron === undefined ? undefined : cronProblem(o.pruneCron);
  if (problem) throw new Error(`PoolModule pruneCron: ${problem}`);
  return withDefaults(DEFAULT_POOL_OPTIONS, o);
}

export const {
  ConfigurableModuleClass: PoolConfigurableModule,
  MODULE_OPTIONS_TOKEN: POOL_MODULE_OPTIONS,
  OPTIONS_TYPE: POOL_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: POOL_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<PoolModuleOptions>()
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (def, extras) => ({ ...def, global: extras.isGlobal }))
  .build();

/** The resolved options (defaults applied), injectable by the pool's collaborators. */
export const POOL_OPTIONS = Symbol('RTP_POOL_OPTIONS');
