import { IsBoolean, IsInt, IsNumber, IsOptional, IsString, Matches, Max, MaxLength, Min, IsPositive } from 'class-validator';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { IsControlUrl, NormalizeUrl, NotOnlyDots, Trim } from './validators';

/** 1–128 chars of `A-Z a-z 0-9 . _ : -`, not only dots (`.` and `..` cannot be addressed in a URL path). */
export const NODE_ID_PATTERN = /^(?!\.+$)[A-Za-z0-9._:-]{1,128}$/;
export const MAX_ACTIVE_LEGS = 10_000_000;

/** `POST /v1/nodes/register` body (CONTRACT §1). Unknown fields are refused. */
export class RegisterNodeDto {
  /** 1–128 chars of `A-Z a-z 0-9 . _ : -`, not only dots, trimmed. */
  @ApiProperty({ example: 'rtp-a', pattern: NODE_ID_PATTERN.source, maxLength: 128 })
  // Checked bottom up (stopping at the first error): a string, not only dots (its own
  // message; the pattern refuses it too), then the characters.
  @Trim() @Matches(NODE_ID_PATTERN, { message: 'node_id must be 1-128 characters of A-Z a-z 0-9 . _ : -' }) @NotOnlyDots() @IsString()
  node_id!: string;

  /** Absolute http/https URL, no user-info, no query/fragment, port 1-65535, host not 0.0.0.0/::; stored canonical, without trailing `/`. */
  @ApiProperty({ example: 'http://10.0.0.5:8090', maxLength: 2048, description: 'Absolute http(s) URL, no user-info, query, fragment, control characters or backslashes; port 1-65535; host not 0.0.0.0 or ::. Stored in canonical form without trailing /.' })
  @NormalizeUrl() @IsString() @MaxLength(2048) @IsControlUrl()
  control_url!: string;

  /** IP literal or host name. */
  @ApiPropertyOptional({ example: '10.0.0.5', maxLength: 255 })
  @IsOptional() @Trim() @IsString() @MaxLength(255)
  @Matches(/^[A-Za-z0-9.:%_\-[\]]*$/, { message: 'media_ip must be an IP literal or a host name' })
  media_ip?: string;

  /** Legs the node holds now; omitted means 0. */
  @ApiPropertyOptional({ type: 'integer', minimum: 0, maximum: MAX_ACTIVE_LEGS, default: 0 })
  @IsOptional() @IsInt() @Min(0) @Max(MAX_ACTIVE_LEGS)
  active_legs?: number;

  /** Extension: max legs. */
  @ApiPropertyOptional({ type: 'integer', minimum: 1, maximum: MAX_ACTIVE_LEGS, description: 'Extension: max legs; a node at capacity is not selected.' })
  @IsOptional() @IsInt() @Min(1) @Max(MAX_ACTIVE_LEGS)
  capacity?: number | null;

  /** Extension: relative share for weighted strategies. */
  @ApiPropertyOptional({ minimum: 0, exclusiveMinimum: true, maximum: 1_000_000, default: 1, description: 'Extension: relative share for weighted strategies.' })
  @IsOptional() @IsNumber({ allowNaN: false, allowInfinity: false }) @IsPositive() @Max(1_000_000)
  weight?: number;

  /** Extension: region label. */
  @ApiPropertyOptional({ type: 'string', maxLength: 64, example: 'eu-west', description: 'Extension: region label.' })
  @IsOptional() @Trim() @IsString() @MaxLength(64)
  region?: string | null;

  /** Extension: keeps its calls, gets no new ones. */
  @ApiPropertyOptional({ default: false, description: 'Extension: keeps its calls, gets no new ones.' })
  @IsOptional() @IsBoolean()
  draining?: boolean;
}
