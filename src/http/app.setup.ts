import type { INestApplication } from '@nestjs/common';
import { configureJsonApp, type JsonAppOptions } from '../common/json-app';
import { setupOpenApi } from '../ops/openapi/openapi';

export type AppSetupOptions = JsonAppOptions;

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
  configureJsonApp(app, opts);
  // OpenAPI: Swagger UI at /docs, the document at /docs-json (built on first request).
  setupOpenApi(app);
  return app;
}
