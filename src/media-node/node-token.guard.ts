import { type CanActivate, type ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import type { Request, Response } from 'express';
import { bearerOf, safeEqual } from '../common/bearer';
import type { MediaNodeConfig } from './media-node.config';
import { InjectMediaNodeConfig } from './media-node.constants';

/** `RTP_NODE_TOKEN` (CONTRACT §3): when set, the leg paths require `Authorization: Bearer …`. */
@Injectable()
export class NodeTokenGuard implements CanActivate {
  constructor(@InjectMediaNodeConfig() private readonly config: MediaNodeConfig) {}

  canActivate(ctx: ExecutionContext): boolean {
    const expected = this.config.nodeToken;
    if (!expected) return true;
    const given = bearerOf(ctx.switchToHttp().getRequest<Request>().headers.authorization);
    if (given !== undefined && safeEqual(given, expected)) return true;
    ctx.switchToHttp().getResponse<Response>().setHeader('WWW-Authenticate', 'Bearer');
    throw new UnauthorizedException(given === undefined ? 'missing bearer token' : 'invalid bearer token');
  }
}
