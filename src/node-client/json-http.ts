import { Agent, type Dispatcher } from 'undici';
import { ControlCallError } from './control-call.error';
import { joinUrl } from '../contract/paths';

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
 * is a status like any other), one bound per request from connect to last byte ({@link JsonCall}), bounded
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

  send(method: HttpMethod, base: string, path: string, req: JsonRequest): Promise<JsonAnswer> {
    const headers: Record<string, string> = {};
    if (req.token) headers.authorization = `Bearer ${req.token}`;
    let body: string | undefined;
    if (req.data !== undefined) {
      body = JSON.stringify(req.data);
      headers['content-type'] = 'application/json';
    }
    return new Promise<JsonAnswer>((resolve, reject) => {
      const call = new JsonCall(req.timeoutMs, req.signal, resolve, reject);
      try {
        const t = this.target(base, path);
        let origin: string;
        let fullPath: string;
        if (t) {
          origin = t.origin;
          fullPath = t.prefix + path;
        } else {
          const u = new URL(joinUrl(base, path));
          origin = u.origin;
          fullPath = u.pathname + u.search;
        }
        // Options written out, not spread: `{ ...opts, origin, path }` cost ~2 µs a call on Node 20.
        this.dispatcher.dispatch({ origin, path: fullPath, method, headers, body, headersTimeout: req.timeoutMs, bodyTimeout: req.timeoutMs }, call);
      } catch (e) {
        call.onResponseError(null, e as Error);
      }
    });
  }

  /**
   * The origin and path prefix of a base URL, parsed once; null sends the call through
   * the URL parser (`joinUrl`), for what the parser would rewrite: a path with a dot segment,
   * which it resolves away (ids never are one; the contract refuses them).
   */
  private target(base: string, path: string): Target | null {
    if (path.includes('/.')) return null;
    let t = this.targets.get(base);
    if (t === undefined) {
      try {
        const u = new URL(joinUrl(base, ''));
        const prefix = u.pathname === '/' ? '' : u.pathname;
        // Anything the parser would rewrite (a query, a fragment, user-info, a dot segment) goes through joinUrl.
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

/**
 * The kind of a failed call. `sent`: the request had been handed to a connected socket
 * (undici's request start), so a broken connection leaves its outcome unknown.
 */
function classify(e: unknown, timeoutMs: number, timedOut: boolean, sent: boolean): ControlCallError {
  if (timedOut) return new ControlCallError('timeout', `no answer within ${timeoutMs} ms`);
  const err = e as { code?: string; message?: string; cause?: { code?: string } };
  const code = err.cause?.code ?? err.code;
  if (code && CONNECT_CODES.has(code)) return new ControlCallError('connect', `connection failed (${code})`, undefined, sent);
  if (code === 'UND_ERR_CONNECT_TIMEOUT') return new ControlCallError('connect', 'connection failed (connect timeout)');
  if (code === 'UND_ERR_SOCKET' || code === 'UND_ERR_CLOSED') return new ControlCallError('connect', 'connection failed (ECONNRESET)', undefined, sent);
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_ABORTED' || code === 'ETIMEDOUT') {
    return new ControlCallError('timeout', `no answer within ${timeoutMs} ms`);
  }
  if (code === 'HPE_INVALID_CONSTANT' || code?.startsWith('HPE_') || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' || code === 'UND_ERR_INFO') {
    return new ControlCallError('protocol', 'unreadable answer');
  }
  return new ControlCallError('connect', `request failed (${code ?? err.message ?? String(e)})`, undefined, sent);
}

/**
 * One call in flight: undici's dispatch handler, the call's deadline and its answer at once.
 * undici's `request()` built a body stream, an async iterator and an abort signal per call;
 * this object is the only thing allocated per call besides the chunks (~25 µs of CPU less per
 * call, measured with bench/ scenario 8). The bound runs from dispatch to the last byte: one timer, and
 * an outer signal (shutdown) ends the call the same way; both are reported as a timeout.
 */
class JsonCall implements Dispatcher.DispatchHandler {
  private controller: Dispatcher.DispatchController | null = null;
  private readonly timer: NodeJS.Timeout;
  private onOuter: (() => void) | undefined;
  private status = 0;
  private size = 0;
  private readonly chunks: Buffer[] = [];
  private timedOut = false;
  private tooLarge = false;
  private done = false;

  constructor(
    private readonly timeoutMs: number,
    private readonly outer: AbortSignal | undefined,
    private readonly resolve: (a: JsonAnswer) => void,
    private readonly reject: (e: ControlCallError) => void,
  ) {
    this.timer = setTimeout(expire, timeoutMs, this);
    if (outer) {
      if (outer.aborted) this.timedOut = true;
      else {
        this.onOuter = () => this.expire();
        outer.addEventListener('abort', this.onOuter, { once: true });
      }
    }
  }

  expire(): void {
    if (this.done) return;
    this.timedOut = true;
    const reason = new Error('call deadline reached');
    reason.name = 'AbortError';
    if (this.controller) this.controller.abort(reason);
    else this.onResponseError(null, reason);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.timedOut) controller.abort(new Error('call deadline reached'));
  }

  onResponseStart(_: Dispatcher.DispatchController, statusCode: number): void {
    this.status = statusCode;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    this.size += chunk.length;
    if (this.size > MAX_ANSWER_BYTES) {
      this.tooLarge = true;
      controller.abort(new Error('answer too large'));
      return;
    }
    this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    if (this.finish()) return;
    const c = this.chunks;
    const text = c.length === 0 ? '' : (c.length === 1 ? c[0] : Buffer.concat(c, this.size)).toString('utf8');
    this.resolve({ status: this.status, data: parseBody(text) });
  }

  onResponseError(_: Dispatcher.DispatchController | null, err: Error): void {
    if (this.finish()) return;
    this.reject(this.tooLarge ? new ControlCallError('protocol', 'unreadable answer') : classify(err, this.timeoutMs, this.timedOut, this.controller !== null));
  }

  /** Ends the bound; true when the call had already ended. */
  private finish(): boolean {
    if (this.done) return true;
    this.done = true;
    clearTimeout(this.timer);
    if (this.onOuter) this.outer!.removeEventListener('abort', this.onOuter);
    return false;
  }
}

function expire(call: JsonCall): void {
  call.expire();
}
