import type { IncomingMessage, ServerResponse } from 'node:http';
import { PinoLogger } from 'nestjs-pino';
import type { Logger } from 'pino';
import { requestId, requestLogLevel } from './logger.params';

const STARTED = Symbol('rtp:started');
const REQUEST = Symbol('rtp:request');

type TimedResponse = ServerResponse & { [STARTED]?: number; [REQUEST]?: IncomingMessage };

/**
 * The access log: one line per request, at the level of {@link requestLogLevel}, through
 * nestjs-pino's root logger (its redaction and serializers), with the request id of
 * `X-Request-Id` echoed back. Written for the hot path, unlike pino-http: per request it
 * stores two fields on the response and adds one listener, a function shared by every
 * request; the line and its objects are built only when the logger's level keeps it. No
 * child logger, no closure, no async context per request.
 *
 * Raw Node `req`/`res`: an Express middleware, or one Fastify runs through middie.
 */
export function accessLogMiddleware(logger?: () => Logger | undefined): (req: IncomingMessage, res: ServerResponse, next: () => void) => void {
  const track = accessLogTracker(logger);
  return function accessLog(req: IncomingMessage, res: ServerResponse, next: () => void): void {
    track(req, res, requestId(req, res));
    next();
  };
}

/**
 * The access log's per-request step without the header: notes the request, with `id` as its
 * request id, for the line written when the response closes. For a caller that echoes
 * `X-Request-Id` itself (the lean lane writes every header in one block).
 */
export function accessLogTracker(logger?: () => Logger | undefined): (req: IncomingMessage, res: ServerResponse, id: string) => void {
  const root = logger ?? (() => PinoLogger.root as Logger | undefined);
  function onClose(this: TimedResponse): void {
    const log = root();
    const req = this[REQUEST];
    if (!log || !req) return;
    const aborted = !this.writableFinished;
    const level = aborted ? 'warn' : requestLogLevel(req, this);
    if (!log.isLevelEnabled(level)) return;
    const responseTime = Date.now() - (this[STARTED] ?? Date.now());
    log[level]({ reqId: req.id, req, res: this, responseTime }, aborted ? 'request aborted' : 'request completed');
  }
  return function track(req: IncomingMessage, res: TimedResponse, id: string): void {
    req.id = id;
    res[STARTED] = Date.now();
    res[REQUEST] = req;
    // `on`, not `once`: a response closes once, and `once` wraps the listener in a new closure per request.
    res.on('close', onClose);
  };
}
