import type { INestApplication, Type } from '@nestjs/common';
import { type TokenKind, tokenKindOf } from '../../common/bearer.guard';
import { CallsController } from '../calls/calls.controller';
import { NodesController } from '../registry/nodes.controller';

/**
 * One hot route as the lean lane serves it. Everything but the path is read from the
 * controller method itself (its `@HttpCode`, its `@RequireToken`, its `@Body()` DTO), so
 * the controller stays the one definition of the route.
 */
export interface LeanRoute {
  /** `POST /v1/calls`-style name, for logs and counters. */
  readonly name: string;
  /** The DTO of the JSON body; null for a route that takes no body. */
  readonly dto: Type<object> | null;
  /** The status of a success (the method's `@HttpCode`). */
  readonly status: number;
  /** The token the route requires. */
  readonly token: TokenKind | null;
  /** The controller method, with the path parameter (if any) and the validated DTO. */
  readonly run: (param: string, dto: unknown) => Promise<unknown>;
  /** Requests this route has served (`LeanLane.stats()`). */
  served: number;
}

export interface LeanRoutes {
  register: LeanRoute;
  prepare: LeanRoute;
  start: LeanRoute;
  remove: LeanRoute;
}

/**
 * The four requests a signaling tier sends most: the heartbeat (`POST /v1/nodes/register`),
 * and a call's prepare, start and delete. Null when the app has not got both controllers
 * (a Nest app of the user's own built from parts of this library).
 */
/** @param httpCode the metadata key of `@HttpCode` (nest-internals.ts). */
export function leanRoutes(app: INestApplication, httpCode: string): LeanRoutes | null {
  let nodes: NodesController;
  let calls: CallsController;
  try {
    nodes = app.get(NodesController, { strict: false });
    calls = app.get(CallsController, { strict: false });
  } catch {
    return null;
  }
  return {
    register: route(httpCode, NodesController, 'register', 'POST /v1/nodes/register', true, (_, dto) => nodes.register(dto as never)),
    prepare: route(httpCode, CallsController, 'prepare', 'POST /v1/calls', true, (_, dto) => calls.prepare(dto as never)),
    start: route(httpCode, CallsController, 'start', 'POST /v1/calls/{call_id}/start', false, (id) => calls.start(id)),
    remove: route(httpCode, CallsController, 'delete', 'DELETE /v1/calls/{call_id}', false, (id) => calls.delete(id)),
  };
}

function route(httpCode: string, cls: Type<object>, method: string, name: string, hasBody: boolean, run: LeanRoute['run']): LeanRoute {
  const handler = (cls.prototype as Record<string, object>)[method];
  const status = Reflect.getMetadata(httpCode, handler) as number | undefined;
  if (typeof status !== 'number') throw new Error(`lean lane: ${cls.name}.${method} has no @HttpCode`);
  const dto = hasBody ? (Reflect.getMetadata('design:paramtypes', cls.prototype, method) as Type<object>[])[0] : null;
  return { name, dto, status, token: tokenKindOf(cls, handler), run, served: 0 };
}
