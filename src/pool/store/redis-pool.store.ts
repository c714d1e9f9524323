import { HttpException, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { Redis, type RedisOptions } from 'ioredis';
import { createHash } from 'node:crypto';
import { StoreUnavailableException } from '../pool.errors';
import type { Binding, HealthReport, NodeReport, NodeState } from '../pool.types';
import type { PoolStore, RemoveOutcome, UpsertOutcome } from './pool-store.interface';
import * as lua from './redis-pool.scripts';

/** Options of {@link RedisPoolStore}. */
export interface RedisPoolStoreOptions {
  /**
   * An ioredis client to use instead of creating one. The store never quits a client it
   * was given; configure it to fail fast yourself (`enableOfflineQueue: false`,
   * `maxRetriesPerRequest: 0`, a `commandTimeout`), or requests may wait on a dead Redis.
   */
  client?: Redis;
  /** Where the store's own client connects (ignored with `client`). @default 'redis://127.0.0.1:6379' */
  url?: string;
  /** Prepended to every key; instances that share a prefix share one pool. @default 'rtp-pool:' */
  prefix?: string;
  /**
   * Milliseconds a Redis command may take before the request fails with 503 "store
   * unavailable" (ignored with `client`). Keep it below the control timeout.
   * @default 1000
   */
  commandTimeoutMs?: number;
  /** Milliseconds between reconnection attempts at most (ignored with `client`). @default 1000 */
  maxReconnectDelayMs?: number;
  /** Clock in epoch ms (tests pass their own). @default Date.now */
  now?: () => number;
}

/** Defaults of {@link RedisPoolStoreOptions}, written once. */
export const DEFAULT_REDIS_STORE_OPTIONS = {
  url: 'redis://127.0.0.1:6379',
  prefix: 'rtp-pool:',
  commandTimeoutMs: 1_000,
  maxReconnectDelayMs: 1_000,
} as const;

/** A command timeout that leaves room inside a control timeout: half of it, 50 ms … 1 s. */
export function redisCommandTimeoutFor(controlTimeoutMs: number): number {
  return Math.max(50, Math.min(DEFAULT_REDIS_STORE_OPTIONS.commandTimeoutMs, Math.floor(controlTimeoutMs / 2)));
}

/** Bindings expired per sweep script call: keeps each script short. */
const SWEEP_BATCH = 500;

type Script = { name: string; lua: string; sha: string };
const script = (name: string, src: string): Script => ({ name, lua: src, sha: createHash('sha1').update(src).digest('hex') });
const S = {
  upsertNode: script('upsertNode', lua.UPSERT_NODE),
  getNode: script('getNode', lua.GET_NODE),
  listNodes: script('listNodes', lua.LIST_NODES),
  removeNode: script('removeNode', lua.REMOVE_NODE),
  pruneNodes: script('pruneNodes', lua.PRUNE_NODES),
  hsetIfExists: script('hsetIfExists', lua.HSET_IF_EXISTS),
  claimCall: script('claimCall', lua.CLAIM_CALL),
  putBinding: script('putBinding', lua.PUT_BINDING),
  markStarted: script('markStarted', lua.MARK_STARTED),
  deleteBinding: script('deleteBinding', lua.DELETE_BINDING),
  sweepBindings: script('sweepBindings', lua.SWEEP_BINDINGS),
};

/**
 * The shared store: several signaling instances on one Redis (same prefix) share nodes,
 * bindings, load counters and operator drains. Every read-then-write is one Lua script,
 * so it is atomic across instances; node expiry and binding TTLs live in Redis.
 *
 * When Redis cannot answer — down, restarting, too slow — every method rejects at once
 * (or after `commandTimeoutMs`) with {@link StoreUnavailableException} (HTTP 503
 * `{"error":"store unavailable"}`); the client reconnects by itself and the store serves
 * again as soon as Redis is back.
 */
export class RedisPoolStore implements PoolStore, OnModuleInit, OnModuleDestroy {
  /** The ioredis client (the store's own, or the one it was given). */
  readonly client: Redis;
  readonly prefix: string;
  private readonly logger = new Logger(RedisPoolStore.name);
  private readonly owned: boolean;
  private readonly now: () => number;
  private readonly readyWaitMs: number;
  private readyWait?: Promise<void>;
  private down = false;
  private closed = false;

  constructor(options: RedisPoolStoreOptions = {}) {
    const d = DEFAULT_REDIS_STORE_OPTIONS;
    this.prefix = options.prefix ?? d.prefix;
    this.now = options.now ?? Date.now;
    this.readyWaitMs = options.commandTimeoutMs ?? d.commandTimeoutMs;
    this.owned = !options.client;
    this.client = options.client ?? new Redis(options.url ?? d.url, RedisPoolStore.clientOptions(options));
    // Without a listener ioredis prints every failed reconnect; say it once per outage instead.
    this.client.on('error', (e: Error) => this.markDown(e));
    this.client.on('ready', () => this.markUp());
  }

  /** The fail-fast client settings the store uses for a client it creates. */
  static clientOptions(o: Pick<RedisPoolStoreOptions, 'commandTimeoutMs' | 'maxReconnectDelayMs'> = {}): RedisOptions {
    const d = DEFAULT_REDIS_STORE_OPTIONS;
    const timeout = o.commandTimeoutMs ?? d.commandTimeoutMs;
    const maxDelay = o.maxReconnectDelayMs ?? d.maxReconnectDelayMs;
    return {
      // Fail, never queue: a request must not wait for a Redis that is not there.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      commandTimeout: timeout,
      connectTimeout: Math.max(timeout, 1_000),
      // Reconnect forever, quickly: recovery must not wait for an operator.
      retryStrategy: (times) => Math.min(50 * times, maxDelay),
      connectionName: 'rtp-pool',
    };
  }

  /** Waits (bounded) for the first connection, so start-up work finds Redis ready. Never throws. */
  async onModuleInit(): Promise<void> {
    await this.whenReady(Math.max(this.readyWaitMs, 2_000)).catch(() => undefined);
  }

  /** Quits the client if the store created it (a given client belongs to its owner). */
  async onModuleDestroy(): Promise<void> {
    await this.close();
  }

  /** Same as onModuleDestroy, for use outside Nest. Idempotent. */
  async close(): Promise<void> {
    if (!this.owned || this.closed) return;
    this.closed = true;
    const c = this.client;
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
    await ended;
  }

  // ---- nodes ----------------------------------------------------------------------

  async upsertNode(report: NodeReport, maxNodes = Infinity): Promise<UpsertOutcome> {
    const max = Number.isFinite(maxNodes) ? Math.max(0, Math.floor(maxNodes)) : -1;
    const out = await this.eval(S.upsertNode, [this.k('n:', report.id), this.k('nodes'), this.k('seen'), this.k('seq')], [
      this.prefix, report.id, flag(report.static), max, report.lastSeen, ...encodeReport(report),
    ]);
    return out as UpsertOutcome;
  }

  async getNode(id: string): Promise<NodeState | undefined> {
    const row = await this.eval(S.getNode, [], [this.prefix, id, this.now()]);
    return row ? decodeNode(row as NodeRow) : undefined;
  }

  async listNodes(): Promise<NodeState[]> {
    const json = (await this.eval(S.listNodes, [this.k('nodes')], [this.prefix, this.now()])) as string;
    const parsed = JSON.parse(json) as NodeRow[] | Record<string, never>;
    const rows = Array.isArray(parsed) ? parsed : [];
    return rows.map(decodeNode);
  }

  async removeNode(id: string): Promise<RemoveOutcome> {
    const out = await this.eval(S.removeNode, [this.k('n:', id), this.k('nodes'), this.k('seen'), this.k('bound:', id)], [id]);
    return out as RemoveOutcome;
  }

  async pruneNodes(cutoffMs: number): Promise<NodeState[]> {
    const rows = (await this.eval(S.pruneNodes, [this.k('nodes'), this.k('seen')], [this.prefix, cutoffMs, this.now()])) as NodeRow[];
    return rows.map(decodeNode);
  }

  async setHealth(id: string, healthy: boolean, report?: HealthReport): Promise<void> {
    const args: (string | number)[] = ['healthy', flag(healthy)];
    if (report?.activeLegs !== undefined) args.push('activeLegs', report.activeLegs, 'pendingLegs', 0);
    if (report?.mediaIp !== undefined) args.push('mediaIp', report.mediaIp);
    if (report?.capacity !== undefined) args.push('capacity', JSON.stringify(report.capacity));
    if (report?.reportedDraining !== undefined) args.push('reportedDraining', flag(report.reportedDraining));
    await this.eval(S.hsetIfExists, [this.k('n:', id)], args);
  }

  async setAdminDrain(id: string, drained: boolean): Promise<boolean> {
    return (await this.eval(S.hsetIfExists, [this.k('n:', id)], ['adminDrained', flag(drained)])) === 1;
  }

  // ---- calls ----------------------------------------------------------------------

  async claimCall(callId: string, ttlMs: number): Promise<boolean> {
    const ttl = Math.max(1, Math.ceil(ttlMs));
    return (await this.eval(S.claimCall, [this.k('claim:', callId), this.k('b:', callId)], [ttl, this.now()])) === 1;
  }

  async releaseClaim(callId: string): Promise<void> {
    await this.run(() => this.client.del(this.k('claim:', callId)));
  }

  async isClaimed(callId: string): Promise<boolean> {
    return (await this.run(() => this.client.exists(this.k('claim:', callId)))) === 1;
  }

  async putBinding(binding: Binding, isNew: boolean): Promise<void> {
    const now = this.now();
    const px = Math.max(1, Math.ceil(binding.expiresAt - now));
    await this.eval(S.putBinding, [this.k('b:', binding.callId), this.k('claim:', binding.callId), this.k('exp')], [
      this.prefix, binding.callId, binding.nodeId, binding.expiresAt, px, flag(isNew), now, ...encodeBinding(binding),
    ]);
  }

  async getBinding(callId: string): Promise<Binding | undefined> {
    const h = await this.run(() => this.client.hgetall(this.k('b:', callId)));
    const b = h && Object.keys(h).length ? decodeBinding(h) : undefined;
    // Redis drops the key at expiresAt by its own clock; this instance's clock decides too.
    return b && b.expiresAt > this.now() ? b : undefined;
  }

  async markStarted(callId: string): Promise<Binding | undefined> {
    const flat = await this.eval(S.markStarted, [this.k('b:', callId)], [this.now()]);
    return flat ? decodeBinding(pairs(flat as string[])) : undefined;
  }

  async deleteBinding(callId: string): Promise<Binding | undefined> {
    const flat = await this.eval(S.deleteBinding, [this.k('b:', callId), this.k('exp')], [this.prefix, callId, this.now()]);
    return flat ? decodeBinding(pairs(flat as string[])) : undefined;
  }

  async sweepBindings(nowMs: number): Promise<number> {
    let total = 0;
    // Bounded: each batch removes what it returns, so at most ⌈expired / batch⌉ + 1 calls.
    for (let trim = true; ; trim = false) {
      const n = Number(await this.eval(S.sweepBindings, [this.k('exp'), this.k('nodes')], [this.prefix, nowMs, SWEEP_BATCH, flag(trim)]));
      total += n;
      if (n < SWEEP_BATCH) return total;
    }
  }

  // Placeholders until the Cluster key layout (branch redis) is merged: the per-node index
  // and the compare-and-set are built on it.
  async bindingsOfNode(): Promise<{ bindings: Binding[]; next?: string }> {
    throw new Error('bindingsOfNode: not yet implemented on the Redis store');
  }

  async swapBinding(): Promise<boolean> {
    throw new Error('swapBinding: not yet implemented on the Redis store');
  }

  async claimMigration(): Promise<boolean> {
    throw new Error('claimMigration: not yet implemented on the Redis store');
  }

  async releaseMigration(): Promise<void> {}

  async ping(): Promise<void> {
    await this.run(() => this.client.ping());
  }

  // ---- plumbing -------------------------------------------------------------------

  private k(kind: string, id = ''): string {
    return this.prefix + kind + id;
  }

  /** EVALSHA, loading the script with EVAL when Redis does not know it (first use, or after a restart). */
  private eval(s: Script, keys: string[], args: (string | number)[]): Promise<unknown> {
    return this.run(async () => {
      try {
        return await this.client.evalsha(s.sha, keys.length, ...keys, ...args);
      } catch (e) {
        if (!(e instanceof Error) || !e.message.startsWith('NOSCRIPT')) throw e;
        return this.client.eval(s.lua, keys.length, ...keys, ...args);
      }
    });
  }

  /** Runs one store operation; any Redis failure becomes a 503 "store unavailable". */
  private async run<T>(op: () => Promise<T>): Promise<T> {
    try {
      if (this.client.status !== 'ready') await this.whenReady(this.readyWaitMs);
      const out = await op();
      if (this.down) this.markUp();
      return out;
    } catch (e) {
      if (e instanceof HttpException) throw e;
      // A reply error is Redis refusing a command (a bug here, OOM, …), not an outage: say it every time.
      if ((e as Error)?.name === 'ReplyError') this.logger.error(`Redis refused a command: ${(e as Error).message}`);
      else this.markDown(e);
      throw new StoreUnavailableException({ cause: e });
    }
  }

  /**
   * Resolves when the client is ready. A connection attempt in progress is awaited (at
   * most `ms`, shared by all waiters); a client that is between reconnection attempts
   * or closed fails at once.
   */
  private whenReady(ms: number): Promise<void> {
    const c = this.client;
    if (c.status === 'ready') return Promise.resolve();
    if (c.status === 'wait' && this.owned && !this.closed) c.connect().catch(() => undefined);
    if (!['wait', 'connecting', 'connect'].includes(c.status)) {
      return Promise.reject(new Error(`Redis connection is ${c.status}`));
    }
    this.readyWait ??= new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        clearTimeout(timer);
        c.off('ready', onReady);
        c.off('close', onClose);
        this.readyWait = undefined;
        if (err) reject(err);
        else resolve();
      };
      const onReady = () => done();
      const onClose = () => done(new Error('Redis connection closed'));
      const timer = setTimeout(() => done(new Error(`Redis not ready after ${ms} ms`)), ms);
      c.once('ready', onReady);
      c.once('close', onClose);
    });
    return this.readyWait;
  }

  private markUp(): void {
    if (this.down) this.logger.log('Redis store is reachable again');
    this.down = false;
  }

  private markDown(e: unknown): void {
    if (this.down || this.closed) return;
    this.down = true;
    this.logger.warn(`Redis store unavailable: ${e instanceof Error ? e.message : String(e)}`);
  }
}

