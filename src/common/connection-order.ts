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
  if (enterConnection(req, res)) next();
  else (req.socket as OrderedSocket)[WAITING]!.push(next);
}

/**
 * The same rule for a caller that runs `run(req, res)` itself (the lean lane): now when the
 * connection is free, else once the requests before it have been answered. A closure is made
 * only for a request that has to wait.
 */
export function runInOrder(req: IncomingMessage, res: ServerResponse, run: (req: IncomingMessage, res: ServerResponse) => void): void {
  if (enterConnection(req, res)) run(req, res);
  else (req.socket as OrderedSocket)[WAITING]!.push(() => run(req, res));
}

/** Counts the request on its connection; true when it may run now (else the caller queues it on WAITING). */
function enterConnection(req: IncomingMessage, res: OrderedResponse): boolean {
  const socket = req.socket as OrderedSocket;
  res[SOCKET] = socket;
  // `on`, not `once`: a response closes once, and `once` wraps the listener in a new closure per request.
  res.on('close', onClose);
  if (!socket[RUNNING]) {
    socket[RUNNING] = 1;
    return true;
  }
  socket[RUNNING]++;
  socket[WAITING] ??= [];
  return false;
}

function onClose(this: OrderedResponse): void {
  const socket = this[SOCKET];
  if (!socket) return;
  socket[RUNNING] = (socket[RUNNING] ?? 1) - 1;
  const next = socket[WAITING]?.shift();
  if (next) next();
}
