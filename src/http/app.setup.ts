import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import helmet from 'helmet';
import { configureJsonApp, type JsonAppOptions } from '../common/json-app';
import { setupOpenApi } from '../ops/openapi/openapi';

export type AppSetupOptions = JsonAppOptions;

/**
 * Everything the signaling service needs beyond its modules: security headers, then the
 * JSON API set-up shared with the media node (body limits, the JSON gate, the validation
 * pipe, the error filter), then OpenAPI. Used by main.ts and by every e2e test, so tests
 * never drift from production.
 */
export function configureApp(app: INestApplication, opts: AppSetupOptions = {}): INestApplication {
  // First, so every response carries its headers, errors included. Its default CSP allows
  // same-origin scripts and styles (the dashboard, Swagger UI's bundle) and nothing inline
  // but styles; no upgrade-insecure-requests, which would break both over plain HTTP.
  (app as NestExpressApplication).use(helmet({ contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } } }));
  configureJsonApp(app, opts);
  // OpenAPI: Swagger UI at /docs, the document at /docs-json (built on first request).
  setupOpenApi(app);
  return app;
}
