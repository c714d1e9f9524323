import { Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { collectDefaultMetrics, Counter, Gauge, Histogram, type Registry } from 'prom-client';
import { type CallOutcome, PoolHooks, type PoolHookMap, type ReconcileRound } from '../../pool/core/pool.hooks';
import type { NodeInfo } from '../../contract/contract.types';
import { PoolService } from '../../pool/pool.service';
import { InjectMetricsRegistry, InjectOpsOptions, type ResolvedOpsOptions } from '../core/ops.module-definition';
import { RecentWindow } from './recent-window';

/** The state a node is counted under in `rtp_nodes{state}`: unhealthy wins over draining. */
export type NodeGaugeState = 'healthy' | 'unhealthy' | 'draining';

export function nodeGaugeState(n: Pick<NodeInfo, 'healthy' | 'draining'>): NodeGaugeState {
  if (!n.healthy) return 'unhealthy';
  return n.draining ? 'draining' : 'healthy';
}

/** Recent activity for the dashboard (this instance only). */
export interface ActivitySummary {
  /** Seconds the recent figures cover. */
  window_sec: number;
  /** Prepares per second over the window (every outcome). */
  prepare_rate_per_sec: number;
  /** Prepares over the window. */
  prepares_recent: number;
  /** Failed prepares (502/503/422) over the window. */
  prepare_failures_recent: number;
  /** Failed attempts that moved on to another node (or ended the prepare) over the window. */
  failovers_recent: number;
  /** Since this instance started. */
  prepares_total: number;
  failovers_total: number;
}

/**
 * Prometheus metrics of the pool, fed by {@link PoolHooks} (the pool itself holds no
 * metrics code). Node gauges are read from the store at scrape time, so they are never
 * stale and cost nothing between scrapes. Labels are bounded: node ids, never call ids.
 */
@Injectable()
export class PoolMetrics implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(PoolMetrics.name);
  private readonly metricNames: string[] = [];
  private readonly unsubscribe: Array<() => void> = [];
  private readonly recentPrepares: RecentWindow;
  private readonly recentFailures: RecentWindow;
  private readonly recentFailovers: RecentWindow;
  /** The last reconciliation round this instance ran (it held the lease). */
  lastReconcile?: ReconcileRound;
  private preparesTotal = 0;
  private failoversTotal = 0;

  constructor(
    private readonly hooks: PoolHooks,
    private readonly pool: PoolService,
    @InjectMetricsRegistry() readonly registry: Registry,
    @InjectOpsOptions() private readonly options: ResolvedOpsOptions,
  ) {
    this.recentPrepares = new RecentWindow(options.recentWindowSec);
    this.recentFailures = new RecentWindow(options.recentWindowSec);
    this.recentFailovers = new RecentWindow(options.recentWindowSec);
  }

  onModuleInit(): void {
    const registers = [this.registry];
    const pool = this.pool;
    const logger = this.logger;
    // One store read per scrape feeds every node gauge. The rows are this instance's view
    // (an open circuit shows as unhealthy), as GET /v1/nodes lists them.
    let snapshot: Promise<NodeInfo[]> | undefined;
    const nodesOnce = (): Promise<NodeInfo[]> => {
      snapshot ??= pool.nodeInfos().finally(() => setImmediate(() => (snapshot = undefined)));
      return snapshot;
    };
    const readNodes = async (): Promise<NodeInfo[] | undefined> => {
      try {
        return await nodesOnce();
      } catch (e) {
        logger.warn(`metrics: cannot read nodes: ${(e as Error).message}`);
        return undefined;
      }
    };

    const nodes = new Gauge({
      name: 'rtp_nodes', help: 'Media nodes by state (unhealthy wins over draining)', labelNames: ['state'], registers,
      async collect() {
        const all = await readNodes();
        this.reset();
        if (!all) return;
        const counts: Record<NodeGaugeState, number> = { healthy: 0, unhealthy: 0, draining: 0 };
        for (const n of all) counts[nodeGaugeState(n)]++;
        for (const [state, v] of Object.entries(counts)) this.set({ state }, v);
      },
    });
    const legs = new Gauge({
      name: 'rtp_node_active_legs', help: 'Active legs a node last reported', labelNames: ['node'], registers,
      async collect() {
        const all = await readNodes();
        this.reset();
        for (const n of all ?? []) this.set({ node: n.node_id }, n.active_legs);
      },
    });
    const capacity = new Gauge({
      name: 'rtp_node_capacity', help: 'Max legs of a node (absent when unbounded)', labelNames: ['node'], registers,
      async collect() {
        const all = await readNodes();
        this.reset();
        for (const n of all ?? []) if (n.capacity !== null) this.set({ node: n.node_id }, n.capacity);
      },
    });
    const bound = new Gauge({
      name: 'rtp_node_bound_calls', help: 'Calls bound to a node', labelNames: ['node'], registers,
      async collect() {
        const all = await readNodes();
        this.reset();
        for (const n of all ?? []) this.set({ node: n.node_id }, n.bound_calls);
      },
    });
    // Prepares are counted here and added to rtp_calls_total whenever it is read (scrape or
    // get()): a labelled inc() hashes its labels, about a microsecond per prepare.
    const unreadPrepares = new Map<CallOutcome, number>();
    const calls = new Counter({
      name: 'rtp_calls_total', help: 'Call operations by outcome', labelNames: ['op', 'outcome'], registers,
      collect() {
        for (const [outcome, n] of unreadPrepares) this.inc({ op: 'prepare', outcome }, n);
        unreadPrepares.clear();
      },
    });
    const duration = new Histogram({
      name: 'rtp_prepare_duration_seconds', help: 'Time to answer a prepare, failovers included', labelNames: ['outcome'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers,
    });
    const failovers = new Counter({
      name: 'rtp_failovers_total', help: 'Failed prepare attempts on a node (the next candidate is tried while the budget lasts)', registers,
    });
    const circuit = new Counter({
      name: 'rtp_circuit_transitions_total', help: 'Circuit breaker transitions by the state entered', labelNames: ['state'], registers,
    });
    const registrations = new Counter({
      name: 'rtp_registrations_total', help: 'Registrations and heartbeats accepted', labelNames: ['kind'], registers,
    });
    const deregistrations = new Counter({ name: 'rtp_deregistrations_total', help: 'Nodes deregistered over HTTP', registers });
    const pruned = new Counter({ name: 'rtp_pruned_nodes_total', help: 'Silent nodes pruned', registers });
    const healthChanges = new Counter({
      name: 'rtp_node_health_changes_total', help: 'Node health flips (probes, circuit) by the state entered', labelNames: ['state'], registers,
    });
    const reconcileRounds = new Counter({ name: 'rtp_reconcile_rounds_total', help: 'Reconciliation rounds this instance ran (it held the lease)', registers });
    const legsDeleted = new Counter({
      name: 'rtp_reconcile_legs_deleted_total', help: 'Legs deleted on nodes because no binding points to them (by reconciliation, or a leg the pool knew it left)',
      labelNames: ['source'], registers,
    });
    const bindingsDropped = new Counter({
      name: 'rtp_reconcile_bindings_dropped_total', help: 'Bindings dropped because their node holds no such leg (source: reconcile, or a start the node answered 404) or written after their prepare failed (late_binding)',
      labelNames: ['source'], registers,
    });
    const leftLegRetries = new Counter({ name: 'rtp_reconcile_left_leg_retries_total', help: 'Failed deletes of legs the pool knew it left (retried)', registers });
    this.metricNames.push(...[
      nodes, legs, capacity, bound, calls, duration, failovers, circuit, registrations, deregistrations, pruned, healthChanges,
      reconcileRounds, legsDeleted, bindingsDropped, leftLegRetries,
    ]
      .map((m) => (m as unknown as { name: string }).name));
    // Counters start at 0 for every label a dashboard alerts on, so rate() works from the first scrape.
    for (const op of ['prepare', 'start', 'delete']) calls.inc({ op, outcome: 'ok' }, 0);
    failovers.inc(0);
    for (const state of ['open', 'half_open', 'closed']) circuit.inc({ state }, 0);
    reconcileRounds.inc(0);
    for (const source of ['reconcile', 'left_leg']) legsDeleted.inc({ source }, 0);
    for (const source of ['reconcile', 'late_binding']) bindingsDropped.inc({ source }, 0);
    leftLegRetries.inc(0);

    // One label object per outcome, not one per prepare.
    const durationLabels = new Map<CallOutcome, { outcome: CallOutcome }>();
    this.on('prepare', (e) => {
      unreadPrepares.set(e.outcome, (unreadPrepares.get(e.outcome) ?? 0) + 1);
      let labels = durationLabels.get(e.outcome);
      if (!labels) durationLabels.set(e.outcome, (labels = { outcome: e.outcome }));
      duration.observe(labels, e.durationMs / 1000);
      this.preparesTotal++;
      this.recentPrepares.add();
      if (e.outcome !== 'ok') this.recentFailures.add();
    });
    this.on('start', (e) => calls.inc({ op: 'start', outcome: e.outcome }));
    this.on('delete', (e) => calls.inc({ op: 'delete', outcome: e.outcome }));
    this.on('failover', () => {
      failovers.inc();
      this.failoversTotal++;
      this.recentFailovers.add();
    });
    this.on('register', (e) => registrations.inc({ kind: e.created ? 'new' : 'heartbeat' }));
    this.on('unregister', () => deregistrations.inc());
    this.on('prune', (e) => pruned.inc(e.nodeIds.length));
    this.on('circuit', (e) => circuit.inc({ state: e.state }));
    this.on('health', (e) => healthChanges.inc({ state: e.healthy ? 'healthy' : 'unhealthy' }));
    this.on('reconcile', (r) => {
      reconcileRounds.inc();
      this.lastReconcile = r;
    });
    this.on('repair', (e) => {
      if (e.kind === 'orphan_leg_deleted') legsDeleted.inc({ source: 'reconcile' });
      else if (e.kind === 'left_leg_deleted') legsDeleted.inc({ source: 'left_leg' });
      else if (e.kind === 'binding_dropped') bindingsDropped.inc({ source: 'reconcile' });
      else if (e.kind === 'late_binding_undone') bindingsDropped.inc({ source: 'late_binding' });
      else if (e.kind === 'leg_missing_on_start') bindingsDropped.inc({ source: 'start' });
      else leftLegRetries.inc();
    });

    // A registry handed in may already carry them (a second app in one process).
    if (this.options.defaultMetrics && !this.registry.getSingleMetric('process_cpu_user_seconds_total')) {
      collectDefaultMetrics({ register: this.registry });
    }
  }

  onModuleDestroy(): void {
    for (const off of this.unsubscribe.splice(0)) off();
    // Only our metrics: a registry handed in belongs to its owner.
    for (const name of this.metricNames.splice(0)) this.registry.removeSingleMetric(name);
  }

  /** The recent figures the dashboard shows. */
  activity(): ActivitySummary {
    const round = (v: number) => Math.round(v * 100) / 100;
    return {
      window_sec: this.options.recentWindowSec,
      prepare_rate_per_sec: round(this.recentPrepares.rate()),
      prepares_recent: this.recentPrepares.sum(),
      prepare_failures_recent: this.recentFailures.sum(),
      failovers_recent: this.recentFailovers.sum(),
      prepares_total: this.preparesTotal,
      failovers_total: this.failoversTotal,
    };
  }

  /** The exposition text (what `GET /metrics` serves). */
  scrape(): Promise<string> {
    return this.registry.metrics();
  }

  private on<K extends keyof PoolHookMap>(event: K, listener: (...args: PoolHookMap[K]) => void): void {
    // Listeners must never throw into the pool.
    const safe = (...args: PoolHookMap[K]) => {
      try {
        listener(...args);
      } catch (e) {
        this.logger.warn(`metrics listener for ${String(event)} failed: ${(e as Error).message}`);
      }
    };
    this.hooks.on(event, safe as never);
    this.unsubscribe.push(() => this.hooks.off(event, safe as never));
  }
}
