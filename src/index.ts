// The public surface of rtp-pool: import from the package root, never a deep path.
export * from './contract/contract.types';
export * from './contract/paths';
export * from './node-client/control-call.error';
export { NodeControlClient, CONTROL_CLIENT_OPTIONS, type ControlClientOptions } from './node-client/node-control.client';
export { RegisterNodeDto } from './contract/dto/register-node.dto';
export { PrepareCallDto } from './contract/dto/prepare-call.dto';
export * from './pool/pool.types';
export * from './pool/pool.errors';
export * from './pool/pool.events';
export * from './pool/pool.constants';
export { PoolModule } from './pool/pool.module';
export { DEFAULT_POOL_OPTIONS, type PoolModuleOptions, type ResolvedPoolOptions } from './pool/pool.module-definition';
export { PoolService, normalizeCallId, toNodeInfo, toCallBinding, type RegisterNodeInput, type PrepareOptions } from './pool/pool.service';
export { parseControlUrls, publicControlUrl, normalizeControlUrl } from './contract/control-urls';
export type { SelectionStrategy, SelectionContext } from './pool/selection/selection-strategy.interface';
export { LeastLoadedStrategy, byLoadThenId } from './pool/selection/least-loaded.strategy';
export { topK } from './pool/selection/top-k';
export { BUILTIN_STRATEGIES, builtinStrategy, type StrategyDeps } from './pool/selection/builtin-strategies';
export type { FailoverPolicy } from './pool/failover/failover-policy.interface';
export { DefaultFailoverPolicy } from './pool/failover/default-failover.policy';
export type { PoolStore, UpsertOutcome, RemoveOutcome } from './pool/store/pool-store.interface';
export { MemoryPoolStore } from './pool/store/memory-pool.store';
export { POOL_STORE, InjectPoolStore } from './pool/store/pool-store.interface';
export { RedisPoolStore, DEFAULT_REDIS_STORE_OPTIONS, redisCommandTimeoutFor, type RedisPoolStoreOptions } from './pool/store/redis-pool.store';
export { PruneService } from './pool/jobs/prune.service';
export { RegistryModule } from './http/registry/registry.module';
export { CallsModule } from './http/calls/calls.module';
export { BearerGuard, RequireToken, AUTH_OPTIONS, type AuthOptions } from './http/security/bearer.guard';
export { configureApp, type AppSetupOptions } from './http/app.setup';
export { AppModule } from './app.module';
export { loadAppConfig, type AppConfig } from './config/app.config';
export { ConfigError } from './common/env';
export { WeightedStrategy, weightOf } from './pool/selection/weighted.strategy';
export { PowerOfTwoStrategy } from './pool/selection/power-of-two.strategy';
export { RoundRobinStrategy } from './pool/selection/round-robin.strategy';
export { CallHashStrategy, rendezvousScore } from './pool/selection/call-hash.strategy';
export { CircuitBreaker, type CircuitState } from './pool/health/circuit-breaker';
export { HealthMonitorService, HEALTH_JOB, healthReport, type ProbeRound } from './pool/health/health-monitor.service';
// Operations (issue 7): health, metrics, dashboard, logs, OpenAPI, graceful shutdown.
export { OpsModule } from './ops/ops.module';
export {
  DEFAULT_OPS_OPTIONS, type OpsModuleOptions, type ResolvedOpsOptions, OPS_OPTIONS, RTP_METRICS_REGISTRY,
  InjectMetricsRegistry, InjectOpsOptions,
} from './ops/ops.module-definition';
export { PoolMetrics, nodeGaugeState, type ActivitySummary, type NodeGaugeState } from './ops/metrics/pool-metrics.service';
export { ShutdownState } from './ops/shutdown/shutdown-state';
export { enableGracefulShutdown, type GracefulShutdownOptions } from './ops/shutdown/graceful-shutdown';
export { pinoLoggerParams, type LoggingOptions, REDACTED_PATHS } from './ops/logging/logger.params';
export { createOpenApiDocument, setupOpenApi } from './ops/openapi/openapi';
export * from './contract/dto/responses.dto';
// Media-node side (issue 3): the registrar any Nest media node can import, and the reference media node.
export { RegistrarModule } from './registrar/registrar.module';
export {
  DEFAULT_REGISTRAR_OPTIONS, REGISTRAR_OPTIONS, type RegistrarModuleOptions, type ResolvedRegistrarOptions,
} from './registrar/registrar.module-definition';
export { RegistrarService, type RegistrarState, type RegistrarStatus, type HeartbeatBody } from './registrar/registrar.service';
export { LEG_COUNTER, InjectLegCounter, SimpleLegCounter, type LegCounter } from './registrar/leg-counter.interface';
export { MediaNodeModule, registrarOptionsFor } from './media-node/media-node.module';
export { startMediaNode, type RunningMediaNode, type StartMediaNodeOptions } from './media-node/media-node.app';
export { loadMediaNodeConfig, DEFAULT_MEDIA_NODE_CONFIG, type MediaNodeConfig } from './media-node/media-node.config';
export { parseOffer, UnusableOfferError, type AudioOffer, type Codec } from './media-node/sdp';
export { buildRtpPacket, readRtpHeader, writeRtpHeader, silenceFrame, type RtpHeader } from './media-node/rtp';
export { RtpCaller, type CallerStats } from './demo/rtp-caller';
// Security (issue 6): the control_url allow-list, the scoped rate-limit guard, the JSON body checks.
export * from './http/security';
