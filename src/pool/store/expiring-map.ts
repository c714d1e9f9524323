/** A map whose entries lapse at a time of their own (the memory store's claims, tombstones, leases). */
export class ExpiringMap<T> {
  private readonly entries = new Map<string, { value: T; until: number }>();

  constructor(private readonly now: () => number) {}

  /** The value, or undefined once it lapsed (a lapsed entry is dropped on sight). */
  get(key: string): T | undefined {
    const e = this.entries.get(key);
    if (e && e.until > this.now()) return e.value;
    if (e) this.entries.delete(key);
    return undefined;
  }

  /** Sets the value for `ttlMs` from now. */
  set(key: string, value: T, ttlMs: number): void {
    this.entries.set(key, { value, until: this.now() + ttlMs });
  }

  delete(key: string): void {
    this.entries.delete(key);
  }

  /** Drops every entry that lapsed before `nowMs`. */
  sweep(nowMs: number): void {
    for (const [k, e] of this.entries) if (e.until <= nowMs) this.entries.delete(k);
  }
}
