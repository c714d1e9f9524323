import { type CanActivate, type INestApplication, Logger, type PipeTransform } from '@nestjs/common';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { accessLogTracker } from '../../common/access-log';
import { runInOrder } from '../../common/connection-order';
import { JsonErrorFilter } from '../../common/http-exception.filter';
import { requestIdOf } from '../../common/logger.params';
import { inspectJsonBuffer, strictJson } from '../../common/json-body-inspector';
import { JsonValidationPipe } from '../../common/json-validation.pipe';
import { describeApiError } from '../errors/api-error.filter';
import { BearerGuard } from '../../common/bearer.guard';
import { type LeanRoute, type LeanRoutes, leanRoutes } from './lean-routes';
import { httpCodeMetadataKey, resolvedSecurityHeaders, routingProblem, securityFeatureProblem, viewOf } from './nest-internals';

const ROUTE = Symbol('rtp:lean-route');
const PARAM = Symbol('rtp:lean-param');
const RES = Symbol('rtp:lean-res');
const CHUNKS = Symbol('rtp:lean-chunks');
const LANE = Symbol('rtp:lean-lane');

type LeanRequest = IncomingMessage & {
  [ROUTE]?: LeanRoute; [PARAM]?: string; [RES]?: ServerResponse; [CHUNKS]?: Buffer[]; [LANE]?: LeanLane;
};
type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/** A call id as a path segment the lane takes: RFC 3986 pchar (percent-encoding decoded as Express does). */
const PATH_SEGMENT = /^[A-Za-z0-9\-._~!$&'()*+,;=:@%]+$/;
const NOOP = (): void => undefined;
const lanes = new WeakMap<INestApplication, LeanLane>();

/**
 * The lean lane: the four hot requests (heartbeat, prepare, start, delete) served straight
 * from the Node HTTP server's `request` event, in front of Express or Fastify and of Nest's
 * router. It runs the same steps as the full path, with the same code: the security headers,
 * the access log and X-Request-Id, connection order, the JSON gate (inspectJsonBuffer), the
 * bearer check (BearerGuard.refusal), the validation pipe (JsonValidationPipe), the controller
 * method, and the `{"error"}` answer (describeApiError). What it skips is the frameworks'
 * per-request machinery: routers, middleware chains, body-parser, Nest's execution context
 * (what that saves: docs/performance-http.md).
 *
 * It takes a request only when the ordinary path would do nothing else with it: the exact
 * path (no query, no trailing slash, a well-formed escape in a call id), a body declared by Content-Length
 * within the limit, `application/json` with no charset but UTF-8, no Content-Encoding. Anything
 * else (a gzip body, chunked transfer, a path in capitals, a body on start) goes the full way,
 * untouched, and so do all other routes.
 *
 * It stays off when the app has anything the lane would skip: a global guard, pipe, filter or
 * interceptor other than this project's own (rate limiting's guard among them), request-scoped
 * enhancers, a global prefix, versioning, CSRF protection or another security feature but the
 * headers; and whenever it cannot read what it needs of Nest (nest-internals.ts: a private field
 * missing or of another shape, a setting it does not know, a Nest outside the checked range). `RTP_HTTP_LEAN=false` (or
 * `configureApp(app, { lean: false })`) turns it off. Middleware cannot be seen from here (Nest's
 * proxy of an app made by NestFactory does not let its methods be wrapped): middleware of your own
 * (`app.use()`, `app.enableCors()`, Fastify plugins, `NestModule.configure`) does not run on these
 * four requests; turn the lane off if you add some for them.
 */
export class LeanLane {
  private routes: LeanRoutes | null = null;
  private guard!: BearerGuard;
  private pipe!: PipeTransform;
  private state: 'unresolved' | 'on' | 'off' = 'unresolved';
  private reason = '';
  private readonly logger = new Logger('LeanLane');
  private readonly track = accessLogTracker();
  /**
   * The security headers as one flat name, value list, written with the answer's own in a
   * single `writeHead`: a `setHeader` per header validated, lowercased and stored each one
   * on every request (docs/performance.md, figures behind the code).
   * The headers the app removes are never set on a response the lane takes.
   */
  private readonly head: readonly string[] | undefined;

  constructor(
    private readonly app: INestApplication,
    private readonly limit: number,
    securityHeaders: ReadonlyArray<readonly [string, string]> | undefined,
  ) {
    this.head = securityHeaders?.flat();
  }

  /**
   * Puts the lane in front of the server's request listener (Express's app or Fastify's handler).
   * @param securityHeaders the options the app gave `useSecurityHeaders()`, resolved here as Nest does.
   */
  static install(app: INestApplication, limit: number, securityHeaders: object): LeanLane {
    const lane = new LeanLane(app, limit, resolvedSecurityHeaders(securityHeaders)?.headers);
    const server = app.getHttpServer() as Server;
    const listeners = server.listeners('request') as RequestListener[];
    server.removeAllListeners('request');
    const dispatch = listeners.length === 1
      ? listeners[0]
      : (req: IncomingMessage, res: ServerResponse) => { for (const l of listeners) l.call(server, req, res); };
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (!lane.take(req, res)) dispatch.call(server, req, res);
    });
    lanes.set(app, lane);
    return lane;
  }

  /** Whether the lane serves requests, and if not why; requests served per route. */
  stats(): { on: boolean; reason: string; served: Record<string, number> } {
    if (this.state === 'unresolved') this.resolve();
    const served: Record<string, number> = {};
    for (const r of Object.values(this.routes ?? {}) as LeanRoute[]) served[r.name] = r.served;
    return { on: this.state === 'on', reason: this.reason, served };
  }

  /** Serves the request and returns true, or returns false without touching it. */
  take(req: IncomingMessage, res: ServerResponse): boolean {
    const method = req.method;
    if (method !== 'POST' && method !== 'DELETE') return false;
    if (this.state !== 'on' && (this.state === 'off' || !this.resolve())) return false;
    const routes = this.routes!;
    const url = req.url ?? '';
    let route: LeanRoute | undefined;
    let param = '';
    if (method === 'POST') {
      if (url === '/v1/nodes/register') route = routes.register;
      else if (url === '/v1/calls') route = routes.prepare;
      else if (url.startsWith('/v1/calls/') && url.endsWith('/start')) {
        param = url.slice(10, -6);
        route = routes.start;
      }
    } else if (url.startsWith('/v1/calls/')) {
      param = url.slice(10);
      route = routes.remove;
    }
    if (!route) return false;
    if (route.dto === null) {
      if (!PATH_SEGMENT.test(param)) return false;
      // SIP Call-IDs carry '@', which clients send as %40. A malformed escape goes the full way (its 400).
      if (param.includes('%')) {
        try {
          param = decodeURIComponent(param);
        } catch {
          return false;
        }
      }
    }
    if (!this.fits(req, route)) return false;
    route.served++;
    // X-Request-Id and the security headers go out with the answer (see `head`).
    this.track(req, res, requestIdOf(req));
    const r = req as LeanRequest;
    r[ROUTE] = route;
    r[PARAM] = param;
    r[RES] = res;
    r[LANE] = this;
    runInOrder(req, res, begin);
    return true;
  }

  /** The headers say the full path would only read, gate and parse a JSON body (or take none). */
  private fits(req: IncomingMessage, route: LeanRoute): boolean {
    const h = req.headers;
    if (h['transfer-encoding'] !== undefined) return false;
    const length = h['content-length'];
    if (route.dto === null) return length === undefined || length === '0';
    if (h['content-encoding'] !== undefined || length === undefined || !/^[0-9]{1,9}$/.test(length)) return false;
    const n = Number(length);
    if (n === 0 || n > this.limit) return false;
    const type = h['content-type'];
    if (type === 'application/json') return true;
    const t = type?.toLowerCase().replace(/\s+/g, '');
    return t === 'application/json;charset=utf-8' || t === 'application/json;charset="utf-8"';
  }

  /** Once, on the first candidate request (after `init()`): whether the app has nothing the lane would skip. */
  private resolve(): boolean {
    const off = (reason: string): false => {
      this.state = 'off';
      this.reason = reason;
      this.logger.log(`lean lane off: ${reason}`);
      return false;
    };
    if (!this.head) return off('cannot resolve the security headers (a deep import of @nestjs/core)');
    const view = viewOf(this.app);
    if (!view.ok) return off(view.reason);
    if (!view.initialized) return false;
    const { config } = view;
    const problem = routingProblem(config) ?? securityFeatureProblem(view.securityFeatures);
    if (problem) return off(problem);
    const guards = config.getGlobalGuards() as CanActivate[];
    const pipes = config.getGlobalPipes();
    const foreign = [
      ...guards.filter((g) => !(g instanceof BearerGuard)),
      ...pipes.filter((p) => !(p instanceof JsonValidationPipe)),
      ...config.getGlobalFilters().filter((f) => !(f instanceof JsonErrorFilter)),
      ...config.getGlobalInterceptors(),
      ...config.getGlobalRequestGuards(), ...config.getGlobalRequestPipes(),
      ...config.getGlobalRequestFilters(), ...config.getGlobalRequestInterceptors(),
      ...config.getGlobalPreRequestHooks(),
    ];
    if (foreign.length) return off(`global enhancers the lane would skip: ${foreign.map((x) => (x as object).constructor?.name ?? 'unknown').join(', ')}`);
    // The token check the routes carry (HttpSurfaceModule exports the guard).
    let guard: BearerGuard | undefined;
    try {
      guard = this.app.get(BearerGuard, { strict: false });
    } catch {
      guard = undefined;
    }
    const pipe = pipes.find((p) => p instanceof JsonValidationPipe);
    if (!guard || !pipe) return off('the app lacks the bearer guard or the validation pipe');
    const httpCode = httpCodeMetadataKey();
    if (!httpCode) return off('cannot read @HttpCode (a deep import of @nestjs/common)');
    const routes = leanRoutes(this.app, httpCode);
    if (!routes) return off('the app lacks the registry or calls controller');
    this.routes = routes;
    this.guard = guard;
    this.pipe = pipe;
    this.state = 'on';
    this.reason = '';
    this.logger.log('lean lane on: POST /v1/nodes/register, POST /v1/calls, POST /v1/calls/{call_id}/start, DELETE /v1/calls/{call_id}');
    return true;
  }

  /** The request's turn on its connection has come: read the body (if any), then serve. */
  begin(r: LeanRequest): void {
    if (r[ROUTE]!.dto === null) {
      void this.serve(r, undefined);
      return;
    }
    r[CHUNKS] = [];
    // A client that goes away mid-body: the request errors (the access log notes the abort).
    r.on('error', NOOP);
    r.on('data', onData);
    r.on('end', onEnd);
  }

  async serve(r: LeanRequest, body: Buffer | undefined): Promise<void> {
    const route = r[ROUTE]!;
    const res = r[RES]!;
    try {
      let value: unknown;
      if (body) {
        const problem = inspectJsonBuffer(body);
        if (problem) return answerError(res, this.head!, problem.status, problem.error);
        value = strictJson(body);
        if (value === undefined) return answerError(res, this.head!, 400, 'malformed JSON body');
      }
      const refused = this.guard.refusal(route.token, r.headers.authorization);
      if (refused) {
        res.setHeader('WWW-Authenticate', 'Bearer');
        return answerError(res, this.head!, 401, refused);
      }
      const dto = route.dto ? await this.pipe.transform(value, { type: 'body', metatype: route.dto, data: undefined }) : undefined;
      answer(res, this.head!, route.status, await route.run(r[PARAM]!, dto));
    } catch (e) {
      const { status, error } = describeApiError(e, this.logger);
      answerError(res, this.head!, status, error);
    }
  }
}

