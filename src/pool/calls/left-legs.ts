import { Inject, Injectable, Logger, type OnApplicationShutdown, type OnModuleInit } from '@nestjs/common';
import { randomToken } from '../../common/token';
import { PoolHooks } from '../core/pool.hooks';
import { POOL_OPTIONS, type ResolvedPoolOptions } from '../core/pool.module-definition';
import { type CallStore, InjectPoolStore } from '../core/pool-store.interface';
import { NodeLegs } from './node-legs';

/** A leg on a node that the pool may have left there: nothing may ever delete it otherwise. */
export interface LeftLeg {
  nodeId: string;
  controlUrl: string;
  callId: string;
}

/**
 * What {@link LeftLegs.deleteUnbound} did: `deleted` (the node had the leg), `absent` (it
 * answered 404), `bound` (the call is bound to that node now: its leg, left alone), `busy`
 * (a prepare or a migration of the call id is in flight: nothing was sent, its outcome decides).
 */
export type UnboundLegOutcome = 'deleted' | 'absent' | 'bound' | 'busy';

/** How a leg is retried. */
export interface RememberOptions {
  /** Milliseconds before the first delete. @default 0 */
  delayMs?: number;
  /**
   * Milliseconds during which a 404 does not end it: the node may still be working on the
   * prepare that makes the leg (a late answer after a timeout). @default 0
   */
  settleMs?: number;
}

interface Entry {
  leg: LeftLeg;
  attempts: number;
  /** Epoch ms before which a 404 means "not made yet" rather than "gone". */
  settleUntil: number;
  timer?: NodeJS.Timeout;
  running: boolean;
}

const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 30_000;
/** Most legs remembered at once (memory bound); beyond, the oldest is handed to reconciliation. */
const MAX_ENTRIES = 100_000;

/**
 * Legs the pool may have left on a node: the late answer of a prepare that timed out, a
 * delete that failed or whose outcome is unknown, the leg of a prepare a DELETE overtook,
 * a migrated-away leg whose node could not be reached. Each is deleted on its node
 * promptly, retried with backoff (1/4 s doubling to 30 s), and at once when its node
 * answers a probe again — also on nodes without `GET /v1/legs` (the Go node), which
 * reconciliation cannot see. A 204 or 404 ends it; so does the node leaving the pool.
 *
 * Each try goes through {@link deleteUnbound}: a leg whose call is now bound to that same
 * node is the call's leg and is left alone (and forgotten once its settle time is over), and
 * no DELETE is sent while a prepare of the call id is in flight.
 */
