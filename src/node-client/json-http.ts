import { Agent, type Dispatcher, request } from 'undici';
import { ControlCallError } from './control-call.error';
import { joinUrl } from '../contract/paths';
import { CallDeadline } from './call-deadline';

const CONNECT_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE', 'EADDRNOTAVAIL', 'ERR_SOCKET_CONNECTION_TIMEOUT',
]);
const MAX_REASON = 200;
/** Largest answer body read; a longer one is a protocol error. */
const MAX_ANSWER_BYTES = 1 << 20;

export type HttpMethod = 'GET' | 'POST' | 'DELETE';

/** An answer: its status and its body, parsed as JSON when it is JSON (else the text). */
export interface JsonAnswer {
  status: number;
  data: unknown;
}

export interface JsonRequest {
  /** Sent as a JSON body. */
  data?: unknown;
  /** Sent as `Authorization: Bearer …`. */
  token?: string;
  /** Milliseconds the whole request may take, connect to last byte. */
  timeoutMs: number;
  /** Aborts the request early (e.g. at shutdown); reported as a timeout. */
  signal?: AbortSignal;
}

/** Where a base URL sends requests: its origin, and the path prefix it carries (usually ''). */
interface Target {
  origin: string;
  prefix: string;
}
/** Most base URLs remembered (one per media node); the memo starts over beyond. */
const MAX_TARGETS = 16_384;

/**
 * The project's one HTTP transport towards other parts of the system: the pool's calls to
 * media nodes ({@link NodeControlClient}) and the registrar's calls to the registry. An
 * undici `Agent` (keep-alive connection pools per origin), no redirects followed (a 3xx
 * is a status like any other), one bound per request from connect to last byte ({@link CallDeadline}), bounded
 * answers, and every failure a {@link ControlCallError} with its kind.
 */
export class JsonHttp {
  private readonly dispatcher: Dispatcher;
  /** Base URLs parsed once: `new URL` per call cost as much as the rest of the client's own work. */
  private readonly targets = new Map<string, Target | null>();

  constructor(connectTimeoutMs: number, connections = 256) {
    this.dispatcher = new Agent({
      connections,
      keepAliveTimeout: 30_000,
      connect: { timeout: connectTimeoutMs },
      headersTimeout: connectTimeoutMs,
      bodyTimeout: connectTimeoutMs,
    });
  }

  async send(method: HttpMethod, base: string, path: string, req: JsonRequest): Promise<JsonAnswer> {
    const headers: Record<string, string> = {};
    if (req.token) headers.authorization = `Bearer ${req.token}`;
    let body: string | undefined;
    if (req.data !== undefined) {
      body = JSON.stringify(req.data);
      headers['content-type'] = 'application/json';
    }
    // One bound on the whole call, connect to last byte (a node that trickles its body is
    // cut too): one timer and a minimal abort signal undici accepts, in place of an
    // AbortController (an EventTarget, with its listener bookkeeping) per call.
    const deadline = new CallDeadline(req.timeoutMs, req.signal);
    const t = this.target(base, path);
    const timeout = req.timeoutMs;
    try {
      // Options written out, not spread: `{ ...opts, origin, path }` cost ~2 µs a call on Node 20.
      const res = t
        ? await this.dispatcher.request({ origin: t.origin, path: t.prefix + path, method, headers, body, signal: deadline, headersTimeout: timeout, bodyTimeout: timeout })
        : await request(joinUrl(base, path), { dispatcher: this.dispatcher, method, headers, body, signal: deadline, headersTimeout: timeout, bodyTimeout: timeout });
      let size = 0;
      const chunks: Buffer[] = [];
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > MAX_ANSWER_BYTES) {
          res.body.destroy();
          throw new ControlCallError('protocol', 'unreadable answer');
        }
        chunks.push(chunk);
      }
      return { status: res.statusCode, data: parseBody(Buffer.concat(chunks, size).toString('utf8')) };
    } catch (e) {
      if (e instanceof ControlCallError) throw e;
      throw classify(e, req.timeoutMs, deadline.aborted);
    } finally {
      deadline.clear();
    }
  }

  /**
   * The origin and path prefix of a base URL, parsed once; null sends the call through
   * the URL parser (`joinUrl`) as before: a path with a dot segment, which the parser
   * resolves away (ids never are one; the contract refuses them).
   */
  private target(base: string, path: string): Target | null {
    if (path.includes('/.')) return null;
    let t = this.targets.get(base);
    if (t === undefined) {
      try {
        const u = new URL(joinUrl(base, ''));
        const prefix = u.pathname === '/' ? '' : u.pathname;
        // Anything the parser would rewrite (a query, a fragment, user-info, a dot segment) keeps the old way.
        t = u.search || u.hash || u.username || u.password || joinUrl(base, '') !== u.origin + prefix ? null : { origin: u.origin, prefix };
      } catch {
        t = null;
      }
      if (this.targets.size >= MAX_TARGETS) this.targets.clear();
      this.targets.set(base, t);
    }
    return t;
  }

  close(): Promise<void> {
    return this.dispatcher.close();
  }
}

/** The `error` string of a JSON answer (or its text), bounded; undefined when there is none. */
export function reasonOf(data: unknown): string | undefined {
  if (data && typeof data === 'object' && typeof (data as { error?: unknown }).error === 'string') {
    return (data as { error: string }).error.slice(0, MAX_REASON);
  }
  if (typeof data === 'string' && data.trim()) return data.trim().slice(0, MAX_REASON);
  return undefined;
}

/** JSON when the body is JSON, else the text (an empty body stays ''). */
function parseBody(text: string): unknown {
  if (!text) return text;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function classify(e: unknown, timeoutMs: number, timedOut: boolean): ControlCallError {
  if (timedOut) return new ControlCallError('timeout', `no answer within ${timeoutMs} ms`);
  const err = e as { code?: string; message?: string; cause?: { code?: string } };
  const code = err.cause?.code ?? err.code;
  if (code && CONNECT_CODES.has(code)) return new ControlCallError('connect', `connection failed (${code})`);
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return new ControlCallError('connect', 'connection failed (connect timeout)');
  if (code === 'UND_ERR_SOCKET' || code === 'UND_ERR_CLOSED') return new ControlCallError('connect', 'connection failed (ECONNRESET)');
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_ABORTED' || code === 'ETIMEDOUT') {
    return new ControlCallError('timeout', `no answer within ${timeoutMs} ms`);
  }
  if (code === 'HPE_INVALID_CONSTANT' || code?.startsWith('HPE_') || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' || code === 'UND_ERR_INFO') {
    return new ControlCallError('protocol', 'unreadable answer');
  }
  return new ControlCallError('connect', `request failed (${code ?? err.message ?? String(e)})`);
}
