import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { LookupAddress } from 'node:dns';
import { withDefaults } from '../../common/options';

/** Resolves a host name to all its addresses (the shape of `dns.promises.lookup(name, { all: true })`). */
export type HostResolver = (hostname: string) => Promise<LookupAddress[]>;

/** Options of {@link SecurityModule}. */
export interface SecurityModuleOptions {
  /**
   * CIDR blocks a registered `control_url` must point into (`RTP_ALLOWED_NODE_CIDRS`):
   * an IP host outside them, or a name that resolves to any address outside them, is
   * refused with 400. Empty: any host. @default []
   */
  allowedNodeCidrs?: string[];
  /** Milliseconds a name lookup may take before the registration is refused. @default 2000 */
  resolveTimeoutMs?: number;
  /** Seconds a name's addresses are remembered (heartbeats repeat the same name). @default 30 */
  resolveCacheSec?: number;
  /** Most names remembered at once. @default 10000 */
  resolveCacheSize?: number;
  /**
   * Bearer token registrars must send to register and deregister (`RTP_REGISTRY_TOKEN`);
   * unset: those routes are open, with a warning at start-up. @default undefined
   */
  registryToken?: string;
  /**
   * Bearer token for the calls API, node listing, drain and the events stream
   * (`RTP_API_TOKEN`); unset: those routes are open, with a warning at start-up. @default undefined
   */
  apiToken?: string;
  /**
   * Largest body the routes of `RegistryModule`, `CallsModule` and `EventsModule` accept in an
   * app without `configureApp` (413 beyond; measured inflated). `configureApp(app, { maxBodyBytes })`
   * sets it for every route instead. @default 262144
   */
  maxBodyBytes?: number;
  /**
   * Log one warning at start-up when a token above is unset. The service turns it off: it
   * names the unset environment variables itself. @default true
   */
  warnIfOpen?: boolean;
  /** How names are resolved. @default `dns.promises.lookup(name, { all: true })` (the system resolver, as the HTTP client uses) */
  resolver?: HostResolver;
}

/** Defaults, written once. */
export const DEFAULT_SECURITY_OPTIONS = {
  allowedNodeCidrs: [] as string[],
  resolveTimeoutMs: 2_000,
  resolveCacheSec: 30,
  resolveCacheSize: 10_000,
} as const;

export type ResolvedSecurityOptions = SecurityModuleOptions & Required<Pick<SecurityModuleOptions, keyof typeof DEFAULT_SECURITY_OPTIONS>>;

/** The options with every default applied. */
export function resolveSecurityOptions(o: SecurityModuleOptions): ResolvedSecurityOptions {
  return withDefaults(DEFAULT_SECURITY_OPTIONS, o);
}

export const {
  ConfigurableModuleClass: SecurityConfigurableModule,
  MODULE_OPTIONS_TOKEN: SECURITY_MODULE_OPTIONS,
  OPTIONS_TYPE: SECURITY_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: SECURITY_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<SecurityModuleOptions>()
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (def, extras) => ({ ...def, global: extras.isGlobal }))
  .build();
