import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Params } from 'nestjs-pino';
import type { DestinationStream, Level, LevelWithSilent } from 'pino';
import { bool, type Env, oneOf } from './env';

/*
 * Logging shared by the signaling service and the reference media node (which imports
 * nothing of the service): pino JSON lines through nestjs-pino, LOG_LEVEL and LOG_PRETTY.
 */

/** pino's levels, as `LOG_LEVEL` accepts them. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Options of {@link pinoLoggerParams}. */
export interface LoggingOptions {
  /** pino level (`LOG_LEVEL`). @default 'info' */
  level?: LevelWithSilent;
  /** Human-readable lines instead of JSON (`LOG_PRETTY`), for development. @default false */
  pretty?: boolean;
  /** Where lines go. @default standard output */
  destination?: DestinationStream;
}

/** `LOG_LEVEL` (default info) and `LOG_PRETTY` (default false); throws a ConfigError naming a bad one. */
export function loggingFromEnv(env: Env): { level: LogLevel; pretty: boolean } {
  return { level: oneOf(env, 'LOG_LEVEL', 'info', LOG_LEVELS), pretty: bool(env, 'LOG_PRETTY', false) };
}

/** Header carrying the request id, read from the client when well-formed and echoed back. */
export const REQUEST_ID_HEADER = 'x-request-id';
const REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/**
 * Paths whose successful requests log at debug: probes, scrapers and heartbeats would drown the
 * rest (2,000 nodes heartbeating every 10 s are most of the lines, and writing them cost a third
 * of the heartbeat throughput). A heartbeat that fails still logs (warn, error); a node's first
 * registration is logged by the registry itself.
 */
const QUIET_PATHS = /^\/(health(\/ready)?|metrics|dashboard\.(js|css)|v1\/ops\/summary|v1\/nodes\/register)?(\?|$)/;

/** Headers that must never reach a log line (CONTRACT §3: tokens are never logged). */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["proxy-authorization"]',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
];

/** Reuses a sane `X-Request-Id` from the caller (a proxy's), else a new UUID; echoes it back. */
export function requestId(req: IncomingMessage, res: ServerResponse): string {
  const id = requestIdOf(req);
  res.setHeader('X-Request-Id', id);
  return id;
}

/** The request id {@link requestId} echoes, for a caller that writes its headers in one block (the lean lane). */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
}

/** 5xx error, 4xx warn, quiet paths (probes, scrapes, heartbeats) debug, the rest info. */
export function requestLogLevel(req: IncomingMessage, res: ServerResponse, err?: Error): Level {
  if (err || res.statusCode >= 500) return 'error';
  if (res.statusCode >= 400) return 'warn';
  return QUIET_PATHS.test(req.url ?? '') ? 'debug' : 'info';
}

/**
 * nestjs-pino parameters: JSON lines (pretty on request), credentials redacted. The access
 * log (one line per request, the request id of `X-Request-Id`) is not pino-http's but
 * `accessLogMiddleware`'s (common/access-log.ts), which configureJsonApp installs: pino-http built two child
 * loggers per request, serializing the request into one of them, even at a level that
 * drops the line. So nestjs-pino's own middleware is off (`forRoutes: []`); its root
 * logger, built from these options, is what the access log and `Logger` write to.
 */
export function pinoLoggerParams(o: LoggingOptions = {}): Params {
  const options = {
    level: o.level ?? 'info',
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    // The status is what matters of a response; its headers (the security headers) only repeat themselves.
    serializers: { res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }) },
  };
  // pino-pretty as a stream in this thread (not a transport worker): nothing is lost at exit.
  // Loaded only for LOG_PRETTY: a development aid the package root does not load.
  const stream = o.pretty
    ? (require('pino-pretty') as typeof import('pino-pretty')).build({ sync: true, singleLine: true, ...(o.destination ? { destination: o.destination } : {}) })
    : o.destination;
  return { pinoHttp: stream ? [options, stream] : options, forRoutes: [] };
}
