import { createSocket, type Socket } from 'node:dgram';

/** No even port of the range could be bound. */
export class NoFreePortError extends Error {
  constructor(min: number, max: number) {
    super(`no free even RTP port in ${min}..${max}`);
    this.name = 'NoFreePortError';
  }
}

const SKIP_CODES = new Set(['EADDRINUSE', 'EACCES']);

/**
 * Hands out even UDP ports of `min..max` (RTP on the even port, the odd one left for
 * RTCP by convention). Ports this node holds are skipped without a syscall; a port another
 * process holds fails to bind and is skipped too. The search starts after the last port
 * handed out, so a port just released is not reused at once (late packets of the old
 * call would land in the new one).
 */
export class EvenPortAllocator {
  private readonly first: number;
  private readonly count: number;
  private cursor = 0;
  private readonly held = new Set<number>();

  constructor(readonly min: number, readonly max: number) {
    this.first = min % 2 === 0 ? min : min + 1;
    this.count = this.first > max ? 0 : Math.floor((max - this.first) / 2) + 1;
  }

  /** Binds a UDP socket (`udp4`/`udp6`) on `address` at the next free even port. */
  async bind(family: 4 | 6, address: string): Promise<{ socket: Socket; port: number }> {
    for (let i = 0; i < this.count; i++) {
      const port = this.first + 2 * ((this.cursor + i) % this.count);
      if (this.held.has(port)) continue;
      this.held.add(port);
      try {
        const socket = await bindUdp(family, address, port);
        this.cursor = (this.cursor + i + 1) % this.count;
        return { socket, port };
      } catch (e) {
        this.held.delete(port);
        if (!SKIP_CODES.has((e as NodeJS.ErrnoException).code ?? '')) throw e;
      }
    }
    throw new NoFreePortError(this.min, this.max);
  }

  /** Gives a port back (after its socket closed). */
  release(port: number): void {
    this.held.delete(port);
  }

  /** Ports held now. */
  get inUse(): number {
    return this.held.size;
  }
}

function bindUdp(family: 4 | 6, address: string, port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4', ipv6Only: family === 6 });
    const onError = (e: Error) => {
      try {
        socket.close();
      } catch {
        // never bound: nothing to close
      }
      reject(e);
    };
    socket.once('error', onError);
    socket.bind({ port, address, exclusive: true }, () => {
      socket.removeListener('error', onError);
      resolve(socket);
    });
  });
}
