/**
 * Go-compatible helpers for configuring static seeds and a node's public control URL.
 */

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
