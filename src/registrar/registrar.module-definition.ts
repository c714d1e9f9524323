import { ConfigurableModuleBuilder, type Type } from '@nestjs/common';
import { withDefaults } from '../common/options';
import type { LegCounter } from './leg-counter.interface';

/**
 * Options of {@link RegistrarModule}: who the node is, where the registry is, and the
 * loop's timing. Only `nodeId` and `controlUrl` are required; every other field has a
 * default in {@link DEFAULT_REGISTRAR_OPTIONS}. The module never reads `process.env`:
 * the application maps its environment (CONTRACT §4 names) onto these fields.
 */
export interface RegistrarModuleOptions {
  /**
   * Base URL of the signaling service (`SIP_REGISTRY_URL`), e.g. `http://10.0.0.1:8080`.
   * Unset: the registrar logs one warning and stays idle, as the Go node does.
   */
  registryUrl?: string;
  /**
   * The node's id (`RTP_NODE_ID`). A function is called once when the loop starts —
   * after the HTTP server listens — so it may use the port actually bound.
   */
  nodeId: string | (() => string);
  /** The `control_url` the pool calls (`RTP_CONTROL_PUBLIC_URL`); a function as for `nodeId`. */
  controlUrl: string | (() => string);
  /** The node's media address, sent as `media_ip` (`RTP_MEDIA_IP`). */
  mediaIp?: string;
  /** Max legs, sent as `capacity`; unset or 0 = unbounded, not sent (`RTP_MAX_LEGS`). */
  capacity?: number;
  /** Region label, sent as `region` when set. Absent or null: none. */
  region?: string | null;
  /** Relative share for weighted strategies, sent as `weight` when set. */
  weight?: number;
  /** Start out draining (normally the registrar drains at shutdown only). @default false */
  draining?: boolean;
  /** Sent as `Authorization: Bearer …` (`RTP_REGISTRY_TOKEN`). */
  registryToken?: string;
  /** Milliseconds between heartbeats (`RTP_HEARTBEAT_SEC` × 1000). @default 10000 */
  heartbeatIntervalMs?: number;
  /** Use the `heartbeat_sec` the registry answers instead of `heartbeatIntervalMs`. @default true */
  followServerInterval?: boolean;
  /**
   * First retry delay after a failed heartbeat; it doubles per failure, is capped at
   * the heartbeat interval, and is jittered (between half and all of it). @default 500
   */
  minBackoffMs?: number;
  /** Milliseconds one register/heartbeat request may take. @default 2000 */
  requestTimeoutMs?: number;
  /** Milliseconds the deregister (`DELETE`) at shutdown may take. @default 1000 */
  deregisterTimeoutMs?: number;
  /**
   * At shutdown, milliseconds to wait for active legs to reach 0 after the draining
   * heartbeat, before deregistering (`RTP_DRAIN_TIMEOUT_SEC` × 1000). 0 = don't wait. @default 0
   */
  drainTimeoutMs?: number;
  /**
   * Start the loop by itself: when the HTTP server listens (so a port-0 node knows its
   * port), or at bootstrap in an app without HTTP server. `false`: call `start()`. @default true
   */
  autoStart?: boolean;
  /**
   * Where `active_legs` comes from: a class (with `forRoot` it is built by DI) or an
   * instance. @default a {@link SimpleLegCounter}
   */
  legCounter?: LegCounter | Type<LegCounter>;
}

/** Defaults, written once. */
export const DEFAULT_REGISTRAR_OPTIONS = {
  heartbeatIntervalMs: 10_000,
  followServerInterval: true,
  minBackoffMs: 500,
  requestTimeoutMs: 2_000,
  deregisterTimeoutMs: 1_000,
  drainTimeoutMs: 0,
  autoStart: true,
  draining: false,
} as const;

export type ResolvedRegistrarOptions = RegistrarModuleOptions & Required<Pick<RegistrarModuleOptions, keyof typeof DEFAULT_REGISTRAR_OPTIONS>>;

const positive = (v: number) => Number.isFinite(v) && v > 0;

/** The options with every default applied; a non-positive duration (a negative drain time) falls back to its default. */
export function resolveRegistrarOptions(o: RegistrarModuleOptions): ResolvedRegistrarOptions {
  return withDefaults(DEFAULT_REGISTRAR_OPTIONS, o, {
    heartbeatIntervalMs: positive, minBackoffMs: positive, requestTimeoutMs: positive, deregisterTimeoutMs: positive,
    drainTimeoutMs: (v) => v >= 0,
  });
}

export const {
  ConfigurableModuleClass: RegistrarConfigurableModule,
  MODULE_OPTIONS_TOKEN: REGISTRAR_MODULE_OPTIONS,
  OPTIONS_TYPE: REGISTRAR_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: REGISTRAR_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<RegistrarModuleOptions>().setClassMethodName('forRoot').build();

/** The resolved options (defaults applied). */
export const REGISTRAR_OPTIONS = Symbol('RTP_REGISTRAR_OPTIONS');
