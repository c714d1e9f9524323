import { ConfigurableModuleBuilder, Inject } from '@nestjs/common';
import type { Registry } from 'prom-client';
import { withDefaults } from '../../common/options';

/** Options of {@link OpsModule}. Every field has a default in {@link DEFAULT_OPS_OPTIONS}. */
export interface OpsModuleOptions {
  /** Readiness (`GET /health/ready`) also needs at least one healthy, undrained node. @default false */
  readyRequiresNode?: boolean;
  /** Milliseconds the store's ping may take before readiness reports it down. @default 1000 */
  readyTimeoutMs?: number;
  /**
   * The API token (`RTP_API_TOKEN`), when one is set. The dashboard page then renders
   * without node data unless the request carries it, and its script asks the operator for it.
   */
  apiToken?: string;
  /** Registry the `rtp_*` metrics go to. @default a new prom-client Registry per module */
  registry?: Registry;
  /** Also collect prom-client's default process metrics (`process_*`, `nodejs_*`). @default true */
  defaultMetrics?: boolean;
  /** Seconds of history behind the dashboard's "recent" figures. @default 60 */
  recentWindowSec?: number;
}

/** Defaults, written once. */
export const DEFAULT_OPS_OPTIONS = {
  readyRequiresNode: false,
  readyTimeoutMs: 1_000,
  defaultMetrics: true,
  recentWindowSec: 60,
} as const;

export type ResolvedOpsOptions = Required<Omit<OpsModuleOptions, 'apiToken' | 'registry'>> &
  Pick<OpsModuleOptions, 'apiToken' | 'registry'>;

export function resolveOpsOptions(o: OpsModuleOptions): ResolvedOpsOptions {
  return withDefaults(DEFAULT_OPS_OPTIONS, o);
}

export const {
  ConfigurableModuleClass: OpsConfigurableModule,
  MODULE_OPTIONS_TOKEN: OPS_MODULE_OPTIONS,
  OPTIONS_TYPE: OPS_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: OPS_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<OpsModuleOptions>().setClassMethodName('forRoot').build();

/** The resolved options (defaults applied). */
export const OPS_OPTIONS = Symbol('RTP_OPS_OPTIONS');
export const InjectOpsOptions = () => Inject(OPS_OPTIONS);

/** The prom-client Registry holding the `rtp_*` metrics; inject it to add your own. */
export const RTP_METRICS_REGISTRY = Symbol('RTP_METRICS_REGISTRY');
export const InjectMetricsRegistry = () => Inject(RTP_METRICS_REGISTRY);
