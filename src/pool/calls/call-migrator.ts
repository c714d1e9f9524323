import { type BeforeApplicationShutdown, Inject, Injectable, Logger } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import type { Clock } from '../../common/clock';
import { randomToken } from '../../common/token';
import { normalizeCallId } from '../../contract/call-id';
import type { MigrateCallResponse } from '../../contract/contract.types';
import { toPrepareAnswer } from '../../contract/mappers';
import type { ControlCallError } from '../../node-client/control-call.error';
import { EventFeed } from '../events/event-feed.service';
import { CLOCK } from '../core/pool.constants';
import { CallNotFoundException, MigrationConflictException, NoOtherNodeException } from '../core/pool.errors';
import { POOL_OPTIONS, type ResolvedPoolOptions } from '../core/pool.module-definition';
import type { Binding, NodeState } from '../core/pool.types';
import { CandidateSelector } from '../selection/candidate-selector';
import { type CallStore, InjectPoolStore, type NodeStore } from '../core/pool-store.interface';
import { bindingFromAnswer, claimTtlMs, walkFailure } from './call-outcomes';
import { CallPlacer } from './call-placer';
import { LeftLegs } from './left-legs';
import { NodeLegs } from './node-legs';

/** Options of one migrate. */
export interface MigrateOptions {
  /** Move the call to this node only (else: any eligible node but its current one). */
  nodeId?: string;
  /** Preferred region for the new node. Absent or null: none. */
  region?: string | null;
}

/** A migrate of one call on this instance: its request, its answer, and when its claim is released. */
interface MigrateRun {
  /** The request (offer and options): an identical one shares this run. */
  key: string;
  answer: Promise<MigrateCallResponse>;
  /** Settles once the run's node DELETE is answered and its migration claim released. */
  done: Promise<void>;
}

/**
 * Moves a bound call to another node (CONTRACT §5): a new leg with the caller's offer on a
 * node other than the current one (or on `nodeId`), under the usual selection and
 * failover ({@link CallPlacer.walk}); then the binding is swapped with a compare-and-set on
 * the old node id; then the old node gets a best-effort delete, and a leg that could not be
 * deleted goes to {@link LeftLegs}, as does the new leg when the swap fails and its node
 * cannot take it back. The binding is `started: false` afterwards (the caller re-INVITEs,
 * then sends start on ACK).
 *
 * The migration claim (in the store) is held until that last DELETE is answered, not only
 * until the swap: a DELETE goes by call id and removes whatever leg of the call its node
 * holds when it acts on it, so a migration back to the old node that placed its leg there
 * first would lose it to the late DELETE. The answer does not wait for it.
 *
 * On this instance, a migrate of a call whose migration is still running (until its claim
 * is released) shares that run when it asks the same (same offer, same options), and runs
 * after it otherwise; across instances the claim lets one through and the others get 409.
 */
@Injectable()
export class CallMigrator implements BeforeApplicationShutdown {
  private readonly logger = new Logger(CallMigrator.name);
  private readonly runs = new Map<string, MigrateRun>();

  constructor(
    @Inject(POOL_OPTIONS) private readonly options: ResolvedPoolOptions,
    @InjectPoolStore() private readonly store: NodeStore & CallStore,
    private readonly selector: CandidateSelector,
    private readonly placer: CallPlacer,
    private readonly legs: NodeLegs,
    private readonly feed: EventFeed,
    private readonly leftLegs: LeftLegs,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  /** Migrates a call; see the class comment. 404 unbound, 409 migrating elsewhere, 422/502 as prepare, 503 no other node. */
  migrate(rawCallId: string, offerSdp: string, opts: MigrateOptions = {}): Promise<MigrateCallResponse> {
    const callId = normalizeCallId(rawCallId);
    const key = JSON.stringify([offerSdp, opts.nodeId ?? null, opts.region ?? null]);
    const prev = this.runs.get(callId);
    if (prev?.key === key) return prev.answer;
    let finished!: () => void;
    const done = new Promise<void>((resolve) => { finished = resolve; });
    const answer = (prev?.done ?? Promise.resolve()).then(() => this.migrateOnce(callId, offerSdp, opts, finished));
    const run: MigrateRun = { key, answer, done };
    this.runs.set(callId, run);
    void done.then(() => {
      if (this.runs.get(callId) === run) this.runs.delete(callId);
    });
    return answer;
  }

  /** Lets running migrations release their claims (each bounded by its node calls) before the store closes. */
  async beforeApplicationShutdown(): Promise<void> {
    const pending = [...this.runs.values()].map((r) => r.done);
    if (pending.length === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(pending), new Promise((r) => { timer = setTimeout(r, this.claimTtlMs); })]);
    clearTimeout(timer);
  }

