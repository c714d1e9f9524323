import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:dgram';

/** SIP retransmission timer T1 (RFC 3261), ms. */
const T1 = 500;

// ---- SIP over UDP, client transactions only --------------------------------------------

export interface SipResponse {
  status: number;
  headers: Map<string, string[]>;
  body: string;
}

function parseResponse(text: string): SipResponse | undefined {
  const sep = text.indexOf('\r\n\r\n');
  const head = (sep < 0 ? text : text.slice(0, sep)).split('\r\n');
  const m = /^SIP\/2\.0 (\d{3})/.exec(head[0] ?? '');
  if (!m) return undefined;
  const hs = new Map<string, string[]>();
  for (const line of head.slice(1)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim().toLowerCase();
    hs.set(name, [...(hs.get(name) ?? []), line.slice(i + 1).trim()]);
  }
  return { status: Number(m[1]), headers: hs, body: sep < 0 ? '' : text.slice(sep + 4) };
}

export const first = (r: SipResponse, name: string) => r.headers.get(name)?.[0] ?? '';

export class SipClient {
  private readonly pending = new Map<string, (r: SipResponse) => void>();

  constructor(
    private readonly socket: Socket,
    private readonly edge: { ip: string; port: number },
  ) {
    socket.on('message', (msg) => {
      const r = parseResponse(msg.toString());
      if (!r) return;
      const branch = /branch=([^;\s,]+)/.exec(first(r, 'via'))?.[1];
      if (branch) this.pending.get(branch)?.(r);
    });
  }

  send(text: string): void {
    this.socket.send(Buffer.from(text), this.edge.port, this.edge.ip);
  }

  /**
   * Sends `build(branch)` to the edge, retransmitted (T1 doubling, 32 s at most) until a final
   * response; `onFinal` sees every final response (a 2xx to an INVITE comes again until ACKed).
   */
  request(build: (branch: string) => string, isInvite: boolean, onFinal?: (r: SipResponse) => void): Promise<SipResponse> {
    const branch = `z9hG4bK-mv-${randomBytes(8).toString('hex')}`;
    const text = build(branch);
    return new Promise((resolve, reject) => {
      let interval = T1;
      let done = false;
      let timer: NodeJS.Timeout;
      const deadline = setTimeout(() => {
        clearTimeout(timer);
        this.pending.delete(branch);
        if (!done) reject(new Error('no final response within 64 x T1'));
      }, 64 * T1);
      const tick = () => {
        this.send(text);
        interval = isInvite ? interval * 2 : Math.min(interval * 2, 4000);
        timer = setTimeout(tick, interval);
      };
      this.pending.set(branch, (r) => {
        if (r.status < 200) {
          if (isInvite) clearTimeout(timer);
          return;
        }
        clearTimeout(timer);
        onFinal?.(r);
        if (!done) {
          done = true;
          resolve(r);
          // Late copies of the final response (a 2xx retransmitted before our ACK arrived)
          // still reach onFinal until the transaction's time is up.
          if (!isInvite) {
            clearTimeout(deadline);
            this.pending.delete(branch);
          }
        }
      });
      tick();
    });
  }
}
