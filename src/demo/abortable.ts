/** Thrown by {@link abortable}'s `check` once the demo's signal has aborted. */
export class Aborted extends Error {}

/**
 * The two steps a demo takes between its scenes: `check` throws {@link Aborted} once `signal`
 * aborted; `pause` waits `ms`, or less when the signal aborts meanwhile.
 */
export function abortable(signal?: AbortSignal): { check: () => void; pause: (ms: number) => Promise<void> } {
  const check = () => {
    if (signal?.aborted) throw new Aborted('interrupted');
  };
  const pause = (ms: number) => new Promise<void>((resolve) => {
    // Aborted before the pause began: an abort event will not come again.
    if (signal?.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      signal?.removeEventListener('abort', done);
      clearTimeout(t);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
  return { check, pause };
}

/** The whole number after `--<name>` on the command line, or undefined. */
export function numberFlag(name: string): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

/** Aborts on SIGINT or SIGTERM, so a demo stops what it started; a second Ctrl-C exits at once. */
export function interruptSignal(): AbortSignal {
  const abort = new AbortController();
  process.once('SIGINT', () => {
    abort.abort();
    process.once('SIGINT', () => process.exit(130));
  });
  process.once('SIGTERM', () => abort.abort());
  return abort.signal;
}
