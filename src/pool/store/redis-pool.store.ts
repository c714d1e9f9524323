import { HttpException, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { ChainableCommander } from 'ioredis';
import { StoreUnavailableException } from '../pool.errors';
import type { Binding, HealthReport, NodeReport, NodeState } from '../pool.types';
import type { PoolStore, RemoveOutcome, StoreDescription, UpsertOutcome } from './pool-store.interface';
import {
  createRedisClient, DEFAULT_REDIS_CONNECTION, describeRedisTarget, isCluster, type RedisClient, type RedisConnectionOptions,
  redisTopology, type RedisTopology,
} from './redis-connection';
import { InvalidCursorException } from '../../contract/cursor';
import * as live from './redis-live.scripts';
import * as lua from './redis-pool.scripts';

/** Options of {@link RedisPoolStore}. */
export interface RedisPoolStoreOptions {
  /**
   * An ioredis client (`Redis` or `Cluster`) to use instead of creating one. The store
   * never quits a client it was given; configure it to fail fast yourself
   * (`enableOfflineQueue: false`, `maxRetriesPerRequest: 0`, a `commandTimeout`), or
   * requests may wait on a dead Redis.
   */
  client?: RedisClient;
  /**
   * Where the store's own client connects (ignored with `client`): one server, Sentinel or
   * Cluster. Its `commandTimeoutMs`/`maxReconnectDelayMs` win over the ones below.
   */
  connection?: RedisConnectionOptions;
  /** Shorthand for `connection: { url }` (ignored with `client` or `connection`). @default 'redis://127.0.0.1:6379' */
  url?: string;
  /**
   * Names every key; instances that share a prefix share one pool. The store puts it in
   * hash tags: `{<prefix>}…` for the registry, `{<prefix>call:<id>}…` per call. A prefix
   * without `{` or `}` keeps calls spread over a cluster's masters.
   * @default 'rtp-pool:'
   */
  prefix?: string;
  /**
   * Milliseconds a Redis command may take before the request fails with 503 "store
   * unavailable" (ignored with `client`). Keep it below the control timeout.
   * @default 1000
   */
  commandTimeoutMs?: number;
  /** Milliseconds between reconnection attempts at most (ignored with `client`). @default 1000 */
  maxReconnectDelayMs?: number;
  /**
   * Replicas that must acknowledge a write a client is answered for (binding written on a
   * prepare, binding removed on a delete) before the answer: Redis `WAIT n`. Too few
   * acknowledgements → the write is undone and the request gets 503. 0 = no WAIT.
   * @default 0
   */
  waitReplicas?: number;
  /** The WAIT's timeout in milliseconds. @default 500 */
  waitTimeoutMs?: number;
  /** Clock in epoch ms (tests pass their own). @default Date.now */
  now?: () => number;
}

/** Defaults of {@link RedisPoolStoreOptions}, written once. */
export const DEFAULT_REDIS_STORE_OPTIONS = {
  url: DEFAULT_REDIS_CONNECTION.url,
  prefix: 'rtp-pool:',
  commandTimeoutMs: DEFAULT_REDIS_CONNECTION.commandTimeoutMs,
  maxReconnectDelayMs: DEFAULT_REDIS_CONNECTION.maxReconnectDelayMs,
  waitReplicas: 0,
  waitTimeoutMs: 500,
} as const;

/** A command timeout that leaves room inside a control timeout: half of it, 50 ms … 1 s. */
export function redisCommandTimeoutFor(controlTimeoutMs: number): number {
  return Math.max(50, Math.min(DEFAULT_REDIS_STORE_OPTIONS.commandTimeoutMs, Math.floor(controlTimeoutMs / 2)));
}

/** Bindings expired per sweep script call: keeps each script short. */
const SWEEP_BATCH = 500;

/** The scripts, as ioredis custom commands (EVALSHA, EVAL on a connection's first use or after NOSCRIPT). */
const SCRIPTS = {
  rtpUpsertNode: { numberOfKeys: 4, lua: lua.UPSERT_NODE },
  rtpGetNode: { numberOfKeys: 1, lua: lua.GET_NODE },
  rtpListNodes: { numberOfKeys: 1, lua: lua.LIST_NODES },
  rtpRemoveNode: { numberOfKeys: 4, lua: lua.REMOVE_NODE },
  rtpPruneNodes: { numberOfKeys: 2, lua: lua.PRUNE_NODES },
  rtpHsetIfExists: { numberOfKeys: 1, lua: lua.HSET_IF_EXISTS },
  rtpClaimCall: { numberOfKeys: 2, lua: lua.CLAIM_CALL },
  rtpPutBindingCall: { numberOfKeys: 2, lua: lua.PUT_BINDING_CALL },
  rtpPutBindingRegistry: { numberOfKeys: 1, lua: lua.PUT_BINDING_REGISTRY },
  rtpUndoPutBinding: { numberOfKeys: 1, lua: lua.UNDO_PUT_BINDING },
  rtpMarkStarted: { numberOfKeys: 1, lua: lua.MARK_STARTED },
  rtpDeleteBindingCall: { numberOfKeys: 1, lua: lua.DELETE_BINDING_CALL },
  rtpDeleteBindingRegistry: { numberOfKeys: 1, lua: lua.DELETE_BINDING_REGISTRY },
  rtpRestoreBinding: { numberOfKeys: 1, lua: lua.RESTORE_BINDING },
  rtpSweepBindings: { numberOfKeys: 2, lua: lua.SWEEP_BINDINGS },
  rtpIndexPage: { numberOfKeys: 1, lua: live.INDEX_PAGE },
  rtpSwapBindingCall: { numberOfKeys: 1, lua: live.SWAP_BINDING_CALL },
  rtpSwapBindingRegistry: { numberOfKeys: 1, lua: live.SWAP_BINDING_REGISTRY },
} as const;
type ScriptName = keyof typeof SCRIPTS;
type Arg = string | number;
type ScriptFn = (...args: Arg[]) => Promise<unknown>;

/** Too few replicas acknowledged a write within the WAIT timeout. */
class WaitShortError extends Error {
  constructor(readonly acks: number, readonly wanted: number, ms: number) {
    super(`${acks} of ${wanted} replica(s) acknowledged within ${ms} ms`);
    this.name = 'WaitShortError';
  }
}

/**
 * The shared store: several signaling instances on one Redis (same prefix) share nodes,
 * bindings, load counters and operator drains. Every read-then-write is a Lua script on
 * the keys of one hash slot, so it is atomic across instances and runs unchanged on one
 * server, behind Sentinel, or on a Cluster; node expiry and binding TTLs live in Redis.
 *
 * When Redis cannot answer — down, restarting, failing over, too slow, or (with
 * `waitReplicas`) short of replicas — every method rejects at once (or after
 * `commandTimeoutMs`) with {@link StoreUnavailableException} (HTTP 503
 * `{"error":"store unavailable"}`); the client reconnects by itself (to the new master
 * after a failover) and the store serves again as soon as Redis is back.
 */
export class RedisPoolStore implements PoolStore, OnModuleInit, OnModuleDestroy {
  /** The ioredis client (the store's own, or the one it was given). */
  readonly client: RedisClient;
  /** The connection that writes and then WAITs (only with `waitReplicas` > 0; always the store's own). */
  readonly ackClient?: RedisClient;
  readonly prefix: string;
  readonly topology: RedisTopology;
  readonly waitReplicas: number;
  readonly waitTimeoutMs: number;
  private readonly target: string;
  /** The registry's hash tag, `{prefix}`: every registry key starts with it. */
  private readonly reg: string;
  private readonly logger = new Logger(RedisPoolStore.name);
  private readonly owned: boolean;
  private readonly now: () => number;
  private readonly readyWaitMs: number;
  private readonly readyWaits = new Map<RedisClient, Promise<void>>();
  private down = false;
  private waitShort = false;
  private closed = false;

  constructor(options: RedisPoolStoreOptions = {}) {
    const d = DEFAULT_REDIS_STORE_OPTIONS;
    this.prefix = options.prefix ?? d.prefix;
    this.reg = `{${this.prefix}}`;
    this.now = options.now ?? Date.now;
    this.waitReplicas = Math.max(0, Math.floor(options.waitReplicas ?? d.waitReplicas));
    this.waitTimeoutMs = Math.max(1, Math.floor(options.waitTimeoutMs ?? d.waitTimeoutMs));
    const conn: RedisConnectionOptions = {
      commandTimeoutMs: options.commandTimeoutMs ?? d.commandTimeoutMs,
      maxReconnectDelayMs: options.maxReconnectDelayMs ?? d.maxReconnectDelayMs,
      ...(options.connection ?? { url: options.url ?? d.url }),
    };
    this.readyWaitMs = conn.commandTimeoutMs!;
    this.owned = !options.client;
    this.client = options.client ?? createRedisClient(conn);
    this.topology = options.client ? (isCluster(options.client) ? 'cluster' : 'single') : redisTopology(conn);
    this.target = options.client ? `${this.topology} (given client)` : describeRedisTarget(conn);
    if (this.waitReplicas > 0) {
      // A connection of its own: a WAIT blocks its connection until the replicas answer,
      // and reads (getBinding, listNodes) must not queue behind it.
      const ackConn = { ...conn, commandTimeoutMs: conn.commandTimeoutMs! + this.waitTimeoutMs, connectionName: 'rtp-pool-ack' };
      this.ackClient = options.client ? (this.client as { duplicate(): RedisClient }).duplicate() : createRedisClient(ackConn);
    }
    for (const c of this.clients()) {
      for (const [name, def] of Object.entries(SCRIPTS)) c.defineCommand(name, def);
      // Without a listener ioredis prints every failed reconnect; say it once per outage instead.
      c.on('error', (e: Error) => this.markDown(e));
      c.on('ready', () => this.markUp());
    }
  }

  /** Waits (bounded) for the first connection, so start-up work finds Redis ready. Never throws. */
  async onModuleInit(): Promise<void> {
    const ms = Math.max(this.readyWaitMs, 2_000);
    await Promise.all(this.clients().map((c) => this.whenReady(c, ms).catch(() => undefined)));
  }

  /** Quits the client if the store created it (a given client belongs to its owner). */
  async onModuleDestroy(): Promise<void> {
    await this.close();
  }

  /** Same as onModuleDestroy, for use outside Nest. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const mine = this.owned ? this.clients() : this.ackClient ? [this.ackClient] : [];
    await Promise.all(mine.map(quit));
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

  // ---- nodes ----------------------------------------------------------------------

  async upsertNode(report: NodeReport, maxNodes = Infinity): Promise<UpsertOutcome> {
    const max = Number.isFinite(maxNodes) ? Math.max(0, Math.floor(maxNodes)) : -1;
    const out = await this.cmd('rtpUpsertNode', [this.rk('n:', report.id), this.rk('nodes'), this.rk('seen'), this.rk('seq')], [
      this.reg, report.id, flag(report.static), max, report.lastSeen, ...encodeReport(report),
    ]);
    return out as UpsertOutcome;
  }

  async getNode(id: string): Promise<NodeState | undefined> {
    const row = await this.cmd('rtpGetNode', [this.rk('n:', id)], [this.reg, id, this.now()]);
    return row ? decodeNode(row as NodeRow) : undefined;
  }

  async listNodes(): Promise<NodeState[]> {
    const json = (await this.cmd('rtpListNodes', [this.rk('nodes')], [this.reg, this.now()])) as string;
    const parsed = JSON.parse(json) as NodeRow[] | Record<string, never>;
    const rows = Array.isArray(parsed) ? parsed : [];
    return rows.map(decodeNode);
  }

  async removeNode(id: string): Promise<RemoveOutcome> {
    const out = await this.cmd('rtpRemoveNode', [this.rk('n:', id), this.rk('nodes'), this.rk('seen'), this.rk('bound:', id)], [id]);
    return out as RemoveOutcome;
  }

  async pruneNodes(cutoffMs: number): Promise<NodeState[]> {
    const rows = (await this.cmd('rtpPruneNodes', [this.rk('nodes'), this.rk('seen')], [this.reg, cutoffMs, this.now()])) as NodeRow[];
    return rows.map(decodeNode);
  }

  async setHealth(id: string, healthy: boolean, report?: HealthReport): Promise<void> {
    const args: Arg[] = ['healthy', flag(healthy)];
    if (report?.activeLegs !== undefined) args.push('activeLegs', report.activeLegs, 'pendingLegs', 0);
    if (report?.mediaIp !== undefined) args.push('mediaIp', report.mediaIp);
    if (report?.capacity !== undefined) args.push('capacity', JSON.stringify(report.capacity));
    if (report?.reportedDraining !== undefined) args.push('reportedDraining', flag(report.reportedDraining));
    await this.cmd('rtpHsetIfExists', [this.rk('n:', id)], args);
  }

  async setAdminDrain(id: string, drained: boolean, deadlineMs: number | null = null): Promise<boolean> {
    const deadline = drained && deadlineMs !== null ? String(deadlineMs) : '';
    return (await this.cmd('rtpHsetIfExists', [this.rk('n:', id)], ['adminDrained', flag(drained), 'drainDeadline', deadline])) === 1;
  }

  // ---- calls ----------------------------------------------------------------------

  async claimCall(callId: string, ttlMs: number): Promise<boolean> {
    const ttl = Math.max(1, Math.ceil(ttlMs));
    return (await this.cmd('rtpClaimCall', [this.ck(callId, 'claim'), this.ck(callId, 'b')], [ttl, this.now()])) === 1;
  }

  async releaseClaim(callId: string): Promise<void> {
    await this.run(() => this.client.del(this.ck(callId, 'claim')));
  }

  async isClaimed(callId: string): Promise<boolean> {
    return (await this.run(() => this.client.exists(this.ck(callId, 'claim')))) === 1;
  }

  /**
   * Two steps: the binding in the call's slot (acknowledged by `waitReplicas` replicas
   * when set), then the load hints in the registry's slot. A first binding whose step
   * fails is undone (best effort) and the caller gets 503, so it gives the leg back.
   */
  async putBinding(binding: Binding, isNew: boolean): Promise<void> {
    const now = this.now();
    const px = Math.max(1, Math.ceil(binding.expiresAt - now));
    const b = this.ck(binding.callId, 'b');
    const undo = () => (isNew ? this.cmd('rtpUndoPutBinding', [b], [binding.nodeId, binding.expiresAt]).catch(() => undefined) : undefined);
    const [prevNode, prevExp, prevLive] = (await this.acked('rtpPutBindingCall', [b, this.ck(binding.callId, 'claim')], [
      px, now, ...encodeBinding(binding),
    ], undo)) as [string, string, number];
    try {
      await this.cmd('rtpPutBindingRegistry', [this.rk('exp')], [
        this.reg, binding.callId, binding.nodeId, binding.expiresAt, flag(isNew), prevNode, prevExp, prevLive,
      ]);
    } catch (e) {
      await undo();
      throw e;
    }
  }

  async getBinding(callId: string): Promise<Binding | undefined> {
    const h = await this.run(() => this.client.hgetall(this.ck(callId, 'b')));
    const b = h && Object.keys(h).length ? decodeBinding(h) : undefined;
    // Redis drops the key at expiresAt by its own clock; this instance's clock decides too.
    return b && b.expiresAt > this.now() ? b : undefined;
  }

  async markStarted(callId: string): Promise<Binding | undefined> {
    const flat = await this.cmd('rtpMarkStarted', [this.ck(callId, 'b')], [this.now()]);
    return flat ? decodeBinding(pairs(flat as string[])) : undefined;
  }

  /**
   * Two steps, as putBinding: the binding goes (acknowledged when `waitReplicas` is set:
   * if not, it is put back and the caller gets 503, so a retried BYE finds it), then the
   * load hints.
   */
  async deleteBinding(callId: string): Promise<Binding | undefined> {
    const b = this.ck(callId, 'b');
    let removed: Binding | undefined;
    const restore = async () => {
      if (!removed) return;
      const px = Math.max(1, Math.ceil(removed.expiresAt - this.now()));
      await this.cmd('rtpRestoreBinding', [b], [px, ...encodeBinding(removed)]).catch(() => undefined);
    };
    const out = (await this.acked('rtpDeleteBindingCall', [b], [this.now()], restore, (reply) => {
      const r = reply as [number, string[]] | null;
      if (r && r[0] === 1) removed = decodeBinding(pairs(r[1]));
    })) as [number, string[]] | null;
    if (!out) return undefined;
    const [live, flat] = out;
    const h = pairs(flat);
    // Load hints only: a failure here is not the client's business (the binding is gone).
    await this.cmd('rtpDeleteBindingRegistry', [this.rk('exp')], [this.reg, callId, h.nodeId, h.expiresAt, live]).catch(() => undefined);
    return live === 1 ? decodeBinding(h) : undefined;
  }

  async sweepBindings(nowMs: number): Promise<number> {
    let total = 0;
    // Bounded: each batch removes what it returns, so at most ⌈expired / batch⌉ + 1 calls.
    for (let trim = true; ; trim = false) {
      const n = Number(await this.cmd('rtpSweepBindings', [this.rk('exp'), this.rk('nodes')], [this.reg, nowMs, SWEEP_BATCH, flag(trim)]));
      total += n;
      if (n < SWEEP_BATCH) return total;
    }
  }

  /**
   * A page of the registry's per-node index (`bound:<nodeId>`, or `exp` for every call),
   * ordered by (expiresAt, call id); the cursor is `<expiresAt>:<callId>` (see
   * redis-live.scripts.ts). Each entry's binding is then read from its own slot; an entry
   * whose binding is gone (a registry step not yet run) is skipped.
   */
  async bindingsOfNode(nodeId: string | undefined, limit: number, cursor?: string): Promise<{ bindings: Binding[]; next?: string }> {
    let cs = '';
    let cm = '';
    if (cursor !== undefined) {
      const m = /^(\d{1,16}):([\s\S]+)$/.exec(cursor);
      if (!m) throw new InvalidCursorException();
      [cs, cm] = [m[1], m[2]];
    }
    const key = nodeId === undefined ? this.rk('exp') : this.rk('bound:', nodeId);
    const flat = (await this.cmd('rtpIndexPage', [key], [this.now(), limit, cs, cm])) as string[];
    const entries: Array<[string, string]> = [];
    for (let i = 0; i + 1 < flat.length; i += 2) entries.push([flat[i], flat[i + 1]]);
    const page = entries.slice(0, limit);
    const found = await Promise.all(page.map(([id]) => this.getBinding(id)));
    const bindings = found.filter((b): b is Binding => b !== undefined && (nodeId === undefined || b.nodeId === nodeId));
    const last = page[page.length - 1];
    return entries.length > limit && last ? { bindings, next: `${last[1]}:${last[0]}` } : { bindings };
  }

  /**
   * Two steps, as putBinding: the compare-and-set in the call's slot (one key: the
   * binding), acknowledged when `waitReplicas` is set (if not, swapped back and 503), then
   * the load hints and index in the registry's slot.
   */
  async swapBinding(callId: string, expectedNodeId: string, next: Binding): Promise<boolean> {
    const b = this.ck(callId, 'b');
    const now = this.now();
    const px = Math.max(1, Math.ceil(next.expiresAt - now));
    // With WAIT, a swap the replicas did not acknowledge is swapped back: keep what it replaces.
    const old = this.ackClient ? await this.getBinding(callId) : undefined;
    const undo = async () => {
      if (!old) return;
      const back = Math.max(1, Math.ceil(old.expiresAt - this.now()));
      await this.cmd('rtpSwapBindingCall', [b], [next.nodeId, back, this.now(), ...encodeBinding(old)]).catch(() => undefined);
    };
    const out = (await this.acked('rtpSwapBindingCall', [b], [expectedNodeId, px, now, ...encodeBinding(next)], undo)) as string[] | null;
    if (!out) return false;
    await this.cmd('rtpSwapBindingRegistry', [this.rk('exp')], [
      this.reg, callId, expectedNodeId, out[0], next.nodeId, next.expiresAt,
    ]).catch(() => undefined);
    return true;
  }

  async claimMigration(callId: string, ttlMs: number): Promise<boolean> {
    const ttl = Math.max(1, Math.ceil(ttlMs));
    return (await this.run(() => this.client.set(this.ck(callId, 'migrate'), '1', 'PX', ttl, 'NX'))) === 'OK';
  }

  async releaseMigration(callId: string): Promise<void> {
    await this.run(() => this.client.del(this.ck(callId, 'migrate')));
  }

  async ping(): Promise<void> {
    // On a Cluster, PING goes to one node: ask for the registry's slot (the one every request needs).
    await this.run(() => this.client.exists(this.rk('nodes')));
  }

  // ---- plumbing -------------------------------------------------------------------

  private clients(): RedisClient[] {
    return this.ackClient ? [this.client, this.ackClient] : [this.client];
  }

  /** A registry key: `{prefix}<kind><id>` (one hash slot for the whole registry). */
  private rk(kind: string, id = ''): string {
    return this.reg + kind + id;
  }

  /** A call key: `{prefix}call:<id>}<kind>`, tagged by the call id (calls spread over a cluster). */
  private ck(callId: string, kind: string): string {
    return `{${this.prefix}call:${callId}}${kind}`;
  }

  /** Runs one script on the main client. */
  private cmd(name: ScriptName, keys: string[], args: Arg[]): Promise<unknown> {
    return this.run(() => (this.client as unknown as Record<ScriptName, ScriptFn>)[name](...keys, ...args));
  }

  /**
   * Runs a write script a client's answer depends on. With `waitReplicas`, the script and
   * `WAIT n timeout` go in one pipeline on the ack connection: same connection (WAIT
   * counts that connection's writes) and, on a Cluster, the master of the keys' slot.
   * Too few acknowledgements: `undo` (best effort), then 503. `seen` sees the reply
   * before the WAIT's outcome is judged (so `undo` knows what to undo).
   */
  private async acked(name: ScriptName, keys: string[], args: Arg[], undo: () => unknown, seen?: (reply: unknown) => void): Promise<unknown> {
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
  private async run<T>(op: () => Promise<T>): Promise<T> {
    try {
      if (this.client.status !== 'ready') await this.whenReady(this.client, this.readyWaitMs);
      const out = await op();
      if (this.down) this.markUp();
      return out;
    } catch (e) {
      if (e instanceof HttpException) throw e;
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
  private whenReady(c: RedisClient, ms: number): Promise<void> {
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
async function quit(c: RedisClient): Promise<void> {
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
  // QUIT leaves the Sentinel failover detector's subscriptions open; disconnect() closes them.
  if (!isCluster(c)) c.disconnect();
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
    drainDeadline: h.drainDeadline ? Number(h.drainDeadline) : null,
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
