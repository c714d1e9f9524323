import { STATUS_CODES, type Server } from 'node:http';
import type { Duplex } from 'node:stream';

/** Options of {@link hardenHttpServer}. */
export interface HttpServerHardeningOptions {
  /**
   * Milliseconds a client may take to send a whole request, headers and body (Node's
   * `requestTimeout`; `headersTimeout` is capped to it). Node's default is 5 minutes: a body
   * trickled one byte at a time would hold a connection that long. 0 leaves Node's defaults.
   * @default 30000
   */
  requestTimeoutMs?: number;
}

export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/**
 * Bounds how long a client may take to send a request, and answers what Node's HTTP parser
 * refuses before Express sees it (a malformed request line or header, headers too large, a
 * request too slow) with the contract's `{"error": …}` instead of an empty body. Call it
 * before `listen` (the connection-checking interval is read then).
 */
export function hardenHttpServer(server: Server, opts: HttpServerHardeningOptions = {}): void {
  const timeout = opts.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  if (timeout > 0) {
    server.requestTimeout = timeout;
    server.headersTimeout = Math.min(server.headersTimeout || timeout, timeout);
    // Node checks the timeouts on this interval (default 30 s): a tenth of the bound keeps them honest.
    // (A createServer option Node also reads from the instance at listen; @types/node lacks the property.)
    (server as Server & { connectionsCheckingInterval: number }).connectionsCheckingInterval = Math.max(50, Math.min(30_000, Math.floor(timeout / 10)));
  }
  server.on('clientError', answerClientError);
}

interface ParserError extends Error {
  code?: string;
}

function answerClientError(err: ParserError, socket: Duplex): void {
  const pending = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || pending?.headersSent) {
    socket.destroy();
    return;
  }
  const [status, error] = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'request not received in time']
    : err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'request headers too large']
      : [400, 'malformed HTTP request'];
  const body = JSON.stringify({ error });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\n`
    + `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
