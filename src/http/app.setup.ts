import type { INestApplication } from '@nestjs/common';
import { configureJsonApp, DEFAULT_MAX_BODY_BYTES, type JsonAppOptions } from '../common/json-app';
import { ApiErrorFilter } from './errors/api-error.filter';
import { LeanLane } from './lean/lean-lane';
import { setupOpenApi } from '../ops/openapi/openapi';

export interface AppSetupOptions extends JsonAppOptions {
  /**
   * The lean lane for the four hot requests (heartbeat, prepare, start, delete): served in front
   * of the framework's router with the same checks (src/http/lean). RTP_HTTP_LEAN. @default true
   */
  lean?: boolean;
}

/**
 * The security headers of every answer: helmet's defaults, with the CSP that allows
 * same-origin scripts and styles (the dashboard, Swagger UI's bundle) and nothing inline
 * but styles, and no upgrade-insecure-requests (which would break both over plain HTTP).
 */
export const SECURITY_HEADERS = { contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } } as const;

/**
 * Everything the signaling service needs beyond its modules: security headers, then the
 * JSON API set-up shared with the media node (body limits, the JSON gate, the validation
 * pipe, the error filter), then OpenAPI. Works on an Express or a Fastify app alike. Used
 * by main.ts and by every e2e test, so tests never drift from production. Call it before
 * `init()` / `listen()`.
 */
export function configureApp(app: INestApplication, opts: AppSetupOptions = {}): INestApplication {
  // First, so every response carries them, errors and 404s included. Nest's own security
  // headers: the same set as helmet 8 with these options, header for header, but resolved
  // once at start-up and set by one loop per request, on either adapter (an Express
  // middleware, or Fastify's onRequest hook); helmet rebuilt them on every request.
  app.useSecurityHeaders(SECURITY_HEADERS);
  configureJsonApp(app, opts, new ApiErrorFilter(app.getHttpAdapter()));
  // OpenAPI: Swagger UI at /docs, the document at /docs-json (built on first request).
  setupOpenApi(app);
  // In front of the framework's router: the hot requests, with the same headers, checks and answers.
  if (opts.lean !== false) LeanLane.install(app, opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, SECURITY_HEADERS);
  return app;
}
