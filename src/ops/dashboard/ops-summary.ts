import { Injectable } from '@nestjs/common';
import { ApiProperty } from '@nestjs/swagger';
import type { NodeInfo } from '../../contract/contract.types';
import { NodeInfoDto } from '../../contract/dto/responses.dto';
import { EventFeed } from '../../pool/events/event-feed.service';
import type { StreamEvent } from '../../pool/core/event-log.interface';
import { PoolService } from '../../pool/pool.service';
import { type ActivitySummary, nodeGaugeState, PoolMetrics } from '../metrics/pool-metrics.service';

export class NodeCountsDto {
  @ApiProperty() total!: number;
  @ApiProperty() healthy!: number;
  @ApiProperty({ description: 'Healthy nodes that are draining.' }) draining!: number;
  @ApiProperty() unhealthy!: number;
}

export class ActivityDto implements ActivitySummary {
  @ApiProperty({ example: 60 }) window_sec!: number;
  @ApiProperty({ example: 4.25 }) prepare_rate_per_sec!: number;
  @ApiProperty() prepares_recent!: number;
  @ApiProperty() prepare_failures_recent!: number;
  @ApiProperty() failovers_recent!: number;
  @ApiProperty() prepares_total!: number;
  @ApiProperty() failovers_total!: number;
}

/** The last reconciliation round this instance ran (CONTRACT §7). */
export class ReconcileSummaryDto {
  @ApiProperty({ format: 'date-time' }) at!: string;
  @ApiProperty() nodes_checked!: number;
  @ApiProperty({ description: 'Nodes without GET /v1/legs, or that did not answer.' }) nodes_skipped!: number;
  @ApiProperty() legs_deleted!: number;
  @ApiProperty() bindings_dropped!: number;
}

/** `GET /v1/ops/summary`: what the dashboard shows, in one read. */
export class OpsSummaryDto {
  @ApiProperty({ format: 'date-time' }) generated_at!: string;
  @ApiProperty({ type: [NodeInfoDto] }) nodes!: NodeInfo[];
  @ApiProperty({ type: NodeCountsDto }) counts!: NodeCountsDto;
  @ApiProperty({ type: ActivityDto, description: 'This instance\'s recent activity.' }) activity!: ActivityDto;
  @ApiProperty({ type: ReconcileSummaryDto, nullable: true, description: 'The last reconciliation round this instance ran; null when it ran none.' })
  reconcile!: ReconcileSummaryDto | null;
  @ApiProperty({ description: 'The newest events of GET /v1/events (id, event, data), oldest first.', type: 'array', items: { type: 'object' } })
  recent_events!: StreamEvent[];
}

/** Events the dashboard shows. */
const RECENT_EVENTS = 20;

/** Builds the dashboard's data: the node list (no HTTP call, store only) and recent activity. */
@Injectable()
export class OpsSummaryService {
  constructor(private readonly pool: PoolService, private readonly metrics: PoolMetrics, private readonly feed: EventFeed) {}

  async summary(now = Date.now()): Promise<OpsSummaryDto> {
    const nodes = await this.pool.nodeInfos();
    const counts = { total: nodes.length, healthy: 0, draining: 0, unhealthy: 0 };
    for (const n of nodes) counts[nodeGaugeState(n)]++;
    return {
      generated_at: new Date(now).toISOString(),
      nodes,
      counts,
      activity: this.metrics.activity(),
      reconcile: reconcileSummary(this.metrics),
      recent_events: await this.feed.recent(RECENT_EVENTS).catch(() => []),
    };
  }
}

function reconcileSummary(m: PoolMetrics): ReconcileSummaryDto | null {
  const r = m.lastReconcile;
  if (!r) return null;
  return {
    at: new Date(r.at).toISOString(), nodes_checked: r.nodesChecked, nodes_skipped: r.nodesSkipped,
    legs_deleted: r.legsDeleted, bindings_dropped: r.bindingsDropped,
  };
}
