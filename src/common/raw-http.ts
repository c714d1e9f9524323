import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The Node response under what a handler, guard or filter gets from
 * `switchToHttp().getResponse()`: Express's response is one; Fastify's reply wraps it as
 * `raw`. A header set on it reaches the answer on both (Fastify merges them when it writes
 * the head), so shared code sets headers here instead of through an adapter-typed object.
 */
export function rawResponse(res: unknown): ServerResponse {
  const r = res as ServerResponse & { raw?: ServerResponse };
  return r.raw ?? r;
}

/** The Node request under Express's request or Fastify's `request.raw`. */
export function rawRequest(req: unknown): IncomingMessage {
  const r = req as IncomingMessage & { raw?: IncomingMessage };
  return r.raw ?? r;
}

/** The path of a request, without its query string (`/v1/nodes/a` of `/v1/nodes/a?x=1`). */
export function requestPath(req: unknown): string {
  const url = rawRequest(req).url ?? '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}
