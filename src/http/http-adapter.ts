import type { INestApplication } from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import type { HttpAdapterKind } from './http-adapter-kind';
import { DEFAULT_MAX_BODY_BYTES } from '../common/json-app';
import { fastifyFrameworkError } from '../common/json-app.fastify';

/** Options of {@link createHttpAdapter}. */
export interface HttpAdapterOptions {
  /** Largest accepted body in bytes (Fastify's `bodyLimit`; Express reads it in configureApp). @default 262144 */
  maxBodyBytes?: number;
}

/**
 * The HTTP platform of `RTP_HTTP_ADAPTER`, for `NestFactory.create(module, adapter)` or
 * `moduleRef.createNestApplication(adapter)`. Fastify is configured to route like Express 5
 * does by default, so both answer the same paths: a trailing slash and letter case are
 * ignored, and a path parameter may be as long as the URL (Fastify's default cuts at 100
 * characters with a 414; call ids are up to 256).
 */
export function createHttpAdapter(kind: HttpAdapterKind, opts: HttpAdapterOptions = {}): AbstractHttpAdapter {
  // Each platform is loaded when chosen: the package root loads neither (an Express user never loads Fastify).
  if (kind === 'express') {
    const { ExpressAdapter } = require('@nestjs/platform-express') as typeof import('@nestjs/platform-express');
    return new ExpressAdapter();
  }
  const { FastifyAdapter } = require('@nestjs/platform-fastify') as typeof import('@nestjs/platform-fastify');
  return new FastifyAdapter({
    bodyLimit: opts.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    routerOptions: { ignoreTrailingSlash: true, caseSensitive: false, maxParamLength: 8 * 1024 },
    // The request id and the access log are nestjs-pino's, as on Express: Fastify's own id
    // (req-1, req-2, …) would be copied to the Node request by middie and taken as given.
    logger: false,
    genReqId: () => '',
    // A malformed escape in the path: the same {"error"} as on Express, not Fastify's own body.
    frameworkErrors: fastifyFrameworkError,
  });
}

/** Which platform an app runs on: `express` or `fastify`. */
export function httpAdapterKind(app: INestApplication): HttpAdapterKind {
  return app.getHttpAdapter().getType() === 'fastify' ? 'fastify' : 'express';
}
