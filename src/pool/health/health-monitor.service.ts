import { Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { HealthResponse } from '../../contract/contract.types';
import { NodeControlClient } from '../../node-client/node-control.client';
import { JobScheduler } from '../core/job-scheduler';
import { POOL_OPTIONS, type ResolvedPoolOptions } from '../core/pool.module-definition';
import { PoolHooks } from '../core/pool.hooks';
import type { HealthReport, NodeState } from '../core/pool.types';
import { InjectPoolStore, type NodeStore } from '../core/pool-store.interface';
import { CircuitBreaker } from './circuit-breaker';

export const HEALTH_JOB = 'rtp-pool:health';

/** What one probe round saw. */
export interface ProbeRound {
  /** False when the round was skipped because the previous one is still running. */
  ran: boolean;
  healthy: string[];
  unhealthy: string[];
}

const MAX_MEDIA_IP = 255;

/**
 * Background health: every `healthIntervalMs` probes every node's `GET /v1/health`,
 * `healthConcurrency` at a time, each bounded by `healthTimeoutMs`. Never on the request path; a round
 * that is still running when the next one is due makes that one skip (rounds never
 * overlap). Results go to the store (shared by every instance): `healthy`, the reported
 * `active_legs` (which resets the pending count), `media_ip`, and `capacity`/`draining`
 * when the node reports them. A node that fails its probe is no candidate until a probe
 * succeeds; a successful probe also closes this instance's circuit for the node, unless a
 * control-call timeout opened it (CircuitBreaker.recordProbeSuccess).
 */
@Injectable()
export class HealthMonitorService implements OnApplicationBootstrap {
  private readonly logger = new Logger(HealthMonitorService.name);
  private running = false;

  constructor(
    @InjectPoolStore() private readonly store: NodeStore,
    private readonly client: NodeControlClient,
    private readonly circuit: CircuitBreaker,
    private readonly hooks: PoolHooks,
    private readonly jobs: JobScheduler,
    @Inject(POOL_OPTIONS) private readonly options: ResolvedPoolOptions,
  ) {}

  onApplicationBootstrap(): void {
    const ms = this.options.healthIntervalMs;
    if (ms > 0) this.jobs.start(HEALTH_JOB, { everyMs: ms }, () => this.tick());
  }

  /** One probe round over every node; never throws, never overlaps the previous round. */
  async tick(): Promise<ProbeRound> {
    const round: ProbeRound = { ran: false, healthy: [], unhealthy: [] };
    if (this.running) return round;
    this.running = true;
    round.ran = true;
    try {
      const nodes = await this.store.listNodes();
      const ok = await mapBounded(nodes, this.options.healthConcurrency, (n) => this.probe(n).catch(() => false));
      ok.forEach((healthy, i) => (healthy ? round.healthy : round.unhealthy).push(nodes[i].nodeId));
    } catch (e) {
      this.logger.error(`health round failed: ${(e as Error).message}`);
    } finally {
      this.running = false;
    }
    return round;
  }

  /** Probes one node and records the outcome; resolves true when it answered well. */
  async probe(node: Readonly<NodeState>): Promise<boolean> {
    let answer: HealthResponse;
    try {
      answer = await this.client.health(node.controlUrl, this.options.healthTimeoutMs);
    } catch (e) {
      const reason = `probe failed: ${(e as Error).message}`;
      await this.store.setHealth(node.nodeId, false);
      if (node.healthy) {
        this.logger.warn(`node ${node.nodeId} unhealthy (${reason})`);
        this.hooks.emit('health', { nodeId: node.nodeId, healthy: false, reason });
      }
      return false;
    }
    await this.store.setHealth(node.nodeId, true, healthReport(answer));
    this.circuit.recordProbeSuccess(node.nodeId);
    if (!node.healthy) {
      this.logger.log(`node ${node.nodeId} healthy again`);
      this.hooks.emit('health', { nodeId: node.nodeId, healthy: true, reason: 'probe succeeded' });
    }
    return true;
  }
}

/** `fn` over every item with at most `limit` calls pending at once; results in input order. */
async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
  return out;
}

/** The fields of a health answer the pool takes; anything malformed is left out. */
export function healthReport(h: HealthResponse): HealthReport {
  const r: HealthReport = { activeLegs: h.active_legs };
  if (typeof h.media_ip === 'string' && h.media_ip.trim() && h.media_ip.length <= MAX_MEDIA_IP) r.mediaIp = h.media_ip.trim();
  if (h.capacity === null || (Number.isInteger(h.capacity) && (h.capacity as number) >= 1)) r.capacity = h.capacity;
  if (typeof h.draining === 'boolean') r.reportedDraining = h.draining;
  return r;
}