// ---- field codecs -------------------------------------------------------------------
// Hash fields are strings: numbers in decimal, booleans '1'/'0', nullable fields as JSON
// (so null and '' stay apart). The scripts read static/lastSeen/expiresAt/nodeId raw.

type NodeRow = [string[], number];

const flag = (b: boolean): string => (b ? '1' : '0');

function pairs(flat: string[]): Record<string, string> {
  const o: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) o[flat[i]] = flat[i + 1];
  return o;
}

function encodeReport(r: NodeReport): (string | number)[] {
  return [
    'id', r.id, 'controlUrl', r.controlUrl, 'mediaIp', r.mediaIp, 'activeLegs', r.activeLegs,
    'capacity', JSON.stringify(r.capacity), 'weight', r.weight, 'region', JSON.stringify(r.region),
    'reportedDraining', flag(r.reportedDraining), 'static', flag(r.static), 'lastSeen', r.lastSeen,
  ];
}

function decodeNode([flat, bound]: NodeRow): NodeState {
  const h = pairs(flat);
  return {
    id: h.id,
    controlUrl: h.controlUrl,
    mediaIp: h.mediaIp ?? '',
    activeLegs: Number(h.activeLegs),
    capacity: JSON.parse(h.capacity ?? 'null') as number | null,
    weight: Number(h.weight),
    region: JSON.parse(h.region ?? 'null') as string | null,
    reportedDraining: h.reportedDraining === '1',
    static: h.static === '1',
    lastSeen: Number(h.lastSeen),
    healthy: h.healthy !== '0',
    adminDrained: h.adminDrained === '1',
    drainDeadline: null,
    pendingLegs: Number(h.pendingLegs ?? 0),
    boundCalls: Number(bound),
    seq: Number(h.seq),
  };
}

function encodeBinding(b: Binding): (string | number)[] {
  return [
    'callId', b.callId, 'nodeId', b.nodeId, 'controlUrl', b.controlUrl, 'mediaIp', b.mediaIp,
    'mediaPort', b.mediaPort, 'codec', b.codec, 'started', flag(b.started), 'createdAt', b.createdAt,
    'expiresAt', b.expiresAt,
  ];
}

function decodeBinding(h: Record<string, string>): Binding {
  return {
    callId: h.callId,
    nodeId: h.nodeId,
    controlUrl: h.controlUrl,
    mediaIp: h.mediaIp ?? '',
    mediaPort: Number(h.mediaPort),
    codec: h.codec ?? '',
    started: h.started === '1',
    createdAt: Number(h.createdAt),
    expiresAt: Number(h.expiresAt),
  };
}
