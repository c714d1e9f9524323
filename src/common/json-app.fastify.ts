import { BadRequestException, HttpException, type INestApplication, UnsupportedMediaTypeException } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingHttpHeaders } from 'node:http';
import { PassThrough, type Readable } from 'node:stream';
import * as zlib from 'node:zlib';
import { inspectJsonBuffer, strictJson } from './json-body-inspector';
import { MALFORMED_PATH, takesBody } from './request-shape';

/**
 * The JSON gate of {@link configureJsonApp} on Fastify: the same rules, statuses and
 * messages as the Express set-up (`requireJsonBody`, body-parser and its `verify` hook):
 * - a POST/PUT/PATCH body must be `application/json` or `application/*+json` (415);
 * - `Content-Encoding` gzip, deflate and br are inflated, and the limit counts the inflated
 *   bytes (a gzip bomb is a 413); any other encoding is a 415;
 * - a charset other than UTF-8 is a 415;
 * - the raw bytes go through the same inspector as Express's `verify` hook
 *   (inspectJsonBuffer, json-body-inspector.ts), then `JSON.parse` (strict: an object or an array).
 * Errors are Nest HTTP exceptions, so the `{"error"}` filter renders them.
 */
export function configureFastifyJsonBody(app: INestApplication, limit: number): void {
  const fastifyApp = app as NestFastifyApplication;
  const instance = fastifyApp.getHttpAdapter().getInstance();
  // Only the parsers below: Fastify's built-in text/plain parser would accept a text body.
  instance.removeAllContentTypeParsers();
  // Registered through the adapter, so Nest's own JSON and urlencoded parsers are not added at init.
  fastifyApp.useBodyParser('*', { bodyLimit: limit }, parseJsonBody);
  instance.addHook('preParsing', (req, _reply, payload, done) => {
    try {
      done(null, gateBody(req.method, req.headers, payload));
    } catch (e) {
      done(e as Error);
    }
  });
}

const REFUSED_TYPE = 'body must be application/json';

/** Content types the JSON gate accepts (lower-cased, parameters dropped). */
function isJsonType(type: string): boolean {
  return type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'));
}

function mediaType(headers: IncomingHttpHeaders): string {
  const ct = headers['content-type'] ?? '';
  const semi = ct.indexOf(';');
  return (semi < 0 ? ct : ct.slice(0, semi)).trim().toLowerCase();
}

/** The payload stream Fastify reads: the request itself, or an inflating stream. Throws a 415. */
export function gateBody(method: string, headers: IncomingHttpHeaders, payload: Readable): Readable {
  if (!takesBody(method)) return payload;
  const hasBody = (headers['content-length'] !== undefined && headers['content-length'] !== '0') || headers['transfer-encoding'] !== undefined;
  if (!hasBody) return payload;
  if (!isJsonType(mediaType(headers))) throw new UnsupportedMediaTypeException(REFUSED_TYPE);
  const encoding = (headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  if (encoding === 'identity') return payload;
  const inflate = encoding === 'gzip' || encoding === 'x-gzip' ? zlib.createGunzip()
    : encoding === 'deflate' ? zlib.createInflate()
      : encoding === 'br' ? zlib.createBrotliDecompress()
        : undefined;
  if (!inflate) throw new UnsupportedMediaTypeException('unsupported body encoding');
  // Fastify checks Content-Length against `receivedEncodedLength` and the limit against the inflated bytes.
  const out = new PassThrough() as PassThrough & { receivedEncodedLength: number };
  out.receivedEncodedLength = 0;
  payload.on('data', (c: Buffer) => (out.receivedEncodedLength += c.length));
  payload.on('error', (e) => out.destroy(e));
  inflate.on('error', () => out.destroy(new BadRequestException('malformed compressed body')));
  payload.pipe(inflate).pipe(out);
  return out;
}

/** The charset parameter of the content type, lower-cased, or undefined. */
export function charsetOf(headers: IncomingHttpHeaders): string | undefined {
  const m = /;\s*charset\s*=\s*"?([^";\s]*)"?/i.exec(headers['content-type'] ?? '');
  return m ? m[1].toLowerCase() : undefined;
}

/**
 * The content-type parser: charset, the inspector, then a strict JSON.parse (a leading BOM
 * dropped, as body-parser does). A body on a method that takes none is ignored, as on Express.
 */
function parseJsonBody(req: { method: string; headers: IncomingHttpHeaders }, body: Buffer, done: (err: Error | null, body?: unknown) => void): void {
  if (!takesBody(req.method)) return done(null, undefined);
  const charset = charsetOf(req.headers) || 'utf-8';
  // body-parser's rule: a charset not starting with "utf-" is refused before reading.
  if (!charset.startsWith('utf-')) return done(new UnsupportedMediaTypeException('unsupported body encoding'));
  const problem = inspectJsonBuffer(body, charset);
  if (problem) return done(new HttpException(problem.error, problem.status));
  if (body.length === 0) return done(null, {});
  const value = strictJson(body);
  if (value === undefined) return done(new BadRequestException('malformed JSON body'));
  done(null, value);
}

/**
 * Fastify's `frameworkErrors`: what its router refuses before any hook runs, answered as the
 * Express set-up answers it. A malformed escape in the path is Express's 400 text.
 */
export function fastifyFrameworkError(error: FastifyError, _req: FastifyRequest, reply: FastifyReply): void {
  if (error.code === 'FST_ERR_BAD_URL') {
    void reply.code(400).send({ error: MALFORMED_PATH });
    return;
  }
  void reply.code(error.statusCode ?? 400).send({ error: 'bad request' });
}
