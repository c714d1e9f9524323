/**
 * A single pass over a raw JSON body, before `JSON.parse` sees it, for what the parser and
 * class-transformer do not refuse on their own:
 * - nesting deeper than a bound (class-transformer and the validator recurse: a body of
 *   10,000 `[` overflowed the stack and answered 500);
 * - object keys that reach the prototype chain (`__proto__`, `constructor`, `prototype`),
 *   at any depth and however escaped (`"\u005f_proto__"`).
 * Works on UTF-8 bytes: every byte of a multi-byte sequence is ≥ 0x80, so the ASCII
 * structure characters are never misread inside one.
 */

/** Keys refused in every JSON body. */
export const FORBIDDEN_JSON_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Deepest accepted nesting of arrays and objects. The contract's bodies are flat. */
export const MAX_JSON_DEPTH = 32;

// Longest raw key worth decoding: "__proto__" fully \u-escaped is 9 × 6 + 2 quotes.
const MAX_KEY_BYTES = 64;

const QUOTE = 0x22, BACKSLASH = 0x5c, COLON = 0x3a;
const OPEN_OBJ = 0x7b, CLOSE_OBJ = 0x7d, OPEN_ARR = 0x5b, CLOSE_ARR = 0x5d;

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/**
 * Returns what is wrong with a raw JSON body (depth or a forbidden key), or undefined.
 * Syntax errors are left to the parser.
 */
export function inspectJsonBody(buf: Uint8Array, maxDepth = MAX_JSON_DEPTH): string | undefined {
  const n = buf.length;
  let depth = 0;
  let i = 0;
  while (i < n) {
    const c = buf[i];
    if (c === QUOTE) {
      const start = i++;
      while (i < n && buf[i] !== QUOTE) i += buf[i] === BACKSLASH ? 2 : 1;
      const end = Math.min(i, n - 1);
      i++;
      if (end - start + 1 > MAX_KEY_BYTES) continue;
      let j = i;
      while (j < n && isWhitespace(buf[j])) j++;
      if (j >= n || buf[j] !== COLON) continue;
      const key = decodeKey(buf, start, end + 1);
      if (key !== undefined && FORBIDDEN_JSON_KEYS.has(key)) return `forbidden key "${key}" in JSON body`;
      continue;
    }
    if (c === OPEN_OBJ || c === OPEN_ARR) {
      if (++depth > maxDepth) return `JSON body nested deeper than ${maxDepth} levels`;
    } else if (c === CLOSE_OBJ || c === CLOSE_ARR) {
      depth--;
    }
    i++;
  }
  return undefined;
}

function decodeKey(buf: Uint8Array, from: number, to: number): string | undefined {
  try {
    const v: unknown = JSON.parse(Buffer.from(buf.buffer, buf.byteOffset + from, to - from).toString('utf8'));
    return typeof v === 'string' ? v : undefined;
  } catch {
    return undefined;
  }
}

/** An error body-parser turns into a 4xx of our choosing (its `status` is kept). */
class JsonBodyRefused extends Error {
  readonly type = 'entity.verify.failed';
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

/**
 * The `verify` hook for `express.json()` / `useBodyParser('json', …)`: refuses non-UTF-8
 * charsets (415; RFC 8259 §8.1, and the byte scan needs UTF-8), too-deep nesting and
 * forbidden keys (400), before the body is parsed.
 */
export function jsonBodyVerifier(maxDepth = MAX_JSON_DEPTH) {
  return (_req: unknown, _res: unknown, buf: Buffer, encoding: string | null): void => {
    const enc = (encoding ?? 'utf-8').toLowerCase();
    if (enc !== 'utf-8' && enc !== 'utf8') throw new JsonBodyRefused('JSON body must be UTF-8', 415);
    const problem = inspectJsonBody(buf, maxDepth);
    if (problem) throw new JsonBodyRefused(problem, 400);
  };
}
