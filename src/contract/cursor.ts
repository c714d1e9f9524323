import { BadRequestException } from '@nestjs/common';
import { MAX_CALL_ID_LENGTH, normalizeCallId } from './call-id';

/** 400: a `cursor` that no page of this service handed out. */
export class InvalidCursorException extends BadRequestException {
  constructor() { super('cursor is not valid (pass the next_cursor of an earlier page, or omit it)'); }
}

/**
 * `next_cursor` of `GET /v1/calls` (CONTRACT §5): opaque to clients. It is the last call id
 * of the page (stores page by call id, after an exclusive cursor), base64url-encoded.
 */
export function encodeCallCursor(lastCallId: string): string {
  return Buffer.from(lastCallId, 'utf8').toString('base64url');
}

/** The call id inside a cursor; 400 for anything no page made. */
export function decodeCallCursor(cursor: string): string {
  if (!/^[A-Za-z0-9_-]{1,1400}$/.test(cursor)) throw new InvalidCursorException();
  const id = Buffer.from(cursor, 'base64url').toString('utf8');
  // Only what encodeCallCursor makes: the same text back, a call id the pool accepts.
  if (encodeCallCursor(id) !== cursor || id.length > MAX_CALL_ID_LENGTH) throw new InvalidCursorException();
  try {
    if (normalizeCallId(id) !== id) throw new InvalidCursorException();
  } catch {
    throw new InvalidCursorException();
  }
  return id;
}
