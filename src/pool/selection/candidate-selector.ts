import { Injectable } from '@nestjs/common';
import { CircuitBreaker } from '../health/circuit-breaker';
import { type Candidate, candidateOf, effectiveLoad, isDraining, type NodeState } from '../core/pool.types';
import { InjectPoolStore, type NodeStore } from '../core/pool-store.interface';
import { byLoadThenId, LeastLoadedStrategy } from './least-loaded.strategy';
import { InjectSelectionStrategy, type SelectionStrategy } from '../core/selection-strategy.interface';
import { topK } from './top-k';

/** Options of one prepare. */
export interface PrepareOptions {
  /** Preferred region: its nodes are tried first, the others after. Absent or null: none. */
  region?: string | null;
}

/** A selection: the candidates in the order to try them; `panic` when every one has an open circuit. */
export interface Selection {
  candidates: Candidate[];
  panic: boolean;
}

/**
 * Which nodes a new call may go to, in which order: eligibility (healthy, not draining,
 * below capacity), effective load (reported + pending + this instance's prepares in
 * flight), the circuit filter, the strategy and the caller's region.
 */
@Injectable()
export class CandidateSelector {
  /** Prepare attempts in flight on this instance, by node id: counted as load until their binding is written. */
  private readonly placing = new Map<string, number>();
  /** Candidate objects by node snapshot (see candidateFor). */
  private readonly candidateCache = new WeakMap<Readonly<NodeState>, Candidate>();
  /** The node snapshots of the last selection by position, and their candidates (see select). */
  private readonly seenNodes: Readonly<NodeState>[] = [];
  private readonly seenCandidates: Candidate[] = [];

  constructor(
    @InjectPoolStore() private readonly store: NodeStore,
    @InjectSelectionStrategy() private readonly strategy: SelectionStrategy,
    private readonly circuit: CircuitBreaker,
  ) {}

  /**
   * The nodes a new call may go to, in the order to try them: healthy, not draining,
   * below capacity, circuit closed (or due for its half-open trial), then ordered by the
   * strategy, the caller's region first. `load` counts this instance's prepares in flight.
   *
   * When every node that is otherwise eligible has an open circuit, the circuits are
   * ignored (a panic mode, as Envoy's): trying a node that failed a moment ago beats
   * refusing every call until the reset time, and probes still keep out dead nodes.
   */
  async candidates(callId: string, opts: PrepareOptions = {}): Promise<Candidate[]> {
    return this.select(await this.store.listNodes(), callId, opts).candidates;
  }

