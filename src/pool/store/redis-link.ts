import { Logger } from '@nestjs/common';
import type { ChainableCommander } from 'ioredis';
import { PoolError, StoreUnavailableException } from '../core/pool.errors';
import type { StoreDescription } from '../core/pool-store.interface';
import {
  createRedisClient, describeRedisTarget, isCluster, type RedisClient, type RedisConnectionOptions, redisTopology,
  type RedisTopology,
} from './redis-connection';
import { CALL_STATE_SCRIPTS } from './redis-call-state';
import { LIVE_SCRIPTS } from './redis-live.scripts';
import * as lua from './redis-pool.scripts';

/** The scripts, as ioredis custom commands (EVALSHA, EVAL on a connection's first use or after NOSCRIPT). */
const SCRIPTS = {
  rtpUpsertNode: { numberOfKeys: 4, lua: lua.UPSERT_NODE },
  rtpGetNode: { numberOfKeys: 1, lua: lua.GET_NODE },
  rtpListNodes: { numberOfKeys: 1, lua: lua.LIST_NODES },
  rtpLightest: { numberOfKeys: 2, lua: lua.LIGHTEST },
  rtpRemoveNode: { numberOfKeys: 5, lua: lua.REMOVE_NODE },
  rtpPruneNodes: { numberOfKeys: 2, lua: lua.PRUNE_NODES },
  rtpHsetIfExists: { numberOfKeys: 1, lua: lua.HSET_IF_EXISTS },
  rtpPutBindingCall: { numberOfKeys: 2, lua: lua.PUT_BINDING_CALL },
  rtpPutBindingRegistry: { numberOfKeys: 1, lua: lua.PUT_BINDING_REGISTRY },
  rtpUndoPutBinding: { numberOfKeys: 1, lua: lua.UNDO_PUT_BINDING },
  rtpMarkStarted: { numberOfKeys: 1, lua: lua.MARK_STARTED },
  rtpDeleteBindingCall: { numberOfKeys: 1, lua: lua.DELETE_BINDING_CALL },
  rtpDeleteBindingRegistry: { numberOfKeys: 1, lua: lua.DELETE_BINDING_REGISTRY },
  rtpRestoreBinding: { numberOfKeys: 1, lua: lua.RESTORE_BINDING },
  rtpSweepBindings: { numberOfKeys: 2, lua: lua.SWEEP_BINDINGS },
  ...CALL_STATE_SCRIPTS,
  ...LIVE_SCRIPTS,
} as const;
export type ScriptName = keyof typeof SCRIPTS;
export type Arg = string | number;
type ScriptFn = (...args: Arg[]) => Promise<unknown>;

/** Too few replicas acknowledged a write within the WAIT timeout. */
class WaitShortError extends Error {
  constructor(readonly acks: number, readonly wanted: number, ms: number) {
    super(`${acks} of ${wanted} replica(s) acknowledged within ${ms} ms`);
    this.name = 'WaitShortError';
  }
}

/**
 * The Redis store's connection(s) and their availability: the scripts defined on every
 * client, one outage logged once, every failure turned into a 503 "store unavailable",
 * and (with `waitReplicas`) the write-then-WAIT path on a connection of its own.
 */
export class RedisLink {
  /** The ioredis client (the store's own, or the one it was given). */
  readonly client: RedisClient;
  /** The connection that writes and then WAITs (only with `waitReplicas` > 0; always the store's own). */
  readonly ackClient?: RedisClient;
  readonly topology: RedisTopology;
  private readonly target: string;
  private readonly logger = new Logger('RedisPoolStore');
  private readonly owned: boolean;
  private readonly readyWaitMs: number;
  private readonly readyWaits = new Map<RedisClient, Promise<void>>();
  private down = false;
  private waitShort = false;
  private closed = false;

