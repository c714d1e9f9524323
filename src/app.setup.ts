import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { NextFunction, Request, Response } from 'express';
import type { Server } from 'node:http';
import helmet from 'helmet';
import { JsonErrorFilter } from './common/http-exception.filter';
import { JsonValidationPipe } from './common/json-validation.pipe';
import { setupOpenApi } from './ops/openapi/openapi';
import { hardenHttpServer } from './security/http-server-hardening';
import { jsonBodyVerifier } from './security/json-body-inspector';

export interface AppSetupOptions {
  /** Largest accepted body in bytes (413 beyond). @default 262144 */
  maxBodyBytes?: number;
  /** Milliseconds a client may take to send a whole request (408 beyond); 0 = Node's 5 minutes. @default 30000 */
  requestTimeoutMs?: number;
}

/**
 * Everything an app needs beyond its modules — body limits, the JSON-only rule, the
 * validation pipe, the error filter. Used by main.ts and by every e2e test, so tests
 * never drift from production.
 */
export function configureApp(app: INestApplication, opts: AppSetupOptions = {}): INestApplication {
  const ex = app as NestExpressApplication;
  const limit = opts.maxBodyBytes ?? 256 * 1024;
  ex.disable('x-powered-by');
  ex.set('query parser', 'simple');
  // Slow or malformed requests are cut and answered in JSON by the HTTP server itself.
  hardenHttpServer(app.getHttpServer() as Server, { requestTimeoutMs: opts.requestTimeoutMs });
  // First, so every response carries its headers, errors included. Its default CSP allows
  // same-origin scripts and styles (the dashboard, Swagger UI's bundle) and nothing inline
  // but styles; no upgrade-insecure-requests, which would break both over plain HTTP.
  ex.use(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }));
  ex.use(requireJsonBody);
  // verify: UTF-8 only, nesting depth and prototype keys checked on the raw bytes, before parsing.
  // Nest's type omits `verify` (it uses it for rawBody, which this app does not enable);
  // the adapter passes it on to body-parser unchanged.
  ex.useBodyParser('json', { limit, strict: true, verify: jsonBodyVerifier() } as { limit: number; strict: boolean });
  app.useGlobalPipes(new JsonValidationPipe());
  app.useGlobalFilters(new JsonErrorFilter());
  // OpenAPI: Swagger UI at /docs, the document at /docs-json (built on first request).
  setupOpenApi(app);
  return app;
}

/** POST/PUT/PATCH bodies must be JSON: 415 otherwise (an empty body passes, for the DTO to judge). */
function requireJsonBody(req: Request, res: Response, next: NextFunction): void {
  if (req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH') {
    const hasBody = (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0')
      || req.headers['transfer-encoding'] !== undefined;
    const type = (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
    if (hasBody && type !== 'application/json' && !type.endsWith('+json')) {
      res.status(415).json({ error: 'body must be application/json' });
      return;
    }
  }
  next();
}
