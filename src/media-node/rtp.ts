/** RTP (RFC 3550) as the reference node needs it: a 12-byte header, G.711 silence. */

export const RTP_HEADER_BYTES = 12;
/** 20 ms of G.711 at 8 kHz: 160 samples, one byte each. */
export const SAMPLES_PER_FRAME = 160;
export const FRAME_MS = 20;

/** Silence per codec: μ-law 0xFF, A-law 0xD5. */
export const SILENCE_BYTE: Record<string, number> = { PCMU: 0xff, PCMA: 0xd5 };

/** The fields of a fixed RTP header (no CSRC, no extension). */
export interface RtpHeader {
  version: number;
  marker: boolean;
  payloadType: number;
  sequence: number;
  timestamp: number;
  ssrc: number;
}

/** Writes a 12-byte header (V=2, P=0, X=0, CC=0) into `buf` at 0. */
export function writeRtpHeader(buf: Buffer, h: Omit<RtpHeader, 'version'>): void {
  buf[0] = 0x80;
  buf[1] = (h.marker ? 0x80 : 0) | (h.payloadType & 0x7f);
  buf.writeUInt16BE(h.sequence & 0xffff, 2);
  buf.writeUInt32BE(h.timestamp >>> 0, 4);
  buf.writeUInt32BE(h.ssrc >>> 0, 8);
}

/** One packet: header + payload. */
export function buildRtpPacket(h: Omit<RtpHeader, 'version'>, payload: Buffer): Buffer {
  const buf = Buffer.allocUnsafe(RTP_HEADER_BYTES + payload.length);
  writeRtpHeader(buf, h);
  payload.copy(buf, RTP_HEADER_BYTES);
  return buf;
}

/** Reads a header; undefined when the datagram is not RTP version 2 (too short, wrong version, RTCP). */
export function readRtpHeader(buf: Buffer): RtpHeader | undefined {
  if (buf.length < RTP_HEADER_BYTES) return undefined;
  const version = buf[0] >> 6;
  if (version !== 2) return undefined;
  const payloadType = buf[1] & 0x7f;
  // RTCP shares the version bits; its packet types 200–204 read as PT 72–76 with the marker set.
  if (payloadType >= 72 && payloadType <= 76) return undefined;
  return {
    version, marker: (buf[1] & 0x80) !== 0, payloadType,
    sequence: buf.readUInt16BE(2), timestamp: buf.readUInt32BE(4), ssrc: buf.readUInt32BE(8),
  };
}

/** A 20 ms silence payload for a codec. */
export function silenceFrame(codec: string): Buffer {
  return Buffer.alloc(SAMPLES_PER_FRAME, SILENCE_BYTE[codec] ?? 0xff);
}
