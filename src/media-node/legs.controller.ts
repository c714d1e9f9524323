import { Body, Controller, Delete, Get, HttpCode, Param, Post, UseGuards } from '@nestjs/common';
import { NoBodyFields } from '../common/no-body-fields';
import type { HealthResponse, PrepareLegResponse } from '../contract/contract.types';
import type { MediaNodeConfig } from './media-node.config';
import { InjectMediaNodeConfig } from './media-node.constants';
import { type LegInfo, LegsService } from './legs.service';
import { NodeIdentity } from './node-identity';
import { NodeTokenGuard } from './node-token.guard';
import { PrepareLegDto } from './prepare-leg.dto';

/** The leg API every media node serves (CONTRACT §2), with the exact statuses the pool expects. */
@Controller('v1/legs')
@UseGuards(NodeTokenGuard)
export class LegsController {
  constructor(private readonly legs: LegsService) {}

  @Post()
  @HttpCode(201)
  prepare(@Body() dto: PrepareLegDto): Promise<PrepareLegResponse> {
    return this.legs.prepare(dto.call_id, dto.offer_sdp);
  }

  /** Extension: the node's legs and their packet counters. */
  @Get()
  list(): { legs: LegInfo[] } {
    return { legs: this.legs.list() };
  }

  @Post(':call_id/start')
  @HttpCode(200)
  async start(@Param('call_id') callId: string, @NoBodyFields() _body?: undefined): Promise<{ status: string }> {
    await this.legs.start(callId);
    return { status: 'active' };
  }

  @Delete(':call_id')
  @HttpCode(204)
  async remove(@Param('call_id') callId: string): Promise<void> {
    await this.legs.delete(callId);
  }
}

/** `GET /v1/health`: open even when RTP_NODE_TOKEN is set. */
@Controller('v1/health')
export class HealthController {
  constructor(
    private readonly legs: LegsService,
    private readonly identity: NodeIdentity,
    @InjectMediaNodeConfig() private readonly config: MediaNodeConfig,
  ) {}

  @Get()
  health(): HealthResponse {
    return {
      status: 'ok', node_id: this.identity.nodeId, active_legs: this.legs.activeLegs(), media_ip: this.config.mediaIp,
      capacity: this.config.maxLegs > 0 ? this.config.maxLegs : null, draining: this.legs.draining,
    };
  }
}
