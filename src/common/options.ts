/**
 * `given` with every field of `defaults` filled in where `given` leaves it undefined (or
 * where `accept` refuses the given value). Fields without a default pass through as given.
 * Arrays in the defaults are copied, so a caller never shares (or mutates) the default.
 */
export function withDefaults<O extends object, D extends Partial<Record<keyof O, unknown>>>(
  defaults: D,
  given: O,
  accept: { [K in keyof D]?: (v: NonNullable<O[K & keyof O]>) => boolean } = {},
): O & { [K in keyof D]-?: K extends keyof O ? Exclude<O[K], undefined> : D[K] } {
  const out: Record<string, unknown> = { ...(given as Record<string, unknown>) };
  for (const key of Object.keys(defaults) as (keyof D & string)[]) {
    const v = (given as Record<string, unknown>)[key];
    const ok = v !== undefined && v !== null && (accept[key]?.(v as never) ?? true);
    const d = defaults[key];
    out[key] = ok ? v : Array.isArray(d) ? [...d] : d;
  }
  return out as never;
}
