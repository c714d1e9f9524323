import { applyDecorators } from '@nestjs/common';
import { ApiProperty, ApiResponse } from '@nestjs/swagger';
import type {
  CallBinding, CallListResponse, ErrorResponse, MigrateCallResponse, NodeInfo, PrepareCallResponse, RegisterNodeResponse,
  StartCallResponse,
} from '../contract.types';

/*
 * OpenAPI schemas of the answers (CONTRACT §1). The wire types stay interfaces in
 * contract.types.ts; each class here `implements` its interface, so the document cannot
 * drift from what the controllers return without the compiler saying so.
 */

/** Every error body, from every path. */
export class ErrorResponseDto implements ErrorResponse {
  @ApiProperty({ example: 'node not found', description: 'Human-readable reason.' })
  error!: string;
}

export class RegisterNodeResponseDto implements RegisterNodeResponse {
  @ApiProperty({ example: 'rtp-a' }) node_id!: string;
  @ApiProperty({ example: 45, description: 'Seconds the node may stay silent before it is pruned.' }) ttl_sec!: number;
  @ApiProperty({ example: 10, description: 'Extension: the heartbeat interval the registrar should use.' }) heartbeat_sec!: number;
}

export class NodeInfoDto implements NodeInfo {
  @ApiProperty({ example: 'rtp-a' }) node_id!: string;
  @ApiProperty({ example: 'http://10.0.0.5:8090' }) control_url!: string;
  @ApiProperty({ example: '10.0.0.5' }) media_ip!: string;
  @ApiProperty({ example: 12, description: 'Legs the node last reported.' }) active_legs!: number;
  @ApiProperty() healthy!: boolean;
  @ApiProperty({ description: 'A static seed from RTP_CONTROL_URLS.' }) static!: boolean;
  @ApiProperty({ type: 'integer', nullable: true, example: 500, description: 'Extension: max legs, null when unbounded.' })
  capacity!: number | null;
  @ApiProperty({ example: 1, description: 'Extension: relative share for weighted strategies.' }) weight!: number;
  @ApiProperty({ type: 'string', nullable: true, example: 'eu-west', description: 'Extension: region label, null when unset.' })
  region!: string | null;
  @ApiProperty({ description: 'Extension: reported or operator drain.' }) draining!: boolean;
  @ApiProperty({ format: 'date-time', description: 'Extension: last heartbeat (start-up for static seeds).' }) last_seen!: string;
  @ApiProperty({ example: 3, description: 'Extension: calls this pool has bound to the node.' }) bound_calls!: number;
  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'Extension: deadline of an operator drain (null without one).' })
  drain_deadline!: string | null;
}

export class NodeListDto {
  @ApiProperty({ type: [NodeInfoDto], description: 'In registration order, static seeds first.' })
  nodes!: NodeInfoDto[];
}

export class PrepareCallResponseDto implements PrepareCallResponse {
  @ApiProperty({ example: 'a84b4c76e66710@pc33.atlanta.com' }) call_id!: string;
  @ApiProperty({ example: 'rtp-a', description: 'The pool\'s id for the node (as GET /v1/nodes lists it).' }) node_id!: string;
  @ApiProperty({ example: '10.0.0.5' }) media_ip!: string;
  @ApiProperty({ example: 40002 }) media_port!: number;
  @ApiProperty({ example: 'PCMU' }) codec!: string;
  @ApiProperty({ example: 'http://10.0.0.5:8090' }) control_url!: string;
}

export class CallBindingDto implements CallBinding {
  @ApiProperty() call_id!: string;
  @ApiProperty() node_id!: string;
  @ApiProperty() control_url!: string;
  @ApiProperty() media_ip!: string;
  @ApiProperty() media_port!: number;
  @ApiProperty() codec!: string;
  @ApiProperty({ description: 'Start (ACK) was sent.' }) started!: boolean;
  @ApiProperty({ format: 'date-time' }) created_at!: string;
}

export class MigrateCallResponseDto extends PrepareCallResponseDto implements MigrateCallResponse {
  @ApiProperty({ description: 'The node the call was on before.' }) previous_node_id!: string;
}

export class CallListDto implements CallListResponse {
  @ApiProperty({ type: [CallBindingDto] }) calls!: CallBindingDto[];
  @ApiProperty({ type: String, nullable: true, description: 'Pass as cursor for the next page; null on the last page.' })
  next_cursor!: string | null;
}

export class StartCallResponseDto implements StartCallResponse {
  @ApiProperty() call_id!: string;
  @ApiProperty() node_id!: string;
}


/**
 * Documents a route's error answers, each `{"error": …}` (ErrorResponseDto):
 * `@ApiErrors({ 400: 'invalid body', 404: 'node not found' })`.
 */
export function ApiErrors(errors: Record<number, string>): MethodDecorator & ClassDecorator {
  return applyDecorators(
    ...Object.entries(errors).map(([status, description]) => ApiResponse({ status: Number(status), description, type: ErrorResponseDto })),
  );
}
