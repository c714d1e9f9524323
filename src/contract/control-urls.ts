/**
 * Go-compatible helpers for configuring static seeds and a node's public control URL, and
 * the rules a registering node's `control_url` must follow.
 */
import { httpUrlProblem } from '../common/env';

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;
/** The unspecified addresses as WHATWG URL spells their hosts: nothing can be called there. */
const UNSPECIFIED_HOSTS: ReadonlySet<string> = new Set(['0.0.0.0', '[::]', '[::ffff:0:0]']);

/**
 * What is wrong with a registering node's `control_url` (already trimmed), or undefined.
 * The raw string is judged before URL parsing, which would normalise what it should refuse:
 * WHATWG URL reads `http:\\host` as `http://host`, drops tabs and newlines, and accepts
 * `http:host`. Then: http(s) only, no user-info, query or fragment (CONTRACT §1), a port
 * of 1-65535 or none, and a host that is not an unspecified address (0.0.0.0, ::).
 */
export function controlUrlProblem(raw: string): string | undefined {
  if (CONTROL_CHARS.test(raw)) return 'must not contain control characters';
  if (raw.includes('\\')) return 'must not contain backslashes';
  const problem = httpUrlProblem(raw);
  if (problem) return /^https?:\/\/[^/?#]*:\d{6,}|^https?:\/\/[^/?#]*:(6553[6-9]|655[4-9]\d|65[6-9]\d\d|6[6-9]\d{3}|[7-9]\d{4})(?!\d)/i.test(raw)
    ? 'must have a port between 1 and 65535'
    : problem;
  // WHATWG URL parses `http:host` and `http:/host` as `http://host`.
  if (!/^https?:\/\/[^/]/i.test(raw)) return 'must be written as http://host or https://host';
  const u = new URL(raw);
  if (u.port === '0') return 'must have a port between 1 and 65535';
  if (UNSPECIFIED_HOSTS.has(u.hostname)) return `must not have the unspecified address ${u.hostname} as host`;
  return undefined;
}

/**
 * The canonical form of a valid control URL (see {@link controlUrlProblem}): what WHATWG
 * URL makes of it — scheme and host lower-cased, default port dropped, IP literals in
 * their usual spelling — without trailing `/`, as stored and shown.
 * `HTTP://Node-A.example:80/` → `http://node-a.example`.
 */
export function canonicalControlUrl(valid: string): string {
  const u = new URL(valid);
  return `${u.protocol}//${u.host}${u.pathname.replace(/\/+$/, '')}`;
}

/** Trims and drops trailing `/` characters. */
export function normalizeControlUrl(url: string): string {
  return url.trim().replace(/\/+$/, '');
}

/**
 * The static seed list, as the Go package reads it: `urls` (comma-separated) wins over
 * `single`; entries are trimmed, trailing `/` dropped, empty entries ignored.
 */
export function parseControlUrls(urls: string | undefined, single?: string): string[] {
  const raw = urls && urls.trim() ? urls : (single ?? '');
  return raw.split(',').map(normalizeControlUrl).filter((u) => u.length > 0);
}

/**
 * The control URL a media node registers: the configured public URL when set (normalized),
 * else `http://<mediaIp or 127.0.0.1>:<port>`.
 */
export function publicControlUrl(publicUrl: string | undefined, mediaIp: string | undefined, port: number): string {
  const p = publicUrl ? normalizeControlUrl(publicUrl) : '';
  if (p) return p;
  const ip = mediaIp?.trim() || '127.0.0.1';
  const host = ip.includes(':') && !ip.startsWith('[') ? `[${ip}]` : ip;
  return `http://${host}:${port}`;
}
