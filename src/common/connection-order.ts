import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

const RUNNING = Symbol('rtp:running');
const WAITING = Symbol('rtp:waiting');
const SOCKET = Symbol('rtp:socket');

type OrderedSocket = Socket & { [RUNNING]?: number; [WAITING]?: (() => void)[] };
type OrderedResponse = ServerResponse & { [SOCKET]?: OrderedSocket };

/**
 * One request at a time per connection, in arrival order. HTTP/1.1 pipelining lets a client
 * send a prepare, its start and its delete on one connection without waiting; Node hands
 * them to the app at once, and a body-less DELETE would reach the pool before the prepare
 * whose body is still being read. This middleware holds each request until the previous
 * one on its connection has been answered, so a pipelined sequence runs as it was sent.
 *
 * Cheap on the common path (no pipelining): two fields on the socket and one shared
 * `close` listener; the queue exists only while a connection has a request waiting.
 * Raw Node req/res: an Express middleware, or one Fastify runs through middie.
 */
export function connectionOrder(req: IncomingMessage, res: OrderedResponse, next: () => void): void {
  const socket = req.socket as OrderedSocket;
  res[SOCKET] = socket;
  res.once('close', onClose);
  if (!socket[RUNNING]) {
    socket[RUNNING] = 1;
    next();
    return;
  }
  socket[RUNNING]++;
  (socket[WAITING] ??= []).push(next);
}

function onClose(this: OrderedResponse): void {
  const socket = this[SOCKET];
  if (!socket) return;
  socket[RUNNING] = (socket[RUNNING] ?? 1) - 1;
  const next = socket[WAITING]?.shift();
  if (next) next();
}