  /**
   * Synchronous, so a prepare can reserve its first choice before any other prepare plans.
   * `limit`: the caller tries at most that many (a strategy may stop ordering there).
   */
  select(nodes: readonly Readonly<NodeState>[], callId: string, opts: PrepareOptions = {}, limit?: number): Selection {
    const eligible: Candidate[] = [];
    const tripped: Candidate[] = [];
    const seen = this.seenNodes;
    const cands = this.seenCandidates;
    const placing = this.placing.size > 0 ? this.placing : undefined;
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i];
      const load = effectiveLoad(n) + (placing?.get(n.nodeId) ?? 0);
      if (!this.isEligible(n, load)) continue;
      // Stores list nodes in a stable order and replace only the ones that changed: the
      // snapshot at the same place as last time is usually the same object, and an index
      // compare is cheaper than the WeakMap (a third of selection at 1,000 nodes).
      let c: Candidate;
      if (seen[i] === n) {
        c = cands[i];
        c.load = load;
      } else {
        // The same node's next snapshot at the same place (the store replaces a node on every
        // binding to it): a new candidate straight away. A WeakMap entry per prepare is
        // GC work (ephemerons) for a snapshot that is not seen again.
        c = seen[i]?.nodeId === n.nodeId ? candidateOf(n, load) : this.candidateFor(n, load);
        seen[i] = n;
        cands[i] = c;
      }
      if (this.circuit.isCallable(n.nodeId)) eligible.push(c);
      // A node whose half-open trial is running stays out even in panic mode.
      else if (this.circuit.state(n.nodeId) === 'open') tripped.push(c);
    }
    if (seen.length > nodes.length) {
      seen.length = nodes.length;
      cands.length = nodes.length;
    }
    const panic = eligible.length === 0 && tripped.length > 0;
    return { candidates: this.order(panic ? tripped : eligible, callId, opts, limit), panic };
  }

  /**
   * Whether a lightest-first read of the store's load index gives this prepare the
   * selection {@link select} would give over every node: the least-loaded strategy (its
   * own `order`, not a subclass's), no region, a limit.
   * @internal
   */
  usesLoadIndex(opts: PrepareOptions, limit: number | undefined): limit is number {
    return limit !== undefined && limit >= 1 && !opts.region && this.strategy.order === LeastLoadedStrategy.prototype.order;
  }

  /**
   * The selection of {@link select} over every node, read from the store's load index
   * instead: the lightest nodes only, until `limit` candidates are certain. From `page`
   * (nodes lightest first, as `NodeStore.lightestNodes` reads them) when given, else from
   * `NodeStore.nodesByLoad`. Undefined when the index cannot give the same answer — see
   * {@link usesLoadIndex}, a store without an index, a page that ends before the answer is
   * certain — and the caller lists every node for {@link select}. Synchronous, as `select`.
   * @internal
   */
  selectLightest(
    callId: string, opts: PrepareOptions, limit: number | undefined,
    page?: { nodes: readonly Readonly<NodeState>[]; complete: boolean },
  ): Selection | undefined {
    if (!this.usesLoadIndex(opts, limit)) return undefined;
    const nodes = page ? page.nodes : this.store.nodesByLoad?.();
    if (!nodes) return undefined;
    const best: Candidate[] = [];
    const tripped: Candidate[] = [];
    const placing = this.placing.size > 0 ? this.placing : undefined;
    let settled = false;
    for (let i = 0; i < nodes.length; i++) {
      const n = nodes[i];
      const base = effectiveLoad(n);
      // The index is in (base load, id) order and a candidate's load is never below its
      // base: once a node sorts after the limit-th best, no later node can come before it.
      if (best.length >= limit) {
        const last = best[limit - 1];
        if (base > last.load || (base === last.load && n.nodeId > last.nodeId)) {
          settled = true;
          break;
        }
      }
      const load = placing === undefined ? base : base + (placing.get(n.nodeId) ?? 0);
      if (!this.isEligible(n, load)) continue;
      if (this.circuit.isCallable(n.nodeId)) insertBounded(best, candidateOf(n, load), limit);
      else if (this.circuit.state(n.nodeId) === 'open') tripped.push(candidateOf(n, load));
    }
    // A page that stops before the answer is certain: the nodes after it could change it.
    if (!settled && page && !page.complete) return undefined;
    // Without an eligible node the loop read every node, so `tripped` holds all of them.
    const panic = best.length === 0 && tripped.length > 0;
    return { candidates: panic ? topK(tripped, limit, byLoadThenId) : best, panic };
  }

  /** A prepare is being sent to the node: count it as load until {@link release}. @internal */
  reserve(nodeId: string): void {
    this.placing.set(nodeId, (this.placing.get(nodeId) ?? 0) + 1);
  }

  /** The prepare sent after {@link reserve} is over (its binding, if any, is written). @internal */
  release(nodeId: string): void {
    const left = (this.placing.get(nodeId) ?? 1) - 1;
    if (left > 0) this.placing.set(nodeId, left);
    else this.placing.delete(nodeId);
  }

  /** Whether a node may take a new call. Subclasses may add conditions. */
  protected isEligible(n: Readonly<NodeState>, load: number): boolean {
    return n.healthy && !isDraining(n) && (n.capacity === null || load < n.capacity);
  }

  /**
   * The candidate for a node snapshot. Stores hand out read-only snapshots (the memory
   * store its own, replaced on every change), so the candidate copy is made once per
   * snapshot and only its load is refreshed: copying every node on every prepare was the
   * largest cost at 1,000 nodes. Selection is synchronous, so no one sees a load change mid-order.
   */
  private candidateFor(n: Readonly<NodeState>, load: number): Candidate {
    let c = this.candidateCache.get(n);
    if (!c) {
      c = candidateOf(n, load);
      this.candidateCache.set(n, c);
    } else c.load = load;
    return c;
  }

  private order(eligible: Candidate[], callId: string, opts: PrepareOptions, limit?: number): Candidate[] {
    if (eligible.length === 0) return eligible;
    // With a region the whole order is needed (the region's nodes first, then the rest).
    const ordered = this.strategy.order(eligible, { callId, region: opts.region, limit: opts.region ? undefined : limit });
    if (!opts.region) return ordered;
    const inRegion = ordered.filter((c) => c.region === opts.region);
    return inRegion.length === 0 || inRegion.length === ordered.length
      ? ordered
      : [...inRegion, ...ordered.filter((c) => c.region !== opts.region)];
  }
}

/** Inserts `c` into `best` (sorted by load, then id), keeping at most `limit`. */
function insertBounded(best: Candidate[], c: Candidate, limit: number): void {
  if (limit <= 0) return;
  let i = best.length;
  if (i === limit) {
    if (byLoadThenId(c, best[i - 1]) >= 0) return;
    i--;
  }
  while (i > 0 && byLoadThenId(c, best[i - 1]) < 0) {
    best[i] = best[i - 1];
    i--;
  }
  best[i] = c;
}
