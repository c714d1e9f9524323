import type { ExceptionFilter, INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import type { Server } from 'node:http';
import { JsonErrorFilter } from './http-exception.filter';
import { JsonValidationPipe } from './json-validation.pipe';
import { hardenHttpServer } from './http-server-hardening';
import { jsonBodyVerifier } from './json-body-inspector';
import { configureFastifyJsonBody } from './json-app.fastify';
import { accessLogMiddleware } from './access-log';
import { connectionOrder } from './connection-order';
import { MALFORMED_PATH, normalizePathEscapes, takesBody } from './request-shape';

/** Largest accepted body in bytes when none is configured (413 beyond). */
export const DEFAULT_MAX_BODY_BYTES = 256 * 1024;

export interface JsonAppOptions {
  /** Largest accepted body in bytes (413 beyond). @default 262144 */
  maxBodyBytes?: number;
  /** Milliseconds a client may take to send a whole request (408 beyond); 0 = Node's 5 minutes. @default 30000 */
  requestTimeoutMs?: number;
}

/**
 * What every JSON API of this project needs, the signaling service and the reference
 * media node alike: body limits, the JSON-only rule, the JSON gate on the raw bytes,
 * the validation pipe and the `{"error"}` filter (`errorFilter`: the signaling service's knows
 * the pool's error codes).
 */
export function configureJsonApp(
  app: INestApplication, opts: JsonAppOptions = {}, errorFilter: ExceptionFilter = new JsonErrorFilter(app.getHttpAdapter()),
): INestApplication {
  const ex = app as NestExpressApplication;
  appJsonGates.add(app.getHttpAdapter());
  const limit = opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  // Slow or malformed requests are cut and answered in JSON by the HTTP server itself.
  hardenHttpServer(app.getHttpServer() as Server, { requestTimeoutMs: opts.requestTimeoutMs });
  // The access log and X-Request-Id, through nestjs-pino's root logger (a no-op without
  // LoggerModule), before the body checks so that refused bodies are logged too.
  app.use(accessLogMiddleware());
  // Pipelined requests on one connection run one after the other, in the order sent.
  app.use(connectionOrder);
  // ---- adapter switch: Fastify gets the same JSON gate from json-app.fastify.ts; the lines up to the pipe are Express.
  if (app.getHttpAdapter().getType() === 'fastify') configureFastifyJsonBody(app, limit);
  else configureExpressJsonBody(ex, limit);
  app.useGlobalPipes(new JsonValidationPipe());
  app.useGlobalFilters(errorFilter);
  return app;
}

/** Adapters whose app has the JSON set-up of {@link configureJsonApp}. */
const appJsonGates = new WeakSet<object>();

/**
 * Whether {@link configureJsonApp} set up the app of this HTTP adapter: then its JSON gate
 * serves every route, and the gate the HTTP modules carry for an app without it stands aside.
 */
export function hasAppJsonGate(adapter: object): boolean {
  return appJsonGates.has(adapter);
}

function configureExpressJsonBody(ex: NestExpressApplication, limit: number): void {
  ex.disable('x-powered-by');
  // No ETag: Express hashed every JSON answer (SHA-1) for it, and Fastify sends none.
  ex.set('etag', false);
  ex.set('query parser', 'simple');
  ex.use(normalizePath);
  ex.use(requireJsonBody);
  // verify: the JSON gate (UTF-8, depth, width, duplicate and prototype keys) on the raw
  // bytes, before parsing. Nest's type omits `verify` (it uses it for rawBody, which this
  // app does not enable); the adapter passes it on to body-parser unchanged.
  // type: body-parser's default matches application/json only, so an application/*+json
  // body went unparsed and reached the pipe as {} ("body must be a JSON object").
  ex.useBodyParser('json', {
    limit, strict: true, verify: jsonBodyVerifier(), type: (req: Request) => takesBody(req.method) && isJsonMediaType(req.headers['content-type']),
  } as { limit: number; strict: boolean });
}

/** The path as Fastify's router sees it (normalizePathEscapes); a malformed escape is a 400 before routing. */
function normalizePath(req: Request, res: Response, next: NextFunction): void {
  const url = normalizePathEscapes(req.url);
  if (url === undefined) {
    res.status(400).json({ error: MALFORMED_PATH });
    return;
  }
  req.url = url;
  next();
}

/** POST/PUT/PATCH bodies must be JSON: 415 otherwise (an empty body passes, for the DTO to judge). */
function requireJsonBody(req: Request, res: Response, next: NextFunction): void {
  if (takesBody(req.method)) {
    const hasBody = (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0')
      || req.headers['transfer-encoding'] !== undefined;
    if (hasBody && !isJsonMediaType(req.headers['content-type'])) {
      res.status(415).json({ error: 'body must be application/json' });
      return;
    }
  }
  next();
}

/** `application/json` or `application/*+json` (any parameters, any case): the types a body may have. */
export function isJsonMediaType(contentType: string | undefined): boolean {
  const type = (contentType ?? '').split(';')[0].trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9!#$&^_.+-]+\+json$/.test(type);
}
