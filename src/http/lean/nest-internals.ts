import type { INestApplication } from '@nestjs/common';
import type { ApplicationConfig } from '@nestjs/core';

/**
 * Everything the lean lane reads of Nest that is not Nest's public API, in one place: three
 * private fields of the application (`config`, `enabledSecurityFeatures`, `isInitialized`) and
 * two deep imports (`HTTP_CODE_METADATA`, `resolveSecurityHeaders`). Each is read defensively:
 * whatever cannot be read, or reads as something not seen in the checked versions, turns the
 * lane off (with the reason), never on. Re-check this file, then widen the range, when Nest moves.
 */
export const NEST_CHECKED_RANGE = { from: '12.5.0', below: '12.6.0' } as const;

/** The global enhancers and settings of ApplicationConfig the lane knows what to do with. */
const KNOWN_CONFIG_GETTERS = new Set([
  'getGlobalPrefix', 'getGlobalPrefixOptions', 'getIoAdapter', 'getVersioning',
  'getGlobalFilters', 'getGlobalPipes', 'getGlobalInterceptors', 'getGlobalGuards',
  'getGlobalRequestInterceptors', 'getGlobalRequestPipes', 'getGlobalRequestFilters', 'getGlobalRequestGuards',
  'getGlobalPreRequestHooks', 'getRouteConflictPolicy', 'getRouteResolutionStrategy', 'getCookieSigner',
]);
/** Security features the lane reproduces (the headers); any other one turns it off. */
const KNOWN_SECURITY_FEATURES = new Set(['useSecurityHeaders']);

/** What the lane needs of an app, or why it cannot have it. */
export type NestView =
  | { ok: true; initialized: boolean; config: ApplicationConfig; securityFeatures: ReadonlySet<string> }
  | { ok: false; reason: string };

/** The installed @nestjs/core version, or undefined when it cannot be read. */
export function installedNestVersion(): string | undefined {
  try {
    return (require('@nestjs/core/package.json') as { version?: unknown }).version as string | undefined;
  } catch {
    return undefined;
  }
}

/** Whether `version` (x.y.z) lies in {@link NEST_CHECKED_RANGE}. */
export function inCheckedRange(version: string | undefined): boolean {
  const parse = (v: string) => /^(\d+)\.(\d+)\.(\d+)/.exec(v)?.slice(1).map(Number);
  const v = version === undefined ? undefined : parse(version);
  if (!v) return false;
  const cmp = (a: number[], b: number[]) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
  return cmp(v, parse(NEST_CHECKED_RANGE.from)!) >= 0 && cmp(v, parse(NEST_CHECKED_RANGE.below)!) < 0;
}

/** Reads the app's private fields; any that is missing or of an unexpected shape gives the reason to stay off. */
export function viewOf(app: INestApplication): NestView {
  const version = installedNestVersion();
  if (!inCheckedRange(version)) {
    return { ok: false, reason: `@nestjs/core ${version ?? '(unknown version)'} is outside the range the lane was checked against (>=${NEST_CHECKED_RANGE.from} <${NEST_CHECKED_RANGE.below})` };
  }
  const fields = app as unknown as { config?: unknown; enabledSecurityFeatures?: unknown; isInitialized?: unknown };
  const config = fields.config as ApplicationConfig | undefined;
  if (!config || typeof config !== 'object') return { ok: false, reason: 'cannot read the app\'s application config' };
  const unknownGetters = getterNames(config).filter((n) => !KNOWN_CONFIG_GETTERS.has(n));
  if (unknownGetters.length) return { ok: false, reason: `Nest has settings the lane was not checked against: ${unknownGetters.join(', ')}` };
  const missing = [...KNOWN_CONFIG_GETTERS].filter((n) => typeof (config as unknown as Record<string, unknown>)[n] !== 'function');
  if (missing.length) return { ok: false, reason: `cannot read the app's settings: ${missing.join(', ')}` };
  const features = fields.enabledSecurityFeatures;
  if (!(features instanceof Set)) return { ok: false, reason: 'cannot read the app\'s security features' };
  if (typeof fields.isInitialized !== 'boolean') return { ok: false, reason: 'cannot read whether the app is initialised' };
  return { ok: true, initialized: fields.isInitialized, config, securityFeatures: features as Set<string> };
}

/** Why the app's security features keep the lane off, or undefined. */
export function securityFeatureProblem(features: ReadonlySet<string>): string | undefined {
  if (features.has('enableCsrfProtection')) return 'CSRF protection is enabled';
  const other = [...features].filter((f) => !KNOWN_SECURITY_FEATURES.has(f));
  return other.length ? `security features the lane would skip: ${other.join(', ')}` : undefined;
}

/** Why the app's routing settings keep the lane off, or undefined. */
export function routingProblem(config: ApplicationConfig): string | undefined {
  if (config.getGlobalPrefix()) return 'a global prefix is set';
  if (config.getVersioning()) return 'versioning is enabled';
  if (config.getRouteResolutionStrategy() !== undefined) return 'a route resolution strategy is set';
  return undefined;
}

/** `@HttpCode`'s metadata key (a deep import), or undefined when it cannot be loaded. */
export function httpCodeMetadataKey(): string | undefined {
  return deepImport<string>('@nestjs/common/constants.js', 'HTTP_CODE_METADATA');
}

/** The security headers Nest resolves for `app.useSecurityHeaders(options)` (a deep import), or undefined. */
export function resolvedSecurityHeaders(options: object): { headers: ReadonlyArray<readonly [string, string]> } | undefined {
  const resolve = deepImport<(o: object) => { headers: ReadonlyArray<readonly [string, string]> }>(
    '@nestjs/core/security/security-headers.js', 'resolveSecurityHeaders',
  );
  if (typeof resolve !== 'function') return undefined;
  try {
    const out = resolve(options);
    return Array.isArray(out?.headers) ? out : undefined;
  } catch {
    return undefined;
  }
}

function deepImport<T>(id: string, name: string): T | undefined {
  try {
    return (require(id) as Record<string, T | undefined>)[name];
  } catch {
    return undefined;
  }
}

/** The `get…` methods of an ApplicationConfig (its class's prototype chain). */
function getterNames(config: object): string[] {
  const names = new Set<string>();
  for (let p = Object.getPrototypeOf(config); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const n of Object.getOwnPropertyNames(p)) if (/^get[A-Z]/.test(n)) names.add(n);
  }
  return [...names];
}
