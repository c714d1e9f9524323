import { Body, Controller, Delete, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import { NoBodyFields } from '../../common/no-body-fields';
import { ApiBearerAuth, ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiQuery, ApiTags } from '@nestjs/swagger';
import { RequireToken } from '../../common/bearer.guard';
import type {
  CallBinding, CallListResponse, MigrateCallResponse, PrepareCallResponse, StartCallResponse,
} from '../../contract/contract.types';
import { MigrateCallDto } from '../../contract/dto/migrate-call.dto';
import { PrepareCallDto } from '../../contract/dto/prepare-call.dto';
import {
  ApiErrors, CallBindingDto, CallListDto, MigrateCallResponseDto, PrepareCallResponseDto, StartCallResponseDto,
} from '../../contract/dto/responses.dto';
import { PoolService } from '../../pool/pool.service';
import { parseCallListQuery } from './call-list.query';
import { ContractRoutes } from '../surface/http-surface.module';

/** The calls API (CONTRACT §1) over {@link PoolService}. */
@ApiTags('calls')
@ApiBearerAuth('api')
@Controller('v1/calls')
// Token check, validation and {"error"} answers on every route, in any app.
@ContractRoutes()
// Only when RTP_RATE_LIMIT is set (off by default).
@ApiErrors({ 429: 'too many requests (rate limiting on: RTP_RATE_LIMIT); see Retry-After' })
@RequireToken('api')
export class CallsController {
  constructor(private readonly pool: PoolService) {}

  @Post()
  @HttpCode(201)
  @ApiCreatedResponse({ type: PrepareCallResponseDto, description: 'The node\'s answer plus where the call lives; a bound call id (re-INVITE) goes to its node only.' })
  @ApiErrors({
    400: 'invalid body', 401: 'missing or wrong API token', 413: 'body too large',
    422: 'every node tried refused the offer with a 4xx (its reason)', 502: 'every node tried failed (last cause)',
    503: 'no healthy rtp nodes',
  })
  prepare(@Body() dto: PrepareCallDto): Promise<PrepareCallResponse> {
    return this.pool.prepare(dto.call_id, dto.offer_sdp, { region: dto.region || undefined });
  }

  @Get()
  @ApiQuery({ name: 'node_id', required: false, description: 'Only this node\'s calls (default: every node\'s).' })
  @ApiQuery({ name: 'limit', required: false, description: '1–1,000 calls per page, default 100.' })
  @ApiQuery({ name: 'cursor', required: false, description: 'next_cursor of the previous page.' })
  @ApiOkResponse({ type: CallListDto, description: 'One page of bindings, by call id.' })
  @ApiErrors({ 400: 'bad node_id, limit or cursor', 401: 'missing or wrong API token' })
  list(@Query('node_id') nodeId: unknown, @Query('limit') limit: unknown, @Query('cursor') cursor: unknown): Promise<CallListResponse> {
    return this.pool.listCalls(parseCallListQuery(nodeId, limit, cursor));
  }

  @Get(':call_id')
  @ApiOkResponse({ type: CallBindingDto })
  @ApiErrors({ 400: 'invalid call id', 401: 'missing or wrong API token', 404: 'call not found' })
  get(@Param('call_id') callId: string): Promise<CallBinding> {
    return this.pool.getCall(callId);
  }

  @Post(':call_id/start')
  @HttpCode(200)
  @ApiOkResponse({ type: StartCallResponseDto, description: 'Start (ACK) sent to the call\'s node.' })
  @ApiErrors({ 400: 'invalid call id', 401: 'missing or wrong API token', 404: 'no binding', 502: 'node failed' })
  start(@Param('call_id') callId: string, @NoBodyFields() _body?: undefined): Promise<StartCallResponse> {
    return this.pool.start(callId);
  }

  @Post(':call_id/migrate')
  @HttpCode(200)
  @ApiOkResponse({ type: MigrateCallResponseDto, description: 'The new node\'s answer, where the call lives now and where it was.' })
  @ApiErrors({
    400: 'invalid call id or body', 401: 'missing or wrong API token', 404: 'no binding',
    409: 'a migration of this call, or a cleanup of a leftover leg of it, is already running; retry', 422: 'every node tried refused the offer',
    502: 'every node tried failed', 503: 'no other eligible node',
  })
  migrate(@Param('call_id') callId: string, @Body() dto: MigrateCallDto): Promise<MigrateCallResponse> {
    return this.pool.migrate(callId, dto.offer_sdp, { nodeId: dto.node_id });
  }

  @Delete(':call_id')
  @HttpCode(204)
  @ApiNoContentResponse({ description: 'Deleted (BYE); the binding is gone.' })
  @ApiErrors({ 400: 'invalid call id', 401: 'missing or wrong API token', 404: 'no binding', 502: 'node failed (the binding is removed all the same)' })
  async delete(@Param('call_id') callId: string): Promise<void> {
    await this.pool.delete(callId);
  }
}
