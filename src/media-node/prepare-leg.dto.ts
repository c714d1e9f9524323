import { IsString, Matches, MaxLength, MinLength } from 'class-validator';
import { NotDotSegment, Trim } from '../contract/dto/validators';

/** `POST /v1/legs` body (CONTRACT §2). Unknown fields are refused. */
export class PrepareLegDto {
  /** The call's SIP Call-ID: 1–256 printable characters, trimmed. */
  @Trim() @IsString() @MinLength(1, { message: 'call_id must not be empty' }) @MaxLength(256)
  // eslint-disable-next-line no-control-regex
  @Matches(/^[^\u0000-\u001f\u007f-\u009f]*$/, { message: 'call_id must not contain control characters' })
  // `.` and `..` cannot be put in the URL path of start and delete (the pool refuses them too).
  @NotDotSegment()
  call_id!: string;

  /** The caller's SDP offer. */
  @IsString() @MinLength(1, { message: 'offer_sdp must not be empty' }) @MaxLength(65536)
  offer_sdp!: string;
}
