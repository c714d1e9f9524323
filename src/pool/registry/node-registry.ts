import { Inject, Injectable, Logger, OnModuleInit } from '@nestjs/common';
import type { Clock } from '../../common/clock';
import type { NodeInfo, RegisterNodeResponse } from '../../contract/contract.types';
import { toNodeInfo } from '../../contract/mappers';
import { CircuitBreaker } from '../health/circuit-breaker';
import { CLOCK } from '../core/pool.constants';
import { NodeNotFoundException, RegistryFullException, StaticNodeConflictException } from '../core/pool.errors';
import { PoolHooks } from '../core/pool.hooks';
import { POOL_OPTIONS, type ResolvedPoolOptions } from '../core/pool.module-definition';
import type { NodeReport, NodeState } from '../core/pool.types';
import { type CallStore, InjectPoolStore, type NodeStore } from '../core/pool-store.interface';

/** A node's self-description, as a registration carries it (camelCase). */
export interface RegisterNodeInput {
  nodeId: string;
  controlUrl: string;
  mediaIp?: string;
  activeLegs?: number;
  capacity?: number | null;
  weight?: number;
  region?: string | null;
  draining?: boolean;
}

/**
 * The registry of media nodes: static seeds, registrations and heartbeats, deregistration,
 * operator drain, the node TTL and pruning. Makes no HTTP call.
 */
@Injectable()
export class NodeRegistry implements OnModuleInit {
  private readonly logger = new Logger(NodeRegistry.name);
  private nodeTtlSec: number;

  constructor(
    @Inject(POOL_OPTIONS) private readonly options: ResolvedPoolOptions,
    @InjectPoolStore() private readonly store: NodeStore & CallStore,
    private readonly circuit: CircuitBreaker,
    private readonly hooks: PoolHooks,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.nodeTtlSec = options.nodeTtlSec;
  }

  /** Writes the static seeds (`seed-1`, `seed-2`, …) from `seedUrls`. */
  async onModuleInit(): Promise<void> {
    const now = this.clock.now();
    for (const [i, url] of this.options.seedUrls.entries()) {
      await this.store.upsertNode({
        nodeId: `seed-${i + 1}`, controlUrl: url, mediaIp: hostOf(url), activeLegs: 0, capacity: null,
        weight: 1, region: null, reportedDraining: false, static: true, lastSeen: now,
      });
    }
  }

  /** Seconds a silent node survives. */
  get ttlSec(): number {
    return this.nodeTtlSec;
  }

  /** The heartbeat interval advertised to registrars: min(10, max(1, ⌊ttl/3⌋)). */
  get heartbeatSec(): number {
    return Math.min(10, Math.max(1, Math.floor(this.nodeTtlSec / 3)));
  }

  /** Changes the node TTL (the Go package's SetTTL); non-positive values are ignored. */
  setTtl(sec: number): void {
    if (Number.isFinite(sec) && sec > 0) this.nodeTtlSec = sec;
  }

  /**
   * Registers or refreshes a node (the heartbeat). Every reported field is replaced:
   * omitted means default (CONTRACT §1 "Heartbeats describe the whole node").
   */
  async register(input: RegisterNodeInput): Promise<RegisterNodeResponse> {
    const report: NodeReport = {
      nodeId: input.nodeId,
      controlUrl: input.controlUrl,
      mediaIp: input.mediaIp ?? '',
      activeLegs: input.activeLegs ?? 0,
      capacity: input.capacity ?? null,
      weight: input.weight ?? 1,
      region: input.region ?? null,
      reportedDraining: input.draining ?? false,
      static: false,
      lastSeen: this.clock.now(),
    };
    const outcome = await this.store.upsertNode(report, this.options.maxNodes);
    if (outcome === 'conflict') throw new StaticNodeConflictException(report.nodeId);
    if (outcome === 'full') throw new RegistryFullException();
    this.hooks.emit('register', { nodeId: report.nodeId, created: outcome === 'created' });
    if (outcome === 'created') this.logger.log(`node ${report.nodeId} registered at ${report.controlUrl}`);
    return { node_id: report.nodeId, ttl_sec: this.nodeTtlSec, heartbeat_sec: this.heartbeatSec };
  }

