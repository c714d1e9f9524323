/**
 * The bound on one outgoing call, connect to last byte: one timer and a minimal abort
 * signal that undici's `request({ signal })` accepts (it takes an EventEmitter-like object:
 * `aborted`, `reason`, `once`/`on` and `removeListener` for its single 'abort' listener).
 * Cheaper than an AbortController per call, whose EventTarget allocates listener records
 * and an AbortSignal. An outer signal (e.g. shutdown) aborts it too.
 */
export class CallDeadline {
  aborted = false;
  reason: Error | undefined;
  private listener: (() => void) | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly outer: AbortSignal | undefined;
  private readonly onOuter: (() => void) | undefined;

  constructor(ms: number, outer?: AbortSignal) {
    this.timer = setTimeout(expire, ms, this);
    this.outer = outer;
    if (outer) {
      this.onOuter = () => this.abort();
      if (outer.aborted) this.abort();
      else outer.addEventListener('abort', this.onOuter, { once: true });
    }
  }

  /** undici's single listener (`once('abort', fn)` / `on('abort', fn)`). */
  once(_event: 'abort', fn: () => void): this {
    this.listener = fn;
    return this;
  }

  on(event: 'abort', fn: () => void): this {
    return this.once(event, fn);
  }

  removeListener(_event: 'abort', fn: () => void): this {
    if (this.listener === fn) this.listener = undefined;
    return this;
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = new Error('call deadline reached');
    this.reason.name = 'AbortError';
    const l = this.listener;
    this.listener = undefined;
    l?.();
  }

  /** Ends the bound: the call is over. */
  clear(): void {
    clearTimeout(this.timer);
    if (this.onOuter) this.outer!.removeEventListener('abort', this.onOuter);
  }
}

function expire(d: CallDeadline): void {
  d.abort();
}
