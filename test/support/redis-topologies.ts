import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { closedPort } from './fake-media-node';
import { sleep } from '../../src/common/sleep';
import { scanMatch } from './redis';

const run = promisify(execFile);

/** Polls `check` every `every` ms until it returns true (or throws after `ms`, naming `what`). */
export async function waitFor(what: string, check: () => Promise<boolean>, ms = 15_000, every = 100): Promise<void> {
  const t0 = Date.now();
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (e) {
      last = e;
    }
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? ` (${String(last)})` : ''}`);
    await sleep(every);
  }
}

/** One command on a short-lived connection to 127.0.0.1:port (no retries). */
export async function redisCmd(port: number, ...args: (string | number)[]): Promise<unknown> {
  const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, enableOfflineQueue: false, retryStrategy: () => null, connectTimeout: 1_000 });
  try {
    await r.connect();
    return await r.call(String(args[0]), ...args.slice(1).map(String));
  } finally {
    r.disconnect();
  }
}

/** `INFO <section>` as a map. */
export async function redisInfo(port: number, section: string): Promise<Record<string, string>> {
  const text = String(await redisCmd(port, 'INFO', section));
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/**
 * A redis-server (or sentinel) child process of the test's own: its own port, its own temp
 * directory (removed at stop), no persistence. Never 6379.
 */
export class RedisProc {
  private proc?: ChildProcess;
  private out = '';

  constructor(readonly name: string, readonly port: number, readonly dir: string, private readonly args: string[], private readonly conf?: string) {}

  /** Starts it and waits for its ready line. */
  async start(): Promise<this> {
    const argv = this.conf ? [this.writeConf(), ...this.args] : this.args;
    const proc = spawn('redis-server', argv, { cwd: this.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    const ready = /Ready to accept connections|Sentinel ID is/;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name} did not start: ${this.out.slice(-2000)}`)), 10_000);
      proc.stdout!.on('data', (d: Buffer) => {
        this.out = (this.out + d.toString()).slice(-20_000);
        if (ready.test(this.out)) {
          clearTimeout(timer);
          resolve();
        }
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited (${code}): ${this.out.slice(-2000)}`));
      });
    });
    proc.stderr!.resume();
    return this;
  }

  get running(): boolean {
    const p = this.proc;
    return !!p && p.exitCode === null && p.signalCode === null;
  }

  /** The last lines it printed (for failure messages). */
  get log(): string {
    return this.out;
  }

  /** SIGKILL, and waits for the exit. */
  async kill(): Promise<void> {
    const p = this.proc;
    if (!p || !this.running) return;
    await new Promise<void>((r) => {
      p.once('exit', () => r());
      p.kill('SIGKILL');
    });
  }

  private writeConf(): string {
    const file = join(this.dir, `${this.name}.conf`);
    writeFileSync(file, this.conf!);
    return file;
  }
}

/** Settings every test server gets: loopback, no persistence, fast diskless replication. */
function serverArgs(port: number, dir: string): string[] {
  return [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir,
    '--repl-diskless-sync', 'yes', '--repl-diskless-sync-delay', '0', '--protected-mode', 'no',
  ];
}

/** Stops every process and removes the temp directory. */
async function stopAll(procs: RedisProc[], dir: string): Promise<void> {
  await Promise.all(procs.map((p) => p.kill()));
  rmSync(dir, { recursive: true, force: true });
}

/**
 * Sentinel: 1 master, `replicas` replicas, `sentinels` sentinels (quorum 2), on free ports.
 * `downAfterMs` is Sentinel's down-after-milliseconds.
 */
export class SentinelTopology {
  readonly masterName = 'rtpmaster';
  readonly dir = mkdtempSync(join(tmpdir(), 'rtp-sentinel-'));
  servers: RedisProc[] = [];
  sentinels: RedisProc[] = [];

  constructor(private readonly opts: { replicas?: number; sentinels?: number; downAfterMs?: number; failoverTimeoutMs?: number } = {}) {}

  /** `REDIS_SENTINELS` value. */
  get sentinelList(): string {
    return this.sentinels.map((s) => `127.0.0.1:${s.port}`).join(',');
  }

  async start(): Promise<this> {
    const replicas = this.opts.replicas ?? 2;
    const nSentinels = this.opts.sentinels ?? 3;
    const masterPort = await closedPort();
    const master = new RedisProc('master', masterPort, this.dir, serverArgs(masterPort, this.dir));
    this.servers.push(await master.start());
    for (let i = 0; i < replicas; i++) {
      const port = await closedPort();
      const r = new RedisProc(`replica${i + 1}`, port, this.dir, [...serverArgs(port, this.dir), '--replicaof', '127.0.0.1', String(masterPort)]);
      this.servers.push(await r.start());
    }
    await waitFor('replicas online', async () => {
      const info = await redisInfo(masterPort, 'replication');
      return Number(info.connected_slaves) === replicas
        && Array.from({ length: replicas }, (_, i) => info[`slave${i}`] ?? '').every((s) => s.includes('state=online'));
    });
    for (let i = 0; i < nSentinels; i++) {
      const port = await closedPort();
      const conf = [
        `port ${port}`, 'bind 127.0.0.1', 'protected-mode no', `dir ${this.dir}`,
        `sentinel monitor ${this.masterName} 127.0.0.1 ${masterPort} 2`,
        `sentinel down-after-milliseconds ${this.masterName} ${this.opts.downAfterMs ?? 1_000}`,
        `sentinel failover-timeout ${this.masterName} ${this.opts.failoverTimeoutMs ?? 3_000}`,
        `sentinel parallel-syncs ${this.masterName} ${Math.max(1, replicas)}`,
        '',
      ].join('\n');
      const s = new RedisProc(`sentinel${i + 1}`, port, this.dir, ['--sentinel'], conf);
      this.sentinels.push(await s.start());
    }
    // Sentinels must know the replicas and each other, or a failover cannot start.
    await waitFor('sentinels to discover the replicas and each other', async () => {
      for (const s of this.sentinels) {
        const reps = (await redisCmd(s.port, 'SENTINEL', 'REPLICAS', this.masterName)) as unknown[];
        const peers = (await redisCmd(s.port, 'SENTINEL', 'SENTINELS', this.masterName)) as unknown[];
        if (reps.length < replicas || peers.length < nSentinels - 1) return false;
      }
      return true;
    }, 20_000, 200);
    return this;
  }

  /** Port of the server the sentinels currently name master. */
  async masterPort(): Promise<number> {
    for (const s of this.sentinels.filter((x) => x.running)) {
      try {
        const [, port] = (await redisCmd(s.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.masterName)) as string[];
        return Number(port);
      } catch {
        // try the next sentinel
      }
    }
    throw new Error('no sentinel answers');
  }

  server(port: number): RedisProc {
    const s = this.servers.find((x) => x.port === port);
    if (!s) throw new Error(`no server on ${port}`);
    return s;
  }

  async stop(): Promise<void> {
    await stopAll([...this.sentinels, ...this.servers], this.dir);
  }
}

/** Cluster: `masters` masters (each with `replicasPerMaster` replicas), slots spread by redis-cli. */
export class ClusterTopology {
  readonly dir = mkdtempSync(join(tmpdir(), 'rtp-cluster-'));
  nodes: RedisProc[] = [];

  constructor(private readonly opts: { masters?: number; replicasPerMaster?: number; nodeTimeoutMs?: number } = {}) {}

  /** `REDIS_CLUSTER_NODES` value (every node as a seed). */
  get nodeList(): string {
    return this.nodes.map((n) => `127.0.0.1:${n.port}`).join(',');
  }

  async start(): Promise<this> {
    const total = (this.opts.masters ?? 3) * (1 + (this.opts.replicasPerMaster ?? 0));
    for (let i = 0; i < total; i++) {
      const port = await closedPort();
      const busPort = await closedPort();
      const n = new RedisProc(`node${i + 1}`, port, this.dir, [
        ...serverArgs(port, this.dir), '--cluster-enabled', 'yes', '--cluster-port', String(busPort),
        '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', String(this.opts.nodeTimeoutMs ?? 2_000),
      ]);
      this.nodes.push(await n.start());
    }
    await run('redis-cli', [
      '--cluster', 'create', ...this.nodes.map((n) => `127.0.0.1:${n.port}`),
      '--cluster-replicas', String(this.opts.replicasPerMaster ?? 0), '--cluster-yes',
    ], { timeout: 30_000 });
    await waitFor('cluster_state:ok on every node', async () => {
      for (const n of this.nodes) {
        if ((await redisInfoCluster(n.port)).cluster_state !== 'ok') return false;
      }
      return true;
    });
    return this;
  }

  /** Ports of the masters. */
  async masterPorts(): Promise<number[]> {
    const out: number[] = [];
    for (const n of this.nodes) if ((await redisInfo(n.port, 'replication')).role === 'master') out.push(n.port);
    return out;
  }

  async stop(): Promise<void> {
    await stopAll(this.nodes, this.dir);
  }
}

async function redisInfoCluster(port: number): Promise<Record<string, string>> {
  const text = String(await redisCmd(port, 'CLUSTER', 'INFO'));
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

/** Every key on one server whose name matches `pattern` (SCAN). */
export async function scanKeysOn(port: number, pattern: string): Promise<string[]> {
  const r = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 0, retryStrategy: () => null });
  try {
    return await scanMatch(r, pattern);
  } finally {
    r.disconnect();
  }
}
