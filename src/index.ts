// The public surface of rtp-pool: this file is the one list (docs/public-api.md mirrors it).
// Import from the package root; test helpers come from 'rtp-pool/testing'. Anything not
// exported here is internal and may move without notice.

// ── Wire contract (CONTRACT.md): types, DTOs, paths, control-URL parsing ─────────────────
export type {
  RegisterNodeResponse, NodeInfo, PrepareLegRequest, PrepareLegResponse, PrepareCallResponse, CallBinding,
  StartCallResponse, HealthResponse, ErrorResponse, MigrateCallResponse, CallListResponse,
} from './contract/contract.types';
export { MigrateCallDto } from './contract/dto/migrate-call.dto';
export { DrainNodeDto } from './contract/dto/drain-node.dto';
export { RegistryPaths, CallPaths, NodePaths } from './contract/paths';
export { RegisterNodeDto } from './contract/dto/register-node.dto';
export { PrepareCallDto } from './contract/dto/prepare-call.dto';
export {
  ErrorResponseDto, RegisterNodeResponseDto, NodeInfoDto, NodeListDto, PrepareCallResponseDto, CallBindingDto,
  StartCallResponseDto, MigrateCallResponseDto, CallListDto,
} from './contract/dto/responses.dto';
export { parseControlUrls } from './contract/control-urls';

// ── Pool: module, service, options, tokens, events, errors ─────────────────────────────
export { PoolModule } from './pool/pool.module';
export { DEFAULT_POOL_OPTIONS, type PoolModuleOptions, type ResolvedPoolOptions } from './pool/core/pool.module-definition';
export { PoolService, type ListCallsOptions } from './pool/pool.service';
export type { RegisterNodeInput } from './pool/registry/node-registry';
export type { PrepareOptions } from './pool/selection/candidate-selector';
// The parts behind the facade, for subclassing (e.g. CandidateSelector.isEligible) and overrideProvider.
export { NodeRegistry } from './pool/registry/node-registry';
export { CandidateSelector } from './pool/selection/candidate-selector';
export { CallRouter } from './pool/calls/call-router';
// The one door to the media nodes for legs; subclass it to change what an outcome does to a node's circuit.
export { NodeLegs, type LegTarget } from './pool/calls/node-legs';
export { CircuitBreaker, type CircuitState } from './pool/health/circuit-breaker';
export { CallMigrator, type MigrateOptions } from './pool/calls/call-migrator';
export { LeftLegs, type LeftLeg, type UnboundLegOutcome } from './pool/calls/left-legs';
export { EventFeed } from './pool/events/event-feed.service';
export {
  POOL_EVENT_LOG, InjectEventLog, type EventLog, type StreamEvent, type StreamEventMap, type StreamEventName, type NodeDownReason, type CallLostReason,
} from './pool/core/event-log.interface';
export { MemoryEventLog } from './pool/events/memory-event-log';
export { RedisEventLog, type RedisEventLogOptions } from './pool/events/redis-event-log';
export {
  RTP_RANDOM, InjectRandom, type RandomSource, CLOCK, InjectClock, type Clock,
  POOL_STORE, InjectPoolStore, SELECTION_STRATEGY, InjectSelectionStrategy, FAILOVER_POLICY, InjectFailoverPolicy,
  POOL_OPTIONS, POOL_MODULE_OPTIONS,
} from './pool/core/pool.constants';
export type { NodeReport, NodeState, Candidate, Binding, HealthReport } from './pool/core/pool.types';
export { PoolHooks, type PoolHookMap, type CallOutcome } from './pool/core/pool.hooks';
// Errors: PoolError with a stable code (docs/public-api.md), one subclass per code; statuses at the HTTP edge.
export {
  PoolError, POOL_ERROR_CODES, isPoolErrorCode, type PoolErrorCode,
  NoHealthyNodeException, OfferRefusedException, NodeFailedException, CallNotFoundException, NodeNotFoundException,
  StaticNodeConflictException, RegistryFullException, InvalidIdException, InvalidCursorException, StoreUnavailableException,
  MigrationConflictException, NoOtherNodeException, CallDeletedException, CallMovedException,
} from './pool/core/pool.errors';
export { ApiErrorFilter, POOL_ERROR_STATUS, describeApiError } from './http/errors/api-error.filter';

