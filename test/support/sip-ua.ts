import { createSocket, type Socket } from 'node:dgram';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';

/** One SIP message as received: first line, headers (lower-case names, first value), body. */
export interface SipMessage {
  firstLine: string;
  status?: number;
  method?: string;
  headers: Record<string, string>;
  body: string;
  raw: string;
}

export function parseSip(raw: string): SipMessage {
  const [head, ...rest] = raw.split('\r\n\r\n');
  const lines = head.split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i > 0) headers[l.slice(0, i).trim().toLowerCase()] ??= l.slice(i + 1).trim();
  }
  const m = /^SIP\/2\.0 (\d{3})/.exec(lines[0]);
  return { firstLine: lines[0], status: m ? Number(m[1]) : undefined, method: m ? undefined : lines[0].split(' ')[0], headers, body: rest.join('\r\n\r\n'), raw };
}

/**
 * A minimal SIP user agent client over UDP on 127.0.0.1, written out message by message so a
 * test can do what a well-behaved UAC would not: send one INVITE many times, never ACK, send
 * a copy of an INVITE after its call ended.
 */
export class SipUa {
  private socket!: Socket;
  readonly received: SipMessage[] = [];
  private waiters: { pred: (m: SipMessage) => boolean; resolve: (m: SipMessage) => void }[] = [];
  port = 0;
  readonly callId = `ua-${randomBytes(6).toString('hex')}@127.0.0.1`;
  readonly fromTag = randomBytes(4).toString('hex');
  readonly branch = `z9hG4bK${randomBytes(6).toString('hex')}`;
  /** The To header of the 200 (with the edge's tag), once received. */
  toWithTag?: string;

  constructor(private readonly edgePort: number) {}

  async open(): Promise<this> {
    this.socket = createSocket('udp4');
    this.socket.on('message', (buf) => {
      const m = parseSip(buf.toString());
      this.received.push(m);
      if (m.status === 200 && m.headers.cseq?.endsWith('INVITE')) this.toWithTag = m.headers.to;
      for (const w of [...this.waiters]) {
        if (w.pred(m)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    });
    await new Promise<void>((r) => this.socket.bind(0, '127.0.0.1', () => r()));
    this.port = (this.socket.address() as AddressInfo).port;
    return this;
  }

  close(): void {
    this.socket.close();
  }

  send(text: string): void {
    this.socket.send(text, this.edgePort, '127.0.0.1');
  }

  /** The next message (already received or to come) that `pred` accepts. */
  waitFor(pred: (m: SipMessage) => boolean, timeoutMs = 5000, what = 'a SIP message'): Promise<SipMessage> {
    const have = this.received.find(pred);
    if (have) return Promise.resolve(have);
    return new Promise<SipMessage>((resolve, reject) => {
      const w = { pred, resolve: (m: SipMessage) => (clearTimeout(t), resolve(m)) };
      const t = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`no ${what} within ${timeoutMs} ms; received: ${this.received.map((m) => m.firstLine).join(' | ') || 'nothing'}`));
      }, timeoutMs);
      this.waiters.push(w);
    });
  }

  /** A final response to the request with this CSeq method. */
  final(method: string, timeoutMs = 5000): Promise<SipMessage> {
    return this.waitFor((m) => (m.status ?? 0) >= 200 && !!m.headers.cseq?.endsWith(method), timeoutMs, `final response to ${method}`);
  }

  private common(method: string, cseq: number, opts: { to?: string; branch?: string; callId?: string } = {}): string[] {
    return [
      `Via: SIP/2.0/UDP 127.0.0.1:${this.port};branch=${opts.branch ?? this.branch}`,
      `From: <sip:ua@127.0.0.1:${this.port}>;tag=${this.fromTag}`,
      `To: ${opts.to ?? `<sip:edge@127.0.0.1:${this.edgePort}>`}`,
      `Call-ID: ${opts.callId ?? this.callId}`,
      `CSeq: ${cseq} ${method}`,
      `Contact: <sip:ua@127.0.0.1:${this.port}>`,
      'Max-Forwards: 70',
    ];
  }

  /** An INVITE (always the same branch and CSeq 1 unless told: sending it again is a retransmission). */
  invite(offer: string, opts: { cseq?: number; branch?: string; to?: string; callId?: string } = {}): string {
    return [
      `INVITE sip:edge@127.0.0.1:${this.edgePort} SIP/2.0`,
      ...this.common('INVITE', opts.cseq ?? 1, opts),
      'Content-Type: application/sdp',
      `Content-Length: ${Buffer.byteLength(offer)}`, '', offer,
    ].join('\r\n');
  }

  /** The ACK of the 200 (a new transaction, the To-tag of the 200). */
  ack(cseq = 1): string {
    return [`ACK sip:edge@127.0.0.1:${this.edgePort} SIP/2.0`, ...this.common('ACK', cseq, { to: this.toWithTag, branch: `z9hG4bK${randomBytes(6).toString('hex')}` }), 'Content-Length: 0', '', ''].join('\r\n');
  }

  bye(cseq = 2): string {
    return [`BYE sip:edge@127.0.0.1:${this.edgePort} SIP/2.0`, ...this.common('BYE', cseq, { to: this.toWithTag, branch: `z9hG4bK${randomBytes(6).toString('hex')}` }), 'Content-Length: 0', '', ''].join('\r\n');
  }
}

/** An SDP offer whose c=/m= point at 127.0.0.1:`port`. */
export function sdpOffer(port: number): string {
  return ['v=0', `o=ua 1 1 IN IP4 127.0.0.1`, 's=ua', 'c=IN IP4 127.0.0.1', 't=0 0', `m=audio ${port} RTP/AVP 0 8`, 'a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000', 'a=sendrecv', ''].join('\r\n');
}
