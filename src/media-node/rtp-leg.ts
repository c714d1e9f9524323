import type { RemoteInfo, Socket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import { buildRtpPacket, FRAME_MS, readRtpHeader, SAMPLES_PER_FRAME, silenceFrame } from './rtp';
import type { AudioOffer } from './sdp';

/** Counters of one leg. */
export interface LegStats {
  /** Packets the node generated (silence) and sent to the offer's address. */
  sent: number;
  /** RTP packets received from the far end. */
  received: number;
  /** Received packets sent back to their sender. */
  echoed: number;
}

/**
 * One call leg: a bound UDP socket, the far end from the offer, and — once started —
 * a 20 ms timer sending silence (random SSRC, sequence +1 and timestamp +160 per frame)
 * plus an echo of every RTP packet that arrives, back to its sender.
 */
export class RtpLeg {
  readonly stats: LegStats = { sent: 0, received: 0, echoed: 0 };
  readonly ssrc = randomInt(0, 2 ** 32 - 1);
  readonly createdAt = Date.now();
  private timer?: NodeJS.Timeout;
  private sequence = randomInt(0, 0x10000);
  private timestamp = randomInt(0, 2 ** 32 - 1);
  private readonly payload: Buffer;
  private closed = false;

  constructor(
    readonly callId: string,
    readonly offer: AudioOffer,
    readonly socket: Socket,
    readonly port: number,
  ) {
    this.payload = silenceFrame(offer.codec.name);
    socket.on('message', (msg, rinfo) => this.onMessage(msg, rinfo));
    // A send to an unreachable port surfaces as an async ICMP error on the socket; it must not crash the node.
    socket.on('error', () => undefined);
  }

  get started(): boolean {
    return this.timer !== undefined;
  }

  /** Starts sending (idempotent). */
  start(): void {
    if (this.timer || this.closed) return;
    this.sendFrame(true);
    this.timer = setInterval(() => this.sendFrame(false), FRAME_MS);
  }

  /** Stops sending and closes the socket (idempotent). */
  close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.closed) return Promise.resolve();
    this.closed = true;
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve();
      }
    });
  }

  private sendFrame(marker: boolean): void {
    if (this.closed) return;
    // A fresh buffer per frame: the socket may hold on to it until the send completes.
    const packet = buildRtpPacket({
      marker, payloadType: this.offer.codec.payloadType, sequence: this.sequence, timestamp: this.timestamp, ssrc: this.ssrc,
    }, this.payload);
    this.sequence = (this.sequence + 1) & 0xffff;
    this.timestamp = (this.timestamp + SAMPLES_PER_FRAME) >>> 0;
    this.socket.send(packet, this.offer.port, this.offer.address, (err) => {
      if (!err) this.stats.sent++;
    });
  }

  private onMessage(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.closed || !readRtpHeader(msg)) return;
    this.stats.received++;
    if (!this.timer) return;
    this.socket.send(msg, rinfo.port, rinfo.address, (err) => {
      if (!err) this.stats.echoed++;
    });
  }
}
