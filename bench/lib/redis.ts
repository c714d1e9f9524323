import type Redis from 'ioredis';

/**
 * Every key under a prefix (SCAN, never KEYS). The store's keys start with `{<prefix>`
 * (hash tags: src/pool/store/redis-pool.scripts.ts); `<prefix>*` catches older layouts.
 */
export async function scanKeys(redis: Redis, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  const glob = prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
  for (const pattern of [`[{]${glob}*`, `${glob}*`]) {
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      keys.push(...batch);
      cursor = next;
    } while (cursor !== '0');
  }
  return keys;
}

/** Deletes every key under a prefix (a benchmark's throwaway pool). */
export async function deleteKeys(redis: Redis, prefix: string): Promise<void> {
  const keys = await scanKeys(redis, prefix);
  for (let i = 0; i < keys.length; i += 500) await redis.del(...keys.slice(i, i + 500));
}
