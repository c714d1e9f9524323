import {
  type CanActivate, type ExecutionContext, Inject, Injectable, Optional, UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { IncomingMessage } from 'node:http';
import { bearerOf, RequireToken, safeEqual, TOKEN_KIND, type TokenKind, tokenKindOf } from './bearer';
import { rawResponse } from './raw-http';

export { bearerOf, RequireToken, safeEqual, type TokenKind, tokenKindOf };

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