  /** Deregisters a dynamic node; 404 for an unknown or static one. Its bindings stay. */
  async unregister(nodeId: string): Promise<void> {
    const before = await this.store.getNode(nodeId);
    const outcome = await this.store.removeNode(nodeId);
    if (outcome !== 'removed') throw new NodeNotFoundException();
    this.circuit.forget(nodeId);
    this.hooks.emit('unregister', { nodeId, boundCalls: before?.boundCalls ?? 0 });
    this.logger.log(`node ${nodeId} deregistered`);
  }

  /** Removes nodes silent for longer than the TTL and expired bindings; returns the pruned node ids. */
  async prune(now = this.clock.now()): Promise<string[]> {
    const removed = await this.store.pruneNodes(now - this.nodeTtlSec * 1000);
    await this.store.sweepBindings(now);
    const ids = removed.map((n) => n.nodeId);
    for (const id of ids) this.circuit.forget(id);
    // Bindings to a pruned node stay (until deleted or expired): start/delete still go to
    // its last control URL, and the node may come back. Say how many calls that concerns.
    const orphaned = removed.reduce((sum, n) => sum + n.boundCalls, 0);
    if (ids.length) {
      this.logger.warn(`pruned ${ids.length} silent node(s): ${ids.join(', ')}; ${orphaned} bound call(s) keep their last control URL`);
    }
    const nodes = removed.map((n) => ({ nodeId: n.nodeId, boundCalls: n.boundCalls }));
    this.hooks.emit('prune', { nodeIds: ids, orphanedBindings: orphaned, nodes });
    return ids;
  }

  /** Every known node: static seeds first, then in registration order. */
  async nodes(): Promise<NodeState[]> {
    const all = await this.store.listNodes();
    return all.sort((a, b) => Number(b.static) - Number(a.static) || a.seq - b.seq);
  }

  /** `GET /v1/nodes` rows. Makes no HTTP call. */
  async nodeInfos(): Promise<NodeInfo[]> {
    return (await this.nodes()).map((n) => this.toInfo(n));
  }

  /** One node's row, or 404. */
  async nodeInfo(nodeId: string): Promise<NodeInfo> {
    const n = await this.store.getNode(nodeId);
    if (!n) throw new NodeNotFoundException();
    return this.toInfo(n);
  }

  /**
   * Operator drain: the node keeps its calls and gets no new ones, whatever it reports.
   * `deadlineSec`: when the calls should be gone (then `drain_deadline` is emitted if some
   * are still bound); without it, no deadline (a drain again replaces an earlier deadline).
   */
  async drain(nodeId: string, deadlineSec?: number): Promise<NodeInfo> {
    return this.setAdminDrain(nodeId, true, deadlineSec === undefined ? null : this.clock.now() + deadlineSec * 1000);
  }

  /** Clears an operator drain. */
  async undrain(nodeId: string): Promise<NodeInfo> {
    return this.setAdminDrain(nodeId, false);
  }

  private async setAdminDrain(nodeId: string, drained: boolean, deadlineMs: number | null = null): Promise<NodeInfo> {
    if (!(await this.store.setAdminDrain(nodeId, drained, deadlineMs))) throw new NodeNotFoundException();
    this.hooks.emit('drain', { nodeId, drained, deadlineMs: drained ? deadlineMs : null });
    return this.nodeInfo(nodeId);
  }

  /** A node's row as this instance sees it: an open circuit shows as unhealthy. */
  private toInfo(n: NodeState): NodeInfo {
    const info = toNodeInfo(n);
    if (this.circuit.state(n.nodeId) !== 'closed') info.healthy = false;
    return info;
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return '';
  }
}
