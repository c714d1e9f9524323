/** Runs `fn(0) … fn(count - 1)` with at most `concurrency` in flight; resolves to the results in index order. */
export async function runConcurrent<T>(count: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const results = new Array<T>(count);
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      results[i] = await fn(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return results;
}

/** Polls `check` every `everyMs` until it returns true or `timeoutMs` passes; resolves to the ms it took, or -1. */
export async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 10): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    if (await check()) return performance.now() - t0;
    if (performance.now() - t0 > timeoutMs) return -1;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
