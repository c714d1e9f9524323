import { createSocket, type Socket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { buildRtpPacket, FRAME_MS, readRtpHeader, SAMPLES_PER_FRAME, silenceFrame } from '../media-node/rtp';

/** What a caller saw on its socket. */
export interface CallerStats {
  /** Packets this caller sent. */
  sent: number;
  /** RTP packets from the media node's own stream (another SSRC). */
  fromNode: number;
  /** Our own packets coming back (the node's echo). */
  echoed: number;
  /** Datagrams that were not RTP. */
  other: number;
  /** Payload types seen in the node's stream. */
  payloadTypes: Set<number>;
  /** SSRCs seen in the node's stream. */
  nodeSsrcs: Set<number>;
  /** Epoch ms of the last datagram received. */
  lastReceivedAt?: number;
  /** The node's stream by SSRC (one per leg): packets, and when the first and last arrived (epoch ms). */
  streams: Map<number, { packets: number; first: number; last: number }>;
}

/**
 * A minimal SIP-less "phone": a UDP socket on loopback, an SDP offer pointing at it, and
 * a 20 ms RTP sender. Used by the demo and by the end-to-end tests to prove that media
 * really flows through a node both ways.
 */
export class RtpCaller {
  readonly ssrc = randomInt(0, 2 ** 32 - 1);
  readonly stats: CallerStats = { sent: 0, fromNode: 0, echoed: 0, other: 0, payloadTypes: new Set(), nodeSsrcs: new Set(), streams: new Map() };
  private socket!: Socket;
  private timer?: NodeJS.Timeout;
  private seq = 0;
  private ts = 0;
  port = 0;

  constructor(readonly address = '127.0.0.1') {}

  get family(): 4 | 6 {
    return this.address.includes(':') ? 6 : 4;
  }

  async open(): Promise<this> {
    this.socket = createSocket(this.family === 6 ? 'udp6' : 'udp4');
    this.socket.on('message', (msg) => {
      this.stats.lastReceivedAt = Date.now();
      const h = readRtpHeader(msg);
      if (!h) return void this.stats.other++;
      if (h.ssrc === this.ssrc) return void this.stats.echoed++;
      this.stats.fromNode++;
      this.stats.payloadTypes.add(h.payloadType);
      this.stats.nodeSsrcs.add(h.ssrc);
      const now = this.stats.lastReceivedAt;
      const st = this.stats.streams.get(h.ssrc);
      if (st) {
        st.packets++;
        st.last = now;
      } else this.stats.streams.set(h.ssrc, { packets: 1, first: now, last: now });
    });
    this.socket.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind(0, this.address, () => resolve());
    });
    this.port = (this.socket.address() as AddressInfo).port;
    return this;
  }

  /** An SDP offer for this socket: one audio line offering `payloadTypes` (0 PCMU, 8 PCMA by default). */
  offer(payloadTypes: number[] = [0, 8], extraMedia = ''): string {
    const ipv = this.family === 6 ? 'IP6' : 'IP4';
    const maps: Record<number, string> = { 0: 'PCMU/8000', 8: 'PCMA/8000', 101: 'telephone-event/8000', 111: 'opus/48000/2' };
    return [
      'v=0',
      `o=- ${this.ssrc} 1 IN ${ipv} ${this.address}`,
      's=rtp-pool caller',
      `c=IN ${ipv} ${this.address}`,
      't=0 0',
      `m=audio ${this.port} RTP/AVP ${payloadTypes.join(' ')}`,
      ...payloadTypes.filter((pt) => maps[pt]).map((pt) => `a=rtpmap:${pt} ${maps[pt]}`),
      'a=sendrecv',
      ...(extraMedia ? [extraMedia] : []),
      '',
    ].join('\r\n');
  }

  /** Sends `count` packets of PCMU silence (or until stop) every 20 ms to the node's media address. */
  sendTo(ip: string, port: number, count = Infinity): void {
    this.stopSending();
    const payload = silenceFrame('PCMU');
    let queued = 0;
    const frame = () => {
      if (queued++ >= count) return this.stopSending();
      const pkt = buildRtpPacket({ marker: this.seq === 0, payloadType: 0, sequence: this.seq, timestamp: this.ts, ssrc: this.ssrc }, payload);
      this.seq = (this.seq + 1) & 0xffff;
      this.ts = (this.ts + SAMPLES_PER_FRAME) >>> 0;
      this.socket.send(pkt, port, ip, (err) => {
        if (!err) this.stats.sent++;
      });
    };
    frame();
    this.timer = setInterval(frame, FRAME_MS);
  }

  stopSending(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Resolves once `pred` holds (checked every 20 ms), or rejects after `timeoutMs`. */
  async waitFor(pred: (s: CallerStats) => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this.stats)) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async close(): Promise<void> {
    this.stopSending();
    if (!this.socket) return;
    await new Promise<void>((r) => {
      try {
        this.socket.close(() => r());
      } catch {
        r();
      }
    });
  }
}
