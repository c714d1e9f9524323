/**
 * Whether requests of this method carry a body the app reads: POST, PUT and PATCH. A body on any
 * other method (a DELETE's, say) has no meaning here and is ignored unread, on both adapters.
 */
export function takesBody(method: string | undefined): boolean {
  return method === 'POST' || method === 'PUT' || method === 'PATCH';
}

/** The `error` of a request whose path holds a malformed percent-escape (400), on every adapter. */
export const MALFORMED_PATH = 'malformed percent-encoding in path';

const UNRESERVED_ESCAPE = /%(2[DdEe]|3[0-9]|4[1-9A-Fa-f]|5[0-9Aa]|5[Ff]|6[1-9A-Fa-f]|7[0-9Aa]|7[Ee])/g;

/**
 * The request target with its path normalised as RFC 3986 §6.2.2.2 says: a percent-encoded
 * unreserved character (ALPHA, DIGIT, `-`, `.`, `_`, `~`) is that character. Fastify's router
 * decodes them before matching; Express's does not, so `/v1/nodes/%72egister` found a route
 * on one and not the other. Other escapes are left as they are, and the query is not touched.
 * Undefined when an escape in the path is malformed (not `%` and two hex digits, or not UTF-8).
 */
export function normalizePathEscapes(url: string): string | undefined {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (!path.includes('%')) return url;
  try {
    decodeURIComponent(path);
  } catch {
    return undefined;
  }
  const normal = path.replace(UNRESERVED_ESCAPE, (e) => String.fromCharCode(parseInt(e.slice(1), 16)));
  return q < 0 ? normal : normal + url.slice(q);
}
