import { Injectable, Logger, OnModuleDestroy, OnModuleInit } from '@nestjs/common';
import { PoolHooks, type PoolHookMap } from '../core/pool.hooks';
import { InjectPoolStore, type PoolStore } from '../core/pool-store.interface';
import type { NodeDownReason } from '../core/event-log.interface';
import { EventFeed } from './event-feed.service';

/** How long a node stays "announced down" without news (a pruned node that never returns). */
const DOWN_MARK_TTL_MS = 24 * 3_600_000;

/**
 * Turns what the pool notices about nodes into `node_down` / `node_up` (CONTRACT §5):
 * - `health` false (a failed probe, an opened circuit), `prune`, `unregister` → `node_down`,
 *   only for a node with bound calls;
 * - `health` true (a probe or control call succeeded again), a registration of a new node
 *   → `node_up`, only for a node announced down.
 *
 * Once-only, however many instances notice: announcing a node down sets a shared mark
 * (`EventLog.once('down:<id>')`, a SET NX in Redis); only the instance that sets it emits
 * `node_down`, and only the one that clears it (`forget`, a DEL) emits `node_up`. One
 * down episode, one `node_down`, whichever reason was noticed first.
 */
@Injectable()
export class NodeWatch implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(NodeWatch.name);
  private readonly off: Array<() => void> = [];

  constructor(
    private readonly hooks: PoolHooks,
    private readonly feed: EventFeed,
    @InjectPoolStore() private readonly store: PoolStore,
  ) {}

  onModuleInit(): void {
    this.on('health', (e) => {
      if (!e.healthy) void this.down(e.nodeId, e.reason?.startsWith('circuit') ? 'circuit' : 'probe');
      else void this.up(e.nodeId);
    });
    this.on('prune', (e) => {
      for (const n of e.nodes ?? []) void this.down(n.nodeId, 'pruned', n.boundCalls);
    });
    this.on('unregister', (e) => void this.down(e.nodeId, 'deregistered', e.boundCalls));
    this.on('register', (e) => {
      if (e.created) void this.up(e.nodeId);
    });
  }

  onModuleDestroy(): void {
    for (const f of this.off.splice(0)) f();
  }

  /** Announces a node down unless it is already (by any instance); `boundCalls` when the node left the store. */
  async down(nodeId: string, reason: NodeDownReason, boundCalls?: number): Promise<void> {
    try {
      const bound = boundCalls ?? (await this.store.getNode(nodeId))?.boundCalls ?? 0;
      if (bound <= 0) return;
      if (!(await this.feed.once(`down:${nodeId}`, DOWN_MARK_TTL_MS))) return;
      await this.feed.publish('node_down', { node_id: nodeId, reason, bound_calls: bound });
    } catch (e) {
      this.logger.error(`node_down ${nodeId}: ${(e as Error).message}`);
    }
  }

  /** Announces a node up when it was announced down and is usable again. */
  async up(nodeId: string): Promise<void> {
    try {
      const n = await this.store.getNode(nodeId);
      if (!n?.healthy) return;
      if (await this.feed.forget(`down:${nodeId}`)) await this.feed.publish('node_up', { node_id: nodeId });
    } catch (e) {
      this.logger.error(`node_up ${nodeId}: ${(e as Error).message}`);
    }
  }

  private on<K extends 'health' | 'prune' | 'unregister' | 'register'>(name: K, fn: (...a: PoolHookMap[K]) => void): void {
    const listener = fn as (...a: unknown[]) => void;
    (this.hooks.on as (n: string, l: (...a: unknown[]) => void) => unknown)(name, listener);
    this.off.push(() => (this.hooks.off as (n: string, l: (...a: unknown[]) => void) => unknown)(name, listener));
  }
}
