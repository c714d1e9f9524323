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
}

export const AUTH_OPTIONS = Symbol('RTP_AUTH_OPTIONS');
const TOKEN_KIND = 'rtp:token-kind';

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

  canActivate(ctx: ExecutionContext): boolean {
    const kind = this.reflector.getAllAndOverride<TokenKind | undefined>(TOKEN_KIND, [ctx.getHandler(), ctx.getClass()]);
    if (!kind) return true;
    const expected = kind === 'registry' ? this.options.registryToken : this.options.apiToken;
    if (!expected) return true;
    const req = ctx.switchToHttp().getRequest<Pick<IncomingMessage, 'headers'>>();
    const given = bearerOf(req.headers.authorization);
    if (given !== undefined && safeEqual(given, expected)) return true;
    rawResponse(ctx.switchToHttp().getResponse()).setHeader('WWW-Authenticate', 'Bearer');
    throw new UnauthorizedException(given === undefined ? 'missing bearer token' : 'invalid bearer token');
  }
}
