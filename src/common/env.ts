/**
 * Typed readers for environment variables. Each throws a {@link ConfigError} whose
 * message names the variable and what is wrong, so start-up fails with one clear line.
 */
export class ConfigError extends Error {
  constructor(readonly variable: string, reason: string) {
    super(`${variable}: ${reason}`);
    this.name = 'ConfigError';
  }
}

export type Env = Record<string, string | undefined>;

/** One variable a configuration loader reads, as `--help` lists it. */
export interface EnvVariable {
  name: string;
  /** What an unset variable means, as text; undefined when unset means "not used". */
  default?: string;
  /** The values it takes (`0..65535`, `true|false`, `memory|redis`), when the reader knows them. */
  accepts?: string;
}

/** The env objects of {@link describeEnv}: the readers below record each read there. */
const recorders = new WeakMap<object, Map<string, EnvVariable>>();

function note(env: Env, name: string, def?: string | number | boolean, accepts?: string): void {
  const seen = recorders.get(env);
  if (!seen) return;
  const prev = seen.get(name);
  if (prev && (prev.default !== undefined || prev.accepts !== undefined)) return;
  seen.set(name, { name, default: def === undefined ? undefined : String(def), accepts });
}

/**
 * Every variable `load` reads, in reading order, with the default it falls back to: the loader
 * runs once over an empty environment that records each read. The loader is the one place the
 * defaults are written, so a program's `--help` generated from this cannot drift from it.
 */
export function describeEnv(load: (env: Env) => unknown): EnvVariable[] {
  const seen = new Map<string, EnvVariable>();
  const env = new Proxy<Env>({}, {
    get(_target, name) {
      if (typeof name === 'string' && !seen.has(name)) seen.set(name, { name });
      return undefined;
    },
  });
  recorders.set(env, seen);
  load(env);
  return [...seen.values()];
}

function raw(env: Env, name: string): string | undefined {
  const v = env[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

export function str(env: Env, name: string, def?: string): string | undefined {
  note(env, name, def);
  return raw(env, name) ?? def;
}

export function int(env: Env, name: string, def: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  note(env, name, def, max === Number.MAX_SAFE_INTEGER ? `>= ${min}` : `${min}..${max}`);
  const v = raw(env, name);
  if (v === undefined) return def;
  if (!/^-?\d+$/.test(v)) throw new ConfigError(name, `must be an integer, got "${v}"`);
  const n = Number(v);
  if (n < min || n > max) throw new ConfigError(name, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

export function bool(env: Env, name: string, def: boolean): boolean {
  note(env, name, def, 'true|false');
  const v = raw(env, name)?.toLowerCase();
  if (v === undefined) return def;
  if (['1', 'true', 'yes', 'on'].includes(v)) return true;
  if (['0', 'false', 'no', 'off'].includes(v)) return false;
  throw new ConfigError(name, `must be true or false, got "${v}"`);
}

export function oneOf<T extends string>(env: Env, name: string, def: T, allowed: readonly T[]): T {
  note(env, name, def, allowed.join('|'));
  const v = raw(env, name);
  if (v === undefined) return def;
  if (!allowed.includes(v as T)) throw new ConfigError(name, `must be one of ${allowed.join(', ')}, got "${v}"`);
  return v as T;
}

/** Checks an http(s) URL without user-info, query or fragment (CONTRACT §1 control_url rules). */
export function httpUrlProblem(url: string): string | undefined {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return 'is not an absolute URL';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'must use http or https';
  if (u.username || u.password) return 'must not contain user-info';
  if (u.search || u.hash || url.includes('?') || url.includes('#')) return 'must not contain a query or fragment';
  return undefined;
}
