import { IsOptional, IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { NotDotSegment, Trim } from './validators';

/** `POST /v1/calls` body (CONTRACT §1). Unknown fields are refused. */
export class PrepareCallDto {
  /** SIP Call-ID: 1–256 printable characters, trimmed. */
  @ApiProperty({ example: 'a84b4c76e66710@pc33.atlanta.com', minLength: 1, maxLength: 256, description: 'SIP Call-ID: printable characters, trimmed.' })
  // class-validator checks in the order decorators apply (bottom up): the type first, so a
  // missing call_id says "must be a string", not "must not contain control characters".
  @Trim()
  // eslint-disable-next-line no-control-regex
  @Matches(/^[^\u0000-\u001f\u007f-\u009f]*$/, { message: 'call_id must not contain control characters' })
  // A lone surrogate (JSON allows "\ud800") makes an id that no URL can carry: the call
  // could never be started or deleted. SIP Call-IDs are UTF-8 text, so nothing real is refused.
  @Matches(/^\P{Cs}*$/u, { message: 'call_id must be well-formed Unicode (no lone surrogates)' })
  // `.` and `..` cannot be put in a URL path (clients resolve them away): such a call could
  // never be started or deleted.
  @NotDotSegment()
  @MaxLength(256) @MinLength(1, { message: 'call_id must not be empty' }) @IsString()
  call_id!: string;

  /** The caller's SDP offer, passed to the media node as is. */
  @ApiProperty({ example: 'v=0\r\no=- 1 1 IN IP4 10.0.0.9\r\n…', minLength: 1 })
  @IsString() @MinLength(1, { message: 'offer_sdp must not be empty' })
  offer_sdp!: string;

  /** Preferred region: its nodes are tried first. */
  @ApiPropertyOptional({ maxLength: 64, example: 'eu-west', description: 'Preferred region: its nodes are tried first.' })
  @IsOptional() @Trim() @IsString() @MaxLength(64)
  region?: string | null;
}
