import { PoolError } from './pool-error';

/** RTP_INVALID_CURSOR: a `cursor` that no page of this service handed out. */
export class InvalidCursorException extends PoolError {
  constructor() { super('RTP_INVALID_CURSOR', 'cursor is not valid (pass the next_cursor of an earlier page, or omit it)'); }
}

/**
 * `next_cursor` of `GET /v1/calls` (CONTRACT §5): opaque to clients. It wraps the store's
 * own position (the memory store's last call id, the Redis store's `<expiresAt>:<callId>`)
 * in base64url; a store refuses a position it did not make with this exception too.
 */
export function encodeCallCursor(position: string): string {
  return Buffer.from(position, 'utf8').toString('base64url');
}

/** The store position inside a cursor; 400 for anything that is not one of ours. */
export function decodeCallCursor(cursor: string): string {
  if (!/^[A-Za-z0-9_-]{1,2048}$/.test(cursor)) throw new InvalidCursorException();
  const position = Buffer.from(cursor, 'base64url').toString('utf8');
  // Only what encodeCallCursor makes: the same text back, and no control characters.
  // eslint-disable-next-line no-control-regex
  if (encodeCallCursor(position) !== cursor || /[\u0000-\u001f\u007f]/.test(position)) throw new InvalidCursorException();
  return position;
}
