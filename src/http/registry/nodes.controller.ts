import { Body, Controller, Delete, Get, HttpCode, Optional, Param, Post } from '@nestjs/common';
import { NoBodyFields } from '../../common/no-body-fields';
import { ApiBearerAuth, ApiBody, ApiNoContentResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { RequireToken } from '../../common/bearer.guard';
import type { NodeInfo, RegisterNodeResponse } from '../../contract/contract.types';
import { DrainNodeDto } from '../../contract/dto/drain-node.dto';
import { RegisterNodeDto } from '../../contract/dto/register-node.dto';
import { ApiErrors, NodeInfoDto, NodeListDto, RegisterNodeResponseDto } from '../../contract/dto/responses.dto';
import { PoolService } from '../../pool/pool.service';
import { OptionalBody } from '../../common/optional-body';
import { NodeUrlPolicy } from '../security/node-url-policy';
import { ContractRoutes } from '../surface/http-surface.module';

/** The registry (CONTRACT §1): media nodes register/heartbeat and deregister; operators list and drain. */
@ApiTags('registry')
@Controller('v1/nodes')
// Token check, validation and {"error"} answers on every route, in any app.
@ContractRoutes()
// Only when RTP_RATE_LIMIT is set (off by default).
@ApiErrors({ 429: 'too many requests (rate limiting on: RTP_RATE_LIMIT); see Retry-After' })
export class NodesController {
  constructor(
    private readonly pool: PoolService,
    /** The control_url allow-list (SecurityModule); absent: any host. */
    @Optional() private readonly urlPolicy?: NodeUrlPolicy,
  ) {}

  @Post('register')
  @HttpCode(200)
  @RequireToken('registry')
  @ApiBearerAuth('registry')
  @ApiOkResponse({ type: RegisterNodeResponseDto, description: 'Registered or refreshed (the heartbeat).' })
  @ApiErrors({ 400: 'invalid body', 401: 'missing or wrong registry token', 409: 'node_id belongs to a static seed node', 413: 'body too large' })
  async register(@Body() dto: RegisterNodeDto): Promise<RegisterNodeResponse> {
    await this.urlPolicy?.check(dto.control_url);
    return this.pool.register({
      nodeId: dto.node_id, controlUrl: dto.control_url, mediaIp: dto.media_ip, activeLegs: dto.active_legs,
      capacity: dto.capacity, weight: dto.weight, region: dto.region || null, draining: dto.draining,
    });
  }

  @Get()
  @RequireToken('api')
  @ApiBearerAuth('api')
  @ApiOkResponse({ type: NodeListDto })
  @ApiErrors({ 401: 'missing or wrong API token (when RTP_API_TOKEN is set)' })
  async list(): Promise<{ nodes: NodeInfo[] }> {
    return { nodes: await this.pool.nodeInfos() };
  }

  @Get(':node_id')
  @RequireToken('api')
  @ApiBearerAuth('api')
  @ApiOkResponse({ type: NodeInfoDto })
  @ApiErrors({ 401: 'missing or wrong API token', 404: 'node not found' })
  get(@Param('node_id') nodeId: string): Promise<NodeInfo> {
    return this.pool.nodeInfo(nodeId);
  }

  @Delete(':node_id')
  @HttpCode(204)
  @RequireToken('registry')
  @ApiBearerAuth('registry')
  @ApiNoContentResponse({ description: 'Deregistered; its bindings stay.' })
  @ApiErrors({ 401: 'missing or wrong registry token', 404: 'node not found (unknown or static)' })
  async deregister(@Param('node_id') nodeId: string): Promise<void> {
    await this.pool.unregister(nodeId);
  }

  @Post(':node_id/drain')
  @HttpCode(200)
  @RequireToken('api')
  @ApiBearerAuth('api')
  @ApiBody({ type: DrainNodeDto, required: false })
  @ApiOkResponse({ type: NodeInfoDto, description: 'Operator drain: keeps its calls, gets no new ones; heartbeats do not clear it. With deadline_sec, drain_deadline is emitted when it passes with calls still bound.' })
  @ApiErrors({ 400: 'invalid body', 401: 'missing or wrong API token', 404: 'node not found' })
  drain(@Param('node_id') nodeId: string, @OptionalBody(DrainNodeDto) dto: DrainNodeDto): Promise<NodeInfo> {
    return this.pool.drain(nodeId, dto.deadline_sec);
  }

  @Post(':node_id/undrain')
  @HttpCode(200)
  @RequireToken('api')
  @ApiBearerAuth('api')
  @ApiOkResponse({ type: NodeInfoDto, description: 'Clears an operator drain.' })
  @ApiErrors({ 401: 'missing or wrong API token', 404: 'node not found' })
  undrain(@Param('node_id') nodeId: string, @NoBodyFields() _body?: undefined): Promise<NodeInfo> {
    return this.pool.undrain(nodeId);
  }
}