  constructor(
    conn: RedisConnectionOptions, given: RedisClient | undefined,
    readonly waitReplicas: number, readonly waitTimeoutMs: number,
  ) {
    this.readyWaitMs = conn.commandTimeoutMs!;
    this.owned = !given;
    this.client = given ?? createRedisClient(conn);
    this.topology = given ? (isCluster(given) ? 'cluster' : 'single') : redisTopology(conn);
    this.target = given ? `${this.topology} (given client)` : describeRedisTarget(conn);
    if (waitReplicas > 0) {
      // A connection of its own: a WAIT blocks its connection until the replicas answer,
      // and reads (getBinding, listNodes) must not queue behind it.
      const ackConn = { ...conn, commandTimeoutMs: conn.commandTimeoutMs! + waitTimeoutMs, connectionName: 'rtp-pool-ack' };
      this.ackClient = given ? (given as { duplicate(): RedisClient }).duplicate() : createRedisClient(ackConn);
    }
    for (const c of this.clients()) {
      for (const [name, def] of Object.entries(SCRIPTS)) c.defineCommand(name, def);
      // Without a listener ioredis prints every failed reconnect; say it once per outage instead.
      c.on('error', (e: Error) => this.markDown(e));
      c.on('ready', () => this.markUp());
    }
  }

  /** Waits (bounded) for the first connection. Never throws. */
  async init(): Promise<void> {
    const ms = Math.max(this.readyWaitMs, 2_000);
    await Promise.all(this.clients().map((c) => this.whenReady(c, ms).catch(() => undefined)));
  }

  /** Quits what this link created (a given client belongs to its owner). Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const mine = this.owned ? this.clients() : this.ackClient ? [this.ackClient] : [];
    await Promise.all(mine.map(quitRedis));
  }

  /** Topology, target (no credentials) and connection state, for readiness. */
  describe(): StoreDescription {
    const out: StoreDescription = {
      kind: 'redis', topology: this.topology, target: this.target,
      connection: this.client.status, connected: this.client.status === 'ready',
      waitReplicas: this.waitReplicas,
    };
    if (this.ackClient) out.ackConnection = this.ackClient.status;
    if (this.waitReplicas > 0) out.replicasAcknowledging = !this.waitShort;
    return out;
  }

  private clients(): RedisClient[] {
    return this.ackClient ? [this.client, this.ackClient] : [this.client];
  }

  /** Runs one script on the main client. */
  cmd(name: ScriptName, keys: string[], args: Arg[]): Promise<unknown> {
    return this.run(() => (this.client as unknown as Record<ScriptName, ScriptFn>)[name](...keys, ...args));
  }

  /**
   * Runs a write script a client's answer depends on. With `waitReplicas`, the script and
   * `WAIT n timeout` go in one pipeline on the ack connection: same connection (WAIT
   * counts that connection's writes) and, on a Cluster, the master of the keys' slot.
   * Too few acknowledgements: `undo` (best effort), then 503. `seen` sees the reply
   * before the WAIT's outcome is judged (so `undo` knows what to undo).
   */
  async acked(name: ScriptName, keys: string[], args: Arg[], undo: () => unknown, seen?: (reply: unknown) => void): Promise<unknown> {
    if (!this.ackClient) {
      const reply = await this.cmd(name, keys, args);
      seen?.(reply);
      return reply;
    }
    const ack = this.ackClient;
    return this.run(async () => {
      if (ack.status !== 'ready') await this.whenReady(ack, this.readyWaitMs);
      const p: ChainableCommander = ack.pipeline();
      (p as unknown as Record<ScriptName, ScriptFn>)[name](...keys, ...args);
      p.wait(this.waitReplicas, this.waitTimeoutMs);
      const res = await p.exec();
      const [w, a] = res ?? [[new Error('pipeline discarded'), null], [null, null]];
      if (w[0]) {
        // The write may have been applied before the connection failed: take it back if so.
        void Promise.resolve(undo()).catch(() => undefined);
        throw w[0];
      }
      seen?.(w[1]);
      const acks = a[0] ? -1 : Number(a[1]);
      if (acks < this.waitReplicas) {
        await undo();
        const e = a[0] ?? new WaitShortError(Math.max(0, acks), this.waitReplicas, this.waitTimeoutMs);
        if (!this.waitShort) this.logger.warn(`Redis WAIT: ${e.message}; writes answer 503 until replicas acknowledge`);
        this.waitShort = true;
        throw new StoreUnavailableException({ cause: e });
      }
      if (this.waitShort) this.logger.log('Redis WAIT: replicas acknowledge again');
      this.waitShort = false;
      return w[1];
    });
  }

