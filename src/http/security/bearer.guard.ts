import {
  type CanActivate, type ExecutionContext, Inject, Injectable, Optional, SetMetadata, UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { IncomingMessage } from 'node:http';
import { bearerOf, safeEqual } from '../../common/bearer';
import { rawResponse } from '../../common/raw-http';

export { bearerOf, safeEqual };

/** Which token a route requires (CONTRACT §3). */
export type TokenKind = 'registry' | 'api';

/** Tokens the service checks; an unset token leaves its paths open. */
export interface AuthOptions {
  /** RTP_REGISTRY_TOKEN: register and deregister. */
  registryToken?: string;
  /** RTP_API_TOKEN: the calls API, node listing, admin paths. */
  apiToken?: string;
  /** Log one warning at start-up when a token is unset. @default true */
  warnIfOpen?: boolean;
}

export const AUTH_OPTIONS = Symbol('RTP_AUTH_OPTIONS');
const TOKEN_KIND = 'rtp:token-kind';

/** The token a route requires: its handler's mark, else its controller's; null when neither has one. */
export function tokenKindOf(cls: object, handler: object): TokenKind | null {
  return (Reflect.getMetadata(TOKEN_KIND, handler) ?? Reflect.getMetadata(TOKEN_KIND, cls) ?? null) as TokenKind | null;
}

/** Marks a controller or route as protected by the given token. */
export const RequireToken = (kind: TokenKind) => SetMetadata(TOKEN_KIND, kind);

/**
 * Checks `Authorization: Bearer …` against the token a route requires. 401 with
 * `WWW-Authenticate: Bearer` on a missing or wrong token; the token is never echoed.
 */
@Injectable()
export class BearerGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    @Optional() @Inject(AUTH_OPTIONS) private readonly options: AuthOptions = {},
  ) {}

  /** The token kind of each route (controller class, handler), resolved once: metadata is fixed after start-up. */
  private readonly kinds = new WeakMap<object, WeakMap<object, TokenKind | null>>();

  canActivate(ctx: ExecutionContext): boolean {
    const handler = ctx.getHandler();
    const cls = ctx.getClass();
    let byHandler = this.kinds.get(cls);
    if (!byHandler) this.kinds.set(cls, (byHandler = new WeakMap()));
    let kind = byHandler.get(handler);
    if (kind === undefined) {
      kind = this.reflector.getAllAndOverride<TokenKind | undefined>(TOKEN_KIND, [handler, cls]) ?? null;
      byHandler.set(handler, kind);
    }
    const req = ctx.switchToHttp().getRequest<Pick<IncomingMessage, 'headers'>>();
    const refused = this.refusal(kind, req.headers.authorization);
    if (!refused) return true;
    rawResponse(ctx.switchToHttp().getResponse()).setHeader('WWW-Authenticate', 'Bearer');
    throw new UnauthorizedException(refused);
  }

  /**
   * Why a request with this `Authorization` header may not use a route that requires `kind`
   * (null: no token required), or undefined when it may. The caller answers 401 with
   * `WWW-Authenticate: Bearer` and this message.
   */
  refusal(kind: TokenKind | null, authorization: string | undefined): string | undefined {
    if (!kind) return undefined;
    const expected = kind === 'registry' ? this.options.registryToken : this.options.apiToken;
    if (!expected) return undefined;
    const given = bearerOf(authorization);
    if (given !== undefined && safeEqual(given, expected)) return undefined;
    return given === undefined ? 'missing bearer token' : 'invalid bearer token';
  }
}