  /** The migration claim lives as long as the walk may take, plus the last node DELETE. */
  private get claimTtlMs(): number {
    return claimTtlMs(this.options) + this.options.controlTimeoutMs;
  }

  /** One migration; `finished` is called once its claim is released (or was never taken). */
  private async migrateOnce(callId: string, offerSdp: string, opts: MigrateOptions, finished: () => void): Promise<MigrateCallResponse> {
    let claimed = false;
    // The node DELETE that ends the migration, sent while the claim is held.
    let last: Promise<void> = Promise.resolve();
    try {
      const bound = await this.store.getBinding(callId);
      if (!bound) throw new CallNotFoundException();
      if (opts.nodeId === bound.nodeId) throw new NoOtherNodeException();
      if (!(await this.store.claimMigration(callId, this.claimTtlMs))) throw new MigrationConflictException();
      claimed = true;
      const { node, binding } = await this.place(bound, offerSdp, opts);
      if (!(await this.store.swapBinding(callId, bound.nodeId, binding))) {
        // The call was deleted, or re-bound, while the new leg was made: give the leg back,
        // unless the call is now bound to that very node (the leg is then the binding's).
        const now = await this.store.getBinding(callId);
        if (now?.nodeId !== node.nodeId) last = this.giveBack(node, callId);
        if (!now) throw new CallNotFoundException();
        throw new MigrationConflictException('the call changed while it was being migrated');
      }
      void this.feed.publish('call_migrated', { call_id: callId, from_node_id: bound.nodeId, to_node_id: node.nodeId });
      this.logger.log(`call ${JSON.stringify(callId)} migrated ${bound.nodeId} -> ${node.nodeId}`);
      last = this.releaseOldLeg(bound);
      return { ...toPrepareAnswer(binding), previous_node_id: bound.nodeId };
    } finally {
      void last
        .then(() => (claimed ? this.store.releaseMigration(callId) : undefined))
        .catch(() => undefined)
        .finally(finished);
    }
  }

  /** A leg on another node, by the placer's failover walk; resolves to the node and the binding to write. */
  private async place(bound: Binding, offerSdp: string, opts: MigrateOptions): Promise<{ node: Readonly<NodeState>; binding: Binding }> {
    const started = performance.now();
    const callId = bound.callId;
    const nodes = (await this.store.listNodes()).filter((n) => (opts.nodeId === undefined ? n.nodeId !== bound.nodeId : n.nodeId === opts.nodeId));
    const list = this.selector.select(nodes, callId, { region: opts.region }, this.options.maxAttempts);
    const walk = await this.placer.walk(list, { callId, offerSdp, started, what: 'migrate' });
    if (!walk.ok) throw walkFailure(walk, () => new NoOtherNodeException());
    const { node, answer } = walk;
    const version = randomToken();
    return { node, binding: bindingFromAnswer({ callId, node, answer, now: this.clock.now(), createdAt: bound.createdAt, version }, this.options) };
  }

  /**
   * Deletes the new leg of a migration that could not swap the binding; a leg the node did not
   * confirm deleting goes to {@link LeftLegs} (it checks the binding again, under the call's claims).
   */
  private async giveBack(node: Readonly<NodeState>, callId: string): Promise<void> {
    try {
      await this.legs.delete({ node, url: node.controlUrl }, callId);
    } catch {
      this.leftLegs.remember({ nodeId: node.nodeId, controlUrl: node.controlUrl, callId });
    }
  }

  /** Best-effort delete of the migrated-away leg; an unreachable node's leg is remembered. */
  private async releaseOldLeg(old: Binding): Promise<void> {
    const target = await this.legs.target(old).catch(() => ({ node: undefined, url: old.controlUrl }));
    try {
      await this.legs.delete(target, old.callId);
    } catch (e) {
      const err = e as ControlCallError;
      // A refusal (4xx but 404, which is "gone") will not change: only an unreachable node's leg is kept.
      if (target.node && err.kind !== 'client') this.leftLegs.remember({ nodeId: old.nodeId, controlUrl: target.url, callId: old.callId });
    }
  }
}
