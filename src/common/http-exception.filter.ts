import { ArgumentsHost, Catch, ExceptionFilter, HttpException, type HttpServer, HttpStatus, Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { rawResponse } from './raw-http';

/**
 * Renders every error, from every path, as `{"error": "<reason>"}` (CONTRACT §1): Nest
 * HTTP exceptions, body-parser errors (malformed JSON 400, too large 413, bad charset 415),
 * unknown routes (404) — and anything unexpected as a 500 whose details stay in the log.
 */
@Catch()
@Injectable()
export class JsonErrorFilter implements ExceptionFilter {
  protected readonly logger = new Logger('JsonErrorFilter');

  /**
   * @param adapter the app's HTTP adapter (Express or Fastify), which writes the answer; or,
   * when the filter is built by DI (`@UseFilters(JsonErrorFilter)` on a controller), the
   * adapter host, read on each error since the adapter is set after the module is built.
   */
  constructor(@Optional() @Inject(HttpAdapterHost) private readonly adapter?: HttpServer | HttpAdapterHost) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<unknown>();
    const { status, error } = this.describe(exception);
    if (rawResponse(res).headersSent) return;
    const adapter = this.adapter instanceof HttpAdapterHost ? this.adapter.httpAdapter : this.adapter;
    if (adapter) {
      adapter.reply(res, { error }, status);
      return;
    }
    const fastify = res as { code?: unknown; send?: unknown; raw?: unknown };
    if (typeof fastify.code === 'function' && typeof fastify.send === 'function' && fastify.raw !== undefined) {
      (res as { code(s: number): { send(b: unknown): void } }).code(status).send({ error });
      return;
    }
    const express = res as { status(s: number): { json(b: unknown): void } };
    express.status(status).json({ error });
  }

  /** The status and `error` text of what was thrown. */
  protected describe(exception: unknown): { status: number; error: string } {
    return describeHttpError(exception, this.logger);
  }
}

/**
 * The status and `error` message of anything thrown on a request: what {@link JsonErrorFilter}
 * answers, and what the lean lane (src/http/lean) answers for the same error. An unexpected
 * error is a 500 whose details go to `logger` only.
 */
export function describeHttpError(e: unknown, logger: Pick<Logger, 'error'>): { status: number; error: string } {
  if (e instanceof HttpException) {
    const status = e.getStatus();
    // The Express adapter wraps body-parser and URI errors; name them in our words.
    const cause = e.cause as { type?: string; message?: string } | undefined;
    if (cause instanceof URIError) return { status, error: 'malformed percent-encoding in path' };
    if (cause && typeof cause.type === 'string') return { status, error: bodyParserMessage(cause.type, status, cause.message) };
    // Fastify's own errors (the body limit on Content-Length, a length mismatch) in the same words.
    const code = (cause as { code?: unknown } | undefined)?.code;
    if (typeof code === 'string' && code.startsWith('FST_')) return { status, error: fastifyMessage(code, status, cause?.message) };
    const body = e.getResponse();
    let msg: unknown = typeof body === 'string' ? body : (body as { message?: unknown }).message;
    if (Array.isArray(msg)) msg = msg.join('; ');
    return { status, error: typeof msg === 'string' && msg ? msg : HttpStatus[status]?.toLowerCase() ?? 'error' };
  }
  const bp = e as { status?: number; statusCode?: number; type?: string; expose?: boolean; message?: string };
  const status = bp?.status ?? bp?.statusCode;
  if (typeof status === 'number' && status >= 400 && status < 500) {
    return { status, error: bodyParserMessage(bp.type, status, bp.message) };
  }
  logger.error(e instanceof Error ? e.stack ?? e.message : String(e));
  return { status: 500, error: 'internal error' };
}

function fastifyMessage(code: string, status: number, message?: string): string {
  switch (code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE': return 'request body too large';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE': return 'body must be application/json';
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH': return 'request size did not match content length';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY': case 'FST_ERR_CTP_INVALID_JSON_BODY': return 'malformed JSON body';
    default: return status === 413 ? 'request body too large' : (message ?? 'bad request');
  }
}

function bodyParserMessage(type: string | undefined, status: number, message?: string): string {
  switch (type) {
    case 'entity.parse.failed': return 'malformed JSON body';
    case 'entity.too.large': return 'request body too large';
    case 'charset.unsupported': case 'encoding.unsupported': return 'unsupported body encoding';
    case 'request.aborted': return 'request aborted';
    default: return status === 413 ? 'request body too large' : (message ?? 'bad request');
  }
}