/** The lane of an app set up by configureApp, if any (tests read its stats). */
export function leanLaneOf(app: INestApplication): LeanLane | undefined {
  return lanes.get(app);
}

function begin(req: IncomingMessage): void {
  const r = req as LeanRequest;
  r[LANE]!.begin(r);
}

function onData(this: LeanRequest, chunk: Buffer): void {
  this[CHUNKS]!.push(chunk);
}

function onEnd(this: LeanRequest): void {
  const chunks = this[CHUNKS]!;
  this[CHUNKS] = undefined;
  void this[LANE]!.serve(this, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks));
}

/**
 * The answer with every header in one block: the security headers, X-Request-Id (the id the
 * access log noted), and the body's type and length. A header set before (`WWW-Authenticate`)
 * is kept: Node merges the block into it.
 */
function answer(res: ServerResponse, head: readonly string[], status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const headers = head.slice();
  headers.push('X-Request-Id', res.req.id as string);
  if (body === undefined) {
    res.writeHead(status, headers);
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  headers.push('Content-Type', 'application/json; charset=utf-8', 'Content-Length', String(Buffer.byteLength(text)));
  res.writeHead(status, headers);
  res.end(text);
}

function answerError(res: ServerResponse, head: readonly string[], status: number, error: string): void {
  answer(res, head, status, { error });
}
