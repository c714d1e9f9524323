import { type INestApplication, Logger, type LoggerService } from '@nestjs/common';
import type { Server, ServerResponse } from 'node:http';
import { CallRouter } from '../../pool/calls/call-router';
import { ShutdownState } from './shutdown-state';

/** Milliseconds in-flight requests get at shutdown, unless told otherwise. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 4_000;

/** Options of {@link enableGracefulShutdown}. */
export interface GracefulShutdownOptions {
  /** Milliseconds in-flight requests get to finish; connections still open then are closed. @default 4000 */
  timeoutMs?: number;
  /** Signals that start the shutdown. @default ['SIGTERM', 'SIGINT'] */
  signals?: NodeJS.Signals[];
  /** Where the process goes at the end. @default process.exit */
  exit?: (code: number) => void;
  /** @default a Nest Logger named 'shutdown' */
  logger?: LoggerService;
}

/** Time app.close() (store, hooks) gets after the HTTP server closed, before the process is forced out. */
const CLOSE_GRACE_MS = 900;
const POLL_MS = 50;

/**
 * SIGTERM (or SIGINT) handling for a listening Nest app, replacing `enableShutdownHooks()`
 * (whose order closes the store before the HTTP server and re-raises the signal, so the
 * exit code is not 0):
 * 1. readiness turns 503 ({@link ShutdownState}), open event streams end (`GET /v1/events`
 *    never finishes by itself: the server would wait the whole timeout for it), and the
 *    listening socket closes: no new connections;
 * 2. requests in flight finish; each answer carries `Connection: close`, idle keep-alive
 *    connections are closed, so clients never see a reset on a request the server took;
 * 3. after `timeoutMs` the remaining connections are closed anyway; call operations still
 *    running in the pool get what is left of `timeoutMs` to finish (legs bound or deleted);
 * 4. `app.close()` runs the Nest hooks (the store quits its client, registrars deregister);
 * 5. exit 0 (1 when something hung or threw).
 *
 * Call it after `app.listen()`. Returns the shutdown function (for a test or an admin path).
 */
export function enableGracefulShutdown(app: INestApplication, o: GracefulShutdownOptions = {}): (signal?: string) => Promise<void> {
  const timeoutMs = o.timeoutMs ?? DEFAULT_SHUTDOWN_TIMEOUT_MS;
  const exit = o.exit ?? ((code: number) => process.exit(code));
  const log = o.logger ?? new Logger('shutdown');
  const server = app.getHttpServer() as Server;
  const inflight = new Set<ServerResponse>();
  let closing: Promise<void> | undefined;

  // Before Express's own listener: a request that arrives during shutdown (on a kept-alive
  // connection) is still served, but it is that connection's last.
  server.prependListener('request', (_req, res: ServerResponse) => {
    inflight.add(res);
    res.once('close', () => inflight.delete(res));
    if (closing) res.setHeader('Connection', 'close');
  });

  const shutdown = (signal = 'shutdown'): Promise<void> => (closing ??= run(signal));

  async function run(signal: string): Promise<void> {
    const started = Date.now();
    const force = setTimeout(() => {
      log.error(`shutdown did not finish within ${timeoutMs + CLOSE_GRACE_MS} ms: exiting`);
      exit(1);
    }, timeoutMs + CLOSE_GRACE_MS);
    force.unref();
    try {
      getShutdownState(app)?.begin(); // ends open event streams too (EventStreams listens)
      log.log(`${signal}: closing the listener, ${inflight.size} request(s) in flight`);
      for (const res of inflight) if (!res.headersSent) res.setHeader('Connection', 'close');
      const drained = await closeServer(server, timeoutMs);
      if (!drained) log.warn(`requests still in flight after ${timeoutMs} ms: closing their connections`);
      // A prepare whose client went away still finishes (its leg bound, or deleted) before the store closes.
      await getRouter(app)?.whenIdle(Math.max(0, started + timeoutMs - Date.now()));
      await app.close();
      clearTimeout(force);
      log.log(`stopped in ${Date.now() - started} ms`);
      exit(0);
    } catch (e) {
      clearTimeout(force);
      log.error(`shutdown failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`);
      exit(1);
    }
  }

  for (const s of o.signals ?? ['SIGTERM', 'SIGINT']) process.once(s, () => void shutdown(s));
  return shutdown;
}

/** Stops accepting, waits for open connections to end (idle ones closed as they go idle); true when all ended in time. */
function closeServer(server: Server, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve(true);
    let done = false;
    const finish = (drained: boolean) => {
      if (done) return;
      done = true;
      clearInterval(poll);
      clearTimeout(deadline);
      resolve(drained);
    };
    server.close(() => finish(true));
    // Connections that finish their request become idle: close them as soon as they do.
    const poll = setInterval(() => server.closeIdleConnections(), POLL_MS);
    const deadline = setTimeout(() => {
      server.closeAllConnections();
      finish(false);
    }, timeoutMs);
  });
}

function getRouter(app: INestApplication): CallRouter | undefined {
  return getProvider(app, CallRouter);
}

/** A provider of the app when it has one (a library user's app may not import every module). */
function getProvider<T>(app: INestApplication, type: abstract new (...args: never[]) => T): T | undefined {
  try {
    return app.get(type, { strict: false });
  } catch {
    return undefined;
  }
}

function getShutdownState(app: INestApplication): ShutdownState | undefined {
  try {
    return app.get(ShutdownState, { strict: false });
  } catch {
    return undefined;
  }
}
