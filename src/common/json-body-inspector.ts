import { isUtf8 } from 'node:buffer';

/**
 * The JSON gate: checks on the raw bytes of a body, before `JSON.parse` sees it, for what
 * the parser, class-transformer and the validator do not refuse on their own, or refuse
 * only after paying for it:
 * - bytes that are not well-formed UTF-8 (the decoder would turn them into U+FFFD, and an
 *   id with a replacement character would be stored);
 * - nesting deeper than a bound (class-transformer and the validator recurse: a body of
 *   10,000 `[` overflowed the stack and answered 500);
 * - an object with more than {@link MAX_JSON_KEYS} keys (20,000 unknown keys cost 0.3 s of
 *   CPU in the validator and a 680 KB error): refused at the 65th key, so a wide body
 *   costs one scan of its first bytes;
 * - the same key twice in one object (the parser keeps the last one, silently);
 * - object keys that reach the prototype chain (`__proto__`, `constructor`, `prototype`),
 *   at any depth and however escaped (`"\u005f_proto__"`).
 * Keys are compared decoded, so `"a"` and `"\u0061"` are one key. Works on UTF-8 bytes:
 * every byte of a multi-byte sequence is ≥ 0x80, so the ASCII structure characters are
 * never misread inside one. Syntax errors are left to the parser.
 */

/** Keys refused in every JSON body. */
export const FORBIDDEN_JSON_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** Deepest accepted nesting of arrays and objects. The contract's bodies are flat. */
export const MAX_JSON_DEPTH = 32;

/** Most keys accepted in one JSON object. The widest body of the contract has 8 fields. */
export const MAX_JSON_KEYS = 64;

/** Longest part of a key quoted in an error message. */
const SHOWN_KEY_CHARS = 40;

const QUOTE = 0x22, BACKSLASH = 0x5c, COLON = 0x3a;
const OPEN_OBJ = 0x7b, CLOSE_OBJ = 0x7d, OPEN_ARR = 0x5b, CLOSE_ARR = 0x5d;

function isWhitespace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

/** A key as an error message shows it: JSON-quoted (no control characters), cut short. */
export function showKey(key: string): string {
  return JSON.stringify(key.length > SHOWN_KEY_CHARS ? key.slice(0, SHOWN_KEY_CHARS) + '…' : key);
}

/** Bounds of {@link inspectJsonBody}. */
export interface JsonGateLimits {
  /** @default MAX_JSON_DEPTH */
  maxDepth?: number;
  /** @default MAX_JSON_KEYS */
  maxKeys?: number;
}

/**
 * Returns what is wrong with a raw JSON body (encoding, depth, width, a duplicate or a
 * forbidden key), or undefined. One pass, stopping at the first problem.
 */
export function inspectJsonBody(buf: Uint8Array, limits: JsonGateLimits | number = {}): string | undefined {
  const { maxDepth = MAX_JSON_DEPTH, maxKeys = MAX_JSON_KEYS } = typeof limits === 'number' ? { maxDepth: limits } : limits;
  if (!isUtf8(buf)) return 'JSON body is not well-formed UTF-8';
  const n = buf.length;
  // One entry per open container: the keys seen so far for an object, null for an array.
  const open: Array<Set<string> | null> = [];
  let i = 0;
  while (i < n) {
    const c = buf[i];
    if (c === QUOTE) {
      const start = i++;
      let escaped = false;
      while (i < n && buf[i] !== QUOTE) {
        if (buf[i] === BACKSLASH) {
          escaped = true;
          i += 2;
        } else {
          i++;
        }
      }
      const end = Math.min(i, n - 1);
      i++;
      let j = i;
      while (j < n && isWhitespace(buf[j])) j++;
      if (j >= n || buf[j] !== COLON) continue;
      const keys = open.length > 0 ? open[open.length - 1] : null;
      const key = decodeKey(buf, start, end + 1, escaped);
      if (key === undefined) continue;
      if (FORBIDDEN_JSON_KEYS.has(key)) return `forbidden key ${showKey(key)} in JSON body`;
      // A key outside an object is a syntax error: the parser's to refuse.
      if (keys === null) continue;
      if (keys.has(key)) return `duplicate key ${showKey(key)} in JSON body`;
      if (keys.size >= maxKeys) return `JSON object with more than ${maxKeys} keys`;
      keys.add(key);
      continue;
    }
    if (c === OPEN_OBJ || c === OPEN_ARR) {
      if (open.length >= maxDepth) return `JSON body nested deeper than ${maxDepth} levels`;
      open.push(c === OPEN_OBJ ? new Set() : null);
    } else if (c === CLOSE_OBJ || c === CLOSE_ARR) {
      open.pop();
    }
    i++;
  }
  return undefined;
}

/** The key between two quotes (inclusive), decoded; undefined when it is not a valid JSON string. */
function decodeKey(buf: Uint8Array, from: number, to: number, escaped: boolean): string | undefined {
  if (to - from < 2 || buf[to - 1] !== QUOTE) return undefined;
  const b = Buffer.from(buf.buffer, buf.byteOffset + from, to - from);
  if (!escaped) return b.toString('utf8', 1, b.length - 1);
  try {
    const v: unknown = JSON.parse(b.toString('utf8'));
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
 * charsets (415; RFC 8259 §8.1, and the byte scan needs UTF-8), then whatever
 * {@link inspectJsonBody} finds (400), before the body is parsed.
 */
export function jsonBodyVerifier(limits: JsonGateLimits | number = {}) {
  return (_req: unknown, _res: unknown, buf: Buffer, encoding: string | null): void => {
    const enc = (encoding ?? 'utf-8').toLowerCase();
    if (enc !== 'utf-8' && enc !== 'utf8') throw new JsonBodyRefused('JSON body must be UTF-8', 415);
    const problem = inspectJsonBody(buf, limits);
    if (problem) throw new JsonBodyRefused(problem, 400);
  };
}

const verify = jsonBodyVerifier();

/**
 * The raw-bytes checks of the Express `verify` hook, on a Buffer: undefined when the body
 * may be parsed, else the status and message the Express set-up answers with. The Fastify
 * parser and the lean lane run it, so all three refuse a body alike.
 */
export function inspectJsonBuffer(buf: Buffer, encoding = 'utf-8'): { status: number; error: string } | undefined {
  try {
    verify(undefined, undefined, buf, encoding);
    return undefined;
  } catch (e) {
    const x = e as { status?: number; statusCode?: number; message?: string };
    return { status: x.status ?? x.statusCode ?? 400, error: x.message ?? 'invalid JSON body' };
  }
}

/** body-parser's strict JSON: a leading BOM dropped, then an object or an array; undefined when malformed. */
export function strictJson(buf: Buffer): unknown {
  let text = buf.toString('utf8');
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const first = /[^\x20\x09\x0a\x0d]/.exec(text)?.[0];
  if (first !== '{' && first !== '[') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