// ── Selection strategies (SelectionStrategy) and failover (FailoverPolicy) ─────────────
export type { SelectionStrategy, SelectionContext } from './pool/core/selection-strategy.interface';
export { LeastLoadedStrategy, byLoadThenId } from './pool/selection/least-loaded.strategy';
export { WeightedStrategy, weightOf } from './pool/selection/weighted.strategy';
export { PowerOfTwoStrategy } from './pool/selection/power-of-two.strategy';
export { RoundRobinStrategy } from './pool/selection/round-robin.strategy';
export { CallHashStrategy, rendezvousScore } from './pool/selection/call-hash.strategy';
export { topK } from './pool/selection/top-k'; // first `limit` candidates in one pass, for strategy authors
export type { FailoverPolicy } from './pool/core/failover-policy.interface';
export { DefaultFailoverPolicy } from './pool/failover/default-failover.policy';
export { ControlCallError, type ControlFailureKind, mayHaveActed } from './node-client/control-call.error';
export { NodeControlClient, CONTROL_CLIENT_OPTIONS, type ControlClientOptions } from './node-client/node-control.client';

// ── Stores (PoolStore): the interface, the memory default, Redis ───────────────────────
export type {
  PoolStore, UpsertOutcome, RemoveOutcome, StoreDescription,
  ClaimResult, ClaimFailure, BindExpectation, BindOutcome, CallHold, DeleteCallResult, Tombstone,
} from './pool/core/pool-store.interface';
export type { NodeStore, CallStore, LeaseStore, StoreStatus } from './pool/core/pool-store.interface';
export { MemoryPoolStore } from './pool/store/memory-pool.store';
export { RedisPoolStore, DEFAULT_REDIS_STORE_OPTIONS, type RedisPoolStoreOptions } from './pool/store/redis-pool.store';
export {
  createRedisClient, type RedisConnectionOptions, type RedisTopology, type RedisClient,
} from './pool/store/redis-connection';

// ── HTTP front: the service's modules, guards and one app set-up ───────────────────────
export { AppModule } from './app.module';
export { RegistryModule } from './http/registry/registry.module';
export { CallsModule } from './http/calls/calls.module';
export { EventsModule } from './http/events/events.module';
export { configureApp, type AppSetupOptions } from './http/app.setup';
export { createHttpAdapter, type HttpAdapterOptions } from './http/http-adapter';
export { BearerGuard, RequireToken, AUTH_OPTIONS, type AuthOptions } from './common/bearer.guard';
export { SecurityModule } from './http/security/security.module';
export {
  DEFAULT_SECURITY_OPTIONS, SECURITY_MODULE_OPTIONS, type SecurityModuleOptions, type HostResolver,
} from './http/security/security.module-definition';
export { NodeUrlPolicy, ControlUrlRefusedException } from './http/security/node-url-policy';
export { RateLimitGuard } from './http/security/rate-limit.guard';

// ── Operations: health, metrics, logs, OpenAPI, graceful shutdown ──────────────────────
export { OpsModule } from './ops/ops.module';
export {
  DEFAULT_OPS_OPTIONS, type OpsModuleOptions, type ResolvedOpsOptions, OPS_OPTIONS, RTP_METRICS_REGISTRY,
  InjectMetricsRegistry, InjectOpsOptions,
} from './ops/core/ops.module-definition';
export { PoolMetrics } from './ops/metrics/pool-metrics.service';
export { enableGracefulShutdown, type GracefulShutdownOptions } from './ops/shutdown/graceful-shutdown';
export { pinoLoggerParams, type LoggingOptions } from './ops/logging/logger.params';
export { createOpenApiDocument, setupOpenApi } from './ops/openapi/openapi';

// ── Configuration loaders (environment → validated options) ───────────────────────────
export { loadAppConfig, type AppConfig } from './config/app.config';
export { loadMediaNodeConfig, DEFAULT_MEDIA_NODE_CONFIG, type MediaNodeConfig } from './media-node/media-node.config';
export { ConfigError } from './common/env';

// ── Media-node side: the registrar any Nest media node imports, and the reference node ─
export { RegistrarModule } from './registrar/registrar.module';
export {
  DEFAULT_REGISTRAR_OPTIONS, REGISTRAR_OPTIONS, type RegistrarModuleOptions, type ResolvedRegistrarOptions,
} from './registrar/registrar.module-definition';
export { RegistrarService, type RegistrarState, type RegistrarStatus, type HeartbeatBody } from './registrar/registrar.service';
export { LEG_COUNTER, InjectLegCounter, SimpleLegCounter, type LegCounter } from './registrar/leg-counter.interface';
export { MediaNodeModule } from './media-node/media-node.module';
export { startMediaNode, type RunningMediaNode, type StartMediaNodeOptions } from './media-node/media-node.app';
