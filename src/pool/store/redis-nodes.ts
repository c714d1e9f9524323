import type { HealthReport, NodeReport, NodeState } from '../core/pool.types';
import type { RemoveOutcome, UpsertOutcome } from '../core/pool-store.interface';
import type { RedisKeys } from './redis-keys';
import type { Arg, RedisLink } from './redis-link';
import { decodeNode, encodeReport, flag, type NodeRow } from './redis-pool.codec';

/**
 * The nodes half of the Redis store: register, read, list, remove, prune, health and drain,
 * each one script on the registry's slot (redis-node.scripts.ts).
 */
export class RedisNodes {
  constructor(
    private readonly link: RedisLink,
    private readonly keys: RedisKeys,
    private readonly now: () => number,
  ) {}

  async upsert(report: NodeReport, maxNodes: number): Promise<UpsertOutcome> {
    const max = Number.isFinite(maxNodes) ? Math.max(0, Math.floor(maxNodes)) : -1;
    const out = await this.link.cmd('rtpUpsertNode', [this.keys.registry('n:', report.nodeId), this.keys.registry('nodes'), this.keys.registry('seen'), this.keys.registry('seq')], [
      this.keys.registryTag, report.nodeId, flag(report.static), max, report.lastSeen, ...encodeReport(report),
    ]);
    return out as UpsertOutcome;
  }

  async get(id: string): Promise<NodeState | undefined> {
    const row = await this.link.cmd('rtpGetNode', [this.keys.registry('n:', id)], [this.keys.registryTag, id, this.now()]);
    return row ? decodeNode(row as NodeRow) : undefined;
  }

  async list(): Promise<NodeState[]> {
    const json = (await this.link.cmd('rtpListNodes', [this.keys.registry('nodes')], [this.keys.registryTag, this.now()])) as string;
    const parsed = JSON.parse(json) as NodeRow[] | Record<string, never>;
    const rows = Array.isArray(parsed) ? parsed : [];
    return rows.map(decodeNode);
  }

  async lightest(count: number): Promise<{ nodes: NodeState[]; complete: boolean }> {
    const json = (await this.link.cmd('rtpLightest', [this.keys.registry('load'), this.keys.registry('nodes')], [this.keys.registryTag, this.now(), Math.max(1, Math.floor(count))])) as string;
    const [complete, rows] = JSON.parse(json) as [number, NodeRow[] | Record<string, never>];
    return { nodes: Array.isArray(rows) ? rows.map(decodeNode) : [], complete: complete === 1 };
  }

  async remove(id: string): Promise<RemoveOutcome> {
    const out = await this.link.cmd('rtpRemoveNode', [this.keys.registry('n:', id), this.keys.registry('nodes'), this.keys.registry('seen'), this.keys.registry('bound:', id), this.keys.registry('load')], [id]);
    return out as RemoveOutcome;
  }

  async prune(cutoffMs: number): Promise<NodeState[]> {
    const rows = (await this.link.cmd('rtpPruneNodes', [this.keys.registry('nodes'), this.keys.registry('seen')], [this.keys.registryTag, cutoffMs, this.now()])) as NodeRow[];
    return rows.map(decodeNode);
  }

  async setHealth(id: string, healthy: boolean, report?: HealthReport): Promise<void> {
    const args: Arg[] = [this.keys.registryTag, id, 'healthy', flag(healthy)];
    if (report?.activeLegs !== undefined) args.push('activeLegs', report.activeLegs, 'pendingLegs', 0);
    if (report?.mediaIp !== undefined) args.push('mediaIp', report.mediaIp);
    if (report?.capacity !== undefined) args.push('capacity', JSON.stringify(report.capacity));
    if (report?.reportedDraining !== undefined) args.push('reportedDraining', flag(report.reportedDraining));
    await this.link.cmd('rtpHsetIfExists', [this.keys.registry('n:', id)], args);
  }

  async setAdminDrain(id: string, drained: boolean, deadlineMs: number | null): Promise<boolean> {
    const deadline = drained && deadlineMs !== null ? String(deadlineMs) : '';
    return (await this.link.cmd('rtpHsetIfExists', [this.keys.registry('n:', id)], [this.keys.registryTag, id, 'adminDrained', flag(drained), 'drainDeadline', deadline])) === 1;
  }
}
