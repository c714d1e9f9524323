import { ApiPropertyOptional } from '@nestjs/swagger';
import { IsInt, Max, Min, ValidateIf } from 'class-validator';

/** Longest drain deadline accepted (a day). */
export const MAX_DRAIN_DEADLINE_SEC = 86_400;

/**
 * `POST /v1/nodes/{node_id}/drain` body (CONTRACT §5): optional, and so is its one field.
 * An empty body drains without a deadline. Unknown fields are refused.
 */
export class DrainNodeDto {
  /** Seconds from now by which the node's calls should be gone; `drain_deadline` is emitted if some are still bound then. */
  @ApiPropertyOptional({ minimum: 1, maximum: MAX_DRAIN_DEADLINE_SEC, example: 300 })
  // Absent is fine, null is not (it is no number of seconds).
  @ValidateIf((o: DrainNodeDto) => o.deadline_sec !== undefined) @IsInt({ message: 'deadline_sec must be an integer' }) @Min(1) @Max(MAX_DRAIN_DEADLINE_SEC)
  deadline_sec?: number;
}