  /** Runs one store operation; any Redis failure becomes a 503 "store unavailable". */
  async run<T>(op: () => Promise<T>): Promise<T> {
    try {
      if (this.client.status !== 'ready') await this.whenReady(this.client, this.readyWaitMs);
      const out = await op();
      if (this.down) this.markUp();
      return out;
    } catch (e) {
      if (e instanceof PoolError) throw e;
      // A reply error is Redis refusing a command (a bug here, OOM, …), not an outage: say
      // it every time. READONLY/MASTERDOWN/CLUSTERDOWN/TRYAGAIN are a failover in progress.
      const msg = (e as Error)?.message ?? '';
      if ((e as Error)?.name === 'ReplyError' && !/^(READONLY|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|LOADING)/.test(msg)) {
        this.logger.error(`Redis refused a command: ${msg}`);
      } else this.markDown(e);
      throw new StoreUnavailableException({ cause: e });
    }
  }

  /**
   * Resolves when the client is ready. A connection attempt in progress is awaited (at
   * most `ms`, shared by all waiters); a client that is between reconnection attempts
   * or closed fails at once.
   */
  whenReady(c: RedisClient, ms: number): Promise<void> {
    if (c.status === 'ready') return Promise.resolve();
    if (c.status === 'wait' && this.owned && !this.closed) c.connect().catch(() => undefined);
    if (!['wait', 'connecting', 'connect'].includes(c.status)) {
      return Promise.reject(new Error(`Redis connection is ${c.status}`));
    }
    let wait = this.readyWaits.get(c);
    if (!wait) {
      wait = new Promise<void>((resolve, reject) => {
        const done = (err?: Error) => {
          clearTimeout(timer);
          c.off('ready', onReady);
          c.off('close', onClose);
          this.readyWaits.delete(c);
          if (err) reject(err);
          else resolve();
        };
        const onReady = () => done();
        const onClose = () => done(new Error('Redis connection closed'));
        const timer = setTimeout(() => done(new Error(`Redis not ready after ${ms} ms`)), ms);
        c.once('ready', onReady);
        c.once('close', onClose);
      });
      this.readyWaits.set(c, wait);
    }
    return wait;
  }

  private markUp(): void {
    if (this.down) this.logger.log(`Redis store is reachable again (${this.target})`);
    this.down = false;
  }

  private markDown(e: unknown): void {
    if (this.down || this.closed) return;
    this.down = true;
    // ioredis messages name hosts and ports, never credentials.
    this.logger.warn(`Redis store unavailable (${this.target}): ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Quits a client: politely when connected, at once otherwise; resolves when it ended (≤ 2 s). */
export async function quitRedis(c: RedisClient): Promise<void> {
  if (c.status === 'end') return;
  // Between reconnection attempts there is no socket: disconnect() only cancels the next attempt, and no 'end' follows.
  if (c.status === 'reconnecting') return c.disconnect();
  const ended = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, 2_000);
    c.once('end', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  if (c.status === 'ready') await c.quit().catch(() => c.disconnect());
  else c.disconnect();
  // QUIT leaves the Sentinel failover detector's subscriptions open; disconnect() closes them.
  // Called before the socket closes: ioredis arms a 2 s destroy timer that only the socket's
  // close clears, so on a client already ended it held the process open for 2 s.
  if (!isCluster(c) && c.options.sentinels?.length && (c.status as string) !== 'end') c.disconnect();
  await ended;
}
