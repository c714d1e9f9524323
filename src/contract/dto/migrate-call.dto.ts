import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { Trim } from './validators';

/** `POST /v1/calls/{call_id}/migrate` body (CONTRACT §5). Unknown fields are refused. */
export class MigrateCallDto {
  /** The offer for the new leg (the caller's SDP, as for a prepare). */
  @ApiProperty({ example: 'v=0\r\no=- 1 2 IN IP4 10.0.0.9\r\n…', minLength: 1 })
  @IsString() @MinLength(1, { message: 'offer_sdp must not be empty' })
  offer_sdp!: string;

  /** Move the call to this node only; without it, to any eligible node but its current one. */
  @ApiPropertyOptional({ example: 'rtp-b', maxLength: 128, description: 'Target node (the pool\'s id); default: any other eligible node.' })
  @IsOptional() @Trim() @Matches(/^[A-Za-z0-9._:-]+$/, { message: 'node_id may contain only A-Z a-z 0-9 . _ : -' })
  @MaxLength(128) @MinLength(1) @IsString()
  node_id?: string;
}
