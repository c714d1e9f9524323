import { BadRequestException } from '@nestjs/common';
import { decodeCallCursor } from '../../contract/cursor';

/** Calls per page of `GET /v1/calls`: default and bounds (CONTRACT §5). */
export const CALL_LIST_DEFAULT_LIMIT = 100;
export const CALL_LIST_MAX_LIMIT = 1_000;

/** A parsed `GET /v1/calls` query. */
export interface CallListQuery {
  nodeId?: string;
  limit: number;
  /** The call id the page starts after (decoded from the cursor). */
  after?: string;
}

/** Checks the query of `GET /v1/calls`; 400 naming the first bad parameter. A repeated parameter is bad. */
export function parseCallListQuery(nodeId: unknown, limit: unknown, cursor: unknown): CallListQuery {
  const q: CallListQuery = { limit: CALL_LIST_DEFAULT_LIMIT };
  // Both adapters' query parsers make an array of a repeated parameter: which one was meant is unknown.
  for (const [name, v] of [['node_id', nodeId], ['limit', limit], ['cursor', cursor]] as const) {
    if (Array.isArray(v)) throw new BadRequestException(`${name} must be given once`);
  }
  if (nodeId !== undefined) {
    if (typeof nodeId !== 'string' || !/^[A-Za-z0-9._:-]{1,128}$/.test(nodeId.trim())) {
      throw new BadRequestException('node_id must be 1-128 characters of A-Z a-z 0-9 . _ : -');
    }
    q.nodeId = nodeId.trim();
  }
  if (limit !== undefined) {
    if (typeof limit !== 'string' || !/^\d{1,4}$/.test(limit) || +limit < 1 || +limit > CALL_LIST_MAX_LIMIT) {
      throw new BadRequestException(`limit must be an integer from 1 to ${CALL_LIST_MAX_LIMIT}`);
    }
    q.limit = Number(limit);
  }
  if (cursor !== undefined) {
    if (typeof cursor !== 'string') throw new BadRequestException('cursor must be given once');
    q.after = decodeCallCursor(cursor);
  }
  return q;
}
