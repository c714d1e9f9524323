import { PoolError } from './pool-error';

/** RTP_INVALID_ID: a call id or node id that is not acceptable; the message names the problem. */
export class InvalidIdException extends PoolError {
  constructor(message: string) { super('RTP_INVALID_ID', message); }
}

/** Longest accepted call id, in UTF-16 code units (CONTRACT §1 "Inputs"). */
export const MAX_CALL_ID_LENGTH = 256;
// C0 controls and DEL; C1 controls too (they have no business in a SIP header value).
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;
// In a `u` regex a well-formed pair is one code point: only a lone surrogate is \p{Cs}.
const LONE_SURROGATE = /\p{Cs}/u;

/** Trims and checks a call id (CONTRACT §1 "Inputs"); throws a 400 naming the problem. */
export function normalizeCallId(raw: unknown): string {
  if (typeof raw !== 'string') throw new InvalidIdException('call_id must be a string');
  const id = raw.trim();
  if (id.length === 0) throw new InvalidIdException('call_id must not be empty');
  if (id.length > MAX_CALL_ID_LENGTH) throw new InvalidIdException(`call_id must be at most ${MAX_CALL_ID_LENGTH} characters`);
  if (CONTROL_CHARS.test(id)) throw new InvalidIdException('call_id must not contain control characters');
  if (LONE_SURROGATE.test(id)) throw new InvalidIdException('call_id must be well-formed Unicode (no lone surrogates)');
  if (id === '.' || id === '..') throw new InvalidIdException('call_id must not be "." or ".." (a URL dot segment)');
  return id;
}
