import type { OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import type { Binding, HealthReport, NodeReport, NodeState } from '../core/pool.types';
import type {
  BindExpectation, BindOutcome, CallHold, ClaimFailure, ClaimResult, DeleteCallResult, PoolStore, RemoveOutcome, StoreDescription, UpsertOutcome,
} from '../core/pool-store.interface';
import * as calls from './redis-call-state';
import type { RedisClient, RedisConnectionOptions } from './redis-connection';
import { RedisLink } from './redis-link';
import { RedisKeys } from './redis-keys';
import { RedisLiveCalls } from './redis-live';
import { RedisNodes } from './redis-nodes';
import { decodeBinding, encodeBinding, flag, pairs } from './redis-pool.codec';
import { DEFAULT_REDIS_STORE_OPTIONS, type RedisPoolStoreOptions } from './redis-pool.options';

export { DEFAULT_REDIS_STORE_OPTIONS, redisCommandTimeoutFor, type RedisPoolStoreOptions } from './redis-pool.options';

const SWEEP_BATCH = 500;

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
  /** The connection(s), availability and WAIT path. */
  private readonly link: RedisLink;
  private readonly live: RedisLiveCalls;
  readonly prefix: string;
  private readonly keys: RedisKeys;
  private readonly nodes: RedisNodes;
  private readonly now: () => number;

  constructor(options: RedisPoolStoreOptions = {}) {
    const defaults = DEFAULT_REDIS_STORE_OPTIONS;
    this.prefix = options.prefix ?? defaults.prefix;
    this.keys = new RedisKeys(this.prefix);
    this.now = options.now ?? Date.now;
    const connection: RedisConnectionOptions = {
      commandTimeoutMs: options.commandTimeoutMs ?? defaults.commandTimeoutMs,
      maxReconnectDelayMs: options.maxReconnectDelayMs ?? defaults.maxReconnectDelayMs,
      ...(options.connection ?? { url: options.url ?? defaults.url }),
    };
    this.link = new RedisLink(
      connection, options.client,
      Math.max(0, Math.floor(options.waitReplicas ?? defaults.waitReplicas)),
      Math.max(1, Math.floor(options.waitTimeoutMs ?? defaults.waitTimeoutMs)),
    );
    this.nodes = new RedisNodes(this.link, this.keys, this.now);
    this.live = new RedisLiveCalls(this.link, this.keys, this.now, (id) => this.getBinding(id));
  }

  /** The ioredis client (the store's own, or the one it was given). */
  get client(): RedisClient {
    return this.link.client;
  }

  /** Waits (bounded) for the first connection, so start-up work finds Redis ready. Never throws. */
  async onModuleInit(): Promise<void> {
    await this.link.init();
  }

  /** Quits the client if the store created it (a given client belongs to its owner). */
  async onModuleDestroy(): Promise<void> {
    await this.close();
  }

  /** Same as onModuleDestroy, for use outside Nest. Idempotent. */
  async close(): Promise<void> {
    await this.link.close();
  }

  /** Topology, target (no credentials) and connection state, for readiness. */
  describe(): StoreDescription {
    return this.link.describe();
  }

  // ---- nodes (redis-nodes.ts) -----------------------------------------------------

  async upsertNode(report: NodeReport, maxNodes = Infinity): Promise<UpsertOutcome> {
    return this.nodes.upsert(report, maxNodes);
  }

  async getNode(id: string): Promise<NodeState | undefined> {
    return this.nodes.get(id);
  }

  async listNodes(): Promise<NodeState[]> {
    return this.nodes.list();
  }

  async lightestNodes(count: number): Promise<{ nodes: NodeState[]; complete: boolean }> {
    return this.nodes.lightest(count);
  }

  async removeNode(id: string): Promise<RemoveOutcome> {
    return this.nodes.remove(id);
  }

  async pruneNodes(cutoffMs: number): Promise<NodeState[]> {
    return this.nodes.prune(cutoffMs);
  }

  async setHealth(id: string, healthy: boolean, report?: HealthReport): Promise<void> {
    await this.nodes.setHealth(id, healthy, report);
  }

  async setAdminDrain(id: string, drained: boolean, deadlineMs: number | null = null): Promise<boolean> {
    return this.nodes.setAdminDrain(id, drained, deadlineMs);
  }

  // ---- live calls (CONTRACT §5; redis-live.ts) --------------------------------------

  readonly bindingsOfNode: PoolStore['bindingsOfNode'] = (nodeId, limit, cursor) => this.live.bindingsOfNode(nodeId, limit, cursor);
  readonly swapBinding: PoolStore['swapBinding'] = (callId, expected, next) => this.live.swapBinding(callId, expected, next);
  readonly claimMigration: PoolStore['claimMigration'] = (callId, ttlMs) => this.live.claimMigration(callId, ttlMs);
  readonly releaseMigration: PoolStore['releaseMigration'] = (callId) => this.live.releaseMigration(callId);

  // ---- calls ----------------------------------------------------------------------

  /**
   * Two steps: the binding in the call's slot (acknowledged by `waitReplicas` replicas
   * when set), then the load hints in the registry's slot. A first binding whose step
   * fails is undone (best effort) and the caller gets 503, so it gives the leg back.
   */
  async putBinding(binding: Binding, isNew: boolean): Promise<void> {
    const now = this.now();
    const px = Math.max(1, Math.ceil(binding.expiresAt - now));
    const b = this.keys.call(binding.callId, 'b');
    const undo = () => (isNew ? this.link.cmd('rtpUndoPutBinding', [b], [binding.nodeId, binding.expiresAt]).catch(() => undefined) : undefined);
    const [prevNode, prevExp, prevLive] = (await this.link.acked('rtpPutBindingCall', [b, this.keys.call(binding.callId, 'claim')], [
      px, now, ...encodeBinding(binding),
    ], undo)) as [string, string, number];
    try {
      await this.link.cmd('rtpPutBindingRegistry', [this.keys.registry('exp')], [
        this.keys.registryTag, binding.callId, binding.nodeId, binding.expiresAt, flag(isNew), prevNode, prevExp, prevLive,
      ]);
    } catch (e) {
      await undo();
      throw e;
    }
  }

  async getBinding(callId: string): Promise<Binding | undefined> {
    const h = await this.link.run(() => this.link.client.hgetall(this.keys.call(callId, 'b')));
    const b = h && Object.keys(h).length ? decodeBinding(h) : undefined;
    // Redis drops the key at expiresAt by its own clock; this instance's clock decides too.
    return b && b.expiresAt > this.now() ? b : undefined;
  }

  async markStarted(callId: string, expect?: { nodeId: string; version?: string }): Promise<Binding | undefined> {
    const args = [this.now(), expect?.nodeId ?? '', expect?.version ?? ''];
    const flat = await this.link.cmd('rtpMarkStarted', [this.keys.call(callId, 'b')], args);
    return flat ? decodeBinding(pairs(flat as string[])) : undefined;
  }

  /**
   * Two steps, as putBinding: the binding goes (acknowledged when `waitReplicas` is set:
   * if not, it is put back and the caller gets 503, so a retried BYE finds it), then the
   * load hints.
   */
  async deleteBinding(callId: string): Promise<Binding | undefined> {
    const b = this.keys.call(callId, 'b');
    let removed: Binding | undefined;
    const restore = async () => {
      if (!removed) return;
      const px = Math.max(1, Math.ceil(removed.expiresAt - this.now()));
      await this.link.cmd('rtpRestoreBinding', [b], [px, ...encodeBinding(removed)]).catch(() => undefined);
    };
    const out = (await this.link.acked('rtpDeleteBindingCall', [b], [this.now()], restore, (reply) => {
      const r = reply as [number, string[]] | null;
      if (r && r[0] === 1) removed = decodeBinding(pairs(r[1]));
    })) as [number, string[]] | null;
    if (!out) return undefined;
    const [live, flat] = out;
    const h = pairs(flat);
    // Load hints only: a failure here is not the client's business (the binding is gone).
    await this.link.cmd('rtpDeleteBindingRegistry', [this.keys.registry('exp')], [this.keys.registryTag, callId, h.nodeId, h.expiresAt, live]).catch(() => undefined);
    return live === 1 ? decodeBinding(h) : undefined;
  }

  async sweepBindings(nowMs: number): Promise<number> {
    let total = 0;
    // Bounded: each batch removes what it returns, so at most ⌈expired / batch⌉ + 1 calls.
    for (let trim = true; ; trim = false) {
      const n = Number(await this.link.cmd('rtpSweepBindings', [this.keys.registry('exp'), this.keys.registry('nodes')], [this.keys.registryTag, nowMs, SWEEP_BATCH, flag(trim)]));
      total += n;
      if (n < SWEEP_BATCH) return total;
    }
  }

  // ---- no leg left behind (CONTRACT §7; scripts in redis-call-state.ts) ------------
  async claim(callId: string, ttlMs: number, token: string, waitingFor?: string): Promise<ClaimResult> {
    const keys = [this.keys.call(callId, 'claim'), this.keys.call(callId, 'b'), this.keys.call(callId, 'f')];
    return calls.decodeClaim((await this.link.cmd('rtpClaim', keys, [Math.max(1, Math.ceil(ttlMs)), this.now(), token, waitingFor ?? ''])) as calls.ClaimReply, decodeBinding);
  }

  async giveUpClaim(callId: string, token: string, failure?: ClaimFailure, failureTtlMs = 5_000): Promise<void> {
    await this.link.cmd('rtpGiveUpClaim', [this.keys.call(callId, 'claim'), this.keys.call(callId, 'f')], [token, calls.encodeFailure(token, failure), Math.max(1, Math.ceil(failureTtlMs))]);
  }

  /** As putBinding (two steps, acknowledged), the first step conditional (CONTRACT §7). */
  async bindCall(binding: Binding, expect: BindExpectation): Promise<BindOutcome> {
    const now = this.now();
    const isNew = 'claim' in expect;
    const b = this.keys.call(binding.callId, 'b');
    const undo = () => (isNew ? this.link.cmd('rtpUndoPutBinding', [b], [binding.nodeId, binding.expiresAt]).catch(() => undefined) : undefined);
    const px = Math.max(1, Math.ceil(binding.expiresAt - now));
    const reply = (await this.link.acked('rtpBindCall', [b, this.keys.call(binding.callId, 'claim'), this.keys.call(binding.callId, 't')], [
      ...calls.bindArgs(expect), px, now, ...encodeBinding(binding),
    ], undo)) as [string, string, string, number];
    if (calls.decodeBindOutcome(reply) !== 'bound') return calls.decodeBindOutcome(reply);
    try {
      await this.link.cmd('rtpPutBindingRegistry', [this.keys.registry('exp')], [
        this.keys.registryTag, binding.callId, binding.nodeId, binding.expiresAt, flag(isNew), reply[1], reply[2], reply[3],
      ]);
    } catch (e) {
      await undo();
      throw e;
    }
    return 'bound';
  }

  async deleteCall(callId: string, tombstoneTtlMs: number, hold?: CallHold): Promise<DeleteCallResult> {
    const keys = [this.keys.call(callId, 'b'), this.keys.call(callId, 'claim'), this.keys.call(callId, 't')];
    const args = [this.now(), Math.max(1, Math.ceil(tombstoneTtlMs)), hold?.token ?? '', Math.max(1, Math.ceil(hold?.ttlMs ?? 1))];
    const r = (await this.link.cmd('rtpDeleteCall', keys, args)) as calls.DeleteCallReply;
    if (r[1]) await this.dropHints(callId, r[0], pairs(r[1]));
    return calls.decodeDeleteCall(callId, r, decodeBinding);
  }

  async unbindIf(callId: string, match: { nodeId: string; createdAt: number; version?: string }): Promise<boolean> {
    const args = [this.now(), match.nodeId, String(match.createdAt), match.version ?? ''];
    const r = (await this.link.cmd('rtpUnbindIf', [this.keys.call(callId, 'b')], args)) as [number, string[]] | null;
    if (r) await this.dropHints(callId, r[0], pairs(r[1]));
    return !!r;
  }

  async acquireLease(name: string, holder: string, ttlMs: number): Promise<boolean> {
    return (await this.link.cmd('rtpAcquireLease', [this.keys.registry('lease:', name)], [holder, Math.max(1, Math.ceil(ttlMs))])) === 1;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await this.link.cmd('rtpReleaseLease', [this.keys.registry('lease:', name)], [holder]);
  }
  /** The registry step of a removed binding (load hints only: a failure is not the caller's). */
  private async dropHints(callId: string, live: number, h: Record<string, string>): Promise<void> {
    await this.link.cmd('rtpDeleteBindingRegistry', [this.keys.registry('exp')], [this.keys.registryTag, callId, h.nodeId, h.expiresAt, live]).catch(() => undefined);
  }

  async ping(): Promise<void> {
    // On a Cluster, PING goes to one node: ask for the registry's slot (the one every request needs).
    await this.link.run(() => this.link.client.exists(this.keys.registry('nodes')));
  }
}
