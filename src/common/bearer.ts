import { SetMetadata } from '@nestjs/common';
import { createHash, timingSafeEqual } from 'node:crypto';

/** Compares two secrets in constant time (hashing first so lengths do not leak). */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** Extracts the bearer token of an `Authorization` header, or undefined. */
export function bearerOf(header: string | undefined): string | undefined {
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return m?.[1];
}

/** Which token a route requires (CONTRACT §3). */
export type TokenKind = 'registry' | 'api';

export const TOKEN_KIND = 'rtp:token-kind';

/** The token a route requires: its handler's mark, else its controller's; null when neither has one. */
export function tokenKindOf(cls: object, handler: object): TokenKind | null {
  return (Reflect.getMetadata(TOKEN_KIND, handler) ?? Reflect.getMetadata(TOKEN_KIND, cls) ?? null) as TokenKind | null;
}

/**
 * Marks a controller or route as protected by the given token. It lives here, below http/ and ops/,
 * because both mark routes; BearerGuard (http/security) reads the mark.
 */
export const RequireToken = (kind: TokenKind) => SetMetadata(TOKEN_KIND, kind);