@Injectable()
export class LeftLegs implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(LeftLegs.name);
  private readonly entries = new Map<string, Entry>();
  private closed = false;

  constructor(
    @InjectPoolStore() private readonly store: CallStore,
    private readonly legs: NodeLegs,
    private readonly hooks: PoolHooks,
    @Inject(POOL_OPTIONS) private readonly options: ResolvedPoolOptions,
  ) {}

  onModuleInit(): void {
    this.hooks.on('health', (e) => {
      if (e.healthy) this.retryNode(e.nodeId);
    });
    // node_up comes from whichever instance noticed (the shared event log): retry here too.
    this.hooks.on('node_up', (e) => this.retryNode(e.data.node_id));
    this.hooks.on('prune', (e) => e.nodeIds.forEach((id) => this.forgetNode(id)));
    this.hooks.on('unregister', (e) => this.forgetNode(e.nodeId));
  }

  onApplicationShutdown(): void {
    this.closed = true;
    for (const e of this.entries.values()) clearTimeout(e.timer);
    this.entries.clear();
  }

  /** Deletes the leg on its node, retrying until the node answers 204/404 or leaves the pool. */
  remember(leg: { nodeId: string; controlUrl: string; callId: string }, opts: RememberOptions = {}): void {
    if (this.closed) return;
    const key = keyOf(leg.nodeId, leg.callId);
    const settleUntil = Date.now() + (opts.settleMs ?? 0);
    const prev = this.entries.get(key);
    if (prev) {
      prev.leg = { ...leg };
      prev.settleUntil = Math.max(prev.settleUntil, settleUntil);
      return;
    }
    if (this.entries.size >= MAX_ENTRIES) this.drop(this.entries.keys().next().value as string);
    const entry: Entry = { leg: { ...leg }, attempts: 0, settleUntil, running: false };
    this.entries.set(key, entry);
    this.schedule(key, entry, opts.delayMs ?? 0);
  }

  /** Legs waiting for a delete, of one node or all (a snapshot). */
  pending(nodeId?: string): LeftLeg[] {
    const out: LeftLeg[] = [];
    for (const e of this.entries.values()) if (nodeId === undefined || e.leg.nodeId === nodeId) out.push({ ...e.leg });
    return out;
  }

  /** How many legs wait for a delete. */
  get size(): number {
    return this.entries.size;
  }

  /** Tries every leg of a node now (its node answered again). */
  retryNode(nodeId: string): void {
    for (const [key, e] of this.entries) if (e.leg.nodeId === nodeId && !e.running) this.schedule(key, e, 0);
  }

  /** Forgets every leg of a node (it was pruned or deregistered: its legs went with it). */
  forgetNode(nodeId: string): void {
    for (const [key, e] of this.entries) if (e.leg.nodeId === nodeId) this.drop(key);
  }

  /**
   * Deletes a call's leg on a node unless the call is bound to that node, holding the call's
   * claim (as a first prepare does) while the DELETE is in flight. A DELETE by call id
   * removes whatever leg of that call id the node holds when it arrives; without the claim, a
   * prepare of the same call id could make its leg there between the binding read and the
   * DELETE's arrival, then bind it: a binding without a leg.
   * Under the claim no prepare of the call id places a leg anywhere (it waits for the claim),
   * and a claim held by a prepare in flight answers `busy`. A call bound to another node
   * cannot get a leg here from a prepare, but it can from a migration of the call: its
   * leftover leg is deleted under the call's migration claim (`busy` while a migration holds
   * it; a migrate that starts meanwhile answers 409, as with one running elsewhere). Throws when
   * the store or the node fails (nothing is left held: the claim is given up, or lapses).
   */
  async deleteUnbound(leg: LeftLeg): Promise<UnboundLegOutcome> {
    const token = randomToken();
    const ttlMs = this.options.controlTimeoutMs + 1_000;
    const r = await this.store.claim(leg.callId, ttlMs, token);
    if (!r.claimed) {
      if ('failure' in r || !r.bound) return 'busy';
      const bound = r.binding ?? (await this.store.getBinding(leg.callId));
      if (!bound) return 'busy'; // unbound since: look again later
      if (bound.nodeId === leg.nodeId) return 'bound';
      // Bound elsewhere: a migration of the call may be making its new leg on this node.
      if (!(await this.store.claimMigration(leg.callId, ttlMs))) return 'busy';
    }
    try {
      // Sent by URL only: a repair feeds no circuit. Its retries go to nodes that failed
      // already, and a DELETE answered by a node whose prepares hang would close the circuit
      // a prepare's timeout opened (only a call's own success may).
      const { url } = await this.legs.target(leg);
      return (await this.legs.delete({ url }, leg.callId)) ? 'deleted' : 'absent';
    } finally {
      if (r.claimed) await this.store.giveUpClaim(leg.callId, token).catch(() => undefined);
      else await this.store.releaseMigration(leg.callId).catch(() => undefined);
    }
  }

  private schedule(key: string, e: Entry, ms: number): void {
    clearTimeout(e.timer);
    e.timer = setTimeout(() => void this.attempt(key, e), ms);
    e.timer.unref();
  }

  private async attempt(key: string, e: Entry): Promise<void> {
    if (this.entries.get(key) !== e || e.running) return;
    e.running = true;
    e.attempts++;
    const { leg } = e;
    try {
      const outcome = await this.deleteUnbound(leg);
      // The call's own leg now. While a late answer may still come, look again: a migration
      // may move the call away and delete this leg before the late one is made (a re-INVITE's).
      if (outcome === 'bound') return Date.now() < e.settleUntil ? this.retryLater(key, e) : this.drop(key);
      if (outcome === 'busy' || (outcome === 'absent' && Date.now() < e.settleUntil)) return this.retryLater(key, e);
      this.drop(key);
      if (outcome === 'deleted') {
        this.logger.log(`deleted left leg ${JSON.stringify(leg.callId)} on ${leg.nodeId}`);
        this.hooks.emit('repair', { kind: 'left_leg_deleted', callId: leg.callId, nodeId: leg.nodeId });
      }
    } catch (err) {
      this.hooks.emit('repair', { kind: 'left_leg_retry', callId: leg.callId, nodeId: leg.nodeId });
      if (e.attempts === 1) this.logger.warn(`left leg ${JSON.stringify(leg.callId)} on ${leg.nodeId}: ${(err as Error).message}; retrying`);
      this.retryLater(key, e);
    } finally {
      e.running = false;
    }
  }

  private retryLater(key: string, e: Entry): void {
    if (this.entries.get(key) !== e) return;
    let ms = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.min(e.attempts - 1, 10));
    // Still settling: one more try when the settle time is over, when a 404 becomes final.
    const settling = e.settleUntil - Date.now();
    if (settling > 0) ms = Math.min(ms, Math.max(FIRST_RETRY_MS, settling));
    this.schedule(key, e, ms);
  }

  private drop(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    clearTimeout(e.timer);
    this.entries.delete(key);
  }
}

function keyOf(nodeId: string, callId: string): string {
  return `${nodeId}\u0000${callId}`;
}
