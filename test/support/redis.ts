import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { Redis } from 'ioredis';
import { closedPort } from './fake-media-node';

/** The shared Redis the tests use (CI makes sure it answers). */
export const TEST_REDIS_URL = 'redis://127.0.0.1:6379';

/** A key prefix no other test (or session) uses. */
export function randomPrefix(tag = 't'): string {
  return `rtp-pool-test:${tag}:${randomBytes(6).toString('hex')}:`;
}

/**
 * The SCAN patterns of a store prefix: the store's keys start with `{<prefix>` (hash
 * tags, see redis-pool.scripts.ts); `<prefix>*` catches anything else a test wrote.
 * `[{]` because `{` is literal in Redis globs anyway, but reads better escaped.
 */
export function prefixPatterns(prefix: string): string[] {
  const glob = prefix.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
  return [`[{]${glob}*`, `${glob}*`];
}

/** Every key under `prefix` on one server (SCAN, never KEYS). */
export async function scanPrefix(r: Redis, prefix: string): Promise<string[]> {
  const out: string[] = [];
  for (const pattern of prefixPatterns(prefix)) out.push(...(await scanMatch(r, pattern)));
  return out;
}

/** Every key on one server whose name matches `pattern` (SCAN, never KEYS). */
export async function scanMatch(r: Redis, pattern: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await r.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    out.push(...keys);
  } while (cursor !== '0');
  return out;
}

/** Deletes every key under `prefix` (SCAN, never KEYS); returns how many. */
export async function deleteKeys(url: string, prefix: string): Promise<number> {
  const r = new Redis(url, { maxRetriesPerRequest: 1 });
  let n = 0;
  try {
    const keys = await scanPrefix(r, prefix);
    for (const k of keys) n += await r.del(k);
  } finally {
    r.disconnect();
  }
  return n;
}

/** Keys under `prefix`. */
export async function countKeys(url: string, prefix: string): Promise<number> {
  const r = new Redis(url, { maxRetriesPerRequest: 1 });
  try {
    return (await scanPrefix(r, prefix)).length;
  } finally {
    r.disconnect();
  }
}

/**
 * A throwaway redis-server child process on its own port (no persistence), which a test
 * may kill, freeze and restart on the same port.
 */
export class RedisChild {
  private proc?: ChildProcess;
  port = 0;

  /** @param extra more redis-server arguments (e.g. `--replicaof 127.0.0.1 <port>`). */
  constructor(private readonly extra: string[] = []) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    if (!this.port) this.port = await closedPort();
    // A replica loads a full sync from memory and any file goes to /tmp: nothing lands in the cwd.
    const proc = spawn('redis-server', [
      '--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
      '--repl-diskless-load', 'swapdb', '--dir', tmpdir(), '--dbfilename', `rtp-test-${this.port}.rdb`, ...this.extra,
    ], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc = proc;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`redis-server did not start: ${out}`)), 10_000);
      proc.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited (${code}): ${out}`));
      });
    });
    proc.stdout!.resume();
    proc.stderr!.resume();
    return this;
  }

  /** SIGKILL: the connection drops at once. */
  async kill(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise<void>((r) => {
      p.once('exit', () => r());
      p.kill('SIGKILL');
    });
    this.proc = undefined;
  }

  /** SIGSTOP / SIGCONT: Redis hangs (connections stay open, nothing answers). */
  freeze(): void {
    this.proc?.kill('SIGSTOP');
  }

  thaw(): void {
    this.proc?.kill('SIGCONT');
  }
}
