import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';

/** Where the OpenAPI UI is served; the JSON document is at `/${OPENAPI_PATH}-json`. */
export const OPENAPI_PATH = 'docs';

/** Builds the OpenAPI document of an app from its controllers and DTO decorators. */
export function createOpenApiDocument(app: INestApplication): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('rtp-pool')
    .setDescription(
      'Media-node router for a SIP/WebRTC signaling tier (CONTRACT §1). Every error, from every path, is '
      + '`{"error": "<reason>"}`. Tokens are optional: a path marked with a bearer scheme needs it only when the '
      + 'matching variable (RTP_REGISTRY_TOKEN, RTP_API_TOKEN) is set.',
    )
    .setVersion('1')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'RTP_REGISTRY_TOKEN (registrars)' }, 'registry')
    .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'RTP_API_TOKEN (signaling application, operators)' }, 'api')
    .build();
  return SwaggerModule.createDocument(app, config);
}

/**
 * Serves the Swagger UI at `/docs` and the document at `/docs-json` (and `/docs-yaml`).
 * The document is built on first request, not at start-up.
 */
export function setupOpenApi(app: INestApplication): void {
  let doc: OpenAPIObject | undefined;
  SwaggerModule.setup(OPENAPI_PATH, app, () => (doc ??= createOpenApiDocument(app)), {
    customSiteTitle: 'rtp-pool API',
  });
}
