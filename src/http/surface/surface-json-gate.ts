import { HttpException } from '@nestjs/common';
import type { AbstractHttpAdapter } from '@nestjs/core';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { charsetOf, gateBody } from '../../common/json-app.fastify';
import { inspectJsonBuffer } from '../../common/json-body-inspector';
import { DEFAULT_MAX_BODY_BYTES, hasAppJsonGate } from '../../common/json-app';

/** The base paths of the HTTP modules' controllers (`@Controller(...)` of each). */
export const SURFACE_PATHS: readonly string[] = ['/v1/nodes', '/v1/calls', '/v1/events'];

/** `application/*+json`: Nest's own parsers read `application/json` only. */
const PLUS_JSON = /^application\/[a-z0-9!#$&^_.+-]+\+json$/i;

/** A body the gate has read: the bytes (inflated) and the parsed value; or why it was refused. */
type GateResult = { bytes: Buffer; encodedLength: number; value: unknown } | { status: number; error: string };

/**
 * Whether a request path is one of the HTTP modules' routes, under the app's global prefix
 * (`api` → `/api/v1/calls/…`). Letter case is ignored, as Express routes ignore it.
 */
export function isSurfacePath(url: string | undefined, globalPrefix: string): boolean {
  let path = (url ?? '/').split('?', 1)[0].toLowerCase();
  const prefix = globalPrefix.replace(/^\/+|\/+$/g, '').toLowerCase();
  if (prefix) {
    if (!path.startsWith(`/${prefix}/`)) return false;
    path = path.slice(prefix.length + 1);
  }
  return SURFACE_PATHS.some((p) => path === p || path.startsWith(p + '/'));
}

/**
 * The JSON gate of the HTTP modules for an app that does not call `configureApp`: on their
 * routes only, a POST/PUT/PATCH body is read here, before any body parser of the app, with
 * the rules and answers of `configureJsonApp` (415 not JSON or not UTF-8, 413 beyond the
 * limit, the raw-bytes inspector, strict JSON) and refusals written as `{"error"}` at once.
 * Installed when the HTTP adapter is set, so it comes before the body parser Nest adds at
 * `init()`; an app that calls `configureApp` gets its own gate for every route, and this one
 * stands aside. Other routes of the app are not touched, with one exception on Fastify:
 * `application/*+json` bodies, which Fastify refuses by default, are parsed as JSON.
 */
export function installSurfaceJsonGate(adapter: AbstractHttpAdapter, globalPrefix: () => string, limit = DEFAULT_MAX_BODY_BYTES): void {
  const mine = (url: string | undefined): boolean => !hasAppJsonGate(adapter) && isSurfacePath(url, globalPrefix());
  if (adapter.getType() === 'fastify') {
    const instance = adapter.getInstance<FastifyLike>();
    instance.addContentTypeParser(PLUS_JSON, { parseAs: 'buffer' }, (_req, body, done) => {
      try {
        done(null, JSON.parse((body as Buffer).toString('utf8')));
      } catch {
        done(Object.assign(new Error('malformed JSON body'), { statusCode: 400 }));
      }
    });
    instance.addHook('preParsing', async (request, reply, payload) => {
      if (!mine(request.url)) return payload;
      const r = await readGatedBody(request.method, request.headers, payload, limit);
      if (!r) return payload;
      if ('error' in r) {
        reply.code(r.status).header('connection', 'close').send({ error: r.error });
        return undefined;
      }
      // The checked bytes, for the app's JSON parser (Nest's); the length Fastify compares with Content-Length.
      const out = Readable.from([r.bytes]) as Readable & { receivedEncodedLength: number };
      out.receivedEncodedLength = r.encodedLength;
      return out;
    });
    return;
  }
  adapter.use((req: IncomingMessage & { body?: unknown }, res: ServerResponse, next: () => void) => {
    if (!mine(req.url)) return next();
    readGatedBody(req.method ?? 'GET', req.headers, req, limit).then((r) => {
      if (!r) return next();
      if ('error' in r) return refuse(res, r.status, r.error);
      // The body is read: Express's body parser, finding the request finished, leaves it.
      req.body = r.value;
      next();
    }, () => refuse(res, 400, 'request aborted'));
  });
}

/** The slice of Fastify's instance the gate uses (its types stay out of the root import). */
interface FastifyLike {
  addContentTypeParser(type: RegExp, opts: { parseAs: 'buffer' }, parser: (req: unknown, body: Buffer | string, done: (err: Error | null, body?: unknown) => void) => void): void;
  addHook(name: 'preParsing', hook: (
    request: { url: string; method: string; headers: IncomingHttpHeaders },
    reply: { code(status: number): { header(k: string, v: string): { send(body: unknown): void } } },
    payload: Readable,
  ) => Promise<Readable | undefined>): void;
}

function refuse(res: ServerResponse, status: number, error: string): void {
  if (res.headersSent) return;
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  // The rest of a refused body is not read: the connection closes after the answer.
  res.setHeader('Connection', 'close');
  res.end(JSON.stringify({ error }));
}

/** Reads and checks a JSON body; undefined when the request has none to check. */
async function readGatedBody(method: string, headers: IncomingHttpHeaders, payload: Readable, limit: number): Promise<GateResult | undefined> {
  if (method !== 'POST' && method !== 'PUT' && method !== 'PATCH') return undefined;
  const hasBody = (headers['content-length'] !== undefined && headers['content-length'] !== '0') || headers['transfer-encoding'] !== undefined;
  if (!hasBody) return undefined;
  let stream: Readable;
  try {
    // 415 unless JSON; an inflating stream for a compressed body.
    stream = gateBody(method, headers, payload);
  } catch (e) {
    return e instanceof HttpException ? { status: e.getStatus(), error: e.message } : { status: 400, error: 'bad request' };
  }
  const charset = charsetOf(headers) || 'utf-8';
  if (!charset.startsWith('utf-')) return { status: 415, error: 'unsupported body encoding' };
  const declared = Number(headers['content-length']);
  if (stream === payload && declared > limit) return { status: 413, error: 'request body too large' };
  const read = await readAll(stream, payload, limit);
  if ('error' in read) return read;
  const problem = inspectJsonBuffer(read.bytes, charset);
  if (problem) return problem;
  if (read.bytes.length === 0) return { ...read, value: {} };
  const text = read.bytes.toString('utf8');
  // body-parser's strict mode: an object or an array.
  const first = /\S/.exec(text)?.[0];
  if (first !== '{' && first !== '[') return { status: 400, error: 'malformed JSON body' };
  try {
    return { ...read, value: JSON.parse(text) };
  } catch {
    return { status: 400, error: 'malformed JSON body' };
  }
}

/** The whole (inflated) body, up to `limit` bytes; the request's own bytes counted too. */
function readAll(stream: Readable, request: Readable, limit: number): Promise<{ bytes: Buffer; encodedLength: number } | { status: number; error: string }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let encodedLength = 0;
    let done = false;
    const finish = (r: { bytes: Buffer; encodedLength: number } | { status: number; error: string }) => {
      if (done) return;
      done = true;
      resolve(r);
    };
    if (stream !== request) request.on('data', (c: Buffer) => (encodedLength += c.length));
    stream.on('data', (c: Buffer) => {
      if (stream === request) encodedLength += c.length;
      size += c.length;
      if (size > limit) {
        stream.pause();
        return finish({ status: 413, error: 'request body too large' });
      }
      chunks.push(c);
    });
    stream.on('end', () => finish({ bytes: Buffer.concat(chunks), encodedLength }));
    stream.on('error', (e: unknown) => finish(e instanceof HttpException
      ? { status: e.getStatus(), error: e.message }
      : { status: 400, error: 'request aborted' }));
  });
}
